package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/fanout"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// parentClosePolicy: a release that ends for good (terminated, timed out)
// asks its children to cancel: a rolling update then puts its Standby
// instances back and restores its group, a distribution deletes its copies.
const parentClosePolicy = enums.PARENT_CLOSE_POLICY_REQUEST_CANCEL

// runStage runs stage i: its approval, its groups, its soak and
// verification. It returns when the stage is verified, or with the error
// that stops the release (cancelled, rolled back).
func (r *release) runStage(ctx workflow.Context, i int) error {
	st, sp := r.spec.Stages[i], &r.p.Stages[i]
	if st.Gate.Approval {
		sp.State = model.StageAwaitApproval
		if err := r.waitFor(ctx, fmt.Sprintf("the approval of stage %s", st.Name),
			fmt.Sprintf("approve {\"stage\":%q,\"by\":\"…\",\"comment\":\"…\"} (starter release approve %s %s --by …), or cancel", st.Name, r.spec.Name, r.spec.Version),
			func() bool { return sp.Approval != nil }); err != nil {
			sp.State = model.StagePending // never started
			return err
		}
	}
	if err := r.awaitUnheld(ctx); err != nil {
		return err
	}
	sp.State = model.StageUpdating
	r.updateDetails(ctx)
	fanout.Each(ctx, st.Groups, st.Parallelism, func(ctx workflow.Context, g model.ReleaseGroup) {
		r.updateGroup(ctx, st, r.p.Group(g.ScalingGroupID))
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	// A failed group holds the stage until the operator decides.
	if err := r.waitFor(ctx, fmt.Sprintf("a decision on the failed groups of stage %s", st.Name),
		"skip-group {\"scalingGroupId\":\"…\"} for each failed group, rollback, or cancel",
		func() bool { return len(r.failedGroups(sp)) == 0 }); err != nil {
		return err
	}
	if err := r.soak(ctx, st, sp); err != nil {
		return err
	}
	sp.State = model.StageVerified
	r.updateDetails(ctx)
	return nil
}

// failedGroups are the groups of a stage that failed and wait for a decision.
func (r *release) failedGroups(sp *model.StageProgress) []string {
	var out []string
	for _, g := range sp.Groups {
		if g.State == model.GroupFailed {
			out = append(out, g.ScalingGroupID)
		}
	}
	return out
}

// waitFor shows the release waiting for what, resolved by resolve, until
// done, and returns an error when the release is cancelled or rolled back
// meanwhile. It does not wait when done already.
func (r *release) waitFor(ctx workflow.Context, what, resolve string, done func() bool) error {
	if done() {
		return nil
	}
	r.p.WaitingFor, r.p.Resolve = what, resolve
	r.state.Waiting(ctx, true)
	r.updateDetails(ctx)
	err := workflow.Await(ctx, func() bool { return done() || r.status.stopping() })
	r.p.WaitingFor, r.p.Resolve = "", ""
	r.state.Waiting(ctx, false)
	r.updateDetails(ctx)
	if err != nil {
		return err
	}
	return r.stopErr(ctx)
}

// stopErr is the error of a release the operator stopped (cancel,
// rollback), nil otherwise.
func (r *release) stopErr(ctx workflow.Context) error {
	if r.status.stopping() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return workflow.ErrCanceled
	}
	return nil
}

// awaitUnheld waits while the release is held.
func (r *release) awaitUnheld(ctx workflow.Context) error {
	return r.waitFor(ctx, "resume (the release is held: "+r.p.HoldReason+")", "resume", func() bool { return !r.p.Held })
}

// updateGroup reads the group's image before, then updates it with a
// RollingUpdate child to the image its region received.
func (r *release) updateGroup(ctx workflow.Context, st model.ReleaseStage, g *model.GroupProgress) {
	if err := workflow.Await(ctx, func() bool { return !r.p.Held || r.status.stopping() }); err != nil || r.status.stopping() {
		return
	}
	if g.State != model.GroupPending { // skipped meanwhile
		return
	}
	image, ok := r.p.Images[g.RegionID]
	if !ok {
		r.failGroup(ctx, g, fmt.Sprintf("region %s received no image (the distribution dropped it)", g.RegionID))
		return
	}
	g.ImageID, g.Batches, g.State = image, st.GroupBatches(), model.GroupUpdating
	r.updateDetails(ctx)
	var before model.ScalingSource
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	if err := workflow.ExecuteActivity(actx, rollouts.DescribeScalingSource, activities.SourceInput{Region: g.RegionID, Group: g.ScalingGroupID}).Get(ctx, &before); err != nil {
		r.failGroup(ctx, g, "reading the group's image: "+lifecycle.RootMessage(err))
		return
	}
	g.PreviousImageID = before.ImageID
	spec := model.RolloutSpec{
		ScalingGroupID: g.ScalingGroupID, RegionID: g.RegionID, TaskType: model.TaskImage,
		Image:   &model.ImageChange{ImageID: image, RollbackImageID: before.ImageID},
		Batches: g.Batches, ErrorThreshold: st.ErrorThreshold,
		Description: fmt.Sprintf("release %s %s, stage %s", r.spec.Name, r.spec.Version, st.Name),
	}
	g.Rollout = &model.ChildRun{WorkflowID: model.RolloutWorkflowID(g.ScalingGroupID), State: model.StateRunning}
	g.WaitingFor = "its rolling update"
	g.Resolve = "if it pauses: starter rollout status " + g.ScalingGroupID + " (retry, skip, resume or rollback there)"
	var res model.RolloutState
	err := r.child(ctx, g.Rollout, model.RolloutWorkflowType, "update "+g.ScalingGroupID+" to "+image, spec, &res)
	g.WaitingFor, g.Resolve = "", ""
	r.state.Waiting(ctx, r.p.WaitingFor != "" || r.groupsWaiting())
	g.Changed = res.Counts.Changed
	switch {
	case err != nil:
		r.failGroup(ctx, g, lifecycle.RootMessage(err))
	case res.Status != model.RolloutSucceeded || res.Spec.IsRollback():
		g.Rollout.State = model.StateFailed
		r.failGroup(ctx, g, fmt.Sprintf("its rolling update ended %s", rolloutEnd(res)))
	default:
		g.State = model.GroupUpdated
		r.updateDetails(ctx)
	}
}

func rolloutEnd(res model.RolloutState) string {
	if res.Spec.IsRollback() {
		return "rolled back by its operator"
	}
	if res.Error != "" {
		return res.Status + ": " + res.Error
	}
	return res.Status
}

// failGroup marks a group Failed, waiting for a decision.
func (r *release) failGroup(ctx workflow.Context, g *model.GroupProgress, why string) {
	g.State, g.Error = model.GroupFailed, model.Cut(why, model.MaxGroupError)
	if !r.status.stopping() {
		g.WaitingFor = "a decision"
		g.Resolve = fmt.Sprintf("skip-group {\"scalingGroupId\":%q}, rollback, or cancel", g.ScalingGroupID)
	}
	r.logger.Warn("Group failed", "group", g.ScalingGroupID, "error", why)
	r.updateDetails(ctx)
}

// soak watches an updated stage for its soak time, checking its
// verification at its interval; a verification that fails stops promotion
// until the operator rolls back or cancels.
func (r *release) soak(ctx workflow.Context, st model.ReleaseStage, sp *model.StageProgress) error {
	soak, verify := st.Gate.SoakDuration(), st.Gate.Verify
	if soak == 0 && verify == nil {
		return nil
	}
	start := workflow.Now(ctx)
	sp.State = model.StageSoaking
	sp.Soak = &model.SoakProgress{Until: start.Add(soak)}
	r.updateDetails(ctx)
	var groups []model.ReleaseGroup
	for _, g := range st.Groups {
		if pg := r.p.Group(g.ScalingGroupID); pg.State == model.GroupUpdated {
			groups = append(groups, g)
		}
	}
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	for {
		if verify != nil && len(groups) > 0 {
			var rep activities.VerifyReport
			if err := workflow.ExecuteActivity(actx, rollouts.VerifyGroups, activities.VerifyInput{Groups: groups, Since: start}).Get(ctx, &rep); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				sp.Soak.Failure = "the verification could not read the cloud: " + lifecycle.RootMessage(err)
			} else {
				sp.Soak.Checks++
				sp.Soak.Unhealthy, sp.Soak.FailureEvents = rep.Unhealthy, rep.FailureEvents
				if rep.Unhealthy > verify.MaxUnhealthy || rep.FailureEvents > verify.MaxFailureEvents {
					sp.Soak.Failure = fmt.Sprintf("%d unhealthy instance(s) (at most %d), %d failure event(s) (at most %d): %s",
						rep.Unhealthy, verify.MaxUnhealthy, rep.FailureEvents, verify.MaxFailureEvents, strings.Join(rep.Findings, "; "))
				}
			}
			if sp.Soak.Failure != "" {
				sp.State = model.StageFailed
				r.logger.Warn("Verification failed", "stage", st.Name, "failure", sp.Soak.Failure)
				return r.waitFor(ctx, fmt.Sprintf("a decision: stage %s failed its verification (%s)", st.Name, sp.Soak.Failure),
					"rollback, or cancel", func() bool { return false })
			}
			r.updateDetails(ctx)
		}
		left := sp.Soak.Until.Sub(workflow.Now(ctx))
		if left <= 0 {
			return nil
		}
		wait := left
		if verify != nil {
			wait = min(left, verify.Interval())
		}
		if _, err := workflow.AwaitWithTimeout(ctx, wait, r.status.stopping); err != nil {
			return err
		}
		if err := r.stopErr(ctx); err != nil {
			return err
		}
	}
}

