package cloudsim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

func network() *cloud.NetworkConfiguration {
	return &cloud.NetworkConfiguration{AwsvpcConfiguration: &cloud.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}
}

func greenRequest(d *cloudsim.BlueGreenDemo) *cloud.CreateTaskSetRequest {
	return &cloud.CreateTaskSetRequest{
		Cluster: d.Cluster, Service: d.Service, TaskDefinition: d.Service + ":2", LaunchType: cloud.LaunchTypeFargate,
		NetworkConfiguration: network(), ExternalId: "deploy-2",
		LoadBalancers: []cloud.TaskSetLoadBalancer{{TargetGroupArn: d.TargetGroups[1], ContainerName: d.ContainerName, ContainerPort: d.ContainerPort}},
		Scale:         &cloud.TaskSetScale{Value: 50, Unit: cloud.ScaleUnitPercent},
	}
}

// startDemo starts a clocked simulator with the blue/green demo service.
func startDemo(t *testing.T) (*cloudsimtest.Env, *cloudsimtest.Clock, *cloudsim.BlueGreenDemo) {
	t.Helper()
	env, clock := startClocked(t)
	d, err := cloudsim.SetupBlueGreenDemo(t.Context(), env.Client, "demo", "web")
	ok(t, err)
	return env, clock, d
}

func describeService(t *testing.T, c *cloud.Client, cluster, service string) cloud.ClusterService {
	t.Helper()
	resp, err := c.Containers().DescribeServices(context.Background(), &cloud.DescribeServicesRequest{Cluster: cluster, Services: []string{service}})
	ok(t, err)
	if len(resp.Services) != 1 {
		t.Fatalf("service %s: failures %v", service, resp.Failures)
	}
	return resp.Services[0]
}

