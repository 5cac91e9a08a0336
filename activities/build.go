package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/imagefleet/imagefleet/activities/internal/poll"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// BuildCloud is what the image build activities call.
type BuildCloud interface {
	cloud.ECS
	cloud.ECSInstances
	cloud.CloudAssistant
	cloud.VPC
	cloud.ImageBuilder
}

// Builds are the activities of an image build.
type Builds struct {
	Cloud BuildCloud
	// PollInterval is how often instances and commands are polled.
	PollInterval time.Duration
}

// Error types of build activities.
const (
	ErrTypeTemplateNotFound = "TemplateNotFound"
	ErrTypeBuildRunning     = "BuildRunning"
	ErrTypeNoStock          = "NoStock"
	ErrTypeInstanceFailed   = "InstanceFailed"
)

// rules are the poll rules of the build's waits; waiting heartbeats while
// a cloud error is waited out.
func (a *Builds) rules(waiting func(ctx context.Context, err *cloud.APIError)) poll.Rules {
	return poll.Rules{Interval: a.PollInterval, Waiting: waiting}
}

// StartExecutionInput starts a build of a template.
type StartExecutionInput struct {
	Region      string
	TemplateID  string
	ClientToken string
}

// StartExecutionOutput is the new build and the template it runs.
type StartExecutionOutput struct {
	ExecutionID string
	Template    cloud.ImagePipeline
}

// StartBuildExecution reads the template and records a new build of it. A
// template with another build running is refused (BuildRunning).
func (a *Builds) StartBuildExecution(ctx context.Context, in StartExecutionInput) (*StartExecutionOutput, error) {
	tpls, err := a.Cloud.DescribeImagePipelines(ctx, &cloud.DescribeImagePipelinesRequest{RegionId: in.Region, ImagePipelineIds: []string{in.TemplateID}})
	if err != nil {
		return nil, fromCloud(err)
	}
	if len(tpls.ImagePipelines) == 0 {
		return nil, permanent(ErrTypeTemplateNotFound, fmt.Errorf("image template %s does not exist in %s", in.TemplateID, in.Region))
	}
	resp, err := a.Cloud.StartImagePipelineExecution(ctx, &cloud.StartImagePipelineExecutionRequest{RegionId: in.Region, ImagePipelineId: in.TemplateID, ClientToken: in.ClientToken})
	if err != nil {
		if cloud.IsCode(err, cloud.CodeOperationConflict) {
			apiErr, _ := cloud.AsAPIError(err)
			return nil, permanent(ErrTypeBuildRunning, errors.New(apiErr.Message))
		}
		return nil, fromCloud(err)
	}
	return &StartExecutionOutput{ExecutionID: resp.ExecutionId, Template: tpls.ImagePipelines[0]}, nil
}

// UpdateExecutionInput reports a build's status to the cloud.
type UpdateExecutionInput struct {
	Region      string
	ExecutionID string
	Status      string
	Step        string
	Message     string
	ImageID     string
}

// UpdateBuildExecution records the build's status, step and image.
func (a *Builds) UpdateBuildExecution(ctx context.Context, in UpdateExecutionInput) error {
	_, err := a.Cloud.UpdateImagePipelineExecution(ctx, &cloud.UpdateImagePipelineExecutionRequest{
		RegionId: in.Region, ExecutionId: in.ExecutionID, Status: in.Status, Step: in.Step, Message: in.Message, ImageId: in.ImageID,
	})
	return fromCloud(err)
}

// CancelBuildExecution marks the build CANCELLING in the cloud; a build that has
// ended already is left alone.
func (a *Builds) CancelBuildExecution(ctx context.Context, in UpdateExecutionInput) error {
	_, err := a.Cloud.CancelImagePipelineExecution(ctx, &cloud.CancelImagePipelineExecutionRequest{RegionId: in.Region, ExecutionId: in.ExecutionID})
	if cloud.IsCode(err, cloud.CodePipelineExecutionFinished) {
		return nil
	}
	return fromCloud(err)
}

// ResolveSourceInput names a template's source.
type ResolveSourceInput struct {
	Region   string
	BaseType string // IMAGE | IMAGE_FAMILY
	Base     string
}

