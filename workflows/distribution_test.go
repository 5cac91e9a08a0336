package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

func validSpec() model.DistributeSpec {
	return model.DistributeSpec{
		Package:      "webapp",
		Version:      "v1_0_0",
		Description:  "web application image",
		SourceRegion: "cn-hangzhou",
		SourceImage:  "m-webapp-v1",
		Regions:      []string{"cn-shanghai", "ap-southeast-1", "eu-west-1"},
		// The first failed copy asks the operator: these tests are about
		// the decisions (TestDistributeReplacesFailedCopiesUpToCopyAttempts
		// is about copyAttempts).
		CopyAttempts: 1,
	}
}

// distributionEnv is a test environment whose activities succeed unless a
// test mocks them otherwise (the first matching mock wins, so the defaults
// are added last, by execute).
type distributionEnv struct {
	*testsuite.TestWorkflowEnvironment
	guard         // mocked activities run on their own goroutines
	deleted       []string
	draftsDeleted []string // package/version
	// copiesDeletedBeforeDraft is how many copies were deleted when the
	// draft was.
	copiesDeletedBeforeDraft int
}

func newDistributionEnv(t *testing.T) *distributionEnv {
	var s testsuite.WorkflowTestSuite
	env := &distributionEnv{TestWorkflowEnvironment: newTestEnv(&s)}
	env.RegisterWorkflowWithOptions(DistributeImagePackage, workflow.RegisterOptions{Name: model.DistributeWorkflowType})
	env.RegisterActivity(&activities.Images{})
	env.RegisterActivity(&activities.Packages{})
	return env
}

func (env *distributionEnv) execute(spec model.DistributeSpec) {
	env.OnActivity(images.CheckSourceImage, mock.Anything, mock.Anything).Return(&cloud.Image{ImageId: "m-webapp-v1"}, nil).Maybe()
	env.OnActivity(packages.FindPublishedImageVersion, mock.Anything, mock.Anything).Return(nil, nil).Maybe()
	env.OnActivity(packages.PrepareDraftVersion, mock.Anything, mock.Anything).Return(activities.PreparedVersion{ArtifactID: "artifact-1", Created: true}, nil).Maybe()
	env.OnActivity(packages.DeletePackageVersion, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PackageVersionInput) error {
			env.locked(func() {
				env.copiesDeletedBeforeDraft = len(env.deleted)
				env.draftsDeleted = append(env.draftsDeleted, in.Package+"/"+in.Version)
			})
			return nil
		}).Maybe()
	env.OnActivity(packages.StartPublication, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(packages.CancelPublication, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(images.StartImageCopy, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StartCopyInput) (string, error) {
			return "m-" + in.Region + "-" + in.ClientToken[:8], nil
		}).Maybe()
	env.OnActivity(images.AwaitImageAvailable, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(images.DeleteImageCopy, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeleteCopyInput) error {
			env.locked(func() { env.deleted = append(env.deleted, in.Region) })
			return nil
		}).Maybe()
	env.OnActivity(packages.ResolvePackagePermission, mock.Anything, mock.Anything).Return(model.Permission{Visibility: model.VisibilityPrivate}, nil).Maybe()
	env.OnActivity(images.ShareImage, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(packages.ReleaseArtifactVersion, mock.Anything, mock.Anything).Return(nil).Maybe()
	executeAs(env.TestWorkflowEnvironment, model.DistributeWorkflowID(spec.Package, spec.Version), model.DistributeWorkflowType, spec)
}

// failRegion makes every copy into region fail permanently until fixed.
func (env *distributionEnv) failRegion(region string, fixed *atomic.Bool) {
	env.OnActivity(images.AwaitImageAvailable, mock.Anything, mock.MatchedBy(func(in activities.AwaitImageInput) bool { return in.Region == region })).Return(
		func(context.Context, activities.AwaitImageInput) error {
			if fixed != nil && fixed.Load() {
				return nil
			}
			return temporal.NewNonRetryableApplicationError("copy ended CreateFailed", activities.ErrTypeCopyFailed, nil)
		})
}

func (env *distributionEnv) progress(t *testing.T) model.DistributionProgress {
	t.Helper()
	return queryProgress[model.DistributionProgress](t, env.TestWorkflowEnvironment, model.QueryProgress)
}

// command sends an operator command as an update (sendCommand).
func (env *distributionEnv) command(name string, payload any) *updateOutcome {
	return sendCommand(env.TestWorkflowEnvironment, name, payload)
}

func TestDistributeAllRegionsSucceed(t *testing.T) {
	env := newDistributionEnv(t)
	var released activities.ReleaseInput
	env.OnActivity(packages.ResolvePackagePermission, mock.Anything, "artifact-1").Return(model.Permission{Visibility: model.VisibilityPublic}, nil)
	env.OnActivity(packages.ReleaseArtifactVersion, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ReleaseInput) error {
		env.locked(func() { released = in })
		return nil
	})
	shared := 0
	env.OnActivity(images.ShareImage, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ShareImageInput) error {
		require.True(t, in.Public)
		env.locked(func() { shared++ })
		return nil
	})

	env.execute(validSpec())

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var result model.DistributionResult
	require.NoError(t, env.GetWorkflowResult(&result))
	require.Len(t, result.ImageIDs, 3)
	require.Equal(t, result.ImageIDs, released.ImageIDs)
	require.Equal(t, model.VisibilityPublic, result.Permission.Visibility)
	require.Equal(t, 3, shared)
	require.Empty(t, env.deleted)
	p := env.progress(t)
	require.Equal(t, model.PhasePublished, p.Phase)
	for _, r := range p.Regions {
		require.Equal(t, model.RegionAvailable, r.State, r.Region)
	}
}

