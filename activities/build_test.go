package activities_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

func TestResolveBuildSource(t *testing.T) {
	_, env := startCloud(t)
	var a *activities.Builds
	for _, tc := range []struct {
		name, typ, base, want, refusal string
	}{
		{"family: its newest image", cloud.BaseImageFamily, "webapp", cloudsim.ImageWebappV2, ""},
		{"custom image", cloud.BaseImageImage, cloudsim.ImageWebappV1, cloudsim.ImageWebappV1, ""},
		{"public (system) image", cloud.BaseImageImage, cloudsim.ImageSystemAliyun, cloudsim.ImageSystemAliyun, ""},
		{"marketplace image", cloud.BaseImageImage, cloudsim.ImageMarketplaceNginx, "", "a marketplace image"},
		{"community image", cloud.BaseImageImage, cloudsim.ImageCommunityTools, "", "a community image"},
		{"missing image", cloud.BaseImageImage, "m-nope", "", "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := env.ExecuteActivity(a.ResolveBuildSource, activities.ResolveSourceInput{Region: cloudsim.SeedRegion, BaseType: tc.typ, Base: tc.base})
			if tc.refusal != "" {
				require.ErrorContains(t, err, tc.refusal)
				appErr := appError(t, err)
				require.True(t, appErr.NonRetryable())
				require.Equal(t, activities.ErrTypeSourceImage, appErr.Type())
				return
			}
			require.NoError(t, err)
			var img cloud.Image
			require.NoError(t, v.Get(&img))
			require.Equal(t, tc.want, img.ImageId)
		})
	}
}

