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

// ChangeSpec is the change a rolling update applies to each instance.
type ChangeSpec struct {
	Region   string
	Group    string
	TaskType string
	Image    *model.ImageChange   `json:",omitempty"`
	Script   *model.ScriptChange  `json:",omitempty"`
	Package  *model.PackageChange `json:",omitempty"`
	// TokenKey scopes the client tokens to the task.
	TokenKey string
}

// BatchInstance is one instance of a batch and the attempt it is on.
type BatchInstance struct {
	InstanceID string
	Attempt    int
}

// RolloutBatchInput is the input of RollingUpdateBatch.
type RolloutBatchInput struct {
	Change    ChangeSpec
	Instances []BatchInstance
}

// RolloutBatchResult maps each instance to how its change ended.
type RolloutBatchResult struct {
	Results map[string]activities.ChangeResult
}

// RollingUpdateBatch applies a rolling update's change to the instances of
// one batch, all at once, and reports each failure to the event log. A child
// workflow per batch keeps the parent's history to a few events per batch
// however large the group.
func RollingUpdateBatch(ctx workflow.Context, in RolloutBatchInput) (*RolloutBatchResult, error) {
	if err := lifecycle.RequireChildOf(ctx, model.RolloutWorkflowID(in.Change.Group)); err != nil {
		return nil, err
	}
	out := &RolloutBatchResult{Results: map[string]activities.ChangeResult{}}
	fanout.Each(ctx, in.Instances, 0, func(ctx workflow.Context, bi BatchInstance) {
		out.Results[bi.InstanceID] = applyChange(ctx, in.Change, bi.InstanceID, bi.Attempt)
	})
	return out, ctx.Err()
}

// applyChange runs one attempt of the change on an instance and, if it
// failed, writes the failure event. A change that could not even be tried
// (the activity ran out of retries) is a failure of the instance too.
func applyChange(ctx workflow.Context, c ChangeSpec, id string, attempt int) activities.ChangeResult {
	logger := workflow.GetLogger(ctx)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy:         retryPolicy(5),
		Summary:             fmt.Sprintf("%s on %s (attempt %d)", c.TaskType, id, attempt),
	})
	var res activities.ChangeResult
	err := workflow.ExecuteActivity(actx, rollouts.ApplyChange, activities.ChangeInput{
		Region: c.Region, InstanceID: id, TaskType: c.TaskType, Image: c.Image, Script: c.Script, Package: c.Package,
		ClientToken: model.ClientToken(c.TokenKey, "change", id, fmt.Sprint(attempt)),
	}).Get(ctx, &res)
	if err != nil {
		if ctx.Err() != nil {
			return activities.ChangeResult{Error: "cancelled: " + ctx.Err().Error()}
		}
		res = activities.ChangeResult{Error: lifecycle.RootMessage(err)}
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
