package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// scaleOut launches one instance in group through Auto Scaling's
// ScaleWithAdjustment, waits until it has booted, and answers the image it
// boots.
func (e *env) scaleOut(group string) string {
	e.t.Helper()
	ctx := e.t.Context()
	members := func() map[string]bool {
		resp, err := e.cloudC.DescribeScalingInstances(ctx, &cloud.DescribeScalingInstancesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group})
		require.NoError(e.t, err)
		out := map[string]bool{}
		for _, in := range resp.ScalingInstances {
			out[in.InstanceId] = in.LifecycleState == cloud.LifecycleInService
		}
		return out
	}
	before := members()
	_, err := e.cloudC.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group,
		AdjustmentType: cloud.AdjustQuantity, AdjustmentValue: 1})
	require.NoError(e.t, err)
	var launched string
	for id := range members() {
		if _, old := before[id]; !old {
			require.Empty(e.t, launched, "one instance launched")
			launched = id
		}
	}
	require.NotEmpty(e.t, launched)
	require.Eventually(e.t, func() bool { return members()[launched] }, time.Minute, 50*time.Millisecond, "the launched instance boots")
	return e.imagesOf(launched)[launched]
}

// groupImage is the image group launches, as DescribeScalingGroups shows it.
func (e *env) groupImage(group string) cloud.ScalingGroup {
	e.t.Helper()
	resp, err := e.cloudC.DescribeScalingGroups(e.t.Context(), &cloud.DescribeScalingGroupsRequest{RegionId: cloudsim.SeedRegion, ScalingGroupIds: []string{group}})
	require.NoError(e.t, err)
	require.Len(e.t, resp.ScalingGroups, 1)
	return resp.ScalingGroups[0]
}

