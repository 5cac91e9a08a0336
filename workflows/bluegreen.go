package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/operator"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
)

// BlueGreenDeployment deploys a new task definition to a container service
// with the EXTERNAL deployment controller: it creates a green task set at the
// service's full scale without traffic and waits until it is stable, tests it
// through the test listener, shifts production traffic by listener weights
// as the strategy says (pauses, operator gates), makes green the primary task
// set, keeps blue at scale for the termination wait, then removes blue.
//
// Failed health checks, the cancel command or a cancellation before blue's
// removal roll back: traffic back to blue, blue primary again, green
// removed. Every compensation is registered before the change it undoes and
// runs on a disconnected context, so a change whose answer was lost is
// undone too.
func BlueGreenDeployment(ctx workflow.Context, spec model.BlueGreenSpec) (*model.BlueGreenResult, error) {
	return execute[model.BlueGreenResult](ctx, &blueGreen{spec: spec})
}

var deployments *activities.Deployments

type blueGreen struct {
	spec     model.BlueGreenSpec
	progress model.BlueGreenProgress
	logger   log.Logger
	saga     saga.Saga
	state    details.State   // the ImagefleetState search attribute
	status   blueGreenStatus // what the operator commands see

	// tokenKey scopes client tokens; externalID marks this deployment's
	// green task set. Both survive worker restarts and resets.
	tokenKey   string
	externalID string

	terminationWait, stabilityTimeout, healthInterval time.Duration

	snap  *activities.BlueGreenSnapshot
	green *model.TaskSetProgress
	// blueTG and greenTG are the target groups of blue (or the one green does
	// not use, on a first deployment) and green.
	blueTG, greenTG string

	// cancelWork cancels the deployment's work (cancel): it rolls back.
	cancelWork workflow.CancelFunc
	// holdAfterFull: the termination wait is not skipped by promote-full
	// (changeFullKeepsTerminationWait).
	holdAfterFull bool
	// wireTypes: the run began before changeBlueGreenModelTypes
	// (bluegreen_legacy.go).
	wireTypes bool
}

// changeFullKeepsTerminationWait: promote-full no longer skips the
// termination wait.
const changeFullKeepsTerminationWait = "full-keeps-termination-wait"

func (d *blueGreen) setup(ctx workflow.Context) error {
	info := workflow.GetInfo(ctx)
	d.tokenKey = info.WorkflowExecution.ID + "/" + info.FirstRunID
	d.externalID = "imagefleet/" + info.FirstRunID
	d.logger = log.With(workflow.GetLogger(ctx), "cluster", d.spec.Cluster, "service", d.spec.Service)
	d.progress = model.BlueGreenProgress{Cluster: d.spec.Cluster, Service: d.spec.Service, Step: -1}
	d.enter(model.BGPhaseValidating)
	return lifecycle.Start(ctx, &d.state, lifecycle.Setup{
		Queries: []lifecycle.Query{{
			Name:        model.QueryProgress,
			Description: "phase, step, traffic weights and task sets of the deployment",
			Handler:     func() (model.BlueGreenProgress, error) { return d.progress, nil },
		}},
		WorkflowID: model.BlueGreenWorkflowID(d.spec.Cluster, d.spec.Service),
		SearchAttributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationBlueGreen),
			model.SAService.ValueSet(model.ServiceKey(d.spec.Cluster, d.spec.Service)),
		},
		Validate: d.spec.Validate,
		Refused: func(err error) {
			d.enter(model.BGPhaseFailed)
			d.progress.Error = err.Error()
		},
		Commands: func(ctx workflow.Context) error {
			d.progress.Steps, _ = d.spec.Strategy.Plan()
			d.terminationWait, d.stabilityTimeout, d.healthInterval = d.spec.Durations()
			return d.registerCommands(ctx)
		},
	})
}

// enter moves the deployment to phase, as the query shows it.
func (d *blueGreen) enter(phase string) {
	d.status.enter(phase)
	d.progress.Phase = phase
}

func (d *blueGreen) registerCommands(ctx workflow.Context) error {
	refused := operator.RecordRefusal(&d.progress.LastRefusal, d.logger)
	c := d.commands()
	return errors.Join(
		operator.Register(ctx, c.promote, refused),
		operator.Register(ctx, c.promoteFull, refused),
		operator.Register(ctx, c.cancel, refused),
	)
}

// blueGreenCommands are a deployment's operator commands.
type blueGreenCommands struct {
	promote, promoteFull operator.Command[model.PromoteCommand]
	// cancel rolls back; its old name abort is a deprecated alias.
	cancel operator.Command[model.CancelCommand]
}

// commands returns the operator commands: their validators read the status,
// their Apply changes it.
func (d *blueGreen) commands() blueGreenCommands {
	promote := func(name string, full bool) operator.Command[model.PromoteCommand] {
		return operator.Command[model.PromoteCommand]{
			Name:     name,
			Validate: func(c model.PromoteCommand) error { return d.validatePromote(full || c.Full) },
			Apply: func(c model.PromoteCommand) {
				full := full || c.Full
				d.logger.Info("Promote", "full", full)
				d.status.promote(full)
			},
		}
	}
	cancel := operator.Command[model.CancelCommand]{
		Name: model.CommandCancel,
		//lint:ignore SA1019 the deprecated name is still accepted: this is where it is kept working
		Aliases:  []string{model.CommandAbort},
		Validate: func(model.CancelCommand) error { return d.validateCancel() },
		Apply: func(c model.CancelCommand) {
			d.logger.Info("Cancel requested", "reason", c.Reason)
			d.status.cancel()
			d.progress.AbortReason = c.Reason
			if d.cancelWork != nil {
				d.cancelWork()
			}
		},
	}
	return blueGreenCommands{promote: promote(model.CommandPromote, false), promoteFull: promote(model.CommandPromoteFull, true), cancel: cancel}
}

