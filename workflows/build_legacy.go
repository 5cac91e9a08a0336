package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// changeBuildModelTypes: the build's activities answer model types, so that
// the build holds no cloud wire type. A run that began before calls the
// activities it called then (their results are the cloud's wire types,
// recorded in its history), mapped here to the same model types; delete
// the old branches once no such run is left.
const changeBuildModelTypes = "build-model-types"

// startExecution records the build and reads its template.
func (b *build) startExecution(ctx workflow.Context, in activities.StartExecutionInput) (activities.BuildStart, error) {
	if b.wireTypes {
		var out activities.StartExecutionOutput
		err := workflow.ExecuteActivity(ctx, builds.StartBuildExecution, in).Get(ctx, &out)
		return out.BuildStart(), err
	}
	var out activities.BuildStart
	err := workflow.ExecuteActivity(ctx, builds.StartBuild, in).Get(ctx, &out)
	return out, err
}

// resolveSource finds the image the build starts from.
func (b *build) resolveSource(ctx workflow.Context, in activities.ResolveSourceInput) (activities.SourceImage, error) {
	if b.wireTypes {
		var img activities.LegacyImage
		err := workflow.ExecuteActivity(ctx, builds.ResolveBuildSource, in).Get(ctx, &img)
		return activities.SourceImageOf(img), err
	}
	var img activities.SourceImage
	err := workflow.ExecuteActivity(ctx, builds.ResolveSource, in).Get(ctx, &img)
	return img, err
}

// instanceTypes lists the region's instance types, smallest first.
func (b *build) instanceTypes(ctx workflow.Context, region string) ([]activities.InstanceTypeStock, error) {
	if b.wireTypes {
		var types []activities.LegacyInstanceType
		err := workflow.ExecuteActivity(ctx, builds.BuildInstanceTypes, region).Get(ctx, &types)
		return activities.InstanceTypeStocks(types), err
	}
	var types []activities.InstanceTypeStock
	err := workflow.ExecuteActivity(ctx, builds.ListBuildInstanceTypes, region).Get(ctx, &types)
	return types, err
}

// runComponentActivity runs one component and answers its output.
func (b *build) runComponentActivity(ctx workflow.Context, in activities.ComponentInput) (model.ComponentOutput, error) {
	var out model.ComponentOutput
	act := any(builds.RunComponent)
	var arg any = in
	if b.wireTypes {
		act, arg = builds.RunBuildComponent, in.Legacy()
	}
	err := workflow.ExecuteActivity(ctx, act, arg).Get(ctx, &out)
	return out, err
}
