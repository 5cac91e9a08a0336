package chaos

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/model"
)

// Each check of the audit is run on a correct end state, where it must
// pass, and on the same state with one planted violation, where it must
// fail and name it.

func findOp(ops ...*op) func(string) *op {
	return func(id string) *op {
		for _, o := range ops {
			if o.WorkflowID == id {
				return o
			}
		}
		return nil
	}
}

func checkNamed(t *testing.T, rep *Report, prefix string) Check {
	t.Helper()
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.Name, prefix) {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", prefix, rep.Checks)
	return Check{}
}

func requireViolation(t *testing.T, rep *Report, contains string) {
	t.Helper()
	for _, v := range rep.Violations {
		if strings.Contains(v, contains) {
			return
		}
	}
	t.Fatalf("no violation containing %q in %q", contains, rep.Violations)
}

func copyImage(t *testing.T, c *cloud.Client, region, token string) string {
	t.Helper()
	resp, err := c.CopyImage(t.Context(), &cloud.CopyImageRequest{RegionId: sourceRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: region, ClientToken: token})
	require.NoError(t, err)
	return resp.ImageId
}

// removeCopy cancels a copy in progress or deletes a finished one.
func removeCopy(t *testing.T, c *cloud.Client, region, id string) {
	t.Helper()
	_, err := c.CancelCopyImage(context.Background(), &cloud.CancelCopyImageRequest{RegionId: region, ImageId: id})
	if cloud.IsCode(err, cloud.CodeIncorrectStatus) {
		_, err = c.DeleteImage(context.Background(), &cloud.DeleteImageRequest{RegionId: region, ImageId: id, Force: true})
	}
	require.NoError(t, err)
}

func since(env *cloudsimtest.Env, seq int64) []cloud.LedgerEntry {
	var out []cloud.LedgerEntry
	for _, e := range env.Server.Ledger() {
		if e.Seq > seq {
			out = append(out, e)
		}
	}
	return out
}

func lastSeq(env *cloudsimtest.Env) int64 {
	l := env.Server.Ledger()
	if len(l) == 0 {
		return 0
	}
	return l[len(l)-1].Seq
}

func TestAuditCopiesCountsCopiesPerRegion(t *testing.T) {
	env := cloudsimtest.Start(t)
	o := &op{Kind: "distribute", WorkflowID: "distribute/chaos_dist_0/v1_0", Regions: []string{"cn-shanghai", "eu-west-1"},
		Status: "Completed", State: model.StateSucceeded}
	r := &run{cloud: env.Client, ops: []*op{o}}
	owner := map[string]string{}
	for _, tok := range []string{"tok-sh", "tok-eu", "tok-eu-new", "tok-sh-new"} {
		owner[tok] = o.WorkflowID
	}
	start := lastSeq(env)
	copyImage(t, env.Client, "cn-shanghai", "tok-sh")
	copyImage(t, env.Client, "eu-west-1", "tok-eu")
	good := since(env, start)

	rep := &Report{}
	r.auditCopies(t.Context(), rep, good, owner, findOp(o))
	require.Empty(t, rep.Violations)
	require.True(t, checkNamed(t, rep, "one copy per region").OK)

	t.Run("a second copy under a new token", func(t *testing.T) {
		second := copyImage(t, env.Client, "cn-shanghai", "tok-sh-new")
		t.Cleanup(func() { removeCopy(t, env.Client, "cn-shanghai", second) })
		rep := &Report{}
		r.auditCopies(t.Context(), rep, since(env, start), owner, findOp(o))
		require.False(t, checkNamed(t, rep, "one copy per region").OK)
		requireViolation(t, rep, "made 2 copies in cn-shanghai, at most 1 expected")
		requireViolation(t, rep, "has 2 live copies in cn-shanghai")

		// An operator's retry-region allows the second attempt's copy; the
		// first must be gone then.
		o.Operator = []string{"retry-region cn-shanghai"}
		defer func() { o.Operator = nil }()
		rep = &Report{}
		r.auditCopies(t.Context(), rep, since(env, start), owner, findOp(o))
		require.Len(t, rep.Violations, 1, rep.Violations)
		requireViolation(t, rep, "has 2 live copies in cn-shanghai")
	})

	t.Run("a missing copy", func(t *testing.T) {
		var eu string
		for _, e := range good {
			if e.Action == "CopyImage" && e.Region == "eu-west-1" {
				eu = e.ResourceId
			}
		}
		removeCopy(t, env.Client, "eu-west-1", eu)
		rep := &Report{}
		r.auditCopies(t.Context(), rep, good, owner, findOp(o))
		require.False(t, checkNamed(t, rep, "one copy per region").OK)
		require.Equal(t, []string{"missing: distribute/chaos_dist_0/v1_0 succeeded without a live copy in eu-west-1"}, rep.Violations)
	})

	t.Run("a copy left by an aborted run", func(t *testing.T) {
		o.State = model.StateAborted
		defer func() { o.State = model.StateSucceeded }()
		rep := &Report{}
		r.auditCopies(t.Context(), rep, good, owner, findOp(o))
		requireViolation(t, rep, "in cn-shanghai of distribute/chaos_dist_0/v1_0 (Aborted) left behind")
	})
}

