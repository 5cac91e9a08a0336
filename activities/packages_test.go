package activities_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/model"
)

func packageSpec() model.DistributeSpec {
	return model.DistributeSpec{
		Package: "webapp", Version: "v1_0_0", Description: "web application image",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: []string{"cn-shanghai", "eu-west-1"},
	}
}

func TestPrepareReleaseAndLockVersion(t *testing.T) {
	sim, env := startCloud(t, cloudsimtest.WithTimeScale(0.0001))
	var a *activities.Packages
	var images *activities.Images
	in := activities.PrepareVersionInput{Spec: packageSpec(), ClientToken: "p1"}

	var artifactID, again string
	v, err := env.ExecuteActivity(a.PrepareArtifactVersion, in)
	require.NoError(t, err)
	require.NoError(t, v.Get(&artifactID))
	// A retried or resumed run finds its own draft.
	in.ClientToken = "p2"
	v, err = env.ExecuteActivity(a.PrepareArtifactVersion, in)
	require.NoError(t, err)
	require.NoError(t, v.Get(&again))
	require.Equal(t, artifactID, again)

	id := startCopy(t, sim, "cn-shanghai", "c1")
	_, err = env.ExecuteActivity(images.AwaitImageAvailable, activities.AwaitImageInput{Region: "cn-shanghai", ImageID: id})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.ReleaseArtifactVersion, activities.ReleaseInput{
		ArtifactID: artifactID, Version: "v1_0_0", ImageIDs: map[string]string{"cn-shanghai": id},
		Permission: model.Permission{Visibility: model.VisibilityPrivate}, ClientToken: "r1",
	})
	require.NoError(t, err)

	got, err := sim.Client.GetArtifact(t.Context(), &cloud.GetArtifactRequest{ArtifactId: artifactID})
	require.NoError(t, err)
	require.Equal(t, cloud.ArtifactAvailable, got.Artifact.Versions[0].Status)
	require.Equal(t, map[string]string{"cn-shanghai": id}, got.Artifact.Versions[0].ImageDelivery)

	// Published: locked.
	_, err = env.ExecuteActivity(a.PrepareArtifactVersion, activities.PrepareVersionInput{Spec: packageSpec(), ClientToken: "p3"})
	require.ErrorContains(t, err, "already published and locked")
	appErr := appError(t, err)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, activities.ErrTypeVersionLocked, appErr.Type())

	// A new version of the same package is fine.
	spec := packageSpec()
	spec.Version = "v1_0_1"
	v, err = env.ExecuteActivity(a.PrepareArtifactVersion, activities.PrepareVersionInput{Spec: spec, ClientToken: "p4"})
	require.NoError(t, err)
	require.NoError(t, v.Get(&again))
	require.Equal(t, artifactID, again)
}

// prepareVersion runs PrepareArtifactVersion for spec and returns its error.
func prepareVersion(env *testsuite.TestActivityEnvironment, spec model.DistributeSpec, token string) error {
	var a *activities.Packages
	_, err := env.ExecuteActivity(a.PrepareArtifactVersion, activities.PrepareVersionInput{Spec: spec, ClientToken: token})
	return err
}

func TestPrepareRefusesDraftWithOtherImage(t *testing.T) {
	_, env := startCloud(t)
	require.NoError(t, prepareVersion(env, packageSpec(), "p1"))

	spec := packageSpec()
	spec.SourceImage = cloudsim.ImageWebappV2
	err := prepareVersion(env, spec, "p2")

	require.ErrorContains(t, err, "use a new version name")
	require.True(t, appError(t, err).NonRetryable())
}

func TestResolvePackagePermission(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Packages
	var artifactID string
	v, err := env.ExecuteActivity(a.PrepareArtifactVersion, activities.PrepareVersionInput{Spec: packageSpec(), ClientToken: "p1"})
	require.NoError(t, err)
	require.NoError(t, v.Get(&artifactID))

	permission := func() model.Permission {
		t.Helper()
		var p model.Permission
		v, err := env.ExecuteActivity(a.ResolvePackagePermission, artifactID)
		require.NoError(t, err)
		require.NoError(t, v.Get(&p))
		return p
	}
	require.Equal(t, model.Permission{Visibility: model.VisibilityPrivate}, permission(), "no service: private")

	_, err = sim.Client.CreateService(t.Context(), &cloud.CreateServiceRequest{Name: "internal", Visibility: cloud.VisibilityPrivate,
		Whitelist: []string{cloudsim.SecondAccount}, ArtifactIds: []string{artifactID}})
	require.NoError(t, err)
	require.Equal(t, model.Permission{Visibility: model.VisibilityWhitelist, Accounts: []string{cloudsim.SecondAccount}}, permission())

	_, err = sim.Client.CreateService(t.Context(), &cloud.CreateServiceRequest{Name: "shop", Visibility: cloud.VisibilityPublic, ArtifactIds: []string{artifactID}})
	require.NoError(t, err)
	require.Equal(t, model.Permission{Visibility: model.VisibilityPublic}, permission(), "one public service: public")
}

// A region list that does not match the existing draft is refused before
// any copy (item 6), not at the release after copying.
func TestPrepareRefusesDraftWithOtherRegions(t *testing.T) {
	_, env := startCloud(t)
	require.NoError(t, prepareVersion(env, packageSpec(), "p1"))

	spec := packageSpec()
	spec.Regions = append(spec.Regions, "ap-northeast-1")
	err := prepareVersion(env, spec, "p2")
	require.ErrorContains(t, err, "distribute to the draft's regions")
	require.True(t, appError(t, err).NonRetryable())

	// Some of the draft's regions only are refused too (issue 18, item 8):
	// the published version would list the others with nothing delivered.
	spec = packageSpec()
	spec.Regions = spec.Regions[:1]
	err = prepareVersion(env, spec, "p3")
	require.ErrorContains(t, err, "leaves out "+packageSpec().Regions[1])
	require.True(t, appError(t, err).NonRetryable())

	// Every one of the draft's regions, in any order, is fine.
	spec = packageSpec()
	slices.Reverse(spec.Regions)
	require.NoError(t, prepareVersion(env, spec, "p4"))
}

// TestPrepareDraftVersionSaysWhoCreatedIt checks that a retry of the run
// that created the draft (same client token, whether that call created the
// package or only the version) owns it, and another run does not.
func TestPrepareDraftVersionSaysWhoCreatedIt(t *testing.T) {
	_, env := startCloud(t, cloudsimtest.WithTimeScale(0.0001))
	var a *activities.Packages
	prepare := func(spec model.DistributeSpec, token string) activities.PreparedVersion {
		t.Helper()
		v, err := env.ExecuteActivity(a.PrepareDraftVersion, activities.PrepareVersionInput{Spec: spec, ClientToken: token})
		require.NoError(t, err)
		var got activities.PreparedVersion
		require.NoError(t, v.Get(&got))
		return got
	}
	first := prepare(packageSpec(), "run-1")
	require.True(t, first.Created, "the call created package and draft")
	require.Equal(t, first, prepare(packageSpec(), "run-1"), "a retry (the package now exists) still owns the draft")
	require.False(t, prepare(packageSpec(), "run-2").Created, "another run finds a draft it did not create")

	spec := packageSpec()
	spec.Version = "v1_0_1"
	require.True(t, prepare(spec, "run-3").Created, "a new version of an existing package")
	require.True(t, prepare(spec, "run-3").Created, "and its retry")
	require.False(t, prepare(spec, "").Created, "no token: not provably ours")
}
