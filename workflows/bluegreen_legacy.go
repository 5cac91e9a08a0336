package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// changeBlueGreenModelTypes: the deployment's activities answer model
// types, so that the deployment holds no cloud wire type. A run that began
// before calls the activities it called then (their results are the cloud's
// wire types, recorded in its history), mapped here to the same model
// types; delete the old branches once no such run is left.
const changeBlueGreenModelTypes = "bluegreen-model-types"

// inspect checks the service and answers its snapshot.
func (d *blueGreen) inspect(ctx workflow.Context, in activities.InspectInput) (*activities.BlueGreenSnapshot, error) {
	if d.wireTypes {
		var snap activities.ServiceSnapshot
		if err := workflow.ExecuteActivity(ctx, deployments.InspectService, in).Get(ctx, &snap); err != nil {
			return nil, err
		}
		s := snap.BlueGreen()
		return &s, nil
	}
	var snap activities.BlueGreenSnapshot
	if err := workflow.ExecuteActivity(ctx, deployments.InspectBlueGreen, in).Get(ctx, &snap); err != nil {
		return nil, err
	}
	return &snap, nil
}

// createGreenTaskSet creates the green task set.
func (d *blueGreen) createGreenTaskSet(ctx workflow.Context, in activities.CreateGreenInput) (*model.TaskSetProgress, error) {
	return d.taskSet(ctx, deployments.CreateGreenTaskSet, deployments.CreateGreen, in)
}

// awaitStable waits until the task set is stable.
func (d *blueGreen) awaitStable(ctx workflow.Context, ref activities.TaskSetRef) (*model.TaskSetProgress, error) {
	return d.taskSet(ctx, deployments.AwaitTaskSetStable, deployments.AwaitGreenStable, ref)
}

// taskSet runs the activity that answers a task set: old answers the
// cloud's, current the model's.
func (d *blueGreen) taskSet(ctx workflow.Context, old, current, in any) (*model.TaskSetProgress, error) {
	if d.wireTypes {
		var ts *activities.LegacyTaskSet
		err := workflow.ExecuteActivity(ctx, old, in).Get(ctx, &ts)
		return activities.TaskSetOf(ts), err
	}
	var ts *model.TaskSetProgress
	err := workflow.ExecuteActivity(ctx, current, in).Get(ctx, &ts)
	return ts, err
}

// setListener sets a listener's forward target groups and weights.
func (d *blueGreen) setListener(ctx workflow.Context, listener string, targets []model.TargetWeight) error {
	in := activities.WeightsInput{ListenerArn: listener, Targets: targets}
	ctx = d.short(ctx, "set listener weights")
	if d.wireTypes {
		return workflow.ExecuteActivity(ctx, deployments.SetListener, in.Legacy()).Get(ctx, nil)
	}
	return workflow.ExecuteActivity(ctx, deployments.SetListenerWeights, in).Get(ctx, nil)
}