func TestAuditPublicationsCountsDeliveries(t *testing.T) {
	file := &op{Kind: "publish", TaskType: model.PackageFile, WorkflowID: "publish/chaos_pub_0/v1_0", Regions: []string{sourceRegion, outageRegion}, State: model.StateSucceeded}
	chart := &op{Kind: "publish", TaskType: model.PackageHelmChart, WorkflowID: "publish/chaos_pub_2/v1_0", Regions: []string{sourceRegion, outageRegion}, State: model.StateSucceeded}
	owner := map[string]string{"f-1": file.WorkflowID, "f-2": file.WorkflowID, "c-1": chart.WorkflowID}
	ok := []cloud.LedgerEntry{{Seq: 1, Action: "CopyObject", Region: outageRegion, ResourceId: "b/chaos_pub_0/v1_0/f", ClientToken: "f-1"}}
	ops := []*op{file, chart}

	rep := &Report{}
	auditPublications(rep, ops, ok, owner, findOp(ops...))
	require.Empty(t, rep.Violations)
	require.True(t, checkNamed(t, rep, "one content copy").OK)

	second := append(ok, cloud.LedgerEntry{Seq: 2, Action: "CopyObject", Region: outageRegion, ResourceId: "b/chaos_pub_0/v1_0/f", ClientToken: "f-2"})
	rep = &Report{}
	auditPublications(rep, ops, second, owner, findOp(ops...))
	require.False(t, checkNamed(t, rep, "one content copy").OK)
	require.Equal(t, []string{"exactly once: publish/chaos_pub_0/v1_0: 2 CopyObject into eu-west-1, at most 1 expected (one, and one per retry-region)"}, rep.Violations)

	file.Operator = []string{"retry-region " + outageRegion}
	rep = &Report{}
	auditPublications(rep, ops, second, owner, findOp(ops...))
	require.Empty(t, rep.Violations, "the operator's retry is a second attempt")
	file.Operator = nil

	rep = &Report{}
	auditPublications(rep, ops, nil, owner, findOp(ops...))
	require.Equal(t, []string{"missing: publish/chaos_pub_0/v1_0 succeeded without copying its file into eu-west-1"}, rep.Violations)

	rep = &Report{}
	auditPublications(rep, ops, append(ok, cloud.LedgerEntry{Seq: 3, Action: "PushChart", Region: sourceRegion, ResourceId: "ns/chart/0.1.0", ClientToken: "c-1"}), owner, findOp(ops...))
	require.Equal(t, []string{"exactly once: publish/chaos_pub_2/v1_0: 1 PushChart in cn-hangzhou; the content was uploaded before, nothing delivers it again"}, rep.Violations)
}

