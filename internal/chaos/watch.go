package chaos

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/model"
)

// watch follows every operation to its end, acting as the operator where
// the load says so, until all have ended or Config.Timeout has passed.
func (r *run) watch(ctx context.Context) {
	deadline := time.Now().Add(r.cfg.Timeout)
	lastOpen := -1
	for {
		open := 0
		for _, o := range r.ops {
			if o.Status != "" && o.Status != "Running" {
				continue
			}
			open++
			if !o.isStarted() {
				continue
			}
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			desc, err := r.tc.DescribeWorkflowExecution(dctx, o.WorkflowID, "")
			cancel()
			if err != nil {
				continue // the server may be restarting
			}
			info := desc.GetWorkflowExecutionInfo()
			o.State = stateOf(info.GetSearchAttributes().GetIndexedFields())
			if info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
				o.Status = "Running"
				r.operate(ctx, o)
				continue
			}
			o.Status = info.GetStatus().String()
			o.setStarted(info.GetExecution().GetRunId())
			o.Duration = info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime()).Round(100 * time.Millisecond)
			r.logf("%s ended %s/%s after %s", o.WorkflowID, o.Status, o.State, o.Duration)
			open--
		}
		if open != lastOpen {
			lastOpen = open
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.logf("timeout: %d operations still open after %s", open, r.cfg.Timeout)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func stateOf(fields map[string]*commonpb.Payload) string {
	p := fields[model.SAState.GetName()]
	if p == nil {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// operate sends the operator commands the load expects of a waiting run.
func (r *run) operate(ctx context.Context, o *op) {
	if o.State != model.StateWaitingForOperator {
		return
	}
	switch {
	case o.Role == rolePause && !o.sent("resume"):
		// Through the temporal CLI, as an operator without the starter would.
		cmd := exec.CommandContext(ctx, r.cfg.TemporalCLI, "workflow", "update", "execute",
			"--address", r.stack.TemporalAddress(), "--namespace", "default",
			"--workflow-id", o.WorkflowID, "--name", model.CommandResume, "--input", "{}")
		out, err := cmd.CombinedOutput()
		if err != nil {
			r.logf("resume %s with the temporal CLI: %v: %s", o.WorkflowID, err, strings.TrimSpace(string(out)))
			return
		}
		o.record("resume (temporal CLI)")
		r.logf("resumed %s with the temporal CLI", o.WorkflowID)
	case o.Role == roleAbort:
		if o.sent("abort") {
			return // it still waits while its abort is carried out
		}
		err := r.update(ctx, o.WorkflowID, model.CommandCancel, model.CancelCommand{Reason: "chaos: aborted by the harness"})
		var refused *temporal.ApplicationError
		switch {
		case err == nil:
			o.record("abort")
			r.logf("aborted %s", o.WorkflowID)
		case errors.As(err, &refused):
			o.record("abort refused: " + refused.Error())
			r.logf("abort of %s refused: %v", o.WorkflowID, err)
		default:
			r.logf("abort of %s: %v", o.WorkflowID, err)
		}
	case (o.Kind == "distribute" || o.Kind == "publish") && o.Role == roleNone && r.outageOver():
		// A region that failed during the outage (or through killed
		// workers) is retried once the region is back.
		regions, err := r.failedRegions(ctx, o.WorkflowID)
		if err != nil {
			return
		}
		for _, region := range regions {
			if err := r.update(ctx, o.WorkflowID, model.CommandRetryRegion, model.RegionCommand{Region: region}); err != nil {
				r.logf("retry-region %s of %s: %v", region, o.WorkflowID, err)
				continue
			}
			o.record("retry-region " + region)
			r.logf("retried region %s of %s", region, o.WorkflowID)
		}
	default:
		if !o.sent("noticed waiting") {
			o.record("noticed waiting")
			r.logf("%s waits for an operator; the load does not expect it to", o.WorkflowID)
		}
	}
}

func (o *op) sent(what string) bool {
	for _, c := range o.Operator {
		if c == what {
			return true
		}
	}
	return false
}

func (o *op) record(what string) { o.Operator = append(o.Operator, what) }

func (r *run) update(ctx context.Context, id, name string, payload any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := r.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: []any{payload}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

func (r *run) failedRegions(ctx context.Context, id string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := r.tc.QueryWorkflow(ctx, id, "", model.QueryProgress)
	if err != nil {
		return nil, err
	}
	var p struct {
		Regions []model.RegionStatus `json:"regions"`
	}
	if err := v.Get(&p); err != nil {
		return nil, fmt.Errorf("decode progress of %s: %w", id, err)
	}
	var failed []string
	for _, rs := range p.Regions {
		if rs.State == model.RegionFailed {
			failed = append(failed, rs.Region)
		}
	}
	return failed, nil
}
