package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/model"
)

// app holds the clients the commands share: one Temporal client per process,
// dialled on first use so that --help and input errors need no server.
type app struct {
	temporal  client.Client
	namespace string
	cloud     *cloud.Client
	tel       *config.Telemetry // tracing of the command (see telemetry.go)
	span      trace.Span        // the command's root span
}

func (a *app) client() (client.Client, error) {
	if a.temporal != nil {
		return a.temporal, nil
	}
	logger := config.Logger("starter").Level(zerolog.WarnLevel)
	opts, err := config.TemporalOptions(logger)
	if err != nil {
		return nil, fmt.Errorf("load Temporal client options: %w", err)
	}
	if err := a.tel.Apply(&opts); err != nil {
		return nil, err
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal (%s): %w", hostPort(opts), err)
	}
	a.temporal, a.namespace = c, opts.Namespace
	if a.namespace == "" {
		a.namespace = client.DefaultNamespace
	}
	return c, nil
}

func hostPort(opts client.Options) string {
	if opts.HostPort == "" {
		return client.DefaultHostPort
	}
	return opts.HostPort
}

func (a *app) cloudClient() *cloud.Client {
	if a.cloud == nil {
		// A user's command should not fail on a throttled call or a cloud
		// that restarts: retried a bounded time, with Retry-After honoured.
		a.cloud = a.tel.Cloud().WithRetry(cloud.DefaultRetry)
	}
	return a.cloud
}

func (a *app) close() {
	if a.temporal != nil {
		a.temporal.Close()
		a.temporal = nil
	}
}

// printStarted tells the user which run started and where to watch it.
func (a *app) printStarted(out io.Writer, workflowType, id, runID string) {
	fmt.Fprintf(out, "Started %s\nWorkflow ID: %s\nWeb UI:      %s\n", workflowType, id, a.webURL(id, runID))
}

// webURL is the Web UI page of a run.
func (a *app) webURL(workflowID, runID string) string {
	u := fmt.Sprintf("%s/namespaces/%s/workflows/%s", config.WebUI(), url.PathEscape(a.namespace), url.PathEscape(workflowID))
	if runID != "" {
		u += "/" + url.PathEscape(runID) + "/history"
	}
	return u
}

// sendCommand sends an operator command as an update and waits until the
// workflow accepts it (or its validator refuses it, exit code 3; a call that
// fails is exit code 1).
func (a *app) sendCommand(ctx context.Context, workflowID, name string, payload any) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// An update sent while no worker runs waits in the server and is
	// applied whenever a worker comes back, long after the user gave up on
	// it: without a worker, the command is not sent at all.
	if err := noWorker(ctx, c); err != nil {
		return err
	}
	handle, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateName:   name,
		Args:         []any{payload},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	var (
		notFound *serviceerror.NotFound
		refused  *temporal.ApplicationError // the validator's (or handler's) answer
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notFound):
		return &exitError{code: exitRefused, err: fmt.Errorf("no running workflow %s: %w", workflowID, err)}
	case errors.As(err, &refused):
		return &exitError{code: exitRefused, err: fmt.Errorf("%s refused: %w", name, err)}
	default:
		// The server could not be reached or did not answer in time: the
		// command may not even have arrived, so it was not refused.
		return fmt.Errorf("send %s to %s: %w", name, workflowID, err)
	}
}

// workerSeen is how recently a worker must have polled the task queue for
// a command to be sent.
const workerSeen = 2 * time.Minute

// noWorker refuses a command when no worker has polled the imagefleet task
// queue lately (exit code 1: nothing was sent).
func noWorker(ctx context.Context, c client.Client) error {
	resp, err := c.DescribeTaskQueue(ctx, model.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return fmt.Errorf("describe task queue %s: %w", model.TaskQueue, err)
	}
	for _, p := range resp.GetPollers() {
		if time.Since(p.GetLastAccessTime().AsTime()) < workerSeen {
			return nil
		}
	}
	return fmt.Errorf("no worker has polled task queue %s in the last %s: start one (bin/worker); the command was not sent", model.TaskQueue, workerSeen)
}

// startRequest is what starting any imagefleet run needs.
type startRequest struct {
	ID    string
	Type  string
	Input any
	// OnceDone: a run that completed keeps its ID (a published version, say);
	// otherwise any closed run's ID may be used again.
	OnceDone   bool
	Attributes []temporal.SearchAttributeUpdate
	Summary    string
	Details    string
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
		TypedSearchAttributes:                    temporal.NewSearchAttributes(r.Attributes...),
		StaticSummary:                            r.Summary,
		StaticDetails:                            staticDetails(r.Details, r.Input),
	}, r.Type, r.Input)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return "", &exitError{code: exitInvalid, err: errors.New(r.Conflict(ctx))}
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

// describe returns what the server knows of the latest run of id.
func (a *app) describe(ctx context.Context, id string) (*workflowpb.WorkflowExecutionInfo, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", id, err)
	}
	return desc.GetWorkflowExecutionInfo(), nil
}

// query asks a run (the latest of id when runID is empty) and decodes the answer.
func query[T any](ctx context.Context, a *app, id, runID, name string) (*T, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	v, err := c.QueryWorkflow(ctx, id, runID, name)
	if err != nil {
		return nil, err
	}
	var out T
	if err := v.Get(&out); err != nil {
		return nil, err
	}
	return &out, nil
}

// endedUnsuccessfully reports whether a run's status says it ended without
// completing (failed, cancelled, terminated, timed out): the status commands
// exit 1 for it, as the watching commands do.
func endedUnsuccessfully(status enums.WorkflowExecutionStatus) bool {
	switch status {
	case enums.WORKFLOW_EXECUTION_STATUS_FAILED, enums.WORKFLOW_EXECUTION_STATUS_TERMINATED,
		enums.WORKFLOW_EXECUTION_STATUS_CANCELED, enums.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return true
	}
	return false
}