// TestRolloutScaleOutBootsTheImageOfItsEnd: instances a group launches
// after an image update boot the new image when the update finished
// (though its worker was SIGKILLed in the middle of switching the group's
// launch template: one version, made the default once), and the image the
// group launched before when the update was rolled back or cancelled
// (though its worker was SIGKILLed while the cancelled update gave the
// scaling configuration its image back: switched and back, once each).
func TestRolloutScaleOutBootsTheImageOfItsEnd(t *testing.T) {
	e := newEnv(t, 0.002)
	const web = cloudsim.GroupWeb // launch template lt-web-hz at its Default version
	ctx := t.Context()

	// A finished update. Making the new version the default hangs until the
	// worker is killed; the next worker's attempt finds the version it
	// created and makes it the default.
	e.addFault(cloud.Fault{Kind: cloud.FaultSlow, Action: "ModifyLaunchTemplateDefaultVersion", Delay: time.Minute, Count: 1})
	out, code := e.starter("rollout", "start", web, "--type", "image", "--image", cloudsim.ImageWebappV2, "--rollback-image", cloudsim.ImageWebappV1, "--batches", "2")
	require.Equal(t, 0, code, out)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		faults, err := e.cloudC.Admin().Faults(ctx)
		require.NoError(c, err)
		assert.Empty(c, faults, "the slow rule fired (a spent rule is dropped): the default version is being set")
	}, time.Minute, 50*time.Millisecond)
	require.Len(t, countResources(e.ledger(), "CreateLaunchTemplateVersion"), 1)
	killWorkers(t, e.stack)
	worker := e.startWorker()
	out, code = e.starter("rollout", "status", web, "--watch")
	require.Equal(t, 0, code, out)
	st, err := e.rollout(web)
	require.NoError(t, err)
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Equal(t, model.ScalingSource{LaunchTemplateID: cloudsim.LaunchTemplateWeb, LaunchTemplateVersion: cloud.LaunchTemplateDefault, Version: 1, ImageID: cloudsim.ImageWebappV1}, *st.SourceBefore)
	require.Equal(t, model.ScalingSource{LaunchTemplateID: cloudsim.LaunchTemplateWeb, LaunchTemplateVersion: cloud.LaunchTemplateDefault, Version: 2, ImageID: cloudsim.ImageWebappV2}, *st.Source)
	ledger := e.ledger()
	require.Equal(t, map[string]int{cloudsim.LaunchTemplateWeb: 1}, countResources(ledger, "CreateLaunchTemplateVersion"), "one version however often the switch ran")
	require.Equal(t, map[string]int{cloudsim.LaunchTemplateWeb: 1}, countResources(ledger, "ModifyLaunchTemplateDefaultVersion"), "made the default once")
	require.Equal(t, cloudsim.ImageWebappV2, e.groupImage(web).ImageId)
	require.Equal(t, cloudsim.ImageWebappV2, e.scaleOut(web), "a scale-out after the update boots the new image")
	recordHistory(t, e.client, model.RolloutWorkflowID(web), "rollout_scaling_source_worker_crash.json")

	// An update back to v1, paused after its first batch, then rolled back:
	// the group launches v2 again, from the same version.
	out, code = e.starter("rollout", "start", web, "--type", "image", "--image", cloudsim.ImageWebappV1, "--rollback-image", cloudsim.ImageWebappV2,
		"--batches", "3", "--pause-policy", model.PauseEachBatch, "--watch")
	require.Equal(t, 4, code, out)
	require.Equal(t, cloudsim.ImageWebappV1, e.groupImage(web).ImageId, "the group launches the task's image while it runs")
	desc, err := e.client.DescribeWorkflowExecution(ctx, model.RolloutWorkflowID(web), "")
	require.NoError(t, err)
	pausedRun := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	out, code = e.starter("rollout", "rollback", web, "--watch")
	require.Equal(t, 0, code, out)
	st, err = e.rollout(web)
	require.NoError(t, err)
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.NotNil(t, st.RollbackOf)
	g := e.groupImage(web)
	require.Equal(t, cloudsim.ImageWebappV2, g.ImageId)
	require.Equal(t, cloud.LaunchTemplateDefault, g.LaunchTemplateVersion)
	def, err := e.cloudC.DescribeLaunchTemplateVersions(ctx, &cloud.DescribeLaunchTemplateVersionsRequest{RegionId: cloudsim.SeedRegion, LaunchTemplateId: cloudsim.LaunchTemplateWeb, DefaultVersion: true})
	require.NoError(t, err)
	require.Len(t, def.LaunchTemplateVersionSets, 1)
	require.Equal(t, int64(2), def.LaunchTemplateVersionSets[0].VersionNumber, "exactly the version it had")
	require.Equal(t, cloudsim.ImageWebappV2, e.scaleOut(web), "a scale-out after the rollback boots the image from before the update")
	if os.Getenv("IMAGEFLEET_RECORD_HISTORY") != "" {
		require.NoError(t, writeHistory(ctx, e.client, model.RolloutWorkflowID(web), pausedRun, "../workflows/testdata/rollout_scaling_source_rollback.json"))
	}

	// A group with a scaling configuration: an update cancelled while
	// paused gives the configuration its image back.
	const cfgGroup = "asg-src-hz"
	e.addGroup(cfgGroup, 4)
	out, code = e.starter("rollout", "start", cfgGroup, "--type", "image", "--image", cloudsim.ImageWebappV2, "--rollback-image", cloudsim.ImageWebappV1,
		"--batches", "2", "--pause-policy", model.PauseEachBatch, "--watch")
	require.Equal(t, 4, code, out)
	require.Equal(t, cloudsim.ImageWebappV2, e.groupImage(cfgGroup).ImageId)
	// The worker is SIGKILLed while the compensation gives the image back.
	e.addFault(cloud.Fault{Kind: cloud.FaultSlow, Action: "ModifyScalingConfiguration", Delay: time.Minute, Count: 1})
	_, code = e.starter("rollout", "cancel", cfgGroup, "--reason", "not now")
	require.Equal(t, 0, code)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		faults, err := e.cloudC.Admin().Faults(ctx)
		require.NoError(c, err)
		assert.Empty(c, faults, "the image is being given back")
	}, time.Minute, 50*time.Millisecond)
	require.NoError(t, worker.Kill())
	e.startWorker()
	out, code = e.starter("rollout", "status", cfgGroup, "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, model.RolloutCancelled)
	g = e.groupImage(cfgGroup)
	require.Equal(t, "asc-src-hz", g.ActiveScalingConfigurationId)
	require.Equal(t, cloudsim.ImageWebappV1, g.ImageId)
	require.Equal(t, map[string]int{"asc-src-hz": 2}, countResources(e.ledger(), "ModifyScalingConfiguration"), "switched and switched back, once each")
	require.Equal(t, cloudsim.ImageWebappV1, e.scaleOut(cfgGroup), "a scale-out after the cancel boots the image from before the update")
	recordHistory(t, e.client, model.RolloutWorkflowID(cfgGroup), "rollout_scaling_source_cancel.json")
}