func TestDistributeRetriesFailedRegionOnOperatorDecision(t *testing.T) {
	env := newDistributionEnv(t)
	var fixed atomic.Bool
	env.failRegion("eu-west-1", &fixed)
	var tokens []string
	env.OnActivity(images.StartImageCopy, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StartCopyInput) (string, error) {
		var n int
		env.locked(func() {
			if in.Region == "eu-west-1" {
				tokens = append(tokens, in.ClientToken)
			}
			n = len(tokens)
		})
		return "m-" + in.Region + fmt.Sprint(n), nil
	})
	env.RegisterDelayedCallback(func() {
		p := env.progress(t)
		require.Equal(t, model.RegionFailed, p.Region("eu-west-1").State)
		require.Equal(t, model.RegionAvailable, p.Region("cn-shanghai").State, "finished regions are kept")
		require.Contains(t, p.WaitingFor, "eu-west-1")
		// A decision for a region that did not fail is refused with the reason.
		notFailed := env.command(model.CommandRetryRegion, model.RegionCommand{Region: "cn-shanghai"})
		unknown := env.command(model.CommandRetryRegion, model.RegionCommand{Region: "us-east-1"})
		fixed.Store(true)
		retry := env.command(model.CommandRetryRegion, model.RegionCommand{Region: "eu-west-1"})
		env.RegisterDelayedCallback(func() {
			notFailed.requireRejected(t, "cn-shanghai is Available")
			unknown.requireRejected(t, "not part of this distribution")
			retry.requireAccepted(t)
		}, time.Second)
	}, time.Minute)

	env.execute(validSpec())

	require.NoError(t, env.GetWorkflowError())
	var result model.DistributionResult
	require.NoError(t, env.GetWorkflowResult(&result))
	require.Len(t, result.ImageIDs, 3)
	require.Len(t, tokens, 2, "a failed copy is replaced by a new copy")
	require.NotEqual(t, tokens[0], tokens[1], "the new copy needs a new client token")
	require.Equal(t, []string{"eu-west-1"}, env.deleted, "the failed copy is deleted before the new one")
	p := env.progress(t)
	require.Equal(t, 2, p.Region("eu-west-1").Attempts)
}

func TestDistributeRetryWatchesUnfinishedCopyAgain(t *testing.T) {
	env := newDistributionEnv(t)
	var outage atomic.Bool
	outage.Store(true)
	starts := 0
	env.OnActivity(images.StartImageCopy, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StartCopyInput) (string, error) {
		env.locked(func() { starts++ })
		return "m-" + in.Region, nil
	})
	env.OnActivity(images.AwaitImageAvailable, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.AwaitImageInput) error {
		if in.Region == "ap-southeast-1" && outage.Load() {
			return temporal.NewApplicationError("region is unavailable", cloud.CodeServiceUnavailable)
		}
		return nil
	})
	env.RegisterDelayedCallback(func() {
		outage.Store(false)
		env.command(model.CommandRetryRegion, model.RegionCommand{Region: "ap-southeast-1"})
	}, time.Hour)

	env.execute(validSpec())

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 3, starts, "a copy that could not be watched is watched again, not copied twice")
	require.Empty(t, env.deleted)
}

