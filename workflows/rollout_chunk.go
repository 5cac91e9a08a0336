package workflows

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// maxChunksInFlight bounds the chunk activities of a batch running at once
// (a batch of 2,000 instances is 20 chunks; of 10,000, 100).
const maxChunksInFlight = 32

// chunkActivity is for ApplyChangeChunk. Its retries are not the change's
// attempts: a worker crash (heartbeat timeout), a start-to-close timeout or
// a cloud outage is retried without an attempt limit, since the cloud's
// answers (a change that failed on an instance) are results. Like every
// step it gives up on transient errors after model.StepDeadline, counted
// past one attempt's own two hours (an attempt resumes from its heartbeat,
// so the retries redo nothing); then each instance of the chunk fails with
// the reason, and the operator decides (a retry looks at the cloud first).
func chunkActivity(summary string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Hour,
		ScheduleToCloseTimeout: 2*time.Hour + model.StepDeadline,
		HeartbeatTimeout:       20 * time.Second,
		RetryPolicy:            retryPolicy(0),
		Summary:                summary,
	}
}

// changeInput is the task's change, as the instance work (chunks, or the
// old path's RollingUpdateBatch) receives it.
func (r *rollout) changeInput() model.ChangeSpec {
	return model.ChangeSpec{
		Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, TaskType: r.spec.TaskType,
		Image: r.spec.Image, Script: r.spec.Script, Package: r.spec.Package, TokenKey: r.tokenKey,
	}
}

// applyChunk runs the current attempt of the change on ids (at most
// model.RolloutChunkSize) in one activity, records each outcome and writes
// the failure events of the chunk in bulk. lookBack (an operator's retry)
// makes the activity look first at what the previous attempt did in the
// cloud.
func (r *rollout) applyChunk(ctx workflow.Context, ids []string, lookBack bool) {
	c := r.changeInput()
	in := activities.ChunkInput{Region: c.Region, TaskType: c.TaskType, Image: c.Image, Script: c.Script, Package: c.Package}
	// The chunk's token is its business key: each instance and the attempt
	// it is on. A chunk of one has the token of the instance's attempt.
	parts := []string{r.tokenKey, "change"}
	for _, id := range ids {
		p := r.inst(id)
		attempt := strconv.Itoa(p.Attempts)
		parts = append(parts, id, attempt)
		ci := activities.ChunkInstance{InstanceID: id, ClientToken: model.ClientToken(r.tokenKey, "change", id, attempt)}
		if lookBack {
			ci.Previous = p.Ref
		}
		in.Instances = append(in.Instances, ci)
	}
	in.ClientToken = model.ClientToken(parts...)
	summary := fmt.Sprintf("%s on %s", c.TaskType, ids[0])
	if len(ids) > 1 {
		summary = fmt.Sprintf("%s on %d instances, %s … %s (batch %d)", c.TaskType, len(ids), ids[0], ids[len(ids)-1], r.inst(ids[0]).Batch)
	} else {
		summary += fmt.Sprintf(" (attempt %d)", r.inst(ids[0]).Attempts)
	}
	var out activities.ChunkResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, chunkActivity(summary)), rollouts.ApplyChangeChunk, in).Get(ctx, &out)
	results := map[string]activities.InstanceResult{}
	for _, res := range out.Results {
		results[res.InstanceID] = res
	}
	var failures []activities.InstanceFailure
	for _, id := range ids {
		res, ok := results[id]
		switch {
		case !ok && ctx.Err() != nil:
			res.Error = "cancelled: " + ctx.Err().Error()
		case !ok:
			res.Error = lifecycle.RootMessage(err)
		}
		r.record(ctx, id, res.ChangeResult)
		if res.Ref != "" {
			r.inst(id).Ref = res.Ref
		}
		if !res.Succeeded {
			failures = append(failures, activities.InstanceFailure{InstanceID: id,
				Content: fmt.Sprintf("rolling update of %s failed on %s (attempt %d): %s", c.Group, id, r.inst(id).Attempts, res.Error)})
		}
	}
	if len(failures) == 0 {
		return
	}
	r.logger.Warn("Instance changes failed", "failed", len(failures), "of", len(ids), "first", failures[0].InstanceID)
	ectx := workflow.WithActivityOptions(ctx, stepActivity())
	if err := workflow.ExecuteActivity(ectx, rollouts.ReportFailures, activities.FailureEventsInput{
		Region: c.Region, Group: c.Group, TaskType: c.TaskType, Failures: failures,
		ClientToken: model.ClientToken(in.ClientToken, "events"),
	}).Get(ctx, nil); err != nil {
		r.logger.Error("Could not write the failure events", "failed", len(failures), "error", err)
	}
}