// ResolveBuildSource finds the image a build starts from: the image itself (it
// must be public, custom or shared) or the newest image of the family.
func (a *Builds) ResolveBuildSource(ctx context.Context, in ResolveSourceInput) (*cloud.Image, error) {
	var img cloud.Image
	switch in.BaseType {
	case cloud.BaseImageFamily:
		resp, err := a.Cloud.DescribeImageFromFamily(ctx, &cloud.DescribeImageFromFamilyRequest{RegionId: in.Region, ImageFamily: in.Base})
		if err != nil {
			return nil, fromCloud(err)
		}
		img = resp.Image
	default:
		resp, err := a.Cloud.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: in.Region, ImageIds: []string{in.Base}})
		if err != nil {
			return nil, fromCloud(err)
		}
		if len(resp.Images) == 0 {
			return nil, permanent(ErrTypeSourceImage, fmt.Errorf("source image %s does not exist in %s or is not visible to this account", in.Base, in.Region))
		}
		img = resp.Images[0]
	}
	switch img.ImageOwnerAlias {
	case cloud.OwnerMarketplace, cloud.OwnerCommunity:
		return nil, permanent(ErrTypeSourceImage, fmt.Errorf("source image %s is a %s image: a build starts from a public, custom or shared image", img.ImageId, img.ImageOwnerAlias))
	}
	if img.Status != cloud.ImageAvailable {
		return nil, permanent(ErrTypeSourceImage, fmt.Errorf("source image %s is %s, not Available", img.ImageId, img.Status))
	}
	return &img, nil
}

// NetworkInput creates one temporary network resource.
type NetworkInput struct {
	Region      string
	Name        string
	VpcID       string // CreateVSwitch: the VPC
	ClientToken string
}

// CreateBuildVpc creates the build's temporary VPC.
func (a *Builds) CreateBuildVpc(ctx context.Context, in NetworkInput) (string, error) {
	resp, err := a.Cloud.CreateVpc(ctx, &cloud.CreateVpcRequest{RegionId: in.Region, VpcName: in.Name, ClientToken: in.ClientToken})
	if err != nil {
		return "", fromCloud(err)
	}
	return resp.VpcId, nil
}

// CreateBuildVSwitch creates the build's temporary vSwitch.
func (a *Builds) CreateBuildVSwitch(ctx context.Context, in NetworkInput) (string, error) {
	resp, err := a.Cloud.CreateVSwitch(ctx, &cloud.CreateVSwitchRequest{RegionId: in.Region, VpcId: in.VpcID, VSwitchName: in.Name, ClientToken: in.ClientToken})
	if err != nil {
		return "", fromCloud(err)
	}
	return resp.VSwitchId, nil
}

// CheckBuildVSwitch verifies the template's own vSwitch exists.
func (a *Builds) CheckBuildVSwitch(ctx context.Context, in ResourceInput) error {
	resp, err := a.Cloud.DescribeVSwitches(ctx, &cloud.DescribeVSwitchesRequest{RegionId: in.Region, VSwitchId: in.ID})
	if err != nil {
		return fromCloud(err)
	}
	if len(resp.VSwitches) == 0 {
		return permanent(cloud.CodeVSwitchNotFound, fmt.Errorf("the template's vSwitch %s does not exist in %s", in.ID, in.Region))
	}
	return nil
}

// ResourceInput names one resource to release.
type ResourceInput struct {
	Region string
	ID     string
}

// DeleteBuildVSwitch deletes a vSwitch; one already gone is fine. A vSwitch still
// in use (an instance being released) is retried.
func (a *Builds) DeleteBuildVSwitch(ctx context.Context, in ResourceInput) error {
	_, err := a.Cloud.DeleteVSwitch(ctx, &cloud.DeleteVSwitchRequest{RegionId: in.Region, VSwitchId: in.ID})
	switch {
	case err == nil, cloud.IsCode(err, cloud.CodeVSwitchNotFound):
		return nil
	case cloud.IsCode(err, cloud.CodeDependencyViolation):
		return err // retryable: wait for the instances to go
	}
	return fromCloud(err)
}

// DeleteBuildVpc deletes a VPC; one already gone is fine.
func (a *Builds) DeleteBuildVpc(ctx context.Context, in ResourceInput) error {
	_, err := a.Cloud.DeleteVpc(ctx, &cloud.DeleteVpcRequest{RegionId: in.Region, VpcId: in.ID})
	switch {
	case err == nil, cloud.IsCode(err, cloud.CodeVpcNotFound):
		return nil
	case cloud.IsCode(err, cloud.CodeDependencyViolation):
		return err
	}
	return fromCloud(err)
}

// BuildInstanceTypes lists the region's instance types, smallest first, with
// their stock.
func (a *Builds) BuildInstanceTypes(ctx context.Context, region string) ([]cloud.InstanceType, error) {
	resp, err := a.Cloud.DescribeInstanceTypes(ctx, &cloud.DescribeInstanceTypesRequest{RegionId: region})
	if err != nil {
		return nil, fromCloud(err)
	}
	return resp.InstanceTypes, nil
}

