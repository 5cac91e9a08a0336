package activities_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// The blue/green workflow sees model types only: the snapshot, task sets
// and listener weights are mapped from and to the cloud's wire types.
func TestBlueGreenActivitiesMapWireTypes(t *testing.T) {
	blue := &cloud.TaskSet{Id: "ecs-svc/1", TaskSetArn: "arn:1", Status: cloud.TaskSetPrimary, TaskDefinition: "web:1",
		Scale: cloud.TaskSetScale{Value: 100, Unit: cloud.ScaleUnitPercent}, ComputedDesiredCount: 4, RunningCount: 3,
		StabilityStatus: cloud.StabilitySteady, LoadBalancers: []cloud.TaskSetLoadBalancer{{TargetGroupArn: "tg-a"}}}
	snap := activities.ServiceSnapshot{
		Blue: blue, BlueTargetGroup: "tg-a", GreenTargetGroup: "tg-b",
		ProductionActions: cloud.ForwardWeights(cloud.TargetGroupTuple{TargetGroupArn: "tg-a", Weight: 1}),
		TestActions:       nil,
	}
	require.Equal(t, activities.BlueGreenSnapshot{
		Blue: &model.TaskSetProgress{ID: "ecs-svc/1", Arn: "arn:1", TaskDefinition: "web:1", Status: model.TaskSetPrimary,
			Scale: 100, Desired: 4, Running: 3, Stability: cloud.StabilitySteady, TargetGroup: "tg-a"},
		BlueTargetGroup: "tg-a", GreenTargetGroup: "tg-b",
		Production: []model.TargetWeight{{TargetGroup: "tg-a", Weight: 1}},
	}, snap.BlueGreen())
	require.Nil(t, activities.TaskSetOf(nil))

	// Weights back to the listener's action, and no weights to no action:
	// a listener is restored as it was.
	in := activities.WeightsInput{ListenerArn: "l-80", Targets: []model.TargetWeight{{TargetGroup: "tg-a", Weight: 90}, {TargetGroup: "tg-b", Weight: 10}}}
	require.Equal(t, activities.ListenerInput{ListenerArn: "l-80", Actions: cloud.ForwardWeights(
		cloud.TargetGroupTuple{TargetGroupArn: "tg-a", Weight: 90}, cloud.TargetGroupTuple{TargetGroupArn: "tg-b", Weight: 10})}, in.Legacy())
	require.Equal(t, activities.ListenerInput{ListenerArn: "l-80"}, activities.WeightsInput{ListenerArn: "l-80"}.Legacy())
	require.Equal(t, model.TaskSetActive, cloud.TaskSetActive)
}
