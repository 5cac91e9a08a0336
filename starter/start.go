package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/searchattrs"
	"github.com/imagefleet/imagefleet/model"
)

// runPlan is how to start one run of an operation: startRun is the one path
// every start command takes (check the spec, start the run under its
// canonical ID, say where to watch it).
type runPlan struct {
	startRequest
	// Validate checks the spec against its own rules; an error is invalid
	// input (exit code 2).
	Validate func() error
	// Check checks the spec against the cloud (nil: nothing to check); its
	// errors say themselves whether the input is invalid (see checkFailed).
	Check func(ctx context.Context) error
	// Started names the run in the started line (default: its workflow type).
	Started string
}

// startRun checks and starts a run; with out set, it prints the started
// line and the Web UI link.
func (a *app) startRun(ctx context.Context, out io.Writer, p runPlan) (runID string, err error) {
	if p.Validate != nil {
		if err := p.Validate(); err != nil {
			return "", &exitError{code: exitInvalid, err: err}
		}
	}
	if p.Check != nil {
		if err := p.Check(ctx); err != nil {
			return "", err
		}
	}
	runID, err = a.start(ctx, p.startRequest)
	if err != nil || out == nil {
		return runID, err
	}
	what := p.Started
	if what == "" {
		what = p.Type
	}
	a.printStarted(out, what, p.ID, runID)
	return runID, nil
}

// startAndWatch starts a run (startRun) and then, with wait, watches it.
func (a *app) startAndWatch(ctx context.Context, out io.Writer, p runPlan, wait bool, watch func() error) error {
	if _, err := a.startRun(ctx, out, p); err != nil || !wait {
		return err
	}
	return watch()
}

// checkFailed is the error of a pre-start check against the cloud: invalid
// input (exit code 2) when the cloud refused it, a failed call (exit code 1)
// when the cloud could not answer (throttled, unavailable), since the same
// input may pass a moment later.
func checkFailed(what string, err error) error {
	if apiErr, ok := cloud.AsAPIError(err); ok && apiErr.Retryable() {
		return fmt.Errorf("%s: %w", what, err)
	}
	return invalid("%w", err)
}

// printStarted tells the user which run started and where to watch it.
func (a *app) printStarted(out io.Writer, what, id, runID string) {
	fmt.Fprintf(out, "Started %s\nWorkflow ID: %s\nWeb UI:      %s\n", what, id, a.webURL(id, runID))
}

// startRequest is what starting any imagefleet run needs.
type startRequest struct {
	ID    string
	Type  string
	Input any
	// OnceDone: a run that completed keeps its ID (a published version, say);
	// otherwise any closed run's ID may be used again.
	OnceDone bool
	// Operation and Keys are the run's search attributes (with its state,
	// Running), by which operators find it.
	Operation string
	Keys      []temporal.SearchAttributeUpdate
	Summary   string
	Details   string
	// Conflict explains why the ID is in use; it becomes an invalid-input
	// error (exit code 2).
	Conflict func(ctx context.Context) string
}

// start starts a run on the imagefleet task queue and returns its run ID.
func (a *app) start(ctx context.Context, r startRequest) (string, error) {
	c, err := a.client()
	if err != nil {
		return "", err
	}
	reuse := enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	if r.OnceDone {
		reuse = enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       r.ID,
		TaskQueue:                model.TaskQueue,
		WorkflowIDReusePolicy:    reuse,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without it the SDK hands back the run that holds the ID as if it
		// had been started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(append(r.Keys,
			model.SAOperation.ValueSet(r.Operation), model.SAState.ValueSet(model.StateRunning))...),
		StaticSummary: r.Summary,
		StaticDetails: staticDetails(r.Details, r.Input),
	}, r.Type, r.Input)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return "", &exitError{code: exitInvalid, err: errors.New(r.Conflict(ctx))}
	}
	var invalid *serviceerror.InvalidArgument
	if errors.As(err, &invalid) && strings.Contains(invalid.Error(), "search attribute") {
		// Nothing started: the namespace lacks imagefleet's attributes.
		return "", fmt.Errorf("start %s: %w; nothing was started: %s", r.Type, err, searchattrs.Hint)
	}
	if err != nil {
		return "", fmt.Errorf("start %s: %w", r.Type, err)
	}
	return run.GetRunID(), nil
}

// staticDetails is what the Web UI shows as a run's details: the command's
// own line, then the whole spec as Markdown. Like every payload, they are
// encrypted when keys are configured (the Web UI decodes them through the
// codec server).
func staticDetails(lead string, input any) string {
	spec := model.SpecMarkdown(input)
	switch {
	case lead == "":
		return spec
	case spec == "":
		return lead
	}
	return lead + "\n\n" + spec
}
