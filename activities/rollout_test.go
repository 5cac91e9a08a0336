package activities_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/model"
)

func webImageSpec(batches int) model.RolloutSpec {
	return model.RolloutSpec{
		ScalingGroupID: cloudsim.GroupWeb, RegionID: cloudsim.SeedRegion, TaskType: model.TaskImage,
		Image: &model.ImageChange{ImageID: cloudsim.ImageWebappV2, RollbackImageID: cloudsim.ImageWebappV1}, Batches: batches,
	}
}

func TestCheckRollout(t *testing.T) {
	_, env := startCloud(t)
	var a *activities.Rollouts

	v, err := env.ExecuteActivity(a.CheckRollout, webImageSpec(3))
	require.NoError(t, err)
	var plan activities.RolloutPlan
	require.NoError(t, v.Get(&plan))
	require.Len(t, plan.Instances, 10)
	require.Equal(t, "i-webhz0001", plan.Instances[0])
	require.Empty(t, plan.SuspendedProcesses)

	winScript := model.RolloutSpec{ScalingGroupID: cloudsim.GroupWin, RegionID: cloudsim.SeedRegion, TaskType: model.TaskScript,
		Script: &model.ScriptChange{Type: model.ScriptPowerShell, Script: "Write-Output ok"}, Batches: 2}
	v, err = env.ExecuteActivity(a.CheckRollout, winScript)
	require.NoError(t, err)
	require.NoError(t, v.Get(&plan))
	require.Equal(t, []string{cloud.ProcessHealthCheck}, plan.SuspendedProcesses)
	require.Equal(t, cloud.OSWindows, plan.OSType)

	for name, tc := range map[string]struct {
		change  func(*model.RolloutSpec)
		refusal string
	}{
		"unknown group":           {func(s *model.RolloutSpec) { s.ScalingGroupID = "asg-nope" }, "does not exist in cn-hangzhou"},
		"group of another region": {func(s *model.RolloutSpec) { s.RegionID = "cn-shanghai" }, "does not exist in cn-shanghai"},
		"activity in progress":    {func(s *model.RolloutSpec) { s.ScalingGroupID = cloudsim.GroupBusy }, "scaling activity in progress"},
		"too many batches":        {func(s *model.RolloutSpec) { s.Batches = 11 }, "11 batches for 10 instances"},
		"image of another region": {func(s *model.RolloutSpec) { s.Image.ImageID = "m-only-elsewhere" }, "does not exist in cn-hangzhou, the scaling group's region"},
		"shell on windows": {func(s *model.RolloutSpec) {
			*s = winScript
			s.Script = &model.ScriptChange{Type: model.ScriptShell, Script: "echo"}
		}, "run Windows"},
		"bat on linux": {func(s *model.RolloutSpec) {
			s.TaskType, s.Image, s.Script = model.TaskScript, nil, &model.ScriptChange{Type: model.ScriptBat, Script: "dir"}
		}, "run Linux"},
		"unknown package version": {func(s *model.RolloutSpec) {
			s.TaskType, s.Image, s.Package = model.TaskOOSPackage, nil, &model.OOSPackageChange{Name: "webapp-agent", Version: "9.9"}
		}, "has no version 9.9"},
	} {
		t.Run(name, func(t *testing.T) {
			spec := webImageSpec(3)
			tc.change(&spec)
			_, err := env.ExecuteActivity(a.CheckRollout, spec)
			require.Error(t, err)
			appErr := appError(t, err)
			require.Equal(t, activities.ErrTypeRolloutRefused, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.ErrorContains(t, err, tc.refusal)
		})
	}
}

func applyChange(t *testing.T, sim *cloudsimtest.Env, in activities.ChangeInput) activities.ChangeResult {
	t.Helper()
	env := activityEnv(t, sim)
	var a *activities.Rollouts
	v, err := env.ExecuteActivity(a.ApplyChange, in)
	require.NoError(t, err)
	var res activities.ChangeResult
	require.NoError(t, v.Get(&res))
	return res
}

func TestApplyChangeOfEachTaskType(t *testing.T) {
	sim := cloudsimtest.Start(t)
	ctx := context.Background()

	res := applyChange(t, sim, activities.ChangeInput{Region: cloudsim.SeedRegion, InstanceID: "i-webhz0001", TaskType: model.TaskImage,
		Image: &model.ImageChange{ImageID: cloudsim.ImageWebappV2}, ClientToken: "c-1"})
	require.True(t, res.Succeeded, res.Error)
	insts, err := sim.Client.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: []string{"i-webhz0001"}})
	require.NoError(t, err)
	require.Equal(t, cloudsim.ImageWebappV2, insts.Instances[0].ImageId)
	require.Equal(t, cloud.InstanceRunning, insts.Instances[0].Status)
	// Repeated with its token (a retried activity): no second replacement.
	res = applyChange(t, sim, activities.ChangeInput{Region: cloudsim.SeedRegion, InstanceID: "i-webhz0001", TaskType: model.TaskImage,
		Image: &model.ImageChange{ImageID: cloudsim.ImageWebappV2}, ClientToken: "c-1"})
	require.True(t, res.Succeeded)
	require.Equal(t, 1, ledgerCount(sim, "ReplaceSystemDisk"))

	res = applyChange(t, sim, activities.ChangeInput{Region: cloudsim.SeedRegion, InstanceID: "i-webhz0002", TaskType: model.TaskScript,
		Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo step 1\nexit 7\n"}, ClientToken: "c-2"})
	require.False(t, res.Succeeded)
	require.Equal(t, 7, res.ExitCode)
	require.Equal(t, "step 1\n", res.Output)
	require.Contains(t, res.Error, "exited with 7")

	res = applyChange(t, sim, activities.ChangeInput{Region: cloudsim.SeedRegion, InstanceID: "i-winhz0001", TaskType: model.TaskScript,
		Script: &model.ScriptChange{Type: model.ScriptBat, Script: "echo hello"}, ClientToken: "c-3"})
	require.True(t, res.Succeeded, res.Error)
	require.Equal(t, "hello\n", res.Output)

	res = applyChange(t, sim, activities.ChangeInput{Region: cloudsim.SeedRegion, InstanceID: "i-webhz0003", TaskType: model.TaskOOSPackage,
		Package: &model.OOSPackageChange{Name: "webapp-agent", Version: "1.1.0"}, ClientToken: "c-4"})
	require.True(t, res.Succeeded, res.Error)
	require.Contains(t, res.Output, "install webapp-agent 1.1.0")
}

func TestApplyChangeFailsOnAFaultyInstance(t *testing.T) {
	sim := cloudsimtest.Start(t, cloudsimtest.WithFaults(cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: "i-webhz0004", Count: 1}))
	in := activities.ChangeInput{Region: cloudsim.SeedRegion, InstanceID: "i-webhz0004", TaskType: model.TaskImage,
		Image: &model.ImageChange{ImageID: cloudsim.ImageWebappV2}, ClientToken: "c-1"}
	res := applyChange(t, sim, in)
	require.False(t, res.Succeeded)
	require.Contains(t, res.Error, "InstanceFault")
	// An operator retry (a new token) succeeds: the fault is spent.
	in.ClientToken = "c-2"
	require.True(t, applyChange(t, sim, in).Succeeded)
}