// rollBack returns every group the release changed to its previous image:
// stage by stage in reverse order, the groups of a stage in parallel (up to
// its parallelism). A group is rolled back once: its rollback child is in
// the release's history, and its state never leaves RolledBack or
// RollbackFailed. It runs on a disconnected context: a cancellation of the
// release does not interrupt it.
func (r *release) rollBack(ctx workflow.Context) error {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	r.setPhase(ctx, model.ReleaseRollingBack)
	r.state.Set(ctx, model.StateCompensating)
	var failed []string
	for i := len(r.spec.Stages) - 1; i >= 0; i-- {
		st, sp := r.spec.Stages[i], &r.p.Stages[i]
		var todo []*model.GroupProgress
		for j := range sp.Groups {
			if g := &sp.Groups[j]; needsRollback(g) {
				todo = append(todo, g)
			}
		}
		if len(todo) == 0 {
			continue
		}
		fanout.Each(ctx, todo, st.Parallelism, func(ctx workflow.Context, g *model.GroupProgress) {
			r.rollbackGroup(ctx, st, g)
		})
		sp.State = model.StageRolledBack
		for _, g := range todo {
			if g.State == model.GroupRollbackFailed {
				failed = append(failed, g.ScalingGroupID)
				sp.State = model.StageFailed
			}
		}
		r.updateDetails(ctx)
	}
	if len(failed) > 0 {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("the rollback did not roll back %s: roll each back with starter rollout rollback GROUP", strings.Join(failed, ", ")),
			ErrTypeReleaseRollbackIncomplete, nil)
	}
	return nil
}

