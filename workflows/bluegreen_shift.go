package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// shift runs the steps of the plan; promote-full jumps to all traffic on green.
func (d *blueGreen) shift(ctx workflow.Context) error {
	d.enter(model.BGPhaseShifting)
	previous := d.snap.Production
	d.saga.Add("restore the production listener", func(ctx workflow.Context) error {
		err := d.setListener(ctx, d.spec.ProductionListener, previous)
		if err == nil {
			d.progress.Weights = model.Weights{Blue: 100}
			if d.snap.Blue == nil {
				d.progress.Weights = model.Weights{}
			}
		}
		return err
	})
	for i, step := range d.progress.Steps {
		if d.status.full {
			break
		}
		d.progress.Step = i
		d.updateDetails(ctx)
		var err error
		switch step.Kind {
		case model.StepWeight:
			err = d.setWeight(ctx, step.Weight)
		case model.StepPause:
			err = d.pause(ctx, step.Pause, false)
		case model.StepGate:
			err = d.pause(ctx, 0, true)
		}
		if err != nil {
			return err
		}
	}
	if d.status.full && d.progress.Weights.Green != 100 {
		d.progress.Step = len(d.progress.Steps) - 1
		d.updateDetails(ctx)
		return d.setWeight(ctx, 100)
	}
	return nil
}

// setWeight gives green weight percent of production traffic, then checks
// its health.
func (d *blueGreen) setWeight(ctx workflow.Context, weight int) error {
	err := d.setListener(ctx, d.spec.ProductionListener, []model.TargetWeight{
		{TargetGroup: d.blueTG, Weight: 100 - weight},
		{TargetGroup: d.greenTG, Weight: weight},
	})
	if err != nil {
		return err
	}
	d.progress.Weights = model.Weights{Blue: 100 - weight, Green: weight}
	d.logger.Info("Traffic shifted", "green", weight)
	d.updateDetails(ctx)
	return d.checkHealth(ctx)
}

// pause waits for period (gate: until promote) while one activity watches
// green's health. promote ends it early; cancel cancels ctx; unhealthy
// targets fail it.
func (d *blueGreen) pause(ctx workflow.Context, period time.Duration, gate bool) error {
	end := workflow.Now(ctx).Add(period)
	d.status.beginPause()
	defer func() {
		d.status.endPause()
		d.progress.WaitingFor, d.progress.PauseEnds = "", time.Time{}
	}()
	if gate {
		d.progress.WaitingFor = fmt.Sprintf("%s (or %s, %s)", model.CommandPromote, model.CommandPromoteFull, model.CommandCancel)
	} else {
		d.progress.PauseEnds = end
	}
	d.updateDetails(ctx)
	monitorCtx, stopMonitor := workflow.WithCancel(ctx)
	defer stopMonitor()
	monitor := d.monitor(monitorCtx)
	promoted := func() bool { return d.status.promoted() || (d.status.full && !d.holdAfterFull) }
	for !promoted() {
		done := func() bool { return promoted() || monitor.IsReady() }
		var err error
		if gate {
			err = workflow.Await(ctx, done)
		} else {
			remaining := end.Sub(workflow.Now(ctx))
			if remaining <= 0 {
				break
			}
			_, err = workflow.AwaitWithTimeout(ctx, remaining, done)
		}
		if err != nil {
			return err
		}
		if !promoted() && monitor.IsReady() {
			if err := monitor.Get(ctx, nil); err != nil {
				return err
			}
			monitor = d.monitor(monitorCtx) // it ended without a finding: watch on
		}
	}
	if d.status.promoted() {
		d.logger.Info("Pause ended by promote")
	}
	return nil
}

// monitor starts the activity that watches green's health during a pause.
// Its attempts are bounded in time and retried for as long as the pause lasts.
func (d *blueGreen) monitor(ctx workflow.Context) workflow.Future {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    d.healthInterval + 30*time.Second,
		RetryPolicy:         retryPolicy(0),
		Summary:             "watch the health of " + d.green.ID,
	})
	return workflow.ExecuteActivity(actx, deployments.MonitorTargetHealth, activities.MonitorInput{
		HealthInput: activities.HealthInput{TargetGroupArn: d.greenTG, TaskSetArn: d.green.Arn, Expected: d.green.Desired},
		Interval:    d.healthInterval,
	})
}
