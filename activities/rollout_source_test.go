package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/model"
)

// scaleOutImage launches one instance in group and answers the image it
// boots; the instance is removed again (once booted) so the group can
// scale again.
func scaleOutImage(t *testing.T, sim *cloudsimtest.Env, group string) string {
	t.Helper()
	ctx := context.Background()
	before, err := sim.Client.DescribeScalingInstances(ctx, &cloud.DescribeScalingInstancesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group})
	require.NoError(t, err)
	old := map[string]bool{}
	for _, in := range before.ScalingInstances {
		old[in.InstanceId] = true
	}
	_, err = sim.Client.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group, AdjustmentType: cloud.AdjustQuantity, AdjustmentValue: 1})
	require.NoError(t, err)
	after, err := sim.Client.DescribeScalingInstances(ctx, &cloud.DescribeScalingInstancesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group})
	require.NoError(t, err)
	var launched string
	for _, in := range after.ScalingInstances {
		if !old[in.InstanceId] {
			require.Empty(t, launched, "one instance launched")
			launched = in.InstanceId
		}
	}
	require.NotEmpty(t, launched)
	insts, err := sim.Client.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: []string{launched}})
	require.NoError(t, err)
	require.Len(t, insts.Instances, 1)
	return insts.Instances[0].ImageId
}

// sourceChanges counts the ledger entries that change what a group
// launches.
func sourceChanges(sim *cloudsimtest.Env) int {
	return ledgerCount(sim, "ModifyScalingConfiguration") + ledgerCount(sim, "CreateLaunchTemplateVersion") +
		ledgerCount(sim, "ModifyLaunchTemplateDefaultVersion") + ledgerCount(sim, "ModifyScalingGroup")
}

// TestScalingSourceFollowsTheImage: for each kind of source (a scaling
// configuration, a launch template at Default, at a version number and at
// Latest), switching makes a scale-out boot the new image and restoring
// makes it boot the old one, each with one change in the cloud however
// often the activity runs; restoring a source that was not switched
// changes nothing.
func TestScalingSourceFollowsTheImage(t *testing.T) {
	for name, tc := range map[string]struct {
		spec      cloudsim.ScalingGroupSpec
		switchAdd int // ledger entries of one switch
	}{
		"scaling configuration": {cloudsim.ScalingGroupSpec{}, 1},
		"template at Default":   {cloudsim.ScalingGroupSpec{LaunchTemplateId: "lt-t1"}, 2},
		"template at a version": {cloudsim.ScalingGroupSpec{LaunchTemplateId: "lt-t1", LaunchTemplateVersion: "1"}, 2},
		"template at Latest":    {cloudsim.ScalingGroupSpec{LaunchTemplateId: "lt-t1", LaunchTemplateVersion: cloud.LaunchTemplateLatest}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			clock := cloudsimtest.NewClock(time.Now())
			sim, env := startCloud(t, cloudsimtest.WithNow(clock.Now))
			spec := tc.spec
			spec.ScalingGroupId, spec.RegionId, spec.ImageId, spec.Size = "asg-t1", cloudsim.SeedRegion, cloudsim.ImageWebappV1, 2
			_, err := sim.Server.AddScalingGroup(spec)
			require.NoError(t, err)
			var a *activities.Rollouts
			group := activities.SourceInput{Region: cloudsim.SeedRegion, Group: spec.ScalingGroupId}

			v, err := env.ExecuteActivity(a.DescribeScalingSource, group)
			require.NoError(t, err)
			var before model.ScalingSource
			require.NoError(t, v.Get(&before))
			require.Equal(t, cloudsim.ImageWebappV1, before.ImageID)
			require.Equal(t, spec.LaunchTemplateId, before.LaunchTemplateID)

			// Nothing switched yet: the restore changes nothing.
			restore := activities.RestoreSourceInput{Region: cloudsim.SeedRegion, Group: spec.ScalingGroupId, To: before, Token: "restore-1"}
			_, err = env.ExecuteActivity(a.RestoreScalingSource, restore)
			require.NoError(t, err)
			require.Zero(t, sourceChanges(sim))

			sw := activities.SwitchSourceInput{Region: cloudsim.SeedRegion, Group: spec.ScalingGroupId, From: before, ImageID: cloudsim.ImageWebappV2, Token: "switch-1"}
			var after model.ScalingSource
			for range 2 { // a retried attempt changes nothing more
				v, err = env.ExecuteActivity(a.SwitchScalingSource, sw)
				require.NoError(t, err)
				require.NoError(t, v.Get(&after))
			}
			require.Equal(t, tc.switchAdd, sourceChanges(sim))
			require.Equal(t, cloudsim.ImageWebappV2, after.ImageID)
			v, err = env.ExecuteActivity(a.DescribeScalingSource, group)
			require.NoError(t, err)
			var now model.ScalingSource
			require.NoError(t, v.Get(&now))
			require.Equal(t, after, now, "the switch answers the group's source")
			require.Equal(t, cloudsim.ImageWebappV2, scaleOutImage(t, sim, spec.ScalingGroupId))

			for range 2 {
				_, err = env.ExecuteActivity(a.RestoreScalingSource, restore)
				require.NoError(t, err)
			}
			require.Equal(t, tc.switchAdd+1, sourceChanges(sim), "one change restores the source")
			v, err = env.ExecuteActivity(a.DescribeScalingSource, group)
			require.NoError(t, err)
			require.NoError(t, v.Get(&now))
			if spec.LaunchTemplateVersion == cloud.LaunchTemplateLatest {
				// Latest cannot point back: a third version like the first.
				require.Equal(t, before.ImageID, now.ImageID)
				require.Equal(t, int64(3), now.Version)
			} else {
				require.Equal(t, before, now, "exactly the source before")
			}
			clock.Advance(time.Hour) // the first scale-out has booted
			require.Equal(t, cloudsim.ImageWebappV1, scaleOutImage(t, sim, spec.ScalingGroupId))
		})
	}
}

