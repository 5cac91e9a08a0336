package workflows

import (
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
)

// changePublicationLock: a publication holds its version in the cloud
// (Delivering) from before its first copy to the release. Versioned: runs
// started before released the draft without holding it.
const changePublicationLock = "publication-lock"

// holdPublication makes this run the one publication of the version in the
// cloud, before anything is copied: another publication of it (under
// another workflow ID, or through the cloud's API) is refused there, as is
// a version published meanwhile. The token comes from the workflow ID, the
// version's one key, so that a new run of the same ID takes over a hold
// its failed predecessor could not give up. On failure the saga gives the
// version back (registered first, so it runs after the copies are deleted).
// It returns the token the release needs ("" for runs before the change).
func holdPublication(ctx workflow.Context, s *saga.Saga, logger log.Logger, artifactID, version string) (string, error) {
	if workflow.GetVersion(ctx, changePublicationLock, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return "", nil
	}
	in := activities.PublicationInput{
		ArtifactID: artifactID, Version: version,
		ReleaseToken: model.ClientToken(workflow.GetInfo(ctx).WorkflowExecution.ID, "publication"),
	}
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	if err := workflow.ExecuteActivity(actx, packages.StartPublication, in).Get(ctx, nil); err != nil {
		return "", err
	}
	s.Add("give up the publication of "+version, func(ctx workflow.Context) error {
		opts := cleanupActivity()
		opts.Summary = "give up the publication of " + version
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), packages.CancelPublication, in).Get(ctx, nil)
		if err != nil {
			logger.Error("Could not give up the publication", "version", version, "error", err)
		}
		return err
	})
	return in.ReleaseToken, nil
}
