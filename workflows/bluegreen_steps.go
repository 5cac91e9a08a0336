package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// createGreen creates the green task set at the service's full scale and
// waits until it is stable.
func (d *blueGreen) createGreen(ctx workflow.Context) error {
	d.enter(model.BGPhaseCreatingGreen)
	d.updateDetails(ctx)
	d.saga.Add("remove the new task set", func(ctx workflow.Context) error {
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, cleanupActivity()), deployments.RemoveTaskSets, activities.RemoveInput{
			Cluster: d.spec.Cluster, Service: d.spec.Service, ExternalID: d.externalID,
		}).Get(ctx, nil)
		if err == nil && d.progress.Green != nil {
			d.progress.Green.Status, d.progress.Green.Scale = "Deleted", 0
		}
		return err
	})
	err := workflow.ExecuteActivity(d.short(ctx, "create task set "+d.spec.TaskDefinition), deployments.CreateGreenTaskSet, activities.CreateGreenInput{
		Cluster: d.spec.Cluster, Service: d.spec.Service, TaskDefinition: d.spec.TaskDefinition,
		LaunchType: d.spec.LaunchTypeOrDefault(), PlatformVersion: d.spec.PlatformVersion,
		Subnets: d.spec.Subnets, SecurityGroups: d.spec.SecurityGroups, AssignPublicIP: d.spec.AssignPublicIP,
		ContainerName: d.spec.ContainerName, ContainerPort: d.spec.ContainerPort, TargetGroup: d.greenTG,
		Scale: 100, ExternalID: d.externalID, ClientToken: model.ClientToken(d.tokenKey, "green"),
	}).Get(ctx, &d.green)
	if err != nil {
		return err
	}
	d.progress.Green = taskSetProgress(d.green)
	d.updateDetails(ctx)
	ref := activities.TaskSetRef{Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSet: d.green.Id}
	if err := workflow.ExecuteActivity(d.polling(ctx, "wait until "+d.green.Id+" is stable"), deployments.AwaitTaskSetStable, ref).Get(ctx, &d.green); err != nil {
		return fmt.Errorf("the new task set did not become stable: %w", err)
	}
	d.progress.Green = taskSetProgress(d.green)
	return nil
}

// test points the test listener at green and checks its health.
func (d *blueGreen) test(ctx workflow.Context) error {
	d.enter(model.BGPhaseTesting)
	d.updateDetails(ctx)
	previous := d.snap.TestActions
	d.saga.Add("restore the test listener", func(ctx workflow.Context) error {
		return d.setListener(ctx, d.spec.TestListener, previous)
	})
	if err := d.setListener(ctx, d.spec.TestListener, cloud.ForwardWeights(cloud.TargetGroupTuple{TargetGroupArn: d.greenTG, Weight: 1})); err != nil {
		return err
	}
	return d.checkHealth(ctx)
}

func (d *blueGreen) setListener(ctx workflow.Context, listener string, actions []cloud.ELBAction) error {
	return workflow.ExecuteActivity(d.short(ctx, "set listener weights"), deployments.SetListener, activities.ListenerInput{ListenerArn: listener, Actions: actions}).Get(ctx, nil)
}

func (d *blueGreen) checkHealth(ctx workflow.Context) error {
	return workflow.ExecuteActivity(d.polling(ctx, "check the health of "+d.green.Id), deployments.CheckTargetHealth, activities.HealthInput{
		TargetGroupArn: d.greenTG, TaskSetArn: d.green.TaskSetArn, Expected: d.green.ComputedDesiredCount,
	}).Get(ctx, nil)
}

// switchPrimary makes green the primary task set. Its compensation, added
// first, makes blue primary again at its previous scale: it also repairs a
// switch that failed half-way or whose answer was lost.
func (d *blueGreen) switchPrimary(ctx workflow.Context) error {
	d.enter(model.BGPhaseSwitchPrimary)
	d.progress.Step = len(d.progress.Steps)
	d.updateDetails(ctx)
	if blue := d.snap.Blue; blue != nil {
		d.saga.Add("make the old task set primary again", func(ctx workflow.Context) error {
			ref := activities.TaskSetRef{Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSet: blue.Id}
			actx := workflow.WithActivityOptions(ctx, cleanupActivity())
			err := workflow.ExecuteActivity(actx, deployments.SetPrimaryTaskSet, ref).Get(ctx, nil)
			if err == nil {
				err = workflow.ExecuteActivity(actx, deployments.ScaleTaskSet, activities.ScaleInput{TaskSetRef: ref, Percent: blue.Scale.Value}).Get(ctx, nil)
			}
			if err == nil {
				d.progress.Blue.Status, d.progress.Blue.Scale = cloud.TaskSetPrimary, blue.Scale.Value
			}
			return err
		})
	}
	ref := activities.TaskSetRef{Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSet: d.green.Id}
	if err := workflow.ExecuteActivity(d.short(ctx, "make "+d.green.Id+" primary"), deployments.SetPrimaryTaskSet, ref).Get(ctx, nil); err != nil {
		return fmt.Errorf("switching the primary task set failed: %w", err)
	}
	d.progress.Green.Status = cloud.TaskSetPrimary
	if d.progress.Blue != nil {
		d.progress.Blue.Status = cloud.TaskSetActive
	}
	if d.snap.Blue == nil {
		d.status.commit() // no old task set to go back to
	}
	return nil
}