func TestContainerServiceRefusesInvalidRequests(t *testing.T) {
	env, _, d := startDemo(t)
	ctx := t.Context()
	ecs, elb := env.Client.Containers(), env.Client.ELB()
	external := &cloud.DeploymentController{Type: cloud.DeploymentControllerExternal}
	manyTags := make([]cloud.ContainerTag, 51)
	for i := range manyTags {
		manyTags[i] = cloud.ContainerTag{Key: "k" + strings.Repeat("x", i)}
	}
	gw, err := elb.CreateLoadBalancer(ctx, &cloud.CreateELBLoadBalancerRequest{Name: "gw", Type: cloud.ELBTypeGateway})
	ok(t, err)
	gwTG, err := elb.CreateTargetGroup(ctx, &cloud.CreateTargetGroupRequest{Name: "gw-tg", Protocol: "TCP", Port: 80})
	ok(t, err)
	_, err = elb.CreateListener(ctx, &cloud.CreateELBListenerRequest{LoadBalancerArn: gw.LoadBalancer.LoadBalancerArn, Port: 80, Protocol: "TCP",
		DefaultActions: cloud.ForwardWeights(cloud.TargetGroupTuple{TargetGroupArn: gwTG.TargetGroup.TargetGroupArn, Weight: 1})})
	ok(t, err)

	loneTG, err := elb.CreateTargetGroup(ctx, &cloud.CreateTargetGroupRequest{Name: "lone", Protocol: "HTTP", Port: 80})
	ok(t, err)

	services := []struct {
		name string
		req  cloud.CreateContainerServiceRequest
		code string
		msg  string
	}{
		{"name with a dot", cloud.CreateContainerServiceRequest{ServiceName: "web.v2", DeploymentController: external}, cloud.CodeECSInvalidParameter, "serviceName"},
		{"name too long", cloud.CreateContainerServiceRequest{ServiceName: strings.Repeat("a", 256), DeploymentController: external}, cloud.CodeECSInvalidParameter, "1–255"},
		{"duplicate in cluster", cloud.CreateContainerServiceRequest{ServiceName: "web", DeploymentController: external}, cloud.CodeECSInvalidParameter, "not idempotent"},
		{"daemon", cloud.CreateContainerServiceRequest{ServiceName: "d", DeploymentController: external, SchedulingStrategy: cloud.SchedulingDaemon}, cloud.CodeECSInvalidParameter, "only the REPLICA"},
		{"51 tags", cloud.CreateContainerServiceRequest{ServiceName: "t", DeploymentController: external, Tags: manyTags}, cloud.CodeECSInvalidParameter, "at most 50 tags"},
		{"tag key too long", cloud.CreateContainerServiceRequest{ServiceName: "t", DeploymentController: external, Tags: []cloud.ContainerTag{{Key: strings.Repeat("k", 129)}}}, cloud.CodeECSInvalidParameter, "1–128"},
		{"empty tag key", cloud.CreateContainerServiceRequest{ServiceName: "t", DeploymentController: external, Tags: []cloud.ContainerTag{{Key: ""}}}, cloud.CodeECSInvalidParameter, "1–128"},
		{"tag value too long", cloud.CreateContainerServiceRequest{ServiceName: "t", DeploymentController: external, Tags: []cloud.ContainerTag{{Key: "k", Value: strings.Repeat("v", 257)}}}, cloud.CodeECSInvalidParameter, "0–256"},
		{"ECS controller", cloud.CreateContainerServiceRequest{ServiceName: "e"}, cloud.CodeUnsupportedFeature, "EXTERNAL"},
		{"unknown cluster", cloud.CreateContainerServiceRequest{Cluster: "nope", ServiceName: "e", DeploymentController: external}, cloud.CodeClusterNotFound, "nope"},
	}
	for _, tc := range services {
		t.Run("CreateService/"+tc.name, func(t *testing.T) {
			req := tc.req
			if req.Cluster == "" {
				req.Cluster = d.Cluster
			}
			_, err := ecs.CreateService(ctx, &req)
			if e := wantCode(t, err, tc.code); !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("message %q lacks %q", e.Message, tc.msg)
			}
		})
	}
	// Tags at the limits are accepted.
	_, err = ecs.CreateService(ctx, &cloud.CreateContainerServiceRequest{Cluster: d.Cluster, ServiceName: strings.Repeat("a", 255), DeploymentController: external,
		Tags: append(manyTags[:49], cloud.ContainerTag{Key: strings.Repeat("k", 128), Value: strings.Repeat("v", 256)})})
	ok(t, err)

	taskSets := []struct {
		name   string
		change func(r *cloud.CreateTaskSetRequest)
		code   string
		msg    string
	}{
		{"launch type with capacity providers", func(r *cloud.CreateTaskSetRequest) {
			r.CapacityProviderStrategy = []cloud.CapacityProviderStrategyItem{{CapacityProvider: "FARGATE_SPOT", Weight: 1}}
		}, cloud.CodeECSInvalidParameter, "exclude each other"},
		{"unknown launch type", func(r *cloud.CreateTaskSetRequest) { r.LaunchType = "LAMBDA" }, cloud.CodeECSInvalidParameter, "EC2, FARGATE or EXTERNAL"},
		{"scale above 100", func(r *cloud.CreateTaskSetRequest) {
			r.Scale = &cloud.TaskSetScale{Value: 100.5, Unit: cloud.ScaleUnitPercent}
		}, cloud.CodeECSInvalidParameter, "0 to 100"},
		{"scale unit", func(r *cloud.CreateTaskSetRequest) { r.Scale = &cloud.TaskSetScale{Value: 1, Unit: "COUNT"} }, cloud.CodeECSInvalidParameter, "PERCENT"},
		{"no task definition", func(r *cloud.CreateTaskSetRequest) { r.TaskDefinition = "" }, cloud.CodeECSInvalidParameter, "taskDefinition is required"},
		{"classic load balancer", func(r *cloud.CreateTaskSetRequest) { r.LoadBalancers[0].LoadBalancerName = "classic" }, cloud.CodeECSInvalidParameter, "classic load balancer"},
		{"two ALB target groups", func(r *cloud.CreateTaskSetRequest) {
			r.LoadBalancers = append(r.LoadBalancers, cloud.TaskSetLoadBalancer{TargetGroupArn: d.TargetGroups[0], ContainerName: "web", ContainerPort: 8080})
		}, cloud.CodeECSInvalidParameter, "only one target group"},
		{"gateway load balancer", func(r *cloud.CreateTaskSetRequest) {
			r.LoadBalancers[0].TargetGroupArn = gwTG.TargetGroup.TargetGroupArn
		},
			cloud.CodeECSInvalidParameter, "only application and network"},
		{"fargate without network", func(r *cloud.CreateTaskSetRequest) { r.NetworkConfiguration = nil }, cloud.CodeECSInvalidParameter, "awsvpc"},
		{"platform version on EC2", func(r *cloud.CreateTaskSetRequest) { r.LaunchType, r.PlatformVersion = cloud.LaunchTypeEC2, "1.4.0" }, cloud.CodeECSInvalidParameter, "FARGATE"},
		{"target group without a load balancer", func(r *cloud.CreateTaskSetRequest) {
			r.LoadBalancers[0].TargetGroupArn = loneTG.TargetGroup.TargetGroupArn
		},
			cloud.CodeECSInvalidParameter, "not associated with a load balancer"},
		{"unknown service", func(r *cloud.CreateTaskSetRequest) { r.Service = "nope" }, cloud.CodeContainerServiceMissing, "nope"},
	}
	for _, tc := range taskSets {
		t.Run("CreateTaskSet/"+tc.name, func(t *testing.T) {
			req := greenRequest(d)
			tc.change(req)
			_, err := ecs.CreateTaskSet(ctx, req)
			if e := wantCode(t, err, tc.code); !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("message %q lacks %q", e.Message, tc.msg)
			}
		})
	}

	_, err = ecs.DeleteTaskSet(ctx, &cloud.DeleteTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: d.BlueTaskSet, Force: true})
	wantCode(t, err, cloud.CodeECSClientException)
	_, err = ecs.UpdateService(ctx, &cloud.UpdateServiceRequest{Cluster: d.Cluster, Service: d.Service})
	wantCode(t, err, cloud.CodeECSInvalidParameter)
	_, err = elb.ModifyListener(ctx, &cloud.ModifyListenerRequest{ListenerArn: d.ProductionListener,
		DefaultActions: cloud.ForwardWeights(cloud.TargetGroupTuple{TargetGroupArn: d.TargetGroups[0], Weight: 1000})})
	wantCode(t, err, cloud.CodeELBValidation)
	_, err = elb.ModifyListener(ctx, &cloud.ModifyListenerRequest{ListenerArn: d.ProductionListener,
		DefaultActions: cloud.ForwardWeights(cloud.TargetGroupTuple{TargetGroupArn: gwTG.TargetGroup.TargetGroupArn, Weight: 1})})
	wantCode(t, err, cloud.CodeTargetGroupAssociation)
	if got := len(describeService(t, env.Client, d.Cluster, d.Service).TaskSets); got != 1 {
		t.Fatalf("refused calls created task sets: %d task sets", got)
	}
}

