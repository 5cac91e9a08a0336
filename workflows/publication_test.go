package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// publishEnv runs PublishPackageVersion with mocked activities that succeed
// unless a test mocks them otherwise (the first matching mock wins).
type publishEnv struct {
	*testsuite.TestWorkflowEnvironment
	guard
	copies   []string // regions a file was copied to
	deleted  []string // regions whose copy was deleted
	released *activities.ReleaseContentInput
}

func newPublishEnv(t *testing.T) *publishEnv {
	var s testsuite.WorkflowTestSuite
	env := &publishEnv{TestWorkflowEnvironment: newTestEnv(&s)}
	env.RegisterWorkflowWithOptions(PublishPackageVersion, workflow.RegisterOptions{Name: model.PublishWorkflowType})
	env.RegisterActivity(&activities.PackageContent{})
	env.RegisterActivity(&activities.Packages{})
	return env
}

func fileVersion() *activities.PackageVersionInfo {
	return &activities.PackageVersionInfo{
		ArtifactID: "artifact-1", Type: model.PackageFile, Status: "Created",
		Regions: []string{"cn-hangzhou", "cn-shanghai", "eu-west-1"},
		Content: model.PackageContent{Region: "cn-hangzhou", Bucket: "computenest-cn-hangzhou-1", ObjectKey: "files/v1/app.tgz",
			URL: "https://computenest-cn-hangzhou-1.oss-cn-hangzhou-internal.aliyuncs.com/files/v1/app.tgz"},
	}
}

func registryVersion(typ string) *activities.PackageVersionInfo {
	return &activities.PackageVersionInfo{
		ArtifactID: "artifact-2", Type: typ, Status: "Created",
		Regions: []string{"cn-hangzhou", "eu-west-1"},
		Content: model.PackageContent{Region: "cn-hangzhou", Namespace: "computenest-1", RepoName: "web", Tag: "1.0"},
	}
}

func (env *publishEnv) execute(v *activities.PackageVersionInfo) {
	env.OnActivity(content.FindPublishedContentVersion, mock.Anything, mock.Anything).Return(nil, nil).Maybe()
	env.OnActivity(packages.StartPublication, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(packages.CancelPublication, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.OnActivity(content.LoadDraftVersion, mock.Anything, mock.Anything).Return(v, nil).Maybe()
	env.OnActivity(content.CopyFileToRegion, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CopyFileInput) (*activities.FileCopy, error) {
			env.locked(func() { env.copies = append(env.copies, in.Region) })
			b := "computenest-" + in.Region + "-1"
			return &activities.FileCopy{Bucket: b, Key: in.Key, URL: "https://" + b + ".oss-" + in.Region + "-internal.aliyuncs.com/" + in.Key}, nil
		}).Maybe()
	env.OnActivity(content.DeleteFileCopy, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeleteFileInput) error {
			env.locked(func() { env.deleted = append(env.deleted, in.Region) })
			return nil
		}).Maybe()
	env.OnActivity(content.LocateRegistryTag, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RegistryTagInput) (*activities.RegistryLocation, error) {
			return &activities.RegistryLocation{Address: "computenest-registry." + in.Region + ".cr.aliyuncs.com/" + in.Namespace + "/" + in.RepoName + ":" + in.Tag,
				Endpoint: "internet", Digest: "sha256:1"}, nil
		}).Maybe()
	env.OnActivity(packages.ResolvePackagePermission, mock.Anything, mock.Anything).Return(model.Permission{Visibility: model.VisibilityPrivate}, nil).Maybe()
	env.OnActivity(content.ReleaseContentVersion, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReleaseContentInput) error {
			env.locked(func() { env.released = &in })
			return nil
		}).Maybe()
	executeAs(env.TestWorkflowEnvironment, model.PublishWorkflowID("files", "v1_0"), model.PublishWorkflowType, model.PublishSpec{Package: "files", Version: "v1_0", CopyAttempts: 2})
}

