package activities_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
)

func TestBlueGreenActivitiesAgainstTheSimulator(t *testing.T) {
	sim, env := startCloud(t)
	ctx := t.Context()
	d, err := cloudsim.SetupBlueGreenDemo(ctx, sim.Client, "demo", "web")
	require.NoError(t, err)
	var a *activities.Deployments
	inspect := activities.InspectInput{
		Cluster: d.Cluster, Service: d.Service, TargetGroups: d.TargetGroups[:],
		ProductionListener: d.ProductionListener, TestListener: d.TestListener, ExternalID: "deploy-1",
	}
	var snap activities.ServiceSnapshot
	v, err := env.ExecuteActivity(a.InspectService, inspect)
	require.NoError(t, err)
	require.NoError(t, v.Get(&snap))
	require.Equal(t, d.BlueTaskSet, snap.Blue.Id)
	require.Equal(t, d.TargetGroups[0], snap.BlueTargetGroup)
	require.Equal(t, d.TargetGroups[1], snap.GreenTargetGroup)
	require.Equal(t, 4, snap.DesiredCount)
	require.Nil(t, snap.ExistingGreen)

	create := activities.CreateGreenInput{
		Cluster: d.Cluster, Service: d.Service, TaskDefinition: "web:2", LaunchType: cloud.LaunchTypeFargate,
		Subnets: d.Subnets, ContainerName: d.ContainerName, ContainerPort: d.ContainerPort,
		TargetGroup: snap.GreenTargetGroup, Scale: 100, ExternalID: "deploy-1", ClientToken: "6f1c1b0e-0000-4000-8000-000000000001",
	}
	var green, again cloud.TaskSet
	v, err = env.ExecuteActivity(a.CreateGreenTaskSet, create)
	require.NoError(t, err)
	require.NoError(t, v.Get(&green))
	v, err = env.ExecuteActivity(a.CreateGreenTaskSet, create)
	require.NoError(t, err)
	require.NoError(t, v.Get(&again))
	require.Equal(t, green.Id, again.Id, "a retried creation answers the same task set")

	// The same deployment finds its task set again; another one is refused.
	v, err = env.ExecuteActivity(a.InspectService, inspect)
	require.NoError(t, err)
	require.NoError(t, v.Get(&snap))
	require.Equal(t, green.Id, snap.ExistingGreen.Id)
	other := inspect
	other.ExternalID = "deploy-2"
	_, err = env.ExecuteActivity(a.InspectService, other)
	appErr := appError(t, err)
	require.Equal(t, activities.ErrTypeServiceNotReady, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.ErrorContains(t, err, green.Id)

	// The waits ride out the cloud's throttling and server errors.
	_, err = sim.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultThrottle, Action: cloud.ActionDescribeTaskSets, Count: 2, RetryAfter: time.Millisecond})
	require.NoError(t, err)
	_, err = sim.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultTransient, Action: cloud.ActionDescribeTargetHealth, Count: 2})
	require.NoError(t, err)

	ref := activities.TaskSetRef{Cluster: d.Cluster, Service: d.Service, TaskSet: green.Id}
	var stable cloud.TaskSet
	v, err = env.ExecuteActivity(a.AwaitTaskSetStable, ref)
	require.NoError(t, err)
	require.NoError(t, v.Get(&stable))
	require.Equal(t, cloud.StabilitySteady, stable.StabilityStatus)
	require.Equal(t, 4, stable.RunningCount)

	_, err = env.ExecuteActivity(a.SetListener, activities.ListenerInput{ListenerArn: d.TestListener,
		Actions: cloud.ForwardWeights(cloud.TargetGroupTuple{TargetGroupArn: snap.GreenTargetGroup, Weight: 1})})
	require.NoError(t, err)
	health := activities.HealthInput{TargetGroupArn: snap.GreenTargetGroup, TaskSetArn: green.TaskSetArn, Expected: 4}
	var report activities.HealthReport
	v, err = env.ExecuteActivity(a.CheckTargetHealth, health)
	require.NoError(t, err)
	require.NoError(t, v.Get(&report))
	require.Equal(t, 4, report.Healthy)
	faults, err := sim.Admin().Faults(ctx)
	require.NoError(t, err)
	require.Empty(t, faults, "both waits met their faults and went on")

	_, err = sim.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultUnhealthyTasks, Action: cloud.ActionDescribeTargetHealth, Count: 1})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.CheckTargetHealth, health)
	appErr = appError(t, err)
	require.Equal(t, activities.ErrTypeHealthCheckFailed, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.ErrorContains(t, err, "4 of 4 targets")

	// The monitor of a pause watches until targets turn unhealthy.
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = sim.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultUnhealthyTasks, Action: cloud.ActionDescribeTargetHealth, Count: 1})
	}()
	_, err = env.ExecuteActivity(a.MonitorTargetHealth, activities.MonitorInput{HealthInput: health, Interval: 10 * time.Millisecond})
	require.Equal(t, activities.ErrTypeHealthCheckFailed, appError(t, err).Type())
	require.ErrorContains(t, err, "became unhealthy")
	faults, err = sim.Admin().Faults(ctx)
	require.NoError(t, err)
	require.Empty(t, faults, "the monitor watched until the fault fired")

	// Switch, then remove blue; a primary task set is never removed.
	_, err = env.ExecuteActivity(a.SetPrimaryTaskSet, ref)
	require.NoError(t, err)
	var removed []string
	v, err = env.ExecuteActivity(a.RemoveTaskSets, activities.RemoveInput{Cluster: d.Cluster, Service: d.Service, TaskSet: d.BlueTaskSet})
	require.NoError(t, err)
	require.NoError(t, v.Get(&removed))
	require.Equal(t, []string{d.BlueTaskSet}, removed)
	v, err = env.ExecuteActivity(a.RemoveTaskSets, activities.RemoveInput{Cluster: d.Cluster, Service: d.Service, TaskSet: d.BlueTaskSet})
	require.NoError(t, err)
	require.NoError(t, v.Get(&removed))
	require.Empty(t, removed, "removing again is a no-op")
	_, err = env.ExecuteActivity(a.RemoveTaskSets, activities.RemoveInput{Cluster: d.Cluster, Service: d.Service, ExternalID: "deploy-1"})
	require.Equal(t, activities.ErrTypeServiceNotReady, appError(t, err).Type())

	svc, err := sim.Client.Containers().DescribeServices(ctx, &cloud.DescribeServicesRequest{Cluster: d.Cluster, Services: []string{d.Service}})
	require.NoError(t, err)
	require.Equal(t, "web:2", svc.Services[0].TaskDefinition)
	// Blue drains at scale 0 until the simulated drain ends (sooner on a
	// loaded machine), after which it is gone from the service.
	for _, ts := range svc.Services[0].TaskSets {
		if ts.Id == d.BlueTaskSet {
			require.Equal(t, cloud.TaskSetDraining, ts.Status)
			require.Zero(t, ts.Scale.Value)
		}
	}
}