func TestTaskSetLifecycle(t *testing.T) {
	env, clock, d := startDemo(t)
	ctx := t.Context()
	ecs := env.Client.Containers()

	req := greenRequest(d)
	req.ClientToken = "token-green-1"
	created, err := ecs.CreateTaskSet(ctx, req)
	ok(t, err)
	green := created.TaskSet
	if green.Status != cloud.TaskSetActive || green.StabilityStatus != cloud.StabilityStabilizing || green.ComputedDesiredCount != 2 || green.RunningCount != 0 {
		t.Fatalf("new task set at 50%% of 4: %+v", green)
	}
	ledgerLen := len(env.Server.Ledger())
	again, err := ecs.CreateTaskSet(ctx, req)
	ok(t, err)
	if again.TaskSet.Id != green.Id || len(env.Server.Ledger()) != ledgerLen {
		t.Fatalf("a repeated CreateTaskSet with the same client token must answer the same task set without a side effect")
	}

	clock.Advance(cloudsim.TaskSetSettleTime)
	svc := describeService(t, env.Client, d.Cluster, d.Service)
	if svc.TaskDefinition != "web:1" || svc.LaunchType != cloud.LaunchTypeFargate || len(svc.TaskSets) != 2 || svc.RunningCount != 6 {
		t.Fatalf("service before the switch: %+v", svc)
	}
	if g := svc.TaskSets[1]; g.Id != green.Id || g.StabilityStatus != cloud.StabilitySteady || g.RunningCount != 2 {
		t.Fatalf("green after settling: %+v", g)
	}

	// 4 × 30% = 1.2 → 2 tasks (rounded up).
	up, err := ecs.UpdateTaskSet(ctx, &cloud.UpdateTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: green.TaskSetArn, Scale: cloud.TaskSetScale{Value: 30, Unit: cloud.ScaleUnitPercent}})
	ok(t, err)
	if up.TaskSet.ComputedDesiredCount != 2 || up.TaskSet.StabilityStatus != cloud.StabilitySteady {
		t.Fatalf("a scale change that keeps the count keeps the stability: %+v", up.TaskSet)
	}
	desired := 10
	_, err = ecs.UpdateService(ctx, &cloud.UpdateServiceRequest{Cluster: d.Cluster, Service: d.Service, DesiredCount: &desired})
	ok(t, err)
	svc = describeService(t, env.Client, d.Cluster, d.Service)
	if g := svc.TaskSets[1]; g.ComputedDesiredCount != 3 || g.RunningCount != 2 || g.PendingCount != 1 || g.StabilityStatus != cloud.StabilityStabilizing {
		t.Fatalf("green after desired count 10: %+v", g)
	}

	_, err = ecs.UpdateServicePrimaryTaskSet(ctx, &cloud.UpdateServicePrimaryTaskSetRequest{Cluster: d.Cluster, Service: d.Service, PrimaryTaskSet: green.Id})
	ok(t, err)
	svc = describeService(t, env.Client, d.Cluster, d.Service)
	if svc.TaskDefinition != "web:2" || svc.Primary().Id != green.Id || svc.TaskSets[1].Status != cloud.TaskSetActive {
		t.Fatalf("after the switch DescribeServices answers the new primary's fields: %+v", svc)
	}

	_, err = ecs.DeleteTaskSet(ctx, &cloud.DeleteTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: d.BlueTaskSet})
	wantCode(t, err, cloud.CodeECSInvalidParameter) // still scaled
	_, err = ecs.UpdateTaskSet(ctx, &cloud.UpdateTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: d.BlueTaskSet, Scale: cloud.TaskSetScale{Unit: cloud.ScaleUnitPercent}})
	ok(t, err)
	del, err := ecs.DeleteTaskSet(ctx, &cloud.DeleteTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: d.BlueTaskSet})
	ok(t, err)
	if del.TaskSet.Status != cloud.TaskSetDraining {
		t.Fatalf("deleted task set: %+v", del.TaskSet)
	}
	_, err = ecs.DeleteTaskSet(ctx, &cloud.DeleteTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: d.BlueTaskSet})
	wantCode(t, err, cloud.CodeTaskSetNotFound)
	clock.Advance(cloudsim.TaskSetSettleTime)
	sets, err := ecs.DescribeTaskSets(ctx, &cloud.DescribeTaskSetsRequest{Cluster: d.Cluster, Service: d.Service, TaskSets: []string{green.Id, d.BlueTaskSet}})
	ok(t, err)
	if len(sets.TaskSets) != 1 || len(sets.Failures) != 1 || sets.Failures[0].Reason != "MISSING" {
		t.Fatalf("after draining: %+v", sets)
	}

	// Every change is in the ledger; the state survives a restart.
	count := map[string]int{}
	for _, e := range env.Server.Ledger() {
		count[e.Action]++
	}
	if count[cloud.ActionCreateTaskSet] != 2 || count[cloud.ActionUpdateTaskSet] != 2 || count[cloud.ActionUpdateServicePrimaryTaskSet] != 2 ||
		count[cloud.ActionDeleteTaskSet] != 1 || count[cloud.ActionUpdateService] != 1 {
		t.Fatalf("ledger actions: %v", count)
	}
	env.Restart()
	if svc := describeService(t, env.Client, d.Cluster, d.Service); svc.Primary().Id != green.Id || svc.DesiredCount != 10 {
		t.Fatalf("after a restart: %+v", svc)
	}
}