func TestStandbyAndFailureEvent(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Rollouts
	ctx := context.Background()
	var ids []string
	for i := 1; i <= 10; i++ {
		ids = append(ids, fmt.Sprintf("i-webhz%04d", i))
	}
	_, err := env.ExecuteActivity(a.EnterStandby, activities.StandbyInput{Region: cloudsim.SeedRegion, Group: cloudsim.GroupWeb, Instances: ids[:5]})
	require.NoError(t, err)
	lb, err := sim.Client.DescribeLoadBalancerAttribute(ctx, &cloud.DescribeLoadBalancerAttributeRequest{RegionId: cloudsim.SeedRegion, LoadBalancerId: cloudsim.LBWeb})
	require.NoError(t, err)
	zero := 0
	for _, b := range lb.BackendServers {
		if b.Weight == 0 {
			zero++
		}
	}
	require.Equal(t, 5, zero)
	_, err = env.ExecuteActivity(a.ExitStandby, activities.StandbyInput{Region: cloudsim.SeedRegion, Group: cloudsim.GroupWeb, Instances: ids})
	require.NoError(t, err, "instances already in service are left alone")
	g, err := sim.Client.DescribeScalingGroups(ctx, &cloud.DescribeScalingGroupsRequest{RegionId: cloudsim.SeedRegion, ScalingGroupIds: []string{cloudsim.GroupWeb}})
	require.NoError(t, err)
	require.Equal(t, 10, g.ScalingGroups[0].InServiceCapacity)

	_, err = env.ExecuteActivity(a.ReportFailure, activities.FailureEventInput{Region: cloudsim.SeedRegion, Group: cloudsim.GroupWeb,
		TaskType: model.TaskScript, InstanceID: "i-webhz0002", Content: "exit 1", ClientToken: "e-1"})
	require.NoError(t, err)
	events := sim.Server.Events(model.EventScriptFailed, cloudsim.GroupWeb)
	require.Len(t, events, 1)
	require.Equal(t, "i-webhz0002", events[0].InstanceId)
}