func TestInspectServiceRefusals(t *testing.T) {
	sim, env := startCloud(t)
	d, err := cloudsim.SetupBlueGreenDemo(t.Context(), sim.Client, "demo", "web")
	require.NoError(t, err)
	var a *activities.Deployments
	base := activities.InspectInput{Cluster: d.Cluster, Service: d.Service, TargetGroups: d.TargetGroups[:], ProductionListener: d.ProductionListener, TestListener: d.TestListener}
	for _, tc := range []struct {
		name   string
		change func(*activities.InspectInput)
		want   string
	}{
		{"unknown service", func(in *activities.InspectInput) { in.Service = "nope" }, "does not exist"},
		{"target groups without blue's", func(in *activities.InspectInput) {
			in.TargetGroups = []string{d.TargetGroups[1], d.TargetGroups[1] + "x"}
		}, "not one of the deployment's two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			tc.change(&in)
			_, err := env.ExecuteActivity(a.InspectService, in)
			require.Equal(t, activities.ErrTypeServiceNotReady, appError(t, err).Type())
			require.ErrorContains(t, err, tc.want)
		})
	}
	// Unknown cluster: the cloud's own error, permanent.
	in := base
	in.Cluster = "nope"
	_, err = env.ExecuteActivity(a.InspectService, in)
	require.Equal(t, cloud.CodeClusterNotFound, appError(t, err).Type())
}

// A service without a primary task set: green goes on the target group
// production does not use (item 11), and while that deployment runs the
// cloud refuses another one's task set.
func TestServiceWithoutPrimaryAndTheDeploymentLock(t *testing.T) {
	sim, env := startCloud(t)
	ctx := t.Context()
	d, err := cloudsim.SetupBlueGreenDemo(ctx, sim.Client, "demo", "web")
	require.NoError(t, err)
	ecs := sim.Client.Containers()
	// A second service on the same load balancer, with no task set yet.
	_, err = ecs.CreateService(ctx, &cloud.CreateContainerServiceRequest{
		Cluster: d.Cluster, ServiceName: "web2", DesiredCount: 2,
		DeploymentController: &cloud.DeploymentController{Type: cloud.DeploymentControllerExternal}, SchedulingStrategy: cloud.SchedulingReplica,
	})
	require.NoError(t, err)

	var a *activities.Deployments
	var snap activities.ServiceSnapshot
	v, err := env.ExecuteActivity(a.InspectService, activities.InspectInput{
		Cluster: d.Cluster, Service: "web2", TargetGroups: d.TargetGroups[:],
		ProductionListener: d.ProductionListener, TestListener: d.TestListener, ExternalID: "deploy-1",
	})
	require.NoError(t, err)
	require.NoError(t, v.Get(&snap))
	require.Nil(t, snap.Blue)
	require.Equal(t, d.TargetGroups[1], snap.GreenTargetGroup, "not the target group production sends traffic to")

	// The lock, on the demo service: one deployment's task set at a time.

	create := func(externalID string) error {
		_, err := ecs.CreateTaskSet(ctx, &cloud.CreateTaskSetRequest{
			Cluster: d.Cluster, Service: d.Service, ExternalId: externalID, TaskDefinition: "web:2", LaunchType: cloud.LaunchTypeFargate,
			NetworkConfiguration: &cloud.NetworkConfiguration{AwsvpcConfiguration: &cloud.AwsVpcConfiguration{Subnets: d.Subnets}},
			LoadBalancers:        []cloud.TaskSetLoadBalancer{{TargetGroupArn: snap.GreenTargetGroup, ContainerName: d.ContainerName, ContainerPort: d.ContainerPort}},
		})
		return err
	}
	require.NoError(t, create("deploy-1"))
	before := len(sim.Server.Ledger())
	err = create("deploy-2")
	apiErr, ok := cloud.AsAPIError(err)
	require.True(t, ok, err)
	require.Equal(t, cloud.CodeDeploymentInProgress, apiErr.Code)
	require.Len(t, sim.Server.Ledger(), before, "a refused task set leaves no side effect")
}
