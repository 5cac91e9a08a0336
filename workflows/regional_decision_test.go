package workflows

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// A region decision stays in force until it has been carried out: while a
// retry deletes the failed copy (BeforeRetry), a second decision about the
// region is refused, not accepted and then ignored (or applied unasked when
// the next attempt fails). Issue 18, item 21.
func TestDistributeRefusesASecondDecisionWhileTheFirstIsCarriedOut(t *testing.T) {
	for _, nextAttemptFails := range []bool{false, true} {
		t.Run(map[bool]string{false: "next attempt succeeds", true: "next attempt fails"}[nextAttemptFails], func(t *testing.T) {
			env := newDistributionEnv(t)
			var fixed atomic.Bool
			env.failRegion("eu-west-1", &fixed)
			// Deleting the failed copy takes ten minutes of the run's clock.
			env.OnActivity(images.DeleteImageCopy, mock.Anything, mock.Anything).After(10 * time.Minute).Return(
				func(_ context.Context, in activities.DeleteCopyInput) error {
					env.locked(func() { env.deleted = append(env.deleted, in.Region) })
					return nil
				})
			var retry, drop *updateOutcome
			env.RegisterDelayedCallback(func() {
				fixed.Store(!nextAttemptFails)
				retry = env.command(model.CommandRetryRegion, model.RegionCommand{Region: "eu-west-1"})
			}, time.Minute)
			env.RegisterDelayedCallback(func() {
				p := env.progress(t)
				require.Equal(t, model.RegionFailed, p.Region("eu-west-1").State, "the failed copy is still being deleted")
				drop = env.command(model.CommandDropRegion, model.RegionCommand{Region: "eu-west-1"})
			}, 5*time.Minute)
			if nextAttemptFails {
				env.RegisterDelayedCallback(func() {
					p := env.progress(t)
					require.Equal(t, model.RegionFailed, p.Region("eu-west-1").State, "the refused drop is not applied")
					require.Contains(t, p.WaitingFor, "eu-west-1", "the region waits for a new decision")
					fixed.Store(true)
					env.command(model.CommandRetryRegion, model.RegionCommand{Region: "eu-west-1"})
				}, 30*time.Minute)
			}

			env.execute(validSpec())

			retry.requireAccepted(t)
			drop.requireRejected(t, "already has a decision (retry-region) being carried out")
			require.NoError(t, env.GetWorkflowError())
			var result model.DistributionResult
			require.NoError(t, env.GetWorkflowResult(&result))
			require.Contains(t, result.ImageIDs, "eu-west-1")
			require.Empty(t, result.Dropped)
		})
	}
}