func (env *publishEnv) progress(t *testing.T) model.PublishProgress {
	t.Helper()
	return queryProgress[model.PublishProgress](t, env.TestWorkflowEnvironment, model.QueryProgress)
}

func (env *publishEnv) command(name string, payload any) *updateOutcome {
	return sendCommand(env.TestWorkflowEnvironment, name, payload)
}

// failFileCopy makes the copy into region fail until fixed.
func (env *publishEnv) failFileCopy(region string) {
	env.OnActivity(content.CopyFileToRegion, mock.Anything, mock.MatchedBy(func(in activities.CopyFileInput) bool { return in.Region == region })).Return(
		(*activities.FileCopy)(nil), temporal.NewNonRetryableApplicationError("bucket is read-only", "AccessDenied", nil))
}

func TestPublishFileCopiesIntoEveryOtherRegion(t *testing.T) {
	env := newPublishEnv(t)
	v := fileVersion()
	env.execute(v)

	require.NoError(t, env.GetWorkflowError())
	var result model.PublishResult
	require.NoError(t, env.GetWorkflowResult(&result))
	require.ElementsMatch(t, []string{"cn-shanghai", "eu-west-1"}, env.copies, "the source region holds the upload itself")
	require.Equal(t, model.EndpointInternal, result.Endpoint)
	require.Equal(t, v.Content.URL, result.Delivery["cn-hangzhou"])
	require.Contains(t, result.Delivery["eu-west-1"], "oss-eu-west-1-internal.aliyuncs.com/files/v1/app.tgz")
	require.Equal(t, result.Delivery, env.released.Delivery)
	require.Equal(t, "artifact-1", env.released.ArtifactID)
	require.Empty(t, env.deleted)
	p := env.progress(t)
	require.Equal(t, model.PhasePublished, p.Phase)
	require.Equal(t, model.PackageFile, p.Type)
}

func TestPublishRegistryContentOverInternet(t *testing.T) {
	for _, typ := range []string{model.PackageAcrImage, model.PackageHelmChart} {
		t.Run(typ, func(t *testing.T) {
			env := newPublishEnv(t)
			env.execute(registryVersion(typ))

			require.NoError(t, env.GetWorkflowError())
			var result model.PublishResult
			require.NoError(t, env.GetWorkflowResult(&result))
			require.Equal(t, model.EndpointInternet, result.Endpoint, "registry content is pulled over the internet only")
			require.Len(t, result.Delivery, 2)
			require.Equal(t, "computenest-registry.eu-west-1.cr.aliyuncs.com/computenest-1/web:1.0", result.Delivery["eu-west-1"])
			require.Empty(t, env.copies)
			for _, r := range env.progress(t).Regions {
				require.Equal(t, model.EndpointInternet, r.Endpoint)
			}
		})
	}
}

func TestPublishDropsFailedRegion(t *testing.T) {
	env := newPublishEnv(t)
	env.failFileCopy("eu-west-1")
	env.RegisterDelayedCallback(func() {
		p := env.progress(t)
		require.Equal(t, model.RegionFailed, p.Region("eu-west-1").State)
		require.Contains(t, p.WaitingFor, "eu-west-1")
		notFailed := env.command(model.CommandDropRegion, model.RegionCommand{Region: "cn-shanghai"})
		drop := env.command(model.CommandDropRegion, model.RegionCommand{Region: "eu-west-1"})
		env.RegisterDelayedCallback(func() {
			notFailed.requireRejected(t, "cn-shanghai is Available")
			drop.requireAccepted(t)
		}, time.Second)
	}, time.Minute)

	env.execute(fileVersion())

	require.NoError(t, env.GetWorkflowError())
	var result model.PublishResult
	require.NoError(t, env.GetWorkflowResult(&result))
	require.Equal(t, []string{"eu-west-1"}, result.Dropped)
	require.NotContains(t, result.Delivery, "eu-west-1")
	require.Len(t, result.Delivery, 2)
}

