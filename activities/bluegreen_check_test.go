package activities_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// CheckTaskSets finds a task set the deployment does not know, whatever
// external ID it carries; draining task sets do not count.
func TestCheckTaskSetsFindsAForeignTaskSet(t *testing.T) {
	sim, env := startCloud(t)
	ctx := t.Context()
	d, err := cloudsim.SetupBlueGreenDemo(ctx, sim.Client, "demo", "web")
	require.NoError(t, err)
	ecs := sim.Client.Containers()
	create := func(externalID, tg, token string) string {
		resp, err := ecs.CreateTaskSet(ctx, &cloud.CreateTaskSetRequest{
			Cluster: d.Cluster, Service: d.Service, ExternalId: externalID, TaskDefinition: "web:2", LaunchType: cloud.LaunchTypeFargate,
			NetworkConfiguration: &cloud.NetworkConfiguration{AwsvpcConfiguration: &cloud.AwsVpcConfiguration{Subnets: d.Subnets}},
			LoadBalancers:        []cloud.TaskSetLoadBalancer{{TargetGroupArn: tg, ContainerName: d.ContainerName, ContainerPort: d.ContainerPort}},
			ClientToken:          token,
		})
		require.NoError(t, err)
		return resp.TaskSet.Id
	}
	green := create("imagefleet/run-1", d.TargetGroups[1], "green")
	var a *activities.Deployments
	check := activities.TaskSetsCheck{Cluster: d.Cluster, Service: d.Service, Known: []string{green, d.BlueTaskSet}}
	_, err = env.ExecuteActivity(a.CheckTaskSets, check)
	require.NoError(t, err)

	// Green primary, blue removed (draining): the lock is free, and a
	// client puts a task set under the deployment's external ID.
	_, err = ecs.UpdateServicePrimaryTaskSet(ctx, &cloud.UpdateServicePrimaryTaskSetRequest{Cluster: d.Cluster, Service: d.Service, PrimaryTaskSet: green})
	require.NoError(t, err)
	_, err = ecs.DeleteTaskSet(ctx, &cloud.DeleteTaskSetRequest{Cluster: d.Cluster, Service: d.Service, TaskSet: d.BlueTaskSet, Force: true})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.CheckTaskSets, check)
	require.NoError(t, err, "a draining task set is no one's")
	intruder := create("imagefleet/run-1", d.TargetGroups[0], "intruder")
	_, err = env.ExecuteActivity(a.CheckTaskSets, check)
	appErr := appError(t, err)
	require.Equal(t, model.ErrTypeForeignTaskSet, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.ErrorContains(t, err, intruder+` (external ID "imagefleet/run-1", web:2, ACTIVE at 100%)`)
}