func TestAuditBuildsCountsWhatEachBuildMakes(t *testing.T) {
	b := &op{Kind: "build", WorkflowID: "build/cn-hangzhou/ip-1", State: model.StateSucceeded}
	r := &run{ops: []*op{b}}
	owner := map[string]string{"t-vpc": b.WorkflowID, "t-vsw": b.WorkflowID, "t-run": b.WorkflowID, "t-img": b.WorkflowID, "t-run-2": b.WorkflowID}
	fresh := []cloud.LedgerEntry{
		{Action: "CreateVpc", ResourceType: "Vpc", ResourceId: "vpc-1", ClientToken: "t-vpc"},
		{Action: "CreateVSwitch", ResourceType: "VSwitch", ResourceId: "vsw-1", ClientToken: "t-vsw"},
		{Action: "RunInstances", ResourceType: "Instance", ResourceId: "i-1", ClientToken: "t-run", Detail: "created from m-webapp-v2, ecs.c7.large, 80 GiB system disk, running in 200ms"},
		{Action: "CreateImage", ResourceType: "Image", ResourceId: "m-out", ClientToken: "t-img"},
		{Action: "DeleteInstances", ResourceId: "i-1"},
		{Action: "DeleteVSwitch", ResourceId: "vsw-1"},
		{Action: "DeleteVpc", ResourceId: "vpc-1"},
	}
	execs := []*execution{{id: b.WorkflowID, result: &model.BuildResult{ImageID: "m-out"}}}
	rep := &Report{}
	r.auditBuilds(rep, fresh, owner, findOp(b), execs)
	require.Empty(t, rep.Violations)

	// The test step launches one instance from the new image.
	tested := append(fresh,
		cloud.LedgerEntry{Action: "RunInstances", ResourceType: "Instance", ResourceId: "i-t1", ClientToken: "t-test", Detail: "created from m-out, ecs.c7.large, 80 GiB system disk, running in 200ms"},
		cloud.LedgerEntry{Action: "DeleteInstances", ResourceId: "i-t1"})
	owner["t-test"], owner["t-test-2"] = b.WorkflowID, b.WorkflowID
	rep = &Report{}
	r.auditBuilds(rep, tested, owner, findOp(b), execs)
	require.Empty(t, rep.Violations)
	rep = &Report{}
	r.auditBuilds(rep, append(tested,
		cloud.LedgerEntry{Action: "RunInstances", ResourceType: "Instance", ResourceId: "i-t2", ClientToken: "t-test-2", Detail: "created from m-out, ecs.c7.large"},
		cloud.LedgerEntry{Action: "DeleteInstances", ResourceId: "i-t2"}), owner, findOp(b), execs)
	require.Equal(t, []string{"exactly once: build/cn-hangzhou/ip-1: 2 RunInstances of a test instance, expected at most 1"}, rep.Violations)

	// A launch retried under a new token: a second instance, released or not.
	again := append(fresh,
		cloud.LedgerEntry{Action: "RunInstances", ResourceType: "Instance", ResourceId: "i-2", ClientToken: "t-run-2"},
		cloud.LedgerEntry{Action: "DeleteInstances", ResourceId: "i-2"})
	rep = &Report{}
	r.auditBuilds(rep, again, owner, findOp(b), execs)
	require.False(t, checkNamed(t, rep, "one VPC").OK)
	require.Equal(t, []string{"exactly once: build/cn-hangzhou/ip-1: 2 RunInstances, expected 1"}, rep.Violations)
}

func TestAuditRolloutsComparesWithTheStateBefore(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	_, err := env.Server.AddScalingGroup(cloudsim.ScalingGroupSpec{ScalingGroupId: "asg-audit", RegionId: sourceRegion, ImageId: cloudsim.ImageWebappV1, Size: 2, LoadBalancerId: "lb-audit"})
	require.NoError(t, err)
	o := &op{Kind: "rollout", Group: "asg-audit", LB: "lb-audit", TaskType: model.TaskScript, WorkflowID: "rollout/asg-audit", State: model.StateSucceeded}
	r := &run{cloud: env.Client, ops: []*op{o}}
	inst, err := env.Client.DescribeScalingInstances(ctx, &cloud.DescribeScalingInstancesRequest{RegionId: sourceRegion, ScalingGroupId: o.Group, PageSize: 100})
	require.NoError(t, err)
	for _, in := range inst.ScalingInstances {
		o.Instances = append(o.Instances, in.InstanceId)
	}
	o.WeightsBefore, err = r.backendWeights(ctx, o.LB)
	require.NoError(t, err)
	require.Len(t, o.WeightsBefore, 2)
	var fresh []cloud.LedgerEntry
	for _, id := range o.Instances {
		fresh = append(fresh, cloud.LedgerEntry{Action: "RunCommand", ResourceId: id})
	}

	rep := &Report{}
	r.auditRollouts(ctx, rep, fresh)
	require.Empty(t, rep.Violations)

	t.Run("a weight that differs from before", func(t *testing.T) {
		_, err := env.Client.SetBackendServers(ctx, &cloud.SetBackendServersRequest{RegionId: sourceRegion, LoadBalancerId: o.LB,
			BackendServers: []cloud.SLBBackendServer{{ServerId: o.Instances[0], Weight: 0}}})
		require.NoError(t, err)
		rep := &Report{}
		r.auditRollouts(ctx, rep, fresh)
		require.False(t, checkNamed(t, rep, "no instance in Standby").OK)
		require.Equal(t, []string{"leak: lb-audit: weight of " + o.Instances[0] + " is 0, before 100"}, rep.Violations)

		// Weights before the run are what counts, not a constant.
		o.WeightsBefore[o.Instances[0]] = 0
		defer func() { o.WeightsBefore[o.Instances[0]] = 100 }()
		rep = &Report{}
		r.auditRollouts(ctx, rep, fresh)
		require.Empty(t, rep.Violations)
	})

	t.Run("an image lookup that fails", func(t *testing.T) {
		o.TaskType = model.TaskImage
		defer func() { o.TaskType = model.TaskScript }()
		o.WeightsBefore[o.Instances[0]] = 0
		defer func() { o.WeightsBefore[o.Instances[0]] = 100 }()
		fresh := []cloud.LedgerEntry{{Action: "ReplaceSystemDisk", ResourceId: o.Instances[0]}, {Action: "ReplaceSystemDisk", ResourceId: o.Instances[1]}}
		_, err := env.Client.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultTransient, Action: "DescribeInstances", Count: 1})
		require.NoError(t, err)
		rep := &Report{}
		r.auditRollouts(ctx, rep, fresh)
		require.False(t, checkNamed(t, rep, "one disk replacement").OK)
		requireViolation(t, rep, "rollout/asg-audit: could not check the instances' images")

		// Once the cloud answers, the images are checked: still the old one.
		rep = &Report{}
		r.auditRollouts(ctx, rep, fresh)
		requireViolation(t, rep, "runs m-webapp-v1, expected m-webapp-v2")
	})
}

