package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// changeScalingSource: an image update makes the group launch its image.
// Versioned: runs started before left the group's source alone.
const changeScalingSource = "rollout-scaling-source"

// followImage switches the group's instance configuration source to the
// task's image before the first batch, as Auto Scaling's image update
// does, so that the instances the group launches after the task (a
// scale-out, a health check's replacement) boot what the task installed.
// The source before is read first and kept in the state (a retried or
// replayed switch does not read it again), and its restore is registered
// before the switch: it runs in the compensation unless the task succeeds
// (keepsSource), so a cancelled, failed or rolled back task gives the group
// exactly the source it had. Both activities make each change once (tokens
// from the run's business key). A rollback task is an image update too: the
// run it rolls back has restored the source, and it switches it only if
// its image differs. A run that goes on with the same task (continue-as-new
// from r.spec) finds the switch in its spec (image.switched) and adopts it.
func (r *rollout) followImage(ctx workflow.Context) error {
	if r.spec.TaskType != model.TaskImage || r.spec.Image == nil {
		return nil
	}
	if workflow.GetVersion(ctx, changeScalingSource, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	if sw := r.spec.Image.Switched; sw != nil {
		// The same task, going on in a new run: it switched the source.
		before, after := sw.Before, sw.After
		r.st.SourceBefore, r.st.Source = &before, &after
		if r.st.Spec.Image != nil { // the progress shows the task's spec as its first run did
			img := *r.st.Spec.Image
			img.Switched = nil
			r.st.Spec.Image = &img
		}
		r.restoreSourceAtEnd(before)
		return nil
	}
	opts := stepActivity()
	opts.Summary = "read the instance configuration source of " + r.spec.ScalingGroupID
	group := activities.SourceInput{Region: r.spec.RegionID, Group: r.spec.ScalingGroupID}
	var before model.ScalingSource
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), rollouts.DescribeScalingSource, group).Get(ctx, &before); err != nil {
		return err
	}
	r.st.SourceBefore, r.st.Source = &before, &before
	r.restoreSourceAtEnd(before)
	opts.Summary = "make " + r.spec.ScalingGroupID + " launch " + r.spec.Image.ImageID
	var after model.ScalingSource
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), rollouts.SwitchScalingSource, activities.SwitchSourceInput{
		Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, From: before, ImageID: r.spec.Image.ImageID,
		Token: model.ClientToken(r.tokenKey, "switch-source"),
	}).Get(ctx, &after)
	if err != nil {
		return err
	}
	r.st.Source = &after
	// A run that goes on with the task (continue-as-new from r.spec)
	// adopts the switch instead of reading the source it made.
	img := *r.spec.Image
	img.Switched = &model.SourceSwitch{Before: before, After: after}
	r.spec.Image = &img
	if after != before {
		r.logger.Info("The scaling group launches the task's image", "before", before.String(), "now", after.String())
	}
	return nil
}

// restoreSourceAtEnd registers the restore of the group's source before
// the task (before the switch: a switch whose answer was lost is undone
// too; a source that is before already is left alone).
func (r *rollout) restoreSourceAtEnd(before model.ScalingSource) {
	r.saga.Add("give the scaling group back "+before.String(), func(ctx workflow.Context) error {
		if r.keepsSource() {
			return nil
		}
		opts := cleanupActivity()
		opts.Summary = "give " + r.spec.ScalingGroupID + " back " + before.String()
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), rollouts.RestoreScalingSource, activities.RestoreSourceInput{
			Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, To: before, Token: model.ClientToken(r.tokenKey, "restore-source"),
		}).Get(ctx, nil)
		if err == nil {
			r.st.Source = &before
		}
		return err
	})
}

// keepsSource reports whether the group keeps launching the task's image:
// the task ran every batch and was neither cancelled nor rolled back.
func (r *rollout) keepsSource() bool {
	if r.status.cancelled() || r.status.rollbackAsked() != nil {
		return false
	}
	for _, b := range r.st.Batches {
		if b.State != model.BatchDone {
			return false
		}
	}
	return len(r.st.Batches) > 0
}
