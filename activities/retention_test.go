package activities_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/model"
)

// A worker without a Temporal client for its activities cannot tell a
// rule's first run nor see running rolling updates: it refuses to plan
// (non-retryable), and reads nothing more.
func TestRetentionFactsNeedVisibility(t *testing.T) {
	_, env := startCloud(t)
	var a *activities.Retention
	_, err := env.ExecuteActivity(a.RetentionFacts, activities.RetentionFactsInput{Rule: model.RetentionRule{Package: "webapp", KeepNewest: 1}})
	appErr := appError(t, err)
	require.Equal(t, activities.ErrTypeNoVisibility, appErr.Type())
	require.True(t, appErr.NonRetryable())
}

// Deleting a copy something uses is answered, not failed: InUse holds the
// cloud's reason and the copy stays; once free it is deleted, once, and a
// repeated call (same token) is done without a second deletion.
func TestDeleteVersionCopyInUse(t *testing.T) {
	sim, env := startCloud(t)
	ctx := context.Background()
	id, delivery, err := cloudsimtest.PublishImageVersion(ctx, sim.Client, cloudsimtest.ImageVersion{Package: "webapp_ret", Version: "v1_0",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: []string{"eu-west-1"}})
	require.NoError(t, err)
	_, err = sim.Client.ModifyArtifactVersion(ctx, &cloud.ModifyArtifactVersionRequest{ArtifactId: id, VersionName: "v1_0", Deprecated: true})
	require.NoError(t, err)
	run, err := sim.Client.RunInstances(ctx, &cloud.RunInstancesRequest{RegionId: "eu-west-1", ImageId: delivery["eu-west-1"], InstanceType: "ecs.g7.large", ClientToken: "i"})
	require.NoError(t, err)

	var a *activities.Retention
	in := activities.DeleteCopyOfVersionInput{RetentionVersionInput: activities.RetentionVersionInput{ArtifactID: id, Package: "webapp_ret", Version: "v1_0",
		ClientToken: "del"}, Region: "eu-west-1"}
	v, err := env.ExecuteActivity(a.DeleteVersionCopy, in)
	require.NoError(t, err)
	var out activities.DeletedCopy
	require.NoError(t, v.Get(&out))
	require.False(t, out.Deleted)
	require.Contains(t, out.InUse, run.InstanceIdSets[0])

	_, err = sim.Client.DeleteInstances(ctx, &cloud.DeleteInstancesRequest{RegionId: "eu-west-1", InstanceIds: run.InstanceIdSets, Force: true})
	require.NoError(t, err)
	for range 2 {
		v, err = env.ExecuteActivity(a.DeleteVersionCopy, in)
		require.NoError(t, err)
		require.NoError(t, v.Get(&out))
		require.True(t, out.Deleted)
		require.Empty(t, out.InUse)
	}
	require.Equal(t, 2, ledgerCount(sim, "DeleteArtifactDelivery"), "the image and the version's mapping, once")
}