func TestPublishAbortDeletesFileCopies(t *testing.T) {
	env := newPublishEnv(t)
	env.failFileCopy("eu-west-1")
	// The draft is the user's, with its content: an abort gives it back.
	env.OnActivity(packages.DeletePackageVersion, mock.Anything, mock.Anything).Panic("a publication never deletes the user's draft")
	givenBack := false
	env.OnActivity(packages.CancelPublication, mock.Anything, mock.Anything).Return(func(context.Context, activities.PublicationInput) error {
		givenBack = true
		return nil
	})
	env.RegisterDelayedCallback(func() {
		env.command(model.CommandCancel, model.CancelCommand{Reason: "wrong file"})
	}, time.Minute)

	env.execute(fileVersion())

	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), err)
	require.Equal(t, ErrTypeAborted, appErr.Type())
	require.Nil(t, env.released)
	require.Equal(t, []string{"cn-shanghai"}, env.deleted, "the copy made is deleted; the source upload stays")
	require.True(t, givenBack, "the draft is given back, with nothing delivered")
	require.Equal(t, model.PhaseAborted, env.progress(t).Phase)
}

func TestPublishRefusesPublishedVersion(t *testing.T) {
	env := newPublishEnv(t)
	env.OnActivity(content.LoadDraftVersion, mock.Anything, mock.Anything).Return((*activities.PackageVersionInfo)(nil),
		temporal.NewNonRetryableApplicationError("version v1_0 of package files is already Available and locked", activities.ErrTypeVersionLocked, nil))

	env.execute(fileVersion())

	require.ErrorContains(t, env.GetWorkflowError(), "locked")
	require.Empty(t, env.copies)
	require.Nil(t, env.released)
}

func TestPublishRefusesInvalidSpec(t *testing.T) {
	env := newPublishEnv(t)
	executeAs(env.TestWorkflowEnvironment, model.PublishWorkflowID("no-dashes", "v"), model.PublishWorkflowType, model.PublishSpec{Package: "no-dashes", Version: "v"})
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), err)
	require.Equal(t, ErrTypeInvalidSpec, appErr.Type())
	require.True(t, strings.Contains(err.Error(), "package name") && strings.Contains(err.Error(), "version name"), err.Error())
}

// A cancel that arrives while the version is being released must not delete
// the file copies a published (locked) version points at.
func TestPublishCancelDuringReleaseKeepsThePublishedCopies(t *testing.T) {
	env := newPublishEnv(t)
	env.OnActivity(content.ReleaseContentVersion, mock.Anything, mock.Anything).After(time.Hour).Return(
		func(_ context.Context, in activities.ReleaseContentInput) error {
			env.locked(func() { env.released = &in })
			return nil
		})
	env.RegisterDelayedCallback(env.CancelWorkflow, 10*time.Minute)

	env.execute(fileVersion())

	require.NoError(t, env.GetWorkflowError())
	require.NotNil(t, env.released)
	require.Empty(t, env.deleted, "the published version's file copies are kept")
	require.Equal(t, model.PhasePublished, env.progress(t).Phase)
}

// A run that Temporal cancels while a region waits for the operator ends
// waiting for nothing (the publication's details used to show the wait
// after the end; the distribution's did not).
func TestPublishCancelledWhileWaitingWaitsForNothing(t *testing.T) {
	env := newPublishEnv(t)
	env.failFileCopy("eu-west-1")
	env.RegisterDelayedCallback(func() {
		require.NotEmpty(t, env.progress(t).WaitingFor)
		env.CancelWorkflow()
	}, time.Minute)

	env.execute(fileVersion())

	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), env.GetWorkflowError())
	p := env.progress(t)
	require.Equal(t, model.PhaseAborted, p.Phase)
	require.Empty(t, p.WaitingFor)
}