func TestListenerWeightsAndTargetHealth(t *testing.T) {
	env, clock, d := startDemo(t)
	ctx := t.Context()
	ecs, elb := env.Client.Containers(), env.Client.ELB()
	health := func(tg string) map[string]int {
		t.Helper()
		resp, err := elb.DescribeTargetHealth(ctx, &cloud.DescribeTargetHealthRequest{TargetGroupArn: tg})
		ok(t, err)
		states := map[string]int{}
		for _, h := range resp.TargetHealthDescriptions {
			states[h.State]++
		}
		return states
	}
	clock.Advance(cloudsim.TaskSetSettleTime)
	if got := health(d.TargetGroups[0]); got[cloud.TargetHealthy] != 4 || len(got) != 1 {
		t.Fatalf("blue targets: %v", got)
	}
	green, err := ecs.CreateTaskSet(ctx, greenRequest(d))
	ok(t, err)
	if got := health(d.TargetGroups[1]); got[cloud.TargetInitial] != 2 {
		t.Fatalf("green targets while starting: %v", got)
	}
	clock.Advance(cloudsim.TaskSetSettleTime)
	if got := health(d.TargetGroups[1]); got[cloud.TargetHealthy] != 2 {
		t.Fatalf("green targets when running: %v", got)
	}

	// An unhealthy-tasks fault fires on the next health read only.
	_, err = env.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultUnhealthyTasks, Action: cloud.ActionDescribeTargetHealth, Count: 1})
	ok(t, err)
	if got := health(d.TargetGroups[1]); got[cloud.TargetUnhealthy] != 2 {
		t.Fatalf("green targets under the fault: %v", got)
	}
	if got := health(d.TargetGroups[1]); got[cloud.TargetHealthy] != 2 {
		t.Fatalf("green targets after the fault: %v", got)
	}
	// On CreateTaskSet it makes the task set unhealthy for good.
	_, err = ecs.UpdateTaskSet(ctx, &cloud.UpdateTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: green.TaskSet.Id, Scale: cloud.TaskSetScale{Unit: cloud.ScaleUnitPercent}})
	ok(t, err)
	_, err = ecs.DeleteTaskSet(ctx, &cloud.DeleteTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: green.TaskSet.Id})
	ok(t, err)
	_, err = env.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultUnhealthyTasks, Action: cloud.ActionCreateTaskSet, Count: 1})
	ok(t, err)
	_, err = ecs.CreateTaskSet(ctx, greenRequest(d))
	ok(t, err)
	clock.Advance(cloudsim.TaskSetSettleTime)
	for range 2 {
		if got := health(d.TargetGroups[1]); got[cloud.TargetUnhealthy] != 2 {
			t.Fatalf("targets of a task set created under the fault: %v", got)
		}
	}

	// Weights.
	mod, err := elb.ModifyListener(ctx, &cloud.ModifyListenerRequest{ListenerArn: d.ProductionListener, DefaultActions: cloud.ForwardWeights(
		cloud.TargetGroupTuple{TargetGroupArn: d.TargetGroups[0], Weight: 80}, cloud.TargetGroupTuple{TargetGroupArn: d.TargetGroups[1], Weight: 20})})
	ok(t, err)
	ls, err := elb.DescribeListeners(ctx, &cloud.DescribeListenersRequest{ListenerArns: []string{d.ProductionListener}})
	ok(t, err)
	if w := ls.Listeners[0].Weights(); w[d.TargetGroups[0]] != 80 || w[d.TargetGroups[1]] != 20 || mod.Listener.Weights()[d.TargetGroups[1]] != 20 {
		t.Fatalf("weights: %v", w)
	}
	last := env.Server.Ledger()[len(env.Server.Ledger())-1]
	if last.Action != cloud.ActionModifyListener || !strings.Contains(last.Detail, "web-a=80 web-b=20") {
		t.Fatalf("ledger: %+v", last)
	}
}

