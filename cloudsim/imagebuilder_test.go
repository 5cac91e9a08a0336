package cloudsim_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

func TestVPCDeletionOrderIsEnforced(t *testing.T) {
	env, clock := startClocked(t)
	ctx := context.Background()
	c := env.Client
	vpc, err := c.CreateVpc(ctx, &cloud.CreateVpcRequest{RegionId: cloudsim.SeedRegion, ClientToken: "vpc"})
	ok(t, err)
	sw, err := c.CreateVSwitch(ctx, &cloud.CreateVSwitchRequest{RegionId: cloudsim.SeedRegion, VpcId: vpc.VpcId, ClientToken: "vsw"})
	ok(t, err)
	run, err := c.RunInstances(ctx, &cloud.RunInstancesRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, InstanceType: "ecs.c7.large", VSwitchId: sw.VSwitchId, ClientToken: "run"})
	ok(t, err)
	clock.Advance(env.Server.BootDuration(40))

	_, err = c.DeleteVpc(ctx, &cloud.DeleteVpcRequest{RegionId: cloudsim.SeedRegion, VpcId: vpc.VpcId})
	wantCode(t, err, cloud.CodeDependencyViolation)
	_, err = c.DeleteVSwitch(ctx, &cloud.DeleteVSwitchRequest{RegionId: cloudsim.SeedRegion, VSwitchId: sw.VSwitchId})
	wantCode(t, err, cloud.CodeDependencyViolation)

	_, err = c.DeleteInstances(ctx, &cloud.DeleteInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: run.InstanceIdSets, Force: true})
	ok(t, err)
	_, err = c.DeleteVSwitch(ctx, &cloud.DeleteVSwitchRequest{RegionId: cloudsim.SeedRegion, VSwitchId: sw.VSwitchId})
	ok(t, err)
	_, err = c.DeleteVpc(ctx, &cloud.DeleteVpcRequest{RegionId: cloudsim.SeedRegion, VpcId: vpc.VpcId})
	ok(t, err)
	resp, err := c.DescribeVSwitches(ctx, &cloud.DescribeVSwitchesRequest{RegionId: cloudsim.SeedRegion})
	ok(t, err)
	if len(resp.VSwitches) != 0 {
		t.Fatalf("vSwitches left: %+v", resp.VSwitches)
	}
}

func TestSoldOutInstanceTypeIsRefused(t *testing.T) {
	env, _ := startClocked(t)
	ctx := context.Background()
	ok(t, env.Client.Admin().SetStock(ctx, cloud.StockRule{RegionId: cloudsim.SeedRegion, InstanceType: "ecs.c7.large", SoldOut: true}))
	types, err := env.Client.DescribeInstanceTypes(ctx, &cloud.DescribeInstanceTypesRequest{RegionId: cloudsim.SeedRegion})
	ok(t, err)
	if types.InstanceTypes[0].InstanceTypeId != "ecs.c7.large" || types.InstanceTypes[0].Status != cloud.StockSoldOut || types.InstanceTypes[1].Status != cloud.StockWithStock {
		t.Fatalf("instance types: %+v", types.InstanceTypes[:2])
	}
	_, err = env.Client.RunInstances(ctx, &cloud.RunInstancesRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, InstanceType: "ecs.c7.large", ClientToken: "a"})
	wantCode(t, err, cloud.CodeNoStock)
	// Other regions are not affected.
	_, err = env.Client.RunInstances(ctx, &cloud.RunInstancesRequest{RegionId: "cn-shanghai", ImageId: cloudsim.ImageSystemAliyun, InstanceType: "ecs.c7.large", ClientToken: "b"})
	ok(t, err)
}

