package cloudsim_test

import (
	"context"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
)

func invocation(t *testing.T, c *cloud.Client, invokeID string) cloud.Invocation {
	t.Helper()
	resp, err := c.DescribeInvocationResults(context.Background(), &cloud.DescribeInvocationResultsRequest{RegionId: cloudsim.SeedRegion, InvokeId: invokeID})
	ok(t, err)
	return resp.Invocation
}

func TestRunCommandKeepsExitCodeAndOutput(t *testing.T) {
	env, clock := startClocked(t)
	ctx := context.Background()
	a := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-a")
	b := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-b")

	// Not on an instance that is still booting.
	_, err := env.Client.RunCommand(ctx, &cloud.RunCommandRequest{RegionId: cloudsim.SeedRegion, Type: cloud.CommandShell, CommandContent: "echo x", InstanceIds: []string{a}})
	wantCode(t, err, cloud.CodeIncorrectInstStatus)
	clock.Advance(env.Server.BootDuration(40))

	script := "echo \"installing\"\nsleep 10\necho done\nexit 3\necho never\n"
	run, err := env.Client.RunCommand(ctx, &cloud.RunCommandRequest{RegionId: cloudsim.SeedRegion, Type: cloud.CommandShell, CommandContent: script, InstanceIds: []string{a, b}, ClientToken: "cmd-1"})
	ok(t, err)
	inv := invocation(t, env.Client, run.InvokeId)
	if inv.InvocationStatus != cloud.InvocationRunning || len(inv.InvocationResults) != 2 || inv.InvocationResults[0].Output != "" {
		t.Fatalf("just started: %+v", inv)
	}
	// 2 s plus the script's 10 s sleep.
	clock.Advance(11 * time.Second)
	if got := invocation(t, env.Client, run.InvokeId).InvocationStatus; got != cloud.InvocationRunning {
		t.Fatalf("after 11 s: %s", got)
	}
	clock.Advance(time.Second)
	inv = invocation(t, env.Client, run.InvokeId)
	if inv.InvocationStatus != cloud.InvocationFailed {
		t.Fatalf("finished: %s, want Failed", inv.InvocationStatus)
	}
	for _, r := range inv.InvocationResults {
		if r.ExitCode != 3 || r.Output != "installing\ndone\n" || r.InvocationStatus != cloud.InvocationFailed || r.FinishTime.IsZero() {
			t.Fatalf("result: %+v", r)
		}
	}
	// One instance only.
	one, err := env.Client.DescribeInvocationResults(ctx, &cloud.DescribeInvocationResultsRequest{RegionId: cloudsim.SeedRegion, InvokeId: run.InvokeId, InstanceId: b})
	ok(t, err)
	if len(one.Invocation.InvocationResults) != 1 || one.Invocation.InvocationResults[0].InstanceId != b {
		t.Fatalf("filtered: %+v", one.Invocation.InvocationResults)
	}
	// Replayed through its token: same invocation, no new side effects.
	again, err := env.Client.RunCommand(ctx, &cloud.RunCommandRequest{RegionId: cloudsim.SeedRegion, Type: cloud.CommandShell, CommandContent: script, InstanceIds: []string{a, b}, ClientToken: "cmd-1"})
	ok(t, err)
	if again.InvokeId != run.InvokeId || len(ledgerOf(env, "RunCommand")) != 2 {
		t.Fatalf("replay: %s vs %s, %d ledger entries (want one per instance)", again.InvokeId, run.InvokeId, len(ledgerOf(env, "RunCommand")))
	}

	_, err = env.Client.DescribeInvocationResults(ctx, &cloud.DescribeInvocationResultsRequest{RegionId: cloudsim.SeedRegion, InvokeId: "t-unknown"})
	wantCode(t, err, cloud.CodeInvocationNotFound)
}

func TestRunCommandTypeMustFitTheOS(t *testing.T) {
	env, clock := startClocked(t)
	ctx := context.Background()
	linux := runInstance(t, env.Client, cloudsim.ImageWebappV1, "run-l")
	windows := runInstance(t, env.Client, cloudsim.ImageWinsvcV1, "run-w")
	clock.Advance(env.Server.BootDuration(60))
	if got := instance(t, env.Client, windows).OSType; got != cloud.OSWindows {
		t.Fatalf("instance of the windows image is %s", got)
	}

	for _, tc := range []struct {
		typ, instance string
		ok            bool
	}{
		{cloud.CommandShell, linux, true},
		{cloud.CommandBat, linux, false},
		{cloud.CommandPowerShell, linux, false},
		{cloud.CommandShell, windows, false},
		{cloud.CommandBat, windows, true},
		{cloud.CommandPowerShell, windows, true},
	} {
		_, err := env.Client.RunCommand(ctx, &cloud.RunCommandRequest{RegionId: cloudsim.SeedRegion, Type: tc.typ, CommandContent: "echo x", InstanceIds: []string{tc.instance}})
		if tc.ok {
			ok(t, err)
		} else {
			wantCode(t, err, cloud.CodeCommandTypeNotSupported)
		}
	}
	_, err := env.Client.RunCommand(ctx, &cloud.RunCommandRequest{RegionId: cloudsim.SeedRegion, Type: "RunPythonScript", CommandContent: "print(1)", InstanceIds: []string{linux}})
	wantCode(t, err, cloud.CodeInvalidParameter)

	// A PowerShell script's exit code and output.
	run, err := env.Client.RunCommand(ctx, &cloud.RunCommandRequest{RegionId: cloudsim.SeedRegion, Type: cloud.CommandPowerShell, CommandContent: "Write-Output 'ok'\r\nexit 0\r\n", InstanceIds: []string{windows}})
	ok(t, err)
	clock.Advance(time.Minute)
	inv := invocation(t, env.Client, run.InvokeId)
	if r := inv.InvocationResults[0]; inv.InvocationStatus != cloud.InvocationSuccess || r.ExitCode != 0 || r.Output != "ok\n" {
		t.Fatalf("powershell: %+v", inv)
	}
}