// An image update of a group whose launch template has no room for the
// version it creates is refused before anything changes.
func TestCheckRolloutNeedsRoomInTheLaunchTemplate(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Rollouts
	ctx := context.Background()
	for range cloud.MaxLaunchTemplateVersions - 2 {
		_, err := sim.Client.CreateLaunchTemplateVersion(ctx, &cloud.CreateLaunchTemplateVersionRequest{RegionId: cloudsim.SeedRegion,
			LaunchTemplateId: cloudsim.LaunchTemplateWeb, ImageId: cloudsim.ImageWebappV1, InstanceType: "ecs.g7.large"})
		require.NoError(t, err)
	}
	_, err := env.ExecuteActivity(a.CheckRollout, webImageSpec(2))
	require.NoError(t, err, "room for one more version")
	_, err = sim.Client.CreateLaunchTemplateVersion(ctx, &cloud.CreateLaunchTemplateVersionRequest{RegionId: cloudsim.SeedRegion,
		LaunchTemplateId: cloudsim.LaunchTemplateWeb, ImageId: cloudsim.ImageWebappV1, InstanceType: "ecs.g7.large"})
	require.NoError(t, err)
	entries := len(sim.Server.Ledger())
	_, err = env.ExecuteActivity(a.CheckRollout, webImageSpec(2))
	require.Error(t, err)
	require.Equal(t, activities.ErrTypeRolloutRefused, appError(t, err).Type())
	require.ErrorContains(t, err, "launch template lt-web-hz of scaling group asg-web-hz has 30 versions")
	require.Len(t, sim.Server.Ledger(), entries, "a refused check changes nothing")
	// A script task does not touch the template.
	script := webImageSpec(2)
	script.TaskType, script.Image, script.Script = model.TaskScript, nil, &model.ScriptChange{Type: model.ScriptShell, Script: "echo"}
	_, err = env.ExecuteActivity(a.CheckRollout, script)
	require.NoError(t, err)
}
