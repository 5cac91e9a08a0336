package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/fanout"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// The old path: runs started before workflow version rollout-chunked apply
// the change to a batch in a RollingUpdateBatch child workflow, one
// ApplyChange activity per instance. Kept so that those runs finish (and
// replay).

// RollingUpdateBatch applies a rolling update's change to the instances of
// one batch, all at once, and reports each failure to the event log. A child
// workflow per batch keeps the parent's history to a few events per batch
// however large the group.
func RollingUpdateBatch(ctx workflow.Context, in model.RolloutBatchInput) (*model.RolloutBatchResult, error) {
	if err := lifecycle.RequireChildOf(ctx, model.RolloutWorkflowID(in.Change.Group)); err != nil {
		return nil, err
	}
	out := &model.RolloutBatchResult{Results: map[string]model.ChangeResult{}}
	fanout.Each(ctx, in.Instances, 0, func(ctx workflow.Context, bi model.BatchInstance) {
		out.Results[bi.InstanceID] = applyChange(ctx, in.Change, bi.InstanceID, bi.Attempt)
	})
	return out, ctx.Err()
}

// runBatchChild applies the change to batch b's instances (on their current
// attempt) through a RollingUpdateBatch child and records each outcome.
func (r *rollout) runBatchChild(ctx workflow.Context, b int, ids []string) error {
	in := model.RolloutBatchInput{Change: r.changeInput()}
	for _, id := range ids {
		in.Instances = append(in.Instances, model.BatchInstance{InstanceID: id, Attempt: r.inst(id).Attempts})
	}
	info := workflow.GetInfo(ctx)
	// A task cancelled through Temporal lets the batch's running work end,
	// as the cancel command does, before compensation returns the instances
	// to service: otherwise they would take traffic mid-change.
	childCtx := ctx
	if workflow.GetVersion(ctx, "rollout-batch-ends-on-cancel", workflow.DefaultVersion, 1) == 1 {
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		childCtx = dctx
	}
	cctx := workflow.WithChildOptions(childCtx, workflow.ChildWorkflowOptions{
		// Derived from the input, not the parent's ID, so that a replay under
		// another ID (the replayer's) issues the same command.
		WorkflowID:    fmt.Sprintf("%s/batch-%d/%s", model.RolloutWorkflowID(r.spec.ScalingGroupID), b+1, info.OriginalRunID),
		StaticSummary: fmt.Sprintf("batch %d of %d of the rolling update of %s (%d instances)", b+1, len(r.st.Batches), r.spec.ScalingGroupID, len(ids)),
	})
	var res model.RolloutBatchResult
	if err := workflow.ExecuteChildWorkflow(cctx, model.RolloutBatchWorkflowType, in).Get(childCtx, &res); err != nil {
		return err
	}
	for _, id := range ids {
		r.record(ctx, id, res.Results[id])
	}
	return nil
}

// applyChange runs one attempt of the change on an instance and, if it
// failed, writes the failure event. A change that could not even be tried
// (the activity ran out of retries) is a failure of the instance too.
func applyChange(ctx workflow.Context, c model.ChangeSpec, id string, attempt int) model.ChangeResult {
	logger := workflow.GetLogger(ctx)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy:         retryPolicy(5),
		Summary:             fmt.Sprintf("%s on %s (attempt %d)", c.TaskType, id, attempt),
	})
	var res model.ChangeResult
	err := workflow.ExecuteActivity(actx, rollouts.ApplyChange, activities.ChangeInput{
		Region: c.Region, InstanceID: id, TaskType: c.TaskType, Image: c.Image, Script: c.Script, Package: c.Package,
		ClientToken: model.ClientToken(c.TokenKey, "change", id, fmt.Sprint(attempt)),
	}).Get(ctx, &res)
	if err != nil {
		if ctx.Err() != nil {
			return model.ChangeResult{Error: "cancelled: " + ctx.Err().Error()}
		}
		res = model.ChangeResult{Error: lifecycle.RootMessage(err)}
	}
	if res.Succeeded {
		return res
	}
	logger.Warn("Instance change failed", "instance", id, "attempt", attempt, "error", res.Error)
	ectx := workflow.WithActivityOptions(ctx, stepActivity())
	if err := workflow.ExecuteActivity(ectx, rollouts.ReportFailure, activities.FailureEventInput{
		Region: c.Region, Group: c.Group, TaskType: c.TaskType, InstanceID: id,
		Content:     fmt.Sprintf("rolling update of %s failed on %s (attempt %d): %s", c.Group, id, attempt, res.Error),
		ClientToken: model.ClientToken(c.TokenKey, "event", id, fmt.Sprint(attempt)),
	}).Get(ctx, nil); err != nil {
		logger.Error("Could not write the failure event", "instance", id, "error", err)
	}
	return res
}