// needsRollback: the group's rolling update started (it may have changed
// instances) and it was not rolled back yet.
func needsRollback(g *model.GroupProgress) bool {
	if g.Rollback != nil || g.Rollout == nil || g.Rollout.RunID == "" {
		return false
	}
	if g.State == model.GroupUpdated {
		return true
	}
	// A failed or cancelled update that answered how many instances it
	// changed needs no rollback if it changed none.
	return g.State == model.GroupFailed && (g.Changed > 0 || g.Rollout.Error != "")
}

// rollbackGroup updates a group back to its previous image with a new
// RollingUpdate under the group's one workflow ID.
func (r *release) rollbackGroup(ctx workflow.Context, st model.ReleaseStage, g *model.GroupProgress) {
	g.Rollback = &model.ChildRun{WorkflowID: model.RolloutWorkflowID(g.ScalingGroupID), State: model.StateRunning}
	g.State, g.WaitingFor, g.Resolve = model.GroupRollingBack, "", ""
	if g.PreviousImageID == "" {
		g.State, g.Error = model.GroupRollbackFailed, "its previous image is unknown"
		g.Rollback.State = model.StateFailed
		return
	}
	spec := model.RolloutSpec{
		ScalingGroupID: g.ScalingGroupID, RegionID: g.RegionID, TaskType: model.TaskImage,
		Image:   &model.ImageChange{ImageID: g.PreviousImageID},
		Batches: max(g.Batches, 1), ErrorThreshold: st.ErrorThreshold,
		Description: fmt.Sprintf("rollback of release %s %s, stage %s", r.spec.Name, r.spec.Version, st.Name),
	}
	var res model.RolloutState
	err := r.child(ctx, g.Rollback, model.RolloutWorkflowType, "roll "+g.ScalingGroupID+" back to "+g.PreviousImageID, spec, &res)
	g.WaitingFor, g.Resolve = "", ""
	switch {
	case err != nil:
		g.State, g.Error = model.GroupRollbackFailed, model.Cut("rollback: "+lifecycle.RootMessage(err), model.MaxGroupError)
	case res.Status != model.RolloutSucceeded:
		g.Rollback.State = model.StateFailed
		g.State, g.Error = model.GroupRollbackFailed, "rollback: its rolling update ended "+rolloutEnd(res)
	default:
		g.State = model.GroupRolledBack
	}
	r.updateDetails(ctx)
}