func TestLaunchBuildInstanceSoldOutIsPermanent(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Builds
	require.NoError(t, sim.Admin().SetStock(context.Background(), cloud.StockRule{RegionId: cloudsim.SeedRegion, InstanceType: "ecs.c7.large", SoldOut: true}))
	_, err := env.ExecuteActivity(a.LaunchBuildInstance, activities.LaunchInput{Region: cloudsim.SeedRegion, ImageID: cloudsim.ImageWebappV1, InstanceType: "ecs.c7.large", ClientToken: "t1"})
	appErr := appError(t, err)
	require.Equal(t, activities.ErrTypeNoStock, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.ErrorContains(t, err, "ecs.c7.large is sold out")
}

func TestRunBuildComponent(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Builds
	v, err := env.ExecuteActivity(a.LaunchBuildInstance, activities.LaunchInput{Region: cloudsim.SeedRegion, ImageID: cloudsim.ImageWebappV1, InstanceType: "ecs.c7.large", ClientToken: "run"})
	require.NoError(t, err)
	var id string
	require.NoError(t, v.Get(&id))
	_, err = env.ExecuteActivity(a.AwaitBuildInstance, activities.ResourceInput{Region: cloudsim.SeedRegion, ID: id})
	require.NoError(t, err)

	run := func(comp cloud.Component, bandwidth int, token string) model.ComponentOutput {
		t.Helper()
		v, err := env.ExecuteActivity(a.RunBuildComponent, activities.RunComponentInput{
			Region: cloudsim.SeedRegion, InstanceID: id, OSType: cloud.OSLinux, Phase: cloud.ComponentBuild,
			Component: comp, PublicBandwidth: bandwidth, ClientToken: token,
		})
		require.NoError(t, err)
		var out model.ComponentOutput
		require.NoError(t, v.Get(&out))
		return out
	}
	out := run(cloud.Component{ComponentName: "acs:update-os"}, 0, "c1")
	require.Equal(t, cloud.InvocationFailed, out.Status)
	require.Contains(t, out.Error, "acs:update-os needs internet access, but the intermediate instance has no public bandwidth")
	out = run(cloud.Component{ComponentName: "acs:update-os"}, 5, "c2")
	require.Equal(t, cloud.InvocationSuccess, out.Status, out.Error)
	require.Contains(t, out.Output, "packages updated")
	out = run(cloud.Component{Name: "build", Content: "echo make\nexit 2"}, 0, "c3")
	require.Equal(t, cloud.InvocationFailed, out.Status)
	require.Equal(t, 2, out.ExitCode)
	require.Equal(t, "make\n", out.Output)
	out = run(cloud.Component{ComponentName: "acs:windows-update"}, 5, "c4")
	require.Contains(t, out.Error, "is for windows")
	require.Equal(t, 2, ledgerCount(sim, "RunCommand"), "refused components run nothing")
}

func TestNetworkReleaseOrder(t *testing.T) {
	_, env := startCloud(t)
	var a *activities.Builds
	get := func(v interface{ Get(any) error }, err error) string {
		t.Helper()
		require.NoError(t, err)
		var s string
		require.NoError(t, v.Get(&s))
		return s
	}
	vpc := get(env.ExecuteActivity(a.CreateBuildVpc, activities.NetworkInput{Region: cloudsim.SeedRegion, Name: "b", ClientToken: "vpc"}))
	vsw := get(env.ExecuteActivity(a.CreateBuildVSwitch, activities.NetworkInput{Region: cloudsim.SeedRegion, VpcID: vpc, ClientToken: "vsw"}))
	inst := get(env.ExecuteActivity(a.LaunchBuildInstance, activities.LaunchInput{Region: cloudsim.SeedRegion, ImageID: cloudsim.ImageWebappV1, InstanceType: "ecs.c7.large", VSwitchID: vsw, ClientToken: "i"}))

	// A vSwitch still in use answers a retryable error.
	_, err := env.ExecuteActivity(a.DeleteBuildVSwitch, activities.ResourceInput{Region: cloudsim.SeedRegion, ID: vsw})
	require.ErrorContains(t, err, cloud.CodeDependencyViolation)
	require.False(t, appError(t, err).NonRetryable())

	for range 2 { // releasing twice is fine: the second finds nothing
		_, err = env.ExecuteActivity(a.ReleaseBuildInstance, activities.ResourceInput{Region: cloudsim.SeedRegion, ID: inst})
		require.NoError(t, err)
		_, err = env.ExecuteActivity(a.DeleteBuildVSwitch, activities.ResourceInput{Region: cloudsim.SeedRegion, ID: vsw})
		require.NoError(t, err)
		_, err = env.ExecuteActivity(a.DeleteBuildVpc, activities.ResourceInput{Region: cloudsim.SeedRegion, ID: vpc})
		require.NoError(t, err)
	}
}

func TestStartBuildExecutionRefusesASecondBuild(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Builds
	tpl, err := sim.Client.CreateImagePipeline(context.Background(), &cloud.CreateImagePipelineRequest{
		RegionId: cloudsim.SeedRegion, Name: "web", BaseImageType: cloud.BaseImageFamily, BaseImage: "webapp", ClientToken: "t",
	})
	require.NoError(t, err)
	v, err := env.ExecuteActivity(a.StartBuildExecution, activities.StartExecutionInput{Region: cloudsim.SeedRegion, TemplateID: tpl.ImagePipelineId, ClientToken: "a"})
	require.NoError(t, err)
	var first activities.StartExecutionOutput
	require.NoError(t, v.Get(&first))
	require.Equal(t, "web", first.Template.Name)
	// The same token is the same build (a retried activity).
	v, err = env.ExecuteActivity(a.StartBuildExecution, activities.StartExecutionInput{Region: cloudsim.SeedRegion, TemplateID: tpl.ImagePipelineId, ClientToken: "a"})
	require.NoError(t, err)
	var again activities.StartExecutionOutput
	require.NoError(t, v.Get(&again))
	require.Equal(t, first.ExecutionID, again.ExecutionID)

	_, err = env.ExecuteActivity(a.StartBuildExecution, activities.StartExecutionInput{Region: cloudsim.SeedRegion, TemplateID: tpl.ImagePipelineId, ClientToken: "b"})
	appErr := appError(t, err)
	require.Equal(t, activities.ErrTypeBuildRunning, appErr.Type())
	require.ErrorContains(t, err, first.ExecutionID)
}
