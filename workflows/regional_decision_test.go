package workflows

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

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

// copyAttempts counts copies that fail in the cloud: each failed copy is
// deleted and replaced by a new one (a new client token) until that many
// have failed in a row; only then is the operator asked.
func TestDistributeReplacesFailedCopiesUpToCopyAttempts(t *testing.T) {
	for _, failures := range []int{2, 3} {
		t.Run(map[int]string{2: "third copy succeeds", 3: "three copies fail"}[failures], func(t *testing.T) {
			env := newDistributionEnv(t)
			var failed atomic.Int32
			env.OnActivity(images.AwaitImageAvailable, mock.Anything, mock.MatchedBy(func(in activities.AwaitImageInput) bool { return in.Region == "eu-west-1" })).Return(
				func(context.Context, activities.AwaitImageInput) error {
					if int(failed.Load()) >= failures {
						return nil
					}
					failed.Add(1)
					return temporal.NewNonRetryableApplicationError("copy ended CreateFailed", activities.ErrTypeCopyFailed, nil)
				})
			var waiting model.DistributionProgress
			env.RegisterDelayedCallback(func() {
				waiting = env.progress(t)
				if waiting.WaitingFor != "" {
					env.command(model.CommandRetryRegion, model.RegionCommand{Region: "eu-west-1"})
				}
			}, time.Hour)
			spec := validSpec()
			spec.CopyAttempts = 3

			env.execute(spec)

			require.NoError(t, env.GetWorkflowError())
			p := env.progress(t)
			require.Equal(t, model.RegionAvailable, p.Region("eu-west-1").State)
			require.Equal(t, failures+1, p.Region("eu-west-1").Attempts, "every copy is an attempt")
			require.Len(t, p.Region("eu-west-1").Copies, failures+1, "each failed copy is replaced by a new one")
			require.Len(t, env.deleted, failures, "each failed copy is deleted")
			if failures < 3 {
				require.Empty(t, waiting.WaitingFor, "fewer failed copies than copyAttempts ask no one")
			} else {
				require.Contains(t, waiting.WaitingFor, "eu-west-1", "copyAttempts failed copies ask the operator")
				require.Equal(t, 3, waiting.Region("eu-west-1").Attempts)
			}
		})
	}
}

// A cancel while a copy's start retries transient errors (an outage, which
// the start waits out for up to model.StepDeadline) ends the run without
// waiting the retries out: the start stops retrying, and nothing is left.
func TestDistributeCancelStopsACopyStartRetryingAnOutage(t *testing.T) {
	env := newDistributionEnv(t)
	env.OnActivity(images.StartImageCopy, mock.Anything, mock.MatchedBy(func(in activities.StartCopyInput) bool { return in.Region == "eu-west-1" })).Return("", transientError())
	var cancel *updateOutcome
	env.RegisterDelayedCallback(func() {
		cancel = env.command(model.CommandCancel, model.CancelCommand{Reason: "outage"})
	}, 20*time.Second)
	start := env.Now()

	env.execute(validSpec())

	cancel.requireAccepted(t)
	require.ErrorContains(t, env.GetWorkflowError(), "aborted by the operator: outage")
	require.Less(t, env.Now().Sub(start), 2*time.Minute, "the run's clock: the start's retries (minutes of backoff) are not waited out")
	require.ElementsMatch(t, []string{"cn-shanghai", "ap-southeast-1"}, env.deleted, "the copies made are deleted")
}