// deployGreen makes what a deployment makes: a green task set on the other
// target group, primary and with all production traffic if promote.
func deployGreen(t *testing.T, c *cloud.Client, d *cloudsim.BlueGreenDemo, promote bool) string {
	t.Helper()
	ctx := t.Context()
	ts, err := c.Containers().CreateTaskSet(ctx, &cloud.CreateTaskSetRequest{
		Cluster: d.Cluster, Service: d.Service, TaskDefinition: d.Service + ":2", LaunchType: cloud.LaunchTypeFargate, ExternalId: "imagefleet/run-1",
		NetworkConfiguration: &cloud.NetworkConfiguration{AwsvpcConfiguration: &cloud.AwsVpcConfiguration{Subnets: d.Subnets}},
		LoadBalancers:        []cloud.TaskSetLoadBalancer{{TargetGroupArn: d.TargetGroups[1], ContainerName: d.ContainerName, ContainerPort: d.ContainerPort}},
		ClientToken:          "green-" + d.Service,
	})
	require.NoError(t, err)
	if promote {
		_, err = c.Containers().UpdateServicePrimaryTaskSet(ctx, &cloud.UpdateServicePrimaryTaskSetRequest{Cluster: d.Cluster, Service: d.Service, PrimaryTaskSet: ts.TaskSet.Id})
		require.NoError(t, err)
		setWeights(t, c, d.ProductionListener, d.TargetGroups[0], 0, d.TargetGroups[1], 100)
	}
	old := d.BlueTaskSet
	if !promote {
		old = ts.TaskSet.Id
	}
	_, err = c.Containers().UpdateTaskSet(ctx, &cloud.UpdateTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: old, Scale: cloud.TaskSetScale{Unit: cloud.ScaleUnitPercent}})
	require.NoError(t, err)
	_, err = c.Containers().DeleteTaskSet(ctx, &cloud.DeleteTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: old})
	require.NoError(t, err)
	return ts.TaskSet.Id
}

func setWeights(t *testing.T, c *cloud.Client, listener, tgA string, a int, tgB string, b int) {
	t.Helper()
	_, err := c.ELB().ModifyListener(t.Context(), &cloud.ModifyListenerRequest{ListenerArn: listener,
		DefaultActions: cloud.ForwardWeights(cloud.TargetGroupTuple{TargetGroupArn: tgA, Weight: a}, cloud.TargetGroupTuple{TargetGroupArn: tgB, Weight: b})})
	require.NoError(t, err)
}