func TestGuestOSProblemsRepairAndInheritance(t *testing.T) {
	env, clock := startClocked(t)
	ctx := context.Background()
	c := env.Client
	ok(t, c.Admin().SetGuestOSProblems(ctx, cloud.GuestOSProblems{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, Items: []string{cloud.GuestOSDhcp, cloud.GuestOSFstab}}))
	id := runInstance(t, c, cloudsim.ImageWebappV1, "run")
	clock.Advance(env.Server.BootDuration(40))

	abnormal := func(inst string) []string {
		t.Helper()
		resp, err := c.CheckGuestOS(ctx, &cloud.CheckGuestOSRequest{RegionId: cloudsim.SeedRegion, InstanceId: inst})
		ok(t, err)
		if len(resp.Items) != 6 {
			t.Fatalf("linux check items: %+v", resp.Items)
		}
		var out []string
		for _, it := range resp.Items {
			if it.Result == cloud.CheckAbnormal {
				out = append(out, it.Item)
			}
		}
		return out
	}
	if got := abnormal(id); !slices.Equal(got, []string{cloud.GuestOSDhcp, cloud.GuestOSFstab}) {
		t.Fatalf("abnormal before repair: %v", got)
	}
	rep, err := c.RepairGuestOS(ctx, &cloud.RepairGuestOSRequest{RegionId: cloudsim.SeedRegion, InstanceId: id, Items: []string{cloud.GuestOSDhcp}})
	ok(t, err)
	if !slices.Equal(rep.Repaired, []string{cloud.GuestOSDhcp}) {
		t.Fatalf("repaired: %v", rep.Repaired)
	}
	img, err := c.CreateImage(ctx, &cloud.CreateImageRequest{RegionId: cloudsim.SeedRegion, InstanceId: id, ImageName: "built", ClientToken: "img"})
	ok(t, err)
	if got := describe(t, c, cloudsim.SeedRegion, img.ImageId).Status; got != cloud.ImageCreating {
		t.Fatalf("new image is %s, want Creating", got)
	}
	clock.Advance(env.Server.CreateDuration(40))
	if got := describe(t, c, cloudsim.SeedRegion, img.ImageId).Status; got != cloud.ImageAvailable {
		t.Fatalf("new image is %s, want Available", got)
	}
	// An instance of the new image fails what was not repaired.
	id2 := runInstance(t, c, img.ImageId, "run2")
	clock.Advance(env.Server.BootDuration(40))
	if got := abnormal(id2); !slices.Equal(got, []string{cloud.GuestOSFstab}) {
		t.Fatalf("abnormal on the new image: %v", got)
	}
}