// LaunchInput launches one instance.
type LaunchInput struct {
	Region       string
	ImageID      string
	InstanceType string
	VSwitchID    string
	DiskSize     int
	Name         string
	Tags         map[string]string
	ClientToken  string
}

// LaunchBuildInstance starts an instance and returns its ID; a sold-out type is
// a permanent NoStock error, so the workflow tries the next size.
func (a *Builds) LaunchBuildInstance(ctx context.Context, in LaunchInput) (string, error) {
	resp, err := a.Cloud.RunInstances(ctx, &cloud.RunInstancesRequest{
		RegionId: in.Region, ImageId: in.ImageID, InstanceType: in.InstanceType, VSwitchId: in.VSwitchID,
		InstanceName: in.Name, SystemDisk: cloud.SystemDisk{Size: in.DiskSize}, Tags: in.Tags, ClientToken: in.ClientToken,
	})
	if err != nil {
		if apiErr, ok := cloud.AsAPIError(err); ok && apiErr.Code == cloud.CodeNoStock {
			return "", permanent(ErrTypeNoStock, errors.New(apiErr.Message))
		}
		return "", fromCloud(err)
	}
	if len(resp.InstanceIdSets) != 1 {
		return "", fmt.Errorf("RunInstances answered %d instances, want 1", len(resp.InstanceIdSets))
	}
	return resp.InstanceIdSets[0], nil
}

// AwaitBuildInstance polls the instance until it is Running, heartbeating
// its status.
func (a *Builds) AwaitBuildInstance(ctx context.Context, in ResourceInput) error {
	rules := a.rules(func(ctx context.Context, err *cloud.APIError) { activity.RecordHeartbeat(ctx, "polling: "+err.Error()) })
	return fromCloud(poll.Until(ctx, rules, func(ctx context.Context) (bool, error) {
		resp, err := a.Cloud.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: in.Region, InstanceIds: []string{in.ID}})
		switch {
		case err != nil:
			return false, err
		case len(resp.Instances) == 0:
			return false, permanent(ErrTypeInstanceFailed, fmt.Errorf("instance %s has disappeared", in.ID))
		case resp.Instances[0].Status == cloud.InstanceRunning:
			return true, nil
		}
		activity.RecordHeartbeat(ctx, resp.Instances[0].Status)
		return false, nil
	}))
}

// ReleaseBuildInstance force-releases an instance; one already gone is fine.
func (a *Builds) ReleaseBuildInstance(ctx context.Context, in ResourceInput) error {
	_, err := a.Cloud.DeleteInstances(ctx, &cloud.DeleteInstancesRequest{RegionId: in.Region, InstanceIds: []string{in.ID}, Force: true})
	if err == nil || cloud.IsCode(err, cloud.CodeInstanceNotFound) {
		return nil
	}
	if cloud.IsCode(err, cloud.CodeInstanceFault) {
		return err // the same release may succeed when repeated
	}
	return fromCloud(err)
}

// CheckBuildGuestOS runs the guest-OS check on an instance.
func (a *Builds) CheckBuildGuestOS(ctx context.Context, in ResourceInput) ([]model.GuestOSCheck, error) {
	resp, err := a.Cloud.CheckGuestOS(ctx, &cloud.CheckGuestOSRequest{RegionId: in.Region, InstanceId: in.ID})
	if err != nil {
		return nil, fromCloud(err)
	}
	out := make([]model.GuestOSCheck, len(resp.Items))
	for i, it := range resp.Items {
		out[i] = model.GuestOSCheck{Item: it.Item, Result: it.Result, Detail: it.Detail}
	}
	return out, nil
}

// RepairInput repairs check items on an instance.
type RepairInput struct {
	Region      string
	InstanceID  string
	Items       []string
	ClientToken string
}

// RepairBuildGuestOS repairs the items and returns those repaired.
func (a *Builds) RepairBuildGuestOS(ctx context.Context, in RepairInput) ([]string, error) {
	resp, err := a.Cloud.RepairGuestOS(ctx, &cloud.RepairGuestOSRequest{RegionId: in.Region, InstanceId: in.InstanceID, Items: in.Items, ClientToken: in.ClientToken})
	if err != nil {
		return nil, fromCloud(err)
	}
	return resp.Repaired, nil
}

// RunComponentInput runs one component on an instance.
type RunComponentInput struct {
	Region     string
	InstanceID string
	OSType     string
	Phase      string // Build | Test
	Component  cloud.Component
	// PublicBandwidth is the intermediate instance's (Mbit/s): 0 means no
	// internet access.
	PublicBandwidth int
	ClientToken     string
}