// A task set under a running deployment's external ID (anyone reads it
// from DescribeTaskSets) is refused like any other: the external ID names
// a deployment, it does not prove to be it. The deployment's own retry is
// answered from its client token; once its task set is primary and the old
// one removed, the service takes the next deployment.
func TestDeploymentLockHoldsForAReusedExternalID(t *testing.T) {
	env, _, d := startDemo(t)
	ctx := t.Context()
	ecs := env.Client.Containers()
	req := greenRequest(d)
	req.ClientToken = "token-green"
	green, err := ecs.CreateTaskSet(ctx, req)
	ok(t, err)

	sets, err := ecs.DescribeTaskSets(ctx, &cloud.DescribeTaskSetsRequest{Cluster: d.Cluster, Service: d.Service})
	ok(t, err)
	var external string
	for _, ts := range sets.TaskSets {
		if ts.Id == green.TaskSet.Id {
			external = ts.ExternalId
		}
	}
	if external == "" {
		t.Fatalf("green's external ID is not readable: %+v", sets.TaskSets)
	}
	before := len(env.Server.Ledger())
	intruder := greenRequest(d)
	intruder.ExternalId, intruder.TaskDefinition, intruder.ClientToken = external, "web:9", "token-intruder"
	_, err = ecs.CreateTaskSet(ctx, intruder)
	apiErr := wantCode(t, err, cloud.CodeDeploymentInProgress)
	for _, want := range []string{"task set " + green.TaskSet.Id, `external ID "deploy-2"`, "web:2", "under the same external ID is refused too"} {
		if !strings.Contains(apiErr.Message, want) {
			t.Fatalf("refusal %q does not say %q", apiErr.Message, want)
		}
	}
	if len(env.Server.Ledger()) != before {
		t.Fatalf("a refused task set left a ledger entry")
	}
	again, err := ecs.CreateTaskSet(ctx, req)
	ok(t, err)
	if again.TaskSet.Id != green.TaskSet.Id {
		t.Fatalf("the deployment's retry made task set %s", again.TaskSet.Id)
	}

	// Green primary, blue still at scale: the deployment still runs.
	_, err = ecs.UpdateServicePrimaryTaskSet(ctx, &cloud.UpdateServicePrimaryTaskSetRequest{Cluster: d.Cluster, Service: d.Service, PrimaryTaskSet: green.TaskSet.Id})
	ok(t, err)
	_, err = ecs.CreateTaskSet(ctx, intruder)
	wantCode(t, err, cloud.CodeDeploymentInProgress)
	_, err = ecs.DeleteTaskSet(ctx, &cloud.DeleteTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: d.BlueTaskSet, Force: true})
	ok(t, err)
	next := greenRequest(d)
	next.ExternalId, next.TaskDefinition, next.ClientToken = "deploy-3", "web:3", "token-next"
	next.LoadBalancers[0].TargetGroupArn = d.TargetGroups[0]
	_, err = ecs.CreateTaskSet(ctx, next)
	ok(t, err)
}