func TestImagePipelineRulesAndOneBuildAtATime(t *testing.T) {
	env, _ := startClocked(t)
	ctx := context.Background()
	c := env.Client
	base := cloud.CreateImagePipelineRequest{RegionId: cloudsim.SeedRegion, Name: "web", BaseImageType: cloud.BaseImageFamily, BaseImage: "webapp", ClientToken: "p"}

	bad := base
	bad.BaseImageType, bad.BaseImage, bad.ClientToken = cloud.BaseImageImage, cloudsim.ImageMarketplaceNginx, "p1"
	_, err := c.CreateImagePipeline(ctx, &bad)
	wantCode(t, err, cloud.CodeBaseImageUnsupported)
	bad.BaseImage, bad.ClientToken = cloudsim.ImageCommunityTools, "p2"
	_, err = c.CreateImagePipeline(ctx, &bad)
	wantCode(t, err, cloud.CodeBaseImageUnsupported)
	bad = base
	bad.ToRegionIds, bad.ClientToken = model.RegionIDs()[:21], "p3"
	_, err = c.CreateImagePipeline(ctx, &bad)
	wantCode(t, err, cloud.CodeInvalidParameter)
	bad = base
	bad.SystemDiskSize, bad.ClientToken = 501, "p4"
	_, err = c.CreateImagePipeline(ctx, &bad)
	wantCode(t, err, cloud.CodeInvalidParameter)

	p, err := c.CreateImagePipeline(ctx, &base)
	ok(t, err)
	got, err := c.DescribeImagePipelines(ctx, &cloud.DescribeImagePipelinesRequest{RegionId: cloudsim.SeedRegion, ImagePipelineIds: []string{p.ImagePipelineId}})
	ok(t, err)
	tpl := got.ImagePipelines[0]
	if !tpl.RepairMode || !tpl.TestMode || !tpl.DeleteInstanceOnFailure || tpl.SystemDiskSize != 40 ||
		!slices.Equal(tpl.ToRegionIds, []string{cloudsim.SeedRegion}) || len(tpl.TestContent) != 1 {
		t.Fatalf("defaults: %+v", tpl)
	}

	first, err := c.StartImagePipelineExecution(ctx, &cloud.StartImagePipelineExecutionRequest{RegionId: cloudsim.SeedRegion, ImagePipelineId: p.ImagePipelineId, ClientToken: "e1"})
	ok(t, err)
	_, err = c.StartImagePipelineExecution(ctx, &cloud.StartImagePipelineExecutionRequest{RegionId: cloudsim.SeedRegion, ImagePipelineId: p.ImagePipelineId, ClientToken: "e2"})
	if apiErr := wantCode(t, err, cloud.CodeOperationConflict); !strings.Contains(apiErr.Message, first.ExecutionId) {
		t.Fatalf("refusal does not name the running build: %s", apiErr.Message)
	}
	for range 2 { // cancel may be sent more than once
		_, err = c.CancelImagePipelineExecution(ctx, &cloud.CancelImagePipelineExecutionRequest{RegionId: cloudsim.SeedRegion, ExecutionId: first.ExecutionId})
		ok(t, err)
	}
	_, err = c.UpdateImagePipelineExecution(ctx, &cloud.UpdateImagePipelineExecutionRequest{RegionId: cloudsim.SeedRegion, ExecutionId: first.ExecutionId, Status: cloud.PipelineExecutionCancelled})
	ok(t, err)
	_, err = c.CancelImagePipelineExecution(ctx, &cloud.CancelImagePipelineExecutionRequest{RegionId: cloudsim.SeedRegion, ExecutionId: first.ExecutionId})
	wantCode(t, err, cloud.CodePipelineExecutionFinished)
	_, err = c.StartImagePipelineExecution(ctx, &cloud.StartImagePipelineExecutionRequest{RegionId: cloudsim.SeedRegion, ImagePipelineId: p.ImagePipelineId, ClientToken: "e3"})
	ok(t, err)
	execs, err := c.DescribeImagePipelineExecutions(ctx, &cloud.DescribeImagePipelineExecutionsRequest{RegionId: cloudsim.SeedRegion, ImagePipelineId: p.ImagePipelineId})
	ok(t, err)
	if len(execs.ImagePipelineExecutions) != 2 {
		t.Fatalf("executions: %+v", execs.ImagePipelineExecutions)
	}
}

func TestWindowsGuestOSItems(t *testing.T) {
	env, clock := startClocked(t)
	ctx := context.Background()
	ok(t, env.Client.Admin().SetGuestOSProblems(ctx, cloud.GuestOSProblems{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWinsvcV1, Items: []string{cloud.GuestOSHotfix}}))
	id := runInstance(t, env.Client, cloudsim.ImageWinsvcV1, "win")
	clock.Advance(env.Server.BootDuration(60))
	resp, err := env.Client.CheckGuestOS(ctx, &cloud.CheckGuestOSRequest{RegionId: cloudsim.SeedRegion, InstanceId: id})
	ok(t, err)
	var items []string
	for _, it := range resp.Items {
		items = append(items, it.Item+"="+it.Result)
	}
	want := []string{"GUESTOS.Virtio=Normal", "GUESTOS.Update=Normal", "GUESTOS.Hotfix=Abnormal", "GUESTOS.Server=Normal"}
	if resp.OSType != cloud.OSWindows || !slices.Equal(items, want) {
		t.Fatalf("windows check: %s %v, want %v", resp.OSType, items, want)
	}
	// A Linux item cannot be repaired on Windows.
	_, err = env.Client.RepairGuestOS(ctx, &cloud.RepairGuestOSRequest{RegionId: cloudsim.SeedRegion, InstanceId: id, Items: []string{cloud.GuestOSGrub}})
	wantCode(t, err, cloud.CodeInvalidParameter)
}