// RunBuildComponent runs a component through Cloud Assistant and waits for it.
// A component that fails (exit code, no internet access, unknown system
// component) answers a Failed output, not an error: the workflow decides.
func (a *Builds) RunBuildComponent(ctx context.Context, in RunComponentInput) (*model.ComponentOutput, error) {
	comp := in.Component
	out := &model.ComponentOutput{Phase: in.Phase, Name: componentName(comp), Status: cloud.InvocationFailed, ExitCode: -1}
	typ, content, needsInternet := comp.Type, comp.Content, comp.RequiresInternet
	if comp.ComponentName != "" {
		resp, err := a.Cloud.DescribeImageComponents(ctx, &cloud.DescribeImageComponentsRequest{RegionId: in.Region, ComponentNames: []string{comp.ComponentName}})
		if err != nil {
			return nil, fromCloud(err)
		}
		if len(resp.ImageComponents) == 0 {
			out.Error = fmt.Sprintf("system component %s does not exist", comp.ComponentName)
			return out, nil
		}
		sys := resp.ImageComponents[0]
		if sys.SystemType != "" && in.OSType != "" && sys.SystemType != in.OSType {
			out.Error = fmt.Sprintf("system component %s is for %s, the instance runs %s", comp.ComponentName, sys.SystemType, in.OSType)
			return out, nil
		}
		typ, content, needsInternet = sys.Type, sys.Content, sys.RequiresInternet
	}
	if typ == "" {
		typ = cloud.CommandShell
		if in.OSType == cloud.OSWindows {
			typ = cloud.CommandPowerShell
		}
	}
	if needsInternet && in.PublicBandwidth == 0 {
		out.Error = fmt.Sprintf("component %s needs internet access, but the intermediate instance has no public bandwidth (0 Mbit/s): set a public bandwidth in the template", out.Name)
		return out, nil
	}
	run, err := a.Cloud.RunCommand(ctx, &cloud.RunCommandRequest{
		RegionId: in.Region, Type: typ, CommandContent: content, InstanceIds: []string{in.InstanceID}, Name: out.Name, ClientToken: in.ClientToken,
	})
	if err != nil {
		if apiErr, ok := cloud.AsAPIError(err); ok && apiErr.Code == cloud.CodeCommandTypeNotSupported {
			out.Error = apiErr.Message
			return out, nil
		}
		return nil, fromCloud(err)
	}
	// The heartbeat is the invocation, whatever the poll answers.
	beat := func(ctx context.Context, _ *cloud.APIError) { activity.RecordHeartbeat(ctx, run.InvokeId) }
	err = poll.Until(ctx, a.rules(beat), func(ctx context.Context) (bool, error) {
		resp, err := a.Cloud.DescribeInvocationResults(ctx, &cloud.DescribeInvocationResultsRequest{RegionId: in.Region, InvokeId: run.InvokeId, InstanceId: in.InstanceID})
		if err != nil {
			return false, err
		}
		res := resp.Invocation.InvocationResults
		if len(res) != 1 || res[0].InvocationStatus == cloud.InvocationRunning {
			beat(ctx, nil)
			return false, nil
		}
		out.Status, out.ExitCode, out.Output = res[0].InvocationStatus, res[0].ExitCode, res[0].Output
		if res[0].InvocationStatus != cloud.InvocationSuccess {
			out.Error = strings.TrimSpace(fmt.Sprintf("exit code %d %s", res[0].ExitCode, res[0].ErrorInfo))
		}
		return true, nil
	})
	if err != nil {
		return nil, fromCloud(err)
	}
	return out, nil
}

func componentName(c cloud.Component) string {
	if c.ComponentName != "" {
		return c.ComponentName
	}
	if c.Name != "" {
		return c.Name
	}
	return "inline command"
}

// CreateImageInput makes an image from an instance.
type CreateImageInput struct {
	Region      string
	InstanceID  string
	Name        string
	Description string
	Tags        map[string]string
	ClientToken string
}

// CreateBuildImage starts making the image and returns its ID; it is Creating
// until Available (Images.AwaitImageAvailable).
func (a *Builds) CreateBuildImage(ctx context.Context, in CreateImageInput) (string, error) {
	resp, err := a.Cloud.CreateImage(ctx, &cloud.CreateImageRequest{
		RegionId: in.Region, InstanceId: in.InstanceID, ImageName: in.Name, Description: in.Description, Tags: in.Tags, ClientToken: in.ClientToken,
	})
	if err != nil {
		return "", fromCloud(err)
	}
	return resp.ImageId, nil
}

// Abnormal lists the items of checks that are Abnormal.
func Abnormal(checks []model.GuestOSCheck) []string {
	var out []string
	for _, c := range checks {
		if c.Result == cloud.CheckAbnormal {
			out = append(out, c.Item)
		}
	}
	return slices.Clip(out)
}
