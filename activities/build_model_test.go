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

// The build workflow sees model types only: StartBuild, ResolveSource,
// ListBuildInstanceTypes and RunComponent map the cloud's answers.
func TestBuildActivitiesAnswerModelTypes(t *testing.T) {
	sim := cloudsimtest.Start(t)
	env := activityEnv(t, sim)
	var a *activities.Builds
	off, on := false, true
	tpl, err := sim.Client.CreateImagePipeline(context.Background(), &cloud.CreateImagePipelineRequest{
		RegionId: cloudsim.SeedRegion, Name: "mapped", BaseImageType: cloud.BaseImageFamily, BaseImage: "webapp",
		BuildContent: []cloud.Component{{ComponentName: "acs:harden-ssh"}, {Name: "app", Content: "echo ok", RequiresInternet: true}},
		TestMode:     &on, TestContent: []cloud.Component{{Name: "smoke", Content: "echo ok"}},
		RepairMode: &off, DeleteInstanceOnFailure: &off, SystemDiskSize: 60, InternetMaxBandwidthOut: 5,
		ImageName: "web", ToRegionIds: []string{cloudsim.SeedRegion}, AddAccounts: []string{"1000000000000002"},
		ClientToken: "mapped",
	})
	require.NoError(t, err)

	v, err := env.ExecuteActivity(a.StartBuild, activities.StartExecutionInput{Region: cloudsim.SeedRegion, TemplateID: tpl.ImagePipelineId, ClientToken: "s"})
	require.NoError(t, err)
	var start activities.BuildStart
	require.NoError(t, v.Get(&start))
	require.NotEmpty(t, start.ExecutionID)
	require.Equal(t, model.BuildTemplate{
		ID: tpl.ImagePipelineId, Name: "mapped", Region: cloudsim.SeedRegion, SourceType: model.SourceImageFamily, Source: "webapp",
		Components: []model.TemplateComponent{{Component: "acs:harden-ssh"}, {Name: "app", Content: "echo ok", RequiresInternet: true}},
		Test:       true, Tests: []model.TemplateComponent{{Name: "smoke", Content: "echo ok"}},
		SystemDiskSize: 60, PublicBandwidth: 5, ImageNamePrefix: "web",
		Regions: []string{cloudsim.SeedRegion}, Accounts: []string{"1000000000000002"},
	}, start.Template)

	v, err = env.ExecuteActivity(a.ResolveSource, activities.ResolveSourceInput{Region: cloudsim.SeedRegion, BaseType: model.SourceImageFamily, Base: "webapp"})
	require.NoError(t, err)
	var src activities.SourceImage
	require.NoError(t, v.Get(&src))
	require.Equal(t, cloudsim.ImageWebappV2, src.ID)
	require.Equal(t, "linux", src.OSType)
	require.Positive(t, src.SizeGiB)

	require.NoError(t, sim.Admin().SetStock(context.Background(), cloud.StockRule{RegionId: cloudsim.SeedRegion, InstanceType: "ecs.c7.large", SoldOut: true}))
	v, err = env.ExecuteActivity(a.ListBuildInstanceTypes, cloudsim.SeedRegion)
	require.NoError(t, err)
	var types []activities.InstanceTypeStock
	require.NoError(t, v.Get(&types))
	require.Equal(t, activities.InstanceTypeStock{ID: "ecs.c7.large", SoldOut: true}, types[0], "smallest first")
	require.False(t, types[1].SoldOut)
}

// The model's names for the cloud's values are the cloud's values.
func TestBuildModelValuesAreTheCloudsValues(t *testing.T) {
	for model, cloud := range map[string]string{
		model.SourceImageID: cloud.BaseImageImage, model.SourceImageFamily: cloud.BaseImageFamily,
		model.ComponentPhaseBuild: cloud.ComponentBuild, model.ComponentPhaseTest: cloud.ComponentTest,
		model.ComponentSucceeded: cloud.InvocationSuccess,
		model.CheckNormal:        cloud.CheckNormal, model.CheckAbnormal: cloud.CheckAbnormal, model.CheckRepaired: cloud.CheckRepaired,
		model.ExecutionPreparing: cloud.PipelineExecutionPreparing, model.ExecutionRepairing: cloud.PipelineExecutionRepairing,
		model.ExecutionBuilding: cloud.PipelineExecutionBuilding, model.ExecutionTesting: cloud.PipelineExecutionTesting,
		model.ExecutionDistributing: cloud.PipelineExecutionDistributing, model.ExecutionReleasing: cloud.PipelineExecutionReleasing,
		model.ExecutionSucceeded: cloud.PipelineExecutionSuccess, model.ExecutionFailed: cloud.PipelineExecutionFailed,
		model.ExecutionCancelled: cloud.PipelineExecutionCancelled,
	} {
		require.Equal(t, cloud, model)
	}
}
