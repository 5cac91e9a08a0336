package activities_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

func TestPublishFileVersionThroughActivities(t *testing.T) {
	sim, env := startCloud(t)
	ctx := t.Context()
	var a *activities.PackageContent

	obj, err := cloudops.StageFile(ctx, sim.Client, cloudsim.SeedRegion, "files", "v1_0", "/tmp/build/app.tar.gz", []byte("app v1"))
	require.NoError(t, err)
	require.Equal(t, "files/v1_0/app.tar.gz", obj.Key)
	info := draftVersion(t, sim, env, cloud.ArtifactFile, "files", "application archive",
		cloud.ArtifactProperty{RegionId: cloudsim.SeedRegion, Bucket: obj.Bucket, ObjectKey: obj.Key})
	require.Equal(t, model.PackageFile, info.Type)
	require.Equal(t, obj.InternalUrl, info.Content.URL)

	val, err := env.ExecuteActivity(a.CopyFileToRegion, activities.CopyFileInput{
		SourceRegion: cloudsim.SeedRegion, SourceBucket: obj.Bucket, Key: obj.Key, Region: "eu-west-1", ClientToken: "copy-eu-1",
	})
	require.NoError(t, err)
	var fc activities.FileCopy
	require.NoError(t, val.Get(&fc))
	require.Equal(t, "https://computenest-eu-west-1-"+cloudsim.DefaultAccount+".oss-eu-west-1-internal.aliyuncs.com/files/v1_0/app.tar.gz", fc.URL)

	_, err = env.ExecuteActivity(a.ReleaseContentVersion, activities.ReleaseContentInput{
		ArtifactID: info.ArtifactID, Version: "v1_0", Delivery: map[string]string{cloudsim.SeedRegion: obj.InternalUrl, "eu-west-1": fc.URL},
		Permission: model.Permission{Visibility: model.VisibilityPrivate}, ClientToken: "release-1",
	})
	require.NoError(t, err)

	// Published: locked.
	_, err = env.ExecuteActivity(a.LoadDraftVersion, activities.LoadVersionInput{Package: "files", Version: "v1_0"})
	require.Equal(t, activities.ErrTypeVersionLocked, appError(t, err).Type())
	require.True(t, appError(t, err).NonRetryable())

	// A copy the publication no longer needs is deleted; deleting twice is fine.
	for range 2 {
		_, err = env.ExecuteActivity(a.DeleteFileCopy, activities.DeleteFileInput{Region: "eu-west-1", Bucket: fc.Bucket, Key: "files/v1_0/other.bin"})
		require.NoError(t, err)
	}
	// A published version's copy is locked.
	_, err = env.ExecuteActivity(a.DeleteFileCopy, activities.DeleteFileInput{Region: "eu-west-1", Bucket: fc.Bucket, Key: fc.Key})
	require.Equal(t, cloud.CodeArtifactLocked, appError(t, err).Type())
}

func TestLocateRegistryTagKeepsTheCredentialInside(t *testing.T) {
	sim, env := startCloud(t)
	ctx := t.Context()
	var a *activities.PackageContent

	pushed, err := cloudops.PushContainerImage(ctx, sim.Client, cloudsim.SeedRegion, "web", "1.0", "nginx:1.25")
	require.NoError(t, err)
	ns := pushed.Tag.Namespace
	info := draftVersion(t, sim, env, cloud.ArtifactAcrImage, "web", "web container image",
		cloud.ArtifactProperty{RegionId: cloudsim.SeedRegion, Namespace: ns, RepoName: "web", Tag: "1.0"})
	noCredential(t, info)

	val, err := env.ExecuteActivity(a.LocateRegistryTag, activities.RegistryTagInput{Region: "eu-west-1", Namespace: ns, RepoName: "web", Tag: "1.0"})
	require.NoError(t, err)
	var loc activities.RegistryLocation
	require.NoError(t, val.Get(&loc))
	require.Equal(t, cloud.EndpointInternet, loc.Endpoint)
	require.Equal(t, "computenest-registry.eu-west-1.cr.aliyuncs.com/"+ns+"/web:1.0", loc.Address)
	require.Equal(t, pushed.Tag.Digest, loc.Digest)
	noCredential(t, loc)

	// A tag that was never pushed fails for good.
	_, err = env.ExecuteActivity(a.LocateRegistryTag, activities.RegistryTagInput{Region: "eu-west-1", Namespace: ns, RepoName: "web", Tag: "9.9"})
	require.Equal(t, cloud.CodeRepoTagMissing, appError(t, err).Type())
	require.True(t, appError(t, err).NonRetryable())
	require.False(t, strings.Contains(err.Error(), "crt."), "the error names no credential")

	// An ECS image package is refused: DistributeImagePackage publishes it.
	_, err = sim.Client.CreateArtifact(ctx, &cloud.CreateArtifactRequest{
		ArtifactType: cloud.ArtifactEcsImage, Name: "images", VersionName: "v1_0", Description: "web application image",
		ArtifactProperty: cloud.ArtifactProperty{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1},
		SupportRegionIds: []string{"eu-west-1"},
	})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.LoadDraftVersion, activities.LoadVersionInput{Package: "images", Version: "v1_0"})
	require.Equal(t, activities.ErrTypePackageType, appError(t, err).Type())
}

// draftVersion creates draft v1_0 of a package of type typ for the seed
// region and eu-west-1, and loads it as a publication does.
func draftVersion(t *testing.T, sim *cloudsimtest.Env, env *testsuite.TestActivityEnvironment, typ, name, description string, prop cloud.ArtifactProperty) activities.PackageVersionInfo {
	t.Helper()
	_, err := sim.Client.CreateArtifact(t.Context(), &cloud.CreateArtifactRequest{
		ArtifactType: typ, Name: name, VersionName: "v1_0", Description: description,
		ArtifactProperty: prop, SupportRegionIds: []string{cloudsim.SeedRegion, "eu-west-1"},
	})
	require.NoError(t, err)
	var a *activities.PackageContent
	val, err := env.ExecuteActivity(a.LoadDraftVersion, activities.LoadVersionInput{Package: name, Version: "v1_0"})
	require.NoError(t, err)
	var info activities.PackageVersionInfo
	require.NoError(t, val.Get(&info))
	return info
}
