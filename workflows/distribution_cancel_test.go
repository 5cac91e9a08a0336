package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// What a cancelled or failed distribution leaves: nothing it made, except
// what a published version holds.

func TestDistributeAbortDeletesCopies(t *testing.T) {
	env := newDistributionEnv(t)
	env.failRegion("eu-west-1", nil)
	released := false
	env.OnActivity(packages.ReleaseArtifactVersion, mock.Anything, mock.Anything).Return(func(context.Context, activities.ReleaseInput) error {
		env.locked(func() { released = true })
		return nil
	})
	env.RegisterDelayedCallback(func() {
		env.command(model.CommandCancel, model.CancelCommand{Reason: "quota in London"})
		again := env.command(model.CommandCancel, model.CancelCommand{})
		env.RegisterDelayedCallback(func() { again.requireRejected(t, "already being aborted") }, time.Second)
	}, time.Minute)

	env.execute(validSpec())

	err := env.GetWorkflowError()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, ErrTypeAborted, appErr.Type())
	require.Contains(t, err.Error(), "quota in London")
	require.False(t, released)
	require.ElementsMatch(t, []string{"cn-shanghai", "ap-southeast-1", "eu-west-1"}, env.deleted, "every copy it made is deleted")
	p := env.progress(t)
	require.Equal(t, model.PhaseAborted, p.Phase)
	require.Empty(t, p.WaitingFor, "an aborted run waits for nothing (item 15)")
}

func TestDistributeAbortDeletesTheDraftItCreated(t *testing.T) {
	env := newDistributionEnv(t)
	env.failRegion("eu-west-1", nil)
	env.RegisterDelayedCallback(func() { env.command(model.CommandCancel, model.CancelCommand{Reason: "wrong image"}) }, time.Minute)

	env.execute(validSpec())

	require.True(t, lifecycle.IsType(env.GetWorkflowError(), ErrTypeAborted), env.GetWorkflowError())
	require.Len(t, env.deleted, 3)
	require.Equal(t, []string{"webapp/v1_0_0"}, env.draftsDeleted, "the draft the run created is deleted once")
	require.Equal(t, 3, env.copiesDeletedBeforeDraft, "after the copies")
}

func TestDistributeFailureDeletesTheDraftItCreated(t *testing.T) {
	env := newDistributionEnv(t)
	env.OnActivity(packages.ReleaseArtifactVersion, mock.Anything, mock.Anything).Return(
		temporal.NewNonRetryableApplicationError("release refused", "Refused", nil))

	env.execute(validSpec())

	require.ErrorContains(t, env.GetWorkflowError(), "release refused")
	require.Len(t, env.deleted, 3)
	require.Equal(t, []string{"webapp/v1_0_0"}, env.draftsDeleted)
}

func TestDistributeAbortKeepsADraftThatExistedBefore(t *testing.T) {
	env := newDistributionEnv(t)
	env.OnActivity(packages.PrepareDraftVersion, mock.Anything, mock.Anything).Return(activities.PreparedVersion{ArtifactID: "artifact-1", Created: false}, nil)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.OnActivity(images.AwaitImageAvailable, mock.Anything, mock.Anything).After(time.Hour).Return(nil)

	env.execute(validSpec())

	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), env.GetWorkflowError())
	require.Len(t, env.deleted, 3, "its copies are deleted")
	require.Empty(t, env.draftsDeleted, "a draft the run did not create is the user's")
}

func TestDistributeAbortWhileCopying(t *testing.T) {
	env := newDistributionEnv(t)
	// Copies take an hour; the operator aborts after ten minutes.
	env.OnActivity(images.AwaitImageAvailable, mock.Anything, mock.Anything).After(time.Hour).Return(nil)
	env.RegisterDelayedCallback(func() {
		env.command(model.CommandCancel, model.CancelCommand{Reason: "wrong image"})
	}, 10*time.Minute)

	env.execute(validSpec())

	require.Error(t, env.GetWorkflowError())
	require.Len(t, env.deleted, 3)
}

func TestDistributeCancelDeletesCopies(t *testing.T) {
	env := newDistributionEnv(t)
	env.OnActivity(images.AwaitImageAvailable, mock.Anything, mock.Anything).After(time.Hour).Return(nil)
	env.RegisterDelayedCallback(env.CancelWorkflow, 10*time.Minute)

	env.execute(validSpec())

	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), env.GetWorkflowError())
	require.Len(t, env.deleted, 3)
}

// A cancel that arrives while the version is being released must not delete
// the copies a published (locked) version points at: once the release has
// started it runs to its end.
func TestDistributeCancelDuringReleaseKeepsThePublishedCopies(t *testing.T) {
	env := newDistributionEnv(t)
	released := false
	env.OnActivity(packages.ReleaseArtifactVersion, mock.Anything, mock.Anything).After(time.Hour).Return(
		func(context.Context, activities.ReleaseInput) error {
			env.locked(func() { released = true })
			return nil
		})
	env.RegisterDelayedCallback(env.CancelWorkflow, 10*time.Minute)

	env.execute(validSpec())

	require.NoError(t, env.GetWorkflowError())
	require.True(t, released)
	require.Empty(t, env.deleted, "the published version's copies are kept")
	require.Equal(t, model.PhasePublished, env.progress(t).Phase)
}

// An abort that arrives while a retried region's failed copy is being
// deleted must not start the region's next copy: an aborted run creates
// nothing more.
func TestDistributeAbortDuringRetryStartsNoNewCopy(t *testing.T) {
	env := newDistributionEnv(t)
	env.failRegion("eu-west-1", nil)
	starts := 0
	env.OnActivity(images.StartImageCopy, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StartCopyInput) (string, error) {
		env.locked(func() { starts++ })
		return "m-" + in.Region + "-" + in.ClientToken[:8], nil
	})
	// Deleting the failed copy before the retry takes ten minutes.
	env.OnActivity(images.DeleteImageCopy, mock.Anything, mock.Anything).After(10 * time.Minute).Return(
		func(_ context.Context, in activities.DeleteCopyInput) error {
			env.locked(func() { env.deleted = append(env.deleted, in.Region) })
			return nil
		})
	env.RegisterDelayedCallback(func() {
		env.command(model.CommandRetryRegion, model.RegionCommand{Region: "eu-west-1"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		env.command(model.CommandCancel, model.CancelCommand{Reason: "wrong image"})
	}, 5*time.Minute)

	env.execute(validSpec())

	var appErr *temporal.ApplicationError
	require.True(t, errors.As(env.GetWorkflowError(), &appErr), env.GetWorkflowError())
	require.Equal(t, ErrTypeAborted, appErr.Type())
	require.Equal(t, 3, starts, "no copy is started after the abort")
}

// Once publishing has started, cancel is refused under either name.
func TestDistributeCancelRefusedOncePublishing(t *testing.T) {
	env := newDistributionEnv(t)
	env.OnActivity(packages.ReleaseArtifactVersion, mock.Anything, mock.Anything).After(time.Hour).Return(nil)
	var cancel, abort *updateOutcome
	env.RegisterDelayedCallback(func() {
		require.Equal(t, model.PhasePublishing, env.progress(t).Phase)
		cancel = env.command(model.CommandCancel, model.CancelCommand{})
		//lint:ignore SA1019 the deprecated name is still accepted: this is where it is kept working
		abort = env.command(model.CommandAbort, model.CancelCommand{})
	}, 10*time.Minute)

	env.execute(validSpec())

	require.NoError(t, env.GetWorkflowError())
	cancel.requireRejected(t, "applies only before publishing starts")
	abort.requireRejected(t, "applies only before publishing starts")
}
