package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
)

// updateDetails refreshes the summary and shows it as the run's current
// details in the Web UI.
func (r *rollout) updateDetails(ctx workflow.Context) {
	r.refresh()
	workflow.SetCurrentDetails(ctx, rolloutDetails(&r.st))
	r.tellRelease(ctx)
}

// changeTellRelease: a rolling update run as a release's child tells the
// release when it starts or stops waiting for its operator. Only children
// of releases (which did not exist before) take the new branch.
const changeTellRelease = "rollout-tells-release"

// tellRelease signals a release parent (model.SignalRolloutWaiting) when
// what the task waits for changed, so that the release shows the group
// waiting and the command that resolves it. Fire and forget: a release
// that ended has nothing to show.
func (r *rollout) tellRelease(ctx workflow.Context) {
	p := workflow.GetInfo(ctx).ParentWorkflowExecution
	if p == nil || !strings.HasPrefix(p.ID, "release/") || r.st.WaitingFor == r.toldRelease {
		return
	}
	if workflow.GetVersion(ctx, changeTellRelease, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	r.toldRelease = r.st.WaitingFor
	workflow.SignalExternalWorkflow(ctx, p.ID, p.RunID, model.SignalRolloutWaiting,
		model.RolloutWaiting{ScalingGroupID: r.spec.ScalingGroupID, WaitingFor: r.st.WaitingFor})
}

// rolloutDetails renders the state as Markdown for the Web UI: what the task
// waits for, the batches, and the instances that need attention.
func rolloutDetails(st *model.RolloutState) string {
	var d details.Doc
	kind := "Rolling update"
	if st.RollbackOf != nil {
		kind = fmt.Sprintf("Rollback of %s (run %s)", st.RollbackOf.WorkflowID, st.RollbackOf.RunID)
	}
	d.Para("**%s of %s** (%s) — %s, batch %d of %d", kind, st.ScalingGroupID, st.TaskType, st.Status, st.CurrentBatch, len(st.Batches))
	if st.WaitingFor != "" {
		d.Para("⏸ Waiting for %s", st.WaitingFor)
	}
	d.Para("pause policy %s, error threshold %d, failures %d", st.PausePolicy, st.ErrorThreshold, st.Failures)
	if st.Source != nil {
		d.Para("the group launches from %s", st.Source)
	}
	batches := d.Table("batch", "size", "state", "success", "failed")
	for _, b := range st.Batches {
		batches.Row(b.Index, b.Size, b.State, b.Succeeded, b.Failed)
	}
	c := st.Counts
	d.Para("instances: %d — %d succeeded, %d failed, %d updating, %d in Standby, %d pending", c.Total, c.Succeeded, c.Failed, c.Updating, c.Standby, c.Pending)
	if len(st.FailedInstances) > 0 {
		failed := d.Table("failed instance", "batch", "attempts", "decision", "error")
		for _, in := range st.FailedInstances {
			failed.Row(in.InstanceID, in.Batch, in.Attempts, in.Decision, in.Error)
		}
		if st.FailedTotal > len(st.FailedInstances) {
			d.Para("… and %d more failed instances (query `%s` with `{\"state\":\"Failed\"}`)", st.FailedTotal-len(st.FailedInstances), model.QueryRolloutInstances)
		}
	}
	d.StepDeadline(model.StepDeadline)
	return d.String()
}
