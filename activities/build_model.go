package activities

import (
	"context"
	"slices"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// The image build's activities as the workflow calls them: their inputs and
// results are model types, mapped here from and to the cloud's wire types.
// Runs recorded before the build workflow's "build-model-types" change
// called StartBuildExecution, ResolveBuildSource, BuildInstanceTypes and
// RunBuildComponent, whose results and inputs are the wire types; those stay
// registered so that such runs replay and finish.

// BuildStart is the new build and the template it runs.
type BuildStart struct {
	ExecutionID string
	Template    model.BuildTemplate
}

// StartBuild reads the template and records a new build of it. A template
// with another build running is refused (BuildRunning).
func (a *Builds) StartBuild(ctx context.Context, in StartExecutionInput) (*BuildStart, error) {
	out, err := a.StartBuildExecution(ctx, in)
	if err != nil {
		return nil, err
	}
	start := out.BuildStart()
	return &start, nil
}

// BuildStart maps StartBuildExecution's result.
func (o StartExecutionOutput) BuildStart() BuildStart {
	return BuildStart{ExecutionID: o.ExecutionID, Template: buildTemplate(o.Template)}
}

func buildTemplate(p cloud.ImagePipeline) model.BuildTemplate {
	return model.BuildTemplate{
		ID: p.ImagePipelineId, Name: p.Name, Region: p.RegionId,
		SourceType: p.BaseImageType, Source: p.BaseImage,
		Components: templateComponents(p.BuildContent), Repair: p.RepairMode,
		Test: p.TestMode, Tests: templateComponents(p.TestContent),
		VSwitchID: p.VSwitchId, InstanceType: p.InstanceType, SystemDiskSize: p.SystemDiskSize,
		PublicBandwidth: p.InternetMaxBandwidthOut, ReleaseOnFailure: p.DeleteInstanceOnFailure,
		ImageNamePrefix: p.ImageName, Regions: slices.Clone(p.ToRegionIds), Accounts: slices.Clone(p.AddAccounts),
	}
}

func templateComponents(cs []cloud.Component) []model.TemplateComponent {
	if cs == nil {
		return nil
	}
	out := make([]model.TemplateComponent, len(cs))
	for i, c := range cs {
		out[i] = model.TemplateComponent{Component: c.ComponentName, Name: c.Name, Type: c.Type, Content: c.Content, RequiresInternet: c.RequiresInternet}
	}
	return out
}

func cloudComponent(c model.TemplateComponent) cloud.Component {
	return cloud.Component{ComponentName: c.Component, Name: c.Name, Type: c.Type, Content: c.Content, RequiresInternet: c.RequiresInternet}
}

// SourceImage is the image a build starts from.
type SourceImage struct {
	ID      string
	OSType  string // linux | windows
	SizeGiB int
}

// ResolveSource finds the image a build starts from: the image itself (it
// must be public, custom or shared) or the newest image of the family.
func (a *Builds) ResolveSource(ctx context.Context, in ResolveSourceInput) (*SourceImage, error) {
	img, err := a.ResolveBuildSource(ctx, in)
	if err != nil {
		return nil, err
	}
	src := SourceImageOf(*img)
	return &src, nil
}

// LegacyImage is ResolveBuildSource's result: the cloud's image.
type LegacyImage = cloud.Image

// SourceImageOf maps ResolveBuildSource's result.
func SourceImageOf(img LegacyImage) SourceImage {
	return SourceImage{ID: img.ImageId, OSType: img.OSType, SizeGiB: img.Size}
}

// InstanceTypeStock is an instance type and whether the region has it in
// stock.
type InstanceTypeStock struct {
	ID      string
	SoldOut bool
}

// ListBuildInstanceTypes lists the region's instance types, smallest first,
// with their stock.
func (a *Builds) ListBuildInstanceTypes(ctx context.Context, region string) ([]InstanceTypeStock, error) {
	types, err := a.BuildInstanceTypes(ctx, region)
	if err != nil {
		return nil, err
	}
	return InstanceTypeStocks(types), nil
}

// LegacyInstanceType is an element of BuildInstanceTypes' result.
type LegacyInstanceType = cloud.InstanceType

// InstanceTypeStocks maps BuildInstanceTypes' result.
func InstanceTypeStocks(types []LegacyInstanceType) []InstanceTypeStock {
	out := make([]InstanceTypeStock, len(types))
	for i, t := range types {
		out[i] = InstanceTypeStock{ID: t.InstanceTypeId, SoldOut: t.Status == cloud.StockSoldOut}
	}
	return out
}

// ComponentInput runs one component on an instance.
type ComponentInput struct {
	Region     string
	InstanceID string
	OSType     string
	Phase      string // model.ComponentPhaseBuild | model.ComponentPhaseTest
	Component  model.TemplateComponent
	// PublicBandwidth is the intermediate instance's (Mbit/s): 0 means no
	// internet access.
	PublicBandwidth int
	ClientToken     string
}

// RunComponent runs a component through Cloud Assistant and waits for it.
// A component that fails (exit code, no internet access, unknown system
// component) answers a Failed output, not an error: the workflow decides.
func (a *Builds) RunComponent(ctx context.Context, in ComponentInput) (*model.ComponentOutput, error) {
	return a.RunBuildComponent(ctx, in.Legacy())
}

// Legacy is the input of RunBuildComponent, which runs recorded before the
// model types call.
func (in ComponentInput) Legacy() RunComponentInput {
	return RunComponentInput{
		Region: in.Region, InstanceID: in.InstanceID, OSType: in.OSType, Phase: in.Phase,
		Component: cloudComponent(in.Component), PublicBandwidth: in.PublicBandwidth, ClientToken: in.ClientToken,
	}
}