func TestDistributeDropsFailedRegion(t *testing.T) {
	env := newDistributionEnv(t)
	env.failRegion("eu-west-1", nil)
	env.RegisterDelayedCallback(func() {
		env.command(model.CommandDropRegion, model.RegionCommand{Region: "eu-west-1"})
	}, time.Minute)

	env.execute(validSpec())

	require.NoError(t, env.GetWorkflowError())
	var result model.DistributionResult
	require.NoError(t, env.GetWorkflowResult(&result))
	require.Len(t, result.ImageIDs, 2)
	require.NotContains(t, result.ImageIDs, "eu-west-1")
	require.Equal(t, []string{"eu-west-1"}, result.Dropped)
	require.Equal(t, []string{"eu-west-1"}, env.deleted, "the dropped region's failed copy is cleaned up")
}

func TestDistributeDecisionBySignal(t *testing.T) {
	env := newDistributionEnv(t)
	env.failRegion("eu-west-1", nil)
	env.RegisterDelayedCallback(func() {
		// A signal cannot be refused to its sender: a wrong one is kept as the last refusal.
		env.SignalWorkflow(model.CommandDropRegion, model.RegionCommand{Region: "cn-shanghai"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		require.Contains(t, env.progress(t).LastRefusal, "cn-shanghai is Available")
		env.SignalWorkflow(model.CommandDropRegion, model.RegionCommand{Region: "eu-west-1"})
	}, 2*time.Minute)

	env.execute(validSpec())

	require.NoError(t, env.GetWorkflowError())
}

func TestDistributeRefusesInvalidSpec(t *testing.T) {
	env := newDistributionEnv(t)
	spec := validSpec()
	spec.Package = "no-dashes"
	spec.Regions = append(spec.Regions, "mars-north-1")

	env.execute(spec)

	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, ErrTypeInvalidSpec, appErr.Type())
	require.Contains(t, err.Error(), "letters, digits and underscore")
	require.Contains(t, err.Error(), "mars-north-1")
}

func TestDistributeRefusesPublishedVersion(t *testing.T) {
	env := newDistributionEnv(t)
	env.OnActivity(packages.PrepareDraftVersion, mock.Anything, mock.Anything).Return(activities.PreparedVersion{},
		temporal.NewNonRetryableApplicationError("version v1_0_0 of package webapp is already published and locked", activities.ErrTypeVersionLocked, nil))

	env.execute(validSpec())

	require.ErrorContains(t, env.GetWorkflowError(), "already published and locked")
	require.Empty(t, env.deleted)
}

func TestDistributeAllRegionsDropped(t *testing.T) {
	env := newDistributionEnv(t)
	spec := validSpec()
	spec.Regions = []string{"eu-west-1"}
	env.failRegion("eu-west-1", nil)
	env.RegisterDelayedCallback(func() {
		env.command(model.CommandDropRegion, model.RegionCommand{Region: "eu-west-1"})
	}, time.Minute)

	env.execute(spec)

	require.ErrorContains(t, env.GetWorkflowError(), "nothing to publish")
}

// A failed copy whose deletion failed before the region's retry is deleted
// again when the version is published: the saga that would otherwise retry
// it runs only when the distribution fails.
func TestDistributePublishDeletesAFailedCopyLeftBeforeTheRetry(t *testing.T) {
	env := newDistributionEnv(t)
	var fixed atomic.Bool
	env.failRegion("eu-west-1", &fixed)
	var deletes []string // every delete asked for
	first := true
	env.OnActivity(images.DeleteImageCopy, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeleteCopyInput) error {
			var fail bool
			env.locked(func() {
				deletes = append(deletes, in.ImageID)
				fail, first = first, false
			})
			if fail {
				return temporal.NewNonRetryableApplicationError("region is unavailable", cloud.CodeServiceUnavailable, nil)
			}
			env.locked(func() { env.deleted = append(env.deleted, in.Region) })
			return nil
		})
	env.RegisterDelayedCallback(func() {
		fixed.Store(true)
		env.command(model.CommandRetryRegion, model.RegionCommand{Region: "eu-west-1"})
	}, time.Minute)

	env.execute(validSpec())

	require.NoError(t, env.GetWorkflowError())
	require.Len(t, deletes, 2, "the failed copy's deletion is tried again")
	require.Equal(t, deletes[0], deletes[1])
	require.Equal(t, []string{"eu-west-1"}, env.deleted)
}
