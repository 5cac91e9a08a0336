package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// A client that reads a running deployment's external ID from
// DescribeTaskSets (the cloud's HTTP API) and creates a task set under it
// is refused by the cloud's lock, with nothing in the ledger; the
// deployment ends Succeeded with its task set alone on the service, and the
// next deployment starts.
func TestBlueGreenLockHoldsForTheDeploymentsExternalID(t *testing.T) {
	e := newEnv(t, 0.01)
	ctx := t.Context()
	d, err := cloudsim.SetupBlueGreenDemo(ctx, e.cloudC, "e2e", "web")
	require.NoError(t, err)
	w := 30
	spec := model.BlueGreenSpec{
		Cluster: d.Cluster, Service: d.Service, TaskDefinition: "web:2", Subnets: d.Subnets,
		ContainerName: d.ContainerName, ContainerPort: d.ContainerPort, TargetGroups: d.TargetGroups[:],
		ProductionListener: d.ProductionListener, TestListener: d.TestListener,
		Strategy:        model.ShiftStrategy{Type: model.StrategySteps, Steps: []model.ShiftStep{{SetWeight: &w}, {Pause: &model.PauseStep{}}}},
		TerminationWait: "1s", HealthCheckInterval: "1s",
	}
	id := model.BlueGreenWorkflowID(d.Cluster, d.Service)
	rawStart(t, e, id, model.BlueGreenWorkflowType, spec)
	for e.blueGreenProgress(id).WaitingFor == "" { // at the manual gate, 30 % on green
		time.Sleep(200 * time.Millisecond)
	}

	sets, err := e.cloudC.Containers().DescribeTaskSets(ctx, &cloud.DescribeTaskSetsRequest{Cluster: d.Cluster, Service: d.Service})
	require.NoError(t, err)
	var green cloud.TaskSet
	for _, ts := range sets.TaskSets {
		if strings.HasPrefix(ts.ExternalId, "imagefleet/") {
			green = ts
		}
	}
	require.NotEmpty(t, green.Id, "the deployment's task set and its external ID are readable: %+v", sets.TaskSets)
	before := len(e.ledger())
	_, err = e.cloudC.Containers().CreateTaskSet(ctx, &cloud.CreateTaskSetRequest{
		Cluster: d.Cluster, Service: d.Service, ExternalId: green.ExternalId, TaskDefinition: "web:9", LaunchType: cloud.LaunchTypeFargate,
		NetworkConfiguration: &cloud.NetworkConfiguration{AwsvpcConfiguration: &cloud.AwsVpcConfiguration{Subnets: d.Subnets}},
		LoadBalancers:        []cloud.TaskSetLoadBalancer{{TargetGroupArn: green.LoadBalancers[0].TargetGroupArn, ContainerName: d.ContainerName, ContainerPort: d.ContainerPort}},
	})
	requireCode(t, err, cloud.CodeDeploymentInProgress)
	require.ErrorContains(t, err, green.Id)
	require.Len(t, e.ledger(), before, "the refused task set left nothing in the ledger")

	h, err := e.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: model.CommandPromote,
		Args: []any{model.PromoteCommand{}}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))
	require.NoError(t, e.awaitResult(id))
	require.Equal(t, model.BGPhaseSucceeded, e.blueGreenProgress(id).Phase)
	live := e.liveTaskSets(d)
	require.Len(t, live, 1, "only the deployment's task set is left")
	require.Equal(t, green.Id, live[0].Id)
	require.Equal(t, cloud.TaskSetPrimary, live[0].Status)
	require.Equal(t, 100, e.weights(d.ProductionListener)[green.LoadBalancers[0].TargetGroupArn])
	recordHistory(t, e.client, id, "bluegreen_checks_task_sets.json")

	// The next deployment is not refused.
	next := spec
	next.TaskDefinition, next.Strategy = "web:3", model.ShiftStrategy{Type: model.StrategyAllAtOnce}
	rawStart(t, e, id, model.BlueGreenWorkflowType, next)
	require.NoError(t, e.awaitResult(id))
	live = e.liveTaskSets(d)
	require.Len(t, live, 1)
	require.Equal(t, "web:3", live[0].TaskDefinition)
}
