package cloudsim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// runInstance starts one instance of image in the seed region and returns it.
func runInstance(t *testing.T, c *cloud.Client, image, token string) string {
	t.Helper()
	resp, err := c.RunInstances(context.Background(), &cloud.RunInstancesRequest{
		RegionId: cloudsim.SeedRegion, ImageId: image, InstanceType: "ecs.g7.large", ClientToken: token,
	})
	ok(t, err)
	return single(t, "instances started", resp.InstanceIdSets)
}

func instance(t *testing.T, c *cloud.Client, id string) cloud.Instance {
	t.Helper()
	resp, err := c.DescribeInstances(context.Background(), &cloud.DescribeInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: []string{id}})
	ok(t, err)
	return single(t, "instance "+id, resp.Instances)
}

func TestRunInstancesBootsAsynchronously(t *testing.T) {
	env, clock := startClocked(t)
	ctx := context.Background()
	id := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-1")

	inst := instance(t, env.Client, id)
	if inst.Status != cloud.InstancePending || inst.OSType != cloud.OSLinux || inst.ImageId != cloudsim.ImageWebappV1 {
		t.Fatalf("new instance: %+v", inst)
	}
	if inst.SystemDisk.Size != 40 || inst.SystemDisk.Category != "cloud_essd" || inst.SystemDisk.DiskId == "" {
		t.Fatalf("default system disk: %+v", inst.SystemDisk)
	}
	clock.Advance(env.Server.BootDuration(40))
	if got := instance(t, env.Client, id).Status; got != cloud.InstanceRunning {
		t.Fatalf("after boot: %s, want Running", got)
	}

	// The same token answers the same instance, with no second side effect.
	if again := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-1"); again != id {
		t.Fatalf("replay created %s, want %s", again, id)
	}
	if n := len(ledgerOf(env, "RunInstances")); n != 1 {
		t.Fatalf("ledger has %d RunInstances entries, want 1", n)
	}

	// Another account does not see it.
	resp, err := env.ClientAs(cloudsim.SecondAccount).DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: cloudsim.SeedRegion})
	ok(t, err)
	if len(resp.Instances) != 0 {
		t.Fatalf("second account sees %d instances", len(resp.Instances))
	}
}

func TestRunInstancesRefusesBadInput(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := context.Background()
	base := cloud.RunInstancesRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, InstanceType: "ecs.g7.large"}
	cases := []struct {
		name   string
		change func(*cloud.RunInstancesRequest)
		code   string
	}{
		{"unknown region", func(r *cloud.RunInstancesRequest) { r.RegionId = "xx-nowhere-1" }, cloud.CodeInvalidRegion},
		{"image of another region", func(r *cloud.RunInstancesRequest) { r.RegionId = "cn-shanghai" }, cloud.CodeImageNotFound},
		{"private image of another account", func(r *cloud.RunInstancesRequest) { r.ImageId = cloudsim.ImageOtherPrivate }, cloud.CodeImageNotAuthorized},
		{"bad instance type", func(r *cloud.RunInstancesRequest) { r.InstanceType = "large" }, cloud.CodeInstanceType},
		{"bad vswitch", func(r *cloud.RunInstancesRequest) { r.VSwitchId = "subnet-1" }, cloud.CodeInvalidParameter},
		{"disk smaller than image", func(r *cloud.RunInstancesRequest) { r.ImageId, r.SystemDisk.Size = cloudsim.ImageWebappV2, 40 }, cloud.CodeInvalidParameter},
		{"too many", func(r *cloud.RunInstancesRequest) { r.Amount = 101 }, cloud.CodeInvalidParameter},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := base
			tc.change(&req)
			_, err := env.Client.RunInstances(ctx, &req)
			wantCode(t, err, tc.code)
		})
	}
	if n := len(ledgerOf(env, "RunInstances")); n != 0 {
		t.Fatalf("refused calls left %d ledger entries", n)
	}
}

func TestReplaceSystemDiskRestartsOnTheNewImage(t *testing.T) {
	env, clock := startClocked(t)
	ctx := context.Background()
	id := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-1")

	// Not while it boots.
	_, err := env.Client.ReplaceSystemDisk(ctx, &cloud.ReplaceSystemDiskRequest{InstanceId: id, ImageId: cloudsim.ImageWebappV2, ClientToken: "r-0"})
	wantCode(t, err, cloud.CodeIncorrectInstStatus)
	clock.Advance(env.Server.BootDuration(40))
	oldDisk := instance(t, env.Client, id).SystemDisk.DiskId

	// The image must be in the instance's region.
	_, err = env.Client.ReplaceSystemDisk(ctx, &cloud.ReplaceSystemDiskRequest{InstanceId: id, ImageId: "m-nowhere", ClientToken: "r-x"})
	wantCode(t, err, cloud.CodeImageNotFound)

	resp, err := env.Client.ReplaceSystemDisk(ctx, &cloud.ReplaceSystemDiskRequest{InstanceId: id, ImageId: cloudsim.ImageWebappV2, ClientToken: "r-1"})
	ok(t, err)
	inst := instance(t, env.Client, id)
	if inst.Status != cloud.InstanceStarting || inst.ImageId != cloudsim.ImageWebappV2 || inst.SystemDisk.DiskId != resp.DiskId || resp.DiskId == oldDisk {
		t.Fatalf("after replacement: %+v (old disk %s, answer %s)", inst, oldDisk, resp.DiskId)
	}
	// The disk grows to the larger image.
	if inst.SystemDisk.Size != 80 {
		t.Fatalf("system disk %d GiB, want 80", inst.SystemDisk.Size)
	}
	clock.Advance(env.Server.ReplaceDiskDuration(80) - time.Second)
	if got := instance(t, env.Client, id).Status; got != cloud.InstanceStarting {
		t.Fatalf("before the restart ends: %s", got)
	}
	clock.Advance(time.Second)
	if got := instance(t, env.Client, id).Status; got != cloud.InstanceRunning {
		t.Fatalf("after the restart: %s", got)
	}
	// A replayed call changes nothing more.
	again, err := env.Client.ReplaceSystemDisk(ctx, &cloud.ReplaceSystemDiskRequest{InstanceId: id, ImageId: cloudsim.ImageWebappV2, ClientToken: "r-1"})
	ok(t, err)
	if again.DiskId != resp.DiskId || len(ledgerOf(env, "ReplaceSystemDisk")) != 1 {
		t.Fatalf("replay: disk %s, %d ledger entries", again.DiskId, len(ledgerOf(env, "ReplaceSystemDisk")))
	}
}

