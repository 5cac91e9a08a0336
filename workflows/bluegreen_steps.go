package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
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
			d.progress.Green.Status, d.progress.Green.Scale = model.TaskSetDeleted, 0
		}
		return err
	})
	green, err := d.createGreenTaskSet(d.short(ctx, "create task set "+d.spec.TaskDefinition), activities.CreateGreenInput{
		Cluster: d.spec.Cluster, Service: d.spec.Service, TaskDefinition: d.spec.TaskDefinition,
		LaunchType: d.spec.LaunchTypeOrDefault(), PlatformVersion: d.spec.PlatformVersion,
		Subnets: d.spec.Subnets, SecurityGroups: d.spec.SecurityGroups, AssignPublicIP: d.spec.AssignPublicIP,
		ContainerName: d.spec.ContainerName, ContainerPort: d.spec.ContainerPort, TargetGroup: d.greenTG,
		Scale: 100, ExternalID: d.externalID, ClientToken: model.ClientToken(d.tokenKey, "green"),
	})
	if err != nil {
		return err
	}
	d.green = green
	d.progress.Green = copyTaskSet(d.green)
	d.updateDetails(ctx)
	ref := activities.TaskSetRef{Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSet: d.green.ID}
	stable, err := d.awaitStable(d.polling(ctx, "wait until "+d.green.ID+" is stable"), ref)
	if err != nil {
		return fmt.Errorf("the new task set did not become stable: %w", err)
	}
	d.green = stable
	d.progress.Green = copyTaskSet(d.green)
	return nil
}

// test points the test listener at green and checks its health.
func (d *blueGreen) test(ctx workflow.Context) error {
	d.enter(model.BGPhaseTesting)
	d.updateDetails(ctx)
	previous := d.snap.Test
	d.saga.Add("restore the test listener", func(ctx workflow.Context) error {
		return d.setListener(ctx, d.spec.TestListener, previous)
	})
	if err := d.setListener(ctx, d.spec.TestListener, []model.TargetWeight{{TargetGroup: d.greenTG, Weight: 1}}); err != nil {
		return err
	}
	return d.checkHealth(ctx)
}

func (d *blueGreen) checkHealth(ctx workflow.Context) error {
	return workflow.ExecuteActivity(d.polling(ctx, "check the health of "+d.green.ID), deployments.CheckTargetHealth, activities.HealthInput{
		TargetGroupArn: d.greenTG, TaskSetArn: d.green.Arn, Expected: d.green.Desired,
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
			ref := activities.TaskSetRef{Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSet: blue.ID}
			actx := workflow.WithActivityOptions(ctx, cleanupActivity())
			err := workflow.ExecuteActivity(actx, deployments.SetPrimaryTaskSet, ref).Get(ctx, nil)
			if err == nil {
				err = workflow.ExecuteActivity(actx, deployments.ScaleTaskSet, activities.ScaleInput{TaskSetRef: ref, Percent: blue.Scale}).Get(ctx, nil)
			}
			if err == nil {
				d.progress.Blue.Status, d.progress.Blue.Scale = model.TaskSetPrimary, blue.Scale
			}
			return err
		})
	}
	ref := activities.TaskSetRef{Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSet: d.green.ID}
	if err := workflow.ExecuteActivity(d.short(ctx, "make "+d.green.ID+" primary"), deployments.SetPrimaryTaskSet, ref).Get(ctx, nil); err != nil {
		return fmt.Errorf("switching the primary task set failed: %w", err)
	}
	d.progress.Green.Status = model.TaskSetPrimary
	if d.progress.Blue != nil {
		d.progress.Blue.Status = model.TaskSetActive
	}
	if d.snap.Blue == nil {
		d.status.commit() // no old task set to go back to
	}
	return nil
}