func (d *blueGreen) validatePromote(full bool) error {
	s := &d.status
	switch {
	case s.cancelled:
		return errors.New("the deployment is being cancelled")
	case s.committed || s.rollingBack():
		return fmt.Errorf("the deployment is %s: promote no longer applies", s.phase)
	case full && s.full:
		return errors.New("promote-full was already accepted: all traffic is being shifted")
	case full && !s.shifting():
		return fmt.Errorf("the deployment is %s: all traffic is already shifted, promote-full no longer applies", s.phase)
	case full:
		return nil
	case !s.paused():
		return fmt.Errorf("the deployment is not paused (%s): promote ends a pause; promote-full skips every remaining step", d.progress.CurrentStep())
	case s.promoted():
		return errors.New("promote was already accepted for this pause")
	}
	return nil
}

func (d *blueGreen) validateCancel() error {
	s := &d.status
	switch {
	case s.cancelled:
		return errors.New("the deployment is already being cancelled")
	case s.committed:
		return fmt.Errorf("the deployment is %s: the new task set is primary and the old one is being removed; deploy the previous task definition to go back", s.phase)
	case s.rollingBack():
		return errors.New("the deployment is already rolling back")
	}
	return nil
}

func (d *blueGreen) run(ctx workflow.Context) (*model.BlueGreenResult, error) {
	workCtx, cancel := workflow.WithCancel(ctx)
	d.cancelWork = cancel
	defer cancel()
	d.wireTypes = workflow.GetVersion(ctx, changeBlueGreenModelTypes, workflow.DefaultVersion, 1) == workflow.DefaultVersion
	if err := d.deploy(workCtx); err != nil {
		return nil, d.rollback(ctx, err)
	}
	return d.finish(ctx)
}

// short is for one cloud call. It waits for a cancelled activity to finish: a change the
// cloud is still making must be over before its compensation runs.
func (d *blueGreen) short(ctx workflow.Context, summary string) workflow.Context {
	opts := stepActivity()
	opts.WaitForCancellation = true
	opts.Summary = summary
	return workflow.WithActivityOptions(ctx, opts)
}

// polling is for activities that poll until a state is reached, bounded by
// the stability timeout.
func (d *blueGreen) polling(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ScheduleToCloseTimeout: d.stabilityTimeout,
		StartToCloseTimeout:    d.stabilityTimeout,
		HeartbeatTimeout:       15 * time.Second,
		WaitForCancellation:    true,
		RetryPolicy:            retryPolicy(0),
		Summary:                summary,
	})
}

func (d *blueGreen) deploy(ctx workflow.Context) error {
	in := activities.InspectInput{
		Cluster: d.spec.Cluster, Service: d.spec.Service, TargetGroups: d.spec.TargetGroups,
		ProductionListener: d.spec.ProductionListener, TestListener: d.spec.TestListener, ExternalID: d.externalID,
	}
	snap, err := d.inspect(d.short(ctx, "inspect "+d.spec.Service), in)
	if err != nil {
		return err
	}
	d.snap = snap
	d.greenTG, d.blueTG = d.snap.GreenTargetGroup, d.snap.BlueTargetGroup
	if d.blueTG == "" {
		d.blueTG = d.spec.TargetGroups[0]
		if d.greenTG == d.blueTG {
			d.blueTG = d.spec.TargetGroups[1]
		}
	}
	if d.snap.Blue != nil {
		d.progress.Blue = copyTaskSet(d.snap.Blue)
		d.progress.Weights = model.Weights{Blue: 100}
	}

	if err := d.createGreen(ctx); err != nil {
		return err
	}
	if err := d.test(ctx); err != nil {
		return err
	}
	if err := d.shift(ctx); err != nil {
		return err
	}
	if err := d.checkTaskSets(ctx); err != nil {
		return err
	}
	if err := d.switchPrimary(ctx); err != nil {
		return err
	}
	d.enter(model.BGPhaseTerminationWait)
	d.progress.Step = len(d.progress.Steps)
	d.updateDetails(ctx)
	if d.snap.Blue == nil {
		return nil // nothing to keep at scale
	}
	// promote-full skips the shifting steps, not this wait: it is the last
	// window in which cancel rolls back (only promote ends it early).
	// Versioned: earlier runs skipped it after promote-full.
	d.holdAfterFull = workflow.GetVersion(ctx, changeFullKeepsTerminationWait, workflow.DefaultVersion, 1) == 1
	if err := d.pause(ctx, d.terminationWait, false); err != nil {
		return err
	}
	return d.checkTaskSets(ctx) // the last look before blue's removal commits
}

// changeChecksTaskSets: the deployment checks, before the primary switch
// and before blue's removal, that the service has no task set it did not
// create.
const changeChecksTaskSets = "checks-foreign-task-sets"

// checkTaskSets fails with ForeignTaskSet (and the deployment rolls back)
// when a task set the deployment did not create appeared on the service:
// it would serve green's traffic, or be left behind by a deployment that
// ends Succeeded. Runs that began before the check skip it.
func (d *blueGreen) checkTaskSets(ctx workflow.Context) error {
	if workflow.GetVersion(ctx, changeChecksTaskSets, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	known := []string{d.green.ID}
	if d.snap.Blue != nil {
		known = append(known, d.snap.Blue.ID)
	}
	return workflow.ExecuteActivity(d.short(ctx, "check the task sets of "+d.spec.Service), deployments.CheckTaskSets, activities.TaskSetsCheck{
		Cluster: d.spec.Cluster, Service: d.spec.Service, Known: known,
	}).Get(ctx, nil)
}