func TestAuditBlueGreenChecksThePrimaryAndTheWeights(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	done := &op{Kind: "bluegreen", Cluster: "chaos-0", Service: "web0", WorkflowID: "bluegreen/chaos-0/web0", State: model.StateSucceeded}
	aborted := &op{Kind: "bluegreen", Cluster: "chaos-1", Service: "web1", WorkflowID: "bluegreen/chaos-1/web1", State: model.StateAborted, Role: roleAbort}
	r := &run{cloud: env.Client, ops: []*op{done, aborted}}
	demos := map[*op]*cloudsim.BlueGreenDemo{}
	for _, o := range r.ops {
		require.NoError(t, r.setupBlueGreen(ctx, o))
		resp, err := env.Client.Containers().DescribeServices(ctx, &cloud.DescribeServicesRequest{Cluster: o.Cluster, Services: []string{o.Service}})
		require.NoError(t, err)
		svc := resp.Services[0]
		demos[o] = &cloudsim.BlueGreenDemo{Cluster: o.Cluster, Service: o.Service, BlueTaskSet: o.PrimaryBefore, ProductionListener: o.ProdListener, TestListener: o.TestListener,
			Subnets: []string{"subnet-0a1b2c3d"}, ContainerName: "web", ContainerPort: 8080}
		spec := o.input.(model.BlueGreenSpec)
		copy(demos[o].TargetGroups[:], spec.TargetGroups)
		require.Equal(t, o.PrimaryBefore, svc.TaskSets[0].Id)
	}
	require.Len(t, done.ProdBefore, 1, "zero weights are left out")
	start := lastSeq(env)
	deployGreen(t, env.Client, demos[done], true)
	deployGreen(t, env.Client, demos[aborted], false)

	rep := &Report{}
	r.auditBlueGreen(ctx, rep, since(env, start))
	require.Empty(t, rep.Violations)
	require.True(t, checkNamed(t, rep, "the right primary").OK)

	t.Run("a changed weight", func(t *testing.T) {
		d := demos[aborted]
		setWeights(t, env.Client, d.TestListener, d.TargetGroups[0], 0, d.TargetGroups[1], 1)
		defer setWeights(t, env.Client, d.TestListener, d.TargetGroups[0], 1, d.TargetGroups[1], 0)
		d = demos[done]
		setWeights(t, env.Client, d.ProductionListener, d.TargetGroups[0], 10, d.TargetGroups[1], 90)
		defer setWeights(t, env.Client, d.ProductionListener, d.TargetGroups[0], 0, d.TargetGroups[1], 100)
		rep := &Report{}
		r.auditBlueGreen(ctx, rep, since(env, start))
		require.False(t, checkNamed(t, rep, "the right primary").OK)
		require.Len(t, rep.Violations, 2, rep.Violations)
		requireViolation(t, rep, "bluegreen/chaos-0/web0: production listener weights")
		requireViolation(t, rep, "bluegreen/chaos-1/web1: test listener weights")
	})

	t.Run("a wrong primary", func(t *testing.T) {
		rep := &Report{}
		done.State, aborted.State = model.StateAborted, model.StateSucceeded // each ended as the other should have
		defer func() { done.State, aborted.State = model.StateSucceeded, model.StateAborted }()
		r.auditBlueGreen(ctx, rep, since(env, start))
		require.False(t, checkNamed(t, rep, "the right primary").OK)
		requireViolation(t, rep, "bluegreen/chaos-0/web0 ended Aborted but the primary task set is")
		requireViolation(t, rep, "bluegreen/chaos-1/web1 succeeded but the primary task set is "+aborted.PrimaryBefore)
	})
}

func TestAuditPackagesFindsALostDraft(t *testing.T) {
	env := cloudsimtest.Start(t)
	pub := &op{Kind: "publish", Role: roleAbort, State: model.StateAborted, Package: "chaos_pub_9", Version: "v1_0", WorkflowID: "publish/chaos_pub_9/v1_0"}
	r := &run{cloud: env.Client, ops: []*op{pub}}

	// The publication's draft is gone (here: never made).
	rep := &Report{}
	r.auditPackages(t.Context(), rep, nil, nil, findOp(pub))
	require.False(t, checkNamed(t, rep, "no draft of an aborted").OK)
	require.Equal(t, []string{"lost: publish/chaos_pub_9/v1_0: the draft version v1_0 of chaos_pub_9 that it did not create is gone"}, rep.Violations)

	// A package that cannot be read proves nothing either.
	_, err := env.Client.Admin().AddFault(t.Context(), cloud.Fault{Kind: cloud.FaultTransient, Action: "GetArtifact", Count: 1})
	require.NoError(t, err)
	rep = &Report{}
	r.auditPackages(t.Context(), rep, nil, nil, findOp(pub))
	require.False(t, checkNamed(t, rep, "no draft of an aborted").OK)
	requireViolation(t, rep, "audit: publish/chaos_pub_9/v1_0: could not read package chaos_pub_9")

	// A distribution that created its draft may leave no package at all.
	dist := &op{Kind: "distribute", Role: roleAbort, State: model.StateAborted, Package: "chaos_dist_2", Version: "v1_0", WorkflowID: "distribute/chaos_dist_2/v1_0"}
	r.ops = []*op{dist}
	fresh := []cloud.LedgerEntry{{Action: "CreateArtifact", ClientToken: "tok-d", Detail: "package chaos_dist_2 (EcsImage) created with draft version v1_0"}}
	rep = &Report{}
	r.auditPackages(t.Context(), rep, fresh, map[string]string{"tok-d": dist.WorkflowID}, findOp(dist))
	require.Empty(t, rep.Violations)
}

