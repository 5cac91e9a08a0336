package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/config"
)

// app holds the clients the commands share: one Temporal client per process,
// dialled on first use so that --help and input errors need no server.
type app struct {
	temporal  client.Client
	namespace string
	cloud     *cloud.Client
	tel       *config.Telemetry // tracing of the command (see telemetry.go)
	span      trace.Span        // the command's root span
	// replyTimeout is how long an operator command waits for the run's
	// answer (--reply-timeout; zero: defaultReplyTimeout).
	replyTimeout time.Duration
}

func (a *app) client() (client.Client, error) {
	if a.temporal != nil {
		return a.temporal, nil
	}
	logger := config.Logger("starter").Level(zerolog.WarnLevel)
	opts, err := config.TemporalOptions(logger)
	if errors.Is(err, config.ErrNoPayloadKeys) {
		// Nothing is sent in plain to a deployment whose payloads are encrypted.
		return nil, &exitError{code: exitInvalid, err: err}
	}
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

// webURL is the Web UI page of a run.
func (a *app) webURL(workflowID, runID string) string {
	u := fmt.Sprintf("%s/namespaces/%s/workflows/%s", config.WebUI(), url.PathEscape(a.namespace), url.PathEscape(workflowID))
	if runID != "" {
		u += "/" + url.PathEscape(runID) + "/history"
	}
	return u
}

// describe returns what the server knows of the latest run of id.
func (a *app) describe(ctx context.Context, id string) (*workflowpb.WorkflowExecutionInfo, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", shownID(id), err)
	}
	return desc.GetWorkflowExecutionInfo(), nil
}

// describeIfAny is describe, with no info and no error when no run has the
// ID.
func (a *app) describeIfAny(ctx context.Context, id string) (*workflowpb.WorkflowExecutionInfo, error) {
	info, err := a.describe(ctx, id)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, nil
	}
	return info, err
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

// table writes rows under a header (columns separated by tabs), aligned;
// Flush writes it out.
func table(out io.Writer, header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}
