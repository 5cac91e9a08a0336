package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// A deployment that began before changeBlueGreenModelTypes goes on with the
// activities that answer the cloud's wire types (a worker upgraded
// mid-run): the same shift, switch and removal; it rolls back as well. The
// replay test covers the recorded histories of such runs.
func TestBlueGreenRunsFromBeforeModelTypesKeepTheirActivities(t *testing.T) {
	for _, cancel := range []bool{false, true} {
		t.Run(map[bool]string{false: "deploys", true: "rolls back"}[cancel], func(t *testing.T) {
			env := newBlueGreenEnv(t)
			env.OnGetVersion(changeBlueGreenModelTypes, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
			f := env.cloud
			forward := func(tg string) []cloud.ELBAction {
				return cloud.ForwardWeights(cloud.TargetGroupTuple{TargetGroupArn: tg, Weight: 1})
			}
			env.OnActivity(deployments.InspectService, mock.Anything, mock.Anything).Return(&activities.ServiceSnapshot{
				ServiceArn: "arn:web", DesiredCount: 4, BlueTargetGroup: tgBlue, GreenTargetGroup: tgGreen,
				Blue: &cloud.TaskSet{Id: blueID, TaskSetArn: "arn:" + blueID, Status: cloud.TaskSetPrimary, TaskDefinition: "web:1",
					Scale: cloud.TaskSetScale{Value: 100, Unit: cloud.ScaleUnitPercent}, ComputedDesiredCount: 4, RunningCount: 4,
					LoadBalancers: []cloud.TaskSetLoadBalancer{{TargetGroupArn: tgBlue}}},
				ProductionActions: forward(tgBlue), TestActions: forward(tgBlue),
			}, nil).Once()
			green := &cloud.TaskSet{Id: greenID, TaskSetArn: "arn:" + greenID, Status: cloud.TaskSetActive, TaskDefinition: "web:2",
				Scale: cloud.TaskSetScale{Value: 100, Unit: cloud.ScaleUnitPercent}, ComputedDesiredCount: 4,
				LoadBalancers: []cloud.TaskSetLoadBalancer{{TargetGroupArn: tgGreen}}}
			env.OnActivity(deployments.CreateGreenTaskSet, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CreateGreenInput) (*cloud.TaskSet, error) {
				f.locked(func() { f.scales[greenID] = in.Scale })
				return green, nil
			}).Once()
			stable := *green
			stable.RunningCount, stable.StabilityStatus = 4, cloud.StabilitySteady
			env.OnActivity(deployments.AwaitTaskSetStable, mock.Anything, mock.Anything).Return(&stable, nil).Once()
			env.OnActivity(deployments.SetListener, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ListenerInput) error {
				f.setListener(in.ListenerArn, (&cloud.ELBListener{DefaultActions: in.Actions}).Weights())
				return nil
			})
			if cancel {
				env.RegisterDelayedCallback(func() {
					env.SignalWorkflow(model.CommandCancel, model.CancelCommand{Reason: "recorded run"})
				}, 30*time.Minute) // in the canary's pause
			}

			env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyCanary, Percent: 20, Interval: "1h"}))
			env.AssertExpectations(t) // the old activities ran

			if cancel {
				p := env.requireRolledBack(t, ErrTypeAborted)
				require.Equal(t, "recorded run", p.AbortReason)
				return
			}
			env.requireDeployed(t, 20, 100)
		})
	}
}