func TestCheckAttemptsHasALimit(t *testing.T) {
	cfg := Config{Outage: 15 * 1e9, WorkerKills: 3, ServerRestarts: 1, CloudRestarts: 1}
	limit := attemptLimit(cfg, true)
	require.Equal(t, int32(7+5+4), limit, "7 attempts fit in 75 s of the step retry policy")
	require.Equal(t, int32(6+4), attemptLimit(cfg, false))
	require.Equal(t, 1, attemptsWithin(0))
	require.Equal(t, 2, attemptsWithin(1e9))

	ok := []*execution{{id: "a", maxAttempt: 3, maxAttemptOf: "CopyImage", maxAttemptWhy: "throttled (fault f-2)"}, {id: "b", maxAttempt: 1}}
	rep := &Report{}
	checkAttempts(rep, ok, limit)
	require.Empty(t, rep.Violations)
	require.Equal(t, int32(3), rep.HighestAttempt)
	require.True(t, rep.Checks[0].OK)
	require.Contains(t, rep.Checks[0].Detail, "3 of at most 16 (a CopyImage)")

	rep = &Report{}
	checkAttempts(rep, append(ok, &execution{id: "c", maxAttempt: 40, maxAttemptOf: "RemoveTaskSets", maxAttemptWhy: "task set is the primary"}), limit)
	require.False(t, rep.Checks[0].OK)
	require.Equal(t, []string{"history: c: activity RemoveTaskSets needed 40 attempts (limit 16); the attempt before failed with: task set is the primary"}, rep.Violations)
}

func TestScanLinesExplainsEveryWorkerError(t *testing.T) {
	faults := `worker   | {"level":"error","component":"worker","ActivityType":"CopyImage","Error":"InternalError: the request processing has failed due to some unknown error (fault f-2)","message":"Activity error."}
worker   | {"level":"error","component":"worker","ActivityType":"RunChunk","Error":"ReplaceSystemDisk failed on instance i-2 (injected fault f-7)","message":"Activity error."}
worker   | {"level":"info","component":"worker","message":"Started"}
cloud    | {"level":"error","message":"not a worker"}
`
	kills := `worker   | {"level":"error","component":"worker","ActivityType":"DescribeImages","Error":"Post \"http://127.0.0.1:4000/api/DescribeImages\": dial tcp 127.0.0.1:4000: connect: connection refused","message":"Activity error."}
`
	rep := &Report{}
	scanLines(rep, strings.NewReader(faults+kills), true)
	require.Empty(t, rep.Violations)
	c := checkNamed(t, rep, "every worker error")
	require.True(t, c.OK)
	require.Equal(t, "3 lines, 0 unexplained; 2 injected cloud faults; 1 kills and restarts", c.Detail)

	// Without chaos nothing kills the cloud.
	rep = &Report{}
	scanLines(rep, strings.NewReader(faults+kills), false)
	require.False(t, checkNamed(t, rep, "every worker error").OK)
	require.Len(t, rep.Violations, 1)

	unexplained := `worker   | {"level":"error","component":"worker","ActivityType":"RemoveTaskSets","Error":"task set ecs-svc/1 is the primary task set of service web0: it is not removed","message":"Activity error."}
worker   | 12:00:01 ERR Could not delete a file copy region=eu-west-1 error="access denied"
`
	rep = &Report{}
	scanLines(rep, strings.NewReader(faults+unexplained), true)
	require.False(t, checkNamed(t, rep, "every worker error").OK)
	require.Len(t, rep.Violations, 2)
	requireViolation(t, rep, "a worker error no fault or kill of the run explains: worker   | {\"level\":\"error\",\"component\":\"worker\",\"ActivityType\":\"RemoveTaskSets\"")

	rep = &Report{}
	scanLines(rep, strings.NewReader("worker   | panic: runtime error\n"), true)
	require.False(t, checkNamed(t, rep, "no panic").OK)
}
