package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// changePublicationLock: a publication holds its version in the cloud
// (Delivering) from before its first copy to the release. Versioned: runs
// started before released the draft without holding it.
const changePublicationLock = "publication-lock"

// hold makes this run the one publication of the version in the cloud,
// before anything is copied: another publication of it (under another
// workflow ID, or through the cloud's API) is refused there, as is a version
// published meanwhile. The token comes from the workflow ID, the version's
// one key, so that a new run of the same ID takes over a hold its failed
// predecessor could not give up. On failure the saga gives the version back
// (registered early, so it runs after the copies are deleted). The release
// needs the token (r.releaseToken; "" for runs before the change).
func (r *regionalRun) hold(ctx workflow.Context, artifactID string) error {
	if workflow.GetVersion(ctx, changePublicationLock, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	in := activities.PublicationInput{
		ArtifactID: artifactID, Version: r.version,
		ReleaseToken: holdToken(workflow.GetInfo(ctx).WorkflowExecution.ID),
	}
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	if err := workflow.ExecuteActivity(actx, packages.StartPublication, in).Get(ctx, nil); err != nil {
		return err
	}
	r.releaseToken = in.ReleaseToken
	r.saga.Add("give up the publication of "+r.version, func(ctx workflow.Context) error {
		opts := cleanupActivity()
		opts.Summary = "give up the publication of " + r.version
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), packages.CancelPublication, in).Get(ctx, nil)
		if err != nil {
			r.logger.Error("Could not give up the publication", "version", r.version, "error", err)
		}
		return err
	})
	return nil
}

// changeStopStartOnCancel: a copy's start, which retries transient errors
// until model.StepDeadline on a disconnected context, stops retrying when
// the run is cancelled. Versioned: before it, the start ran to its end.
const changeStopStartOnCancel = "stop-start-on-cancel"

// startCopyActivity runs the activity that starts a copy (a distribution's
// CopyImage, a publication's CopyObject) on a disconnected context, so that
// a cancel cannot lose the ID of a copy the cloud has made: an attempt in
// flight finishes and its result is kept. Its retries of transient errors
// (an outage can last up to model.StepDeadline) stop when the run is
// cancelled, so that a cancel ends the run without waiting them out.
func startCopyActivity(ctx workflow.Context, opts workflow.ActivityOptions, activity, in, out any) error {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	sctx, stop := workflow.WithCancel(dctx)
	defer stop()
	opts.WaitForCancellation = true
	f := workflow.ExecuteActivity(workflow.WithActivityOptions(sctx, opts), activity, in)
	sel := workflow.NewSelector(dctx)
	sel.AddFuture(f, func(workflow.Future) {})
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {
		if workflow.GetVersion(ctx, changeStopStartOnCancel, workflow.DefaultVersion, 1) == 1 {
			stop()
		}
	})
	sel.Select(dctx)
	return f.Get(dctx, out)
}

// holdToken is the token a publication run under workflowID holds its
// version with: from the workflow ID alone, so that a later run of the ID
// (or a build releasing its distribution's version) can give up or delete
// what a run that ended without its compensation (terminated) still holds.
func holdToken(workflowID string) string {
	return model.ClientToken(workflowID, "publication")
}

// releaseContext is the context a version is released on: disconnected, so
// that a cancel does not stop the wait for a release the cloud may already
// have made (compensation would then delete what a published, locked
// version holds). Versioned: a run cancelled during its release before this
// change asked to cancel it.
func releaseContext(ctx workflow.Context) (workflow.Context, workflow.CancelFunc) {
	rctx, cancel := ctx, workflow.CancelFunc(func() {})
	if workflow.GetVersion(ctx, changeReleaseToTheEnd, workflow.DefaultVersion, 1) == 1 {
		rctx, cancel = workflow.NewDisconnectedContext(ctx)
	}
	return workflow.WithActivityOptions(rctx, stepActivity()), cancel
}