func TestInstanceFaultFailsTheNextOperations(t *testing.T) {
	env, clock := startClocked(t)
	ctx := context.Background()
	a := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-a")
	b := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-b")
	clock.Advance(env.Server.BootDuration(40))

	_, err := env.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: a, Count: 2})
	ok(t, err)
	_, err = env.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultInstanceFail})
	if err == nil {
		t.Fatal("an instance-fail rule without InstanceId was accepted")
	}

	// Other instances are not affected, and reads do not use the rule up.
	_, err = env.Client.ReplaceSystemDisk(ctx, &cloud.ReplaceSystemDiskRequest{InstanceId: b, ImageId: cloudsim.ImageWebappV2, ClientToken: "b-1"})
	ok(t, err)
	instance(t, env.Client, a)

	// First operation on a: a disk replacement fails and changes nothing.
	_, err = env.Client.ReplaceSystemDisk(ctx, &cloud.ReplaceSystemDiskRequest{InstanceId: a, ImageId: cloudsim.ImageWebappV2, ClientToken: "a-1"})
	wantCode(t, err, cloud.CodeInstanceFault)
	if inst := instance(t, env.Client, a); inst.ImageId != cloudsim.ImageWebappV1 || inst.Status != cloud.InstanceRunning {
		t.Fatalf("failed replacement changed the instance: %+v", inst)
	}
	// Second: a command on a fails there with its exit code, b's succeeds.
	clock.Advance(env.Server.ReplaceDiskDuration(80))
	run, err := env.Client.RunCommand(ctx, &cloud.RunCommandRequest{RegionId: cloudsim.SeedRegion, Type: cloud.CommandShell, CommandContent: "echo hi", InstanceIds: []string{a, b}, ClientToken: "cmd-1"})
	ok(t, err)
	clock.Advance(time.Minute)
	inv := invocation(t, env.Client, run.InvokeId)
	if inv.InvocationStatus != cloud.InvocationPartialFailed {
		t.Fatalf("invocation %s, want PartialFailed", inv.InvocationStatus)
	}
	for _, r := range inv.InvocationResults {
		switch r.InstanceId {
		case a:
			if r.InvocationStatus != cloud.InvocationFailed || r.ExitCode != 1 || !strings.Contains(r.ErrorInfo, "injected fault") {
				t.Fatalf("faulted instance: %+v", r)
			}
		case b:
			if r.InvocationStatus != cloud.InvocationSuccess || r.Output != "hi\n" {
				t.Fatalf("healthy instance: %+v", r)
			}
		}
	}
	// The rule is spent: the third operation succeeds.
	_, err = env.Client.ReplaceSystemDisk(ctx, &cloud.ReplaceSystemDiskRequest{InstanceId: a, ImageId: cloudsim.ImageWebappV2, ClientToken: "a-2"})
	ok(t, err)
	if faults, _ := env.Admin().Faults(ctx); len(faults) != 0 {
		t.Fatalf("rules left: %+v", faults)
	}
}

func TestDeleteInstances(t *testing.T) {
	env, clock := startClocked(t)
	ctx := context.Background()
	id := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-1")
	clock.Advance(env.Server.BootDuration(40))

	_, err := env.Client.DeleteInstances(ctx, &cloud.DeleteInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: []string{id}})
	wantCode(t, err, cloud.CodeIncorrectInstStatus)
	_, err = env.Client.DeleteInstances(ctx, &cloud.DeleteInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: []string{id, "i-unknown"}, Force: true})
	wantCode(t, err, cloud.CodeInstanceNotFound)
	_, err = env.Client.DeleteInstances(ctx, &cloud.DeleteInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: []string{id}, Force: true, ClientToken: "del-1"})
	ok(t, err)
	resp, err := env.Client.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: []string{id}})
	ok(t, err)
	if len(resp.Instances) != 0 {
		t.Fatalf("released instance still listed: %+v", resp.Instances)
	}
	// Retried with its token, the release answers success again.
	_, err = env.Client.DeleteInstances(ctx, &cloud.DeleteInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: []string{id}, Force: true, ClientToken: "del-1"})
	ok(t, err)
	if n := len(ledgerOf(env, "DeleteInstances")); n != 1 {
		t.Fatalf("%d DeleteInstances ledger entries, want 1", n)
	}
}

func TestInstancesSurviveRestart(t *testing.T) {
	env, clock := startClocked(t)
	id := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-1")
	env.Restart()
	clock.Advance(env.Server.BootDuration(40))
	if got := instance(t, env.Client, id).Status; got != cloud.InstanceRunning {
		t.Fatalf("after restart and boot time: %s", got)
	}
}
