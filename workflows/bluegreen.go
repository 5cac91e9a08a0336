package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
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
// Failed health checks, an abort or a cancellation before blue's removal roll
// back: traffic back to blue, blue primary again, green removed. Every
// compensation is registered before the change it undoes and runs on a
// disconnected context, so a change whose answer was lost is undone too.
func BlueGreenDeployment(ctx workflow.Context, spec model.BlueGreenSpec) (*model.BlueGreenResult, error) {
	d := &blueGreen{spec: spec}
	if err := d.setup(ctx); err != nil {
		return nil, err
	}
	return d.run(ctx)
}

var deployments *activities.Deployments

type blueGreen struct {
	spec     model.BlueGreenSpec
	progress model.BlueGreenProgress
	logger   log.Logger
	saga     saga.Saga
	state    details.State // the ImagefleetState search attribute

	// tokenKey scopes client tokens; externalID marks this deployment's
	// green task set. Both survive worker restarts and resets.
	tokenKey   string
	externalID string

	terminationWait, stabilityTimeout, healthInterval time.Duration

	snap  *activities.ServiceSnapshot
	green *cloud.TaskSet
	// blueTG and greenTG are the target groups of blue (or the one green does
	// not use, on a first deployment) and green.
	blueTG, greenTG string

	paused           bool // in a pause or gate: promote applies
	promoteRequested bool
	full             bool // promote-full: skip the remaining steps
	aborted          bool
	committed        bool // blue's removal started: no more rollback
	cancelWork       workflow.CancelFunc
	holdAfterFull    bool // the termination wait is not skipped by promote-full
}

// changeFullKeepsTerminationWait: promote-full no longer skips the
// termination wait.
const changeFullKeepsTerminationWait = "full-keeps-termination-wait"

func (d *blueGreen) setup(ctx workflow.Context) error {
	info := workflow.GetInfo(ctx)
	d.tokenKey = info.WorkflowExecution.ID + "/" + info.FirstRunID
	d.externalID = "imagefleet/" + info.FirstRunID
	d.logger = log.With(workflow.GetLogger(ctx), "cluster", d.spec.Cluster, "service", d.spec.Service)
	d.progress = model.BlueGreenProgress{Cluster: d.spec.Cluster, Service: d.spec.Service, Phase: model.BGPhaseValidating, Step: -1}
	// The query answers from the first workflow task, a refused run included.
	if err := workflow.SetQueryHandlerWithOptions(ctx, model.QueryProgress, func() (model.BlueGreenProgress, error) {
		return d.progress, nil
	}, workflow.QueryHandlerOptions{Description: "phase, step, traffic weights and task sets of the deployment"}); err != nil {
		return err
	}
	if err := lifecycle.RequireWorkflowID(ctx, model.BlueGreenWorkflowID(d.spec.Cluster, d.spec.Service)); err != nil {
		d.progress.Phase, d.progress.Error = model.BGPhaseFailed, err.Error()
		return err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		model.SAOperation.ValueSet(model.OperationBlueGreen),
		model.SAService.ValueSet(model.ServiceKey(d.spec.Cluster, d.spec.Service)),
	); err != nil {
		return err
	}
	d.state.Set(ctx, model.StateRunning)
	if err := d.spec.Validate(); err != nil {
		d.progress.Phase, d.progress.Error = model.BGPhaseFailed, err.Error()
		d.state.Set(ctx, model.StateFailed)
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidSpec, err)
	}
	d.progress.Steps, _ = d.spec.Strategy.Plan()
	d.terminationWait, d.stabilityTimeout, d.healthInterval = d.spec.Durations()
	return d.registerCommands(ctx)
}

func (d *blueGreen) registerCommands(ctx workflow.Context) error {
	refused := func(command string, err error) {
		d.progress.LastRefusal = command + ": " + err.Error()
		d.logger.Warn("Operator command refused", "command", command, "error", err)
	}
	c := d.commands()
	return errors.Join(
		operator.Register(ctx, c.promote, refused),
		operator.Register(ctx, c.promoteFull, refused),
		operator.Register(ctx, c.abort, refused),
	)
}

// blueGreenCommands are a deployment's operator commands.
type blueGreenCommands struct {
	promote, promoteFull operator.Command[model.PromoteCommand]
	abort                operator.Command[model.AbortCommand]
}

// commands returns the operator commands, whose validators read the
// deployment's current state.
func (d *blueGreen) commands() blueGreenCommands {
	promote := func(name string, full bool) operator.Command[model.PromoteCommand] {
		return operator.Command[model.PromoteCommand]{
			Name:     name,
			Validate: func(c model.PromoteCommand) error { return d.validatePromote(full || c.Full) },
			Apply: func(c model.PromoteCommand) {
				full := full || c.Full
				d.logger.Info("Promote", "full", full)
				d.promoteRequested = true
				d.full = d.full || full
			},
		}
	}
	abort := operator.Command[model.AbortCommand]{
		Name:     model.CommandAbort,
		Validate: func(model.AbortCommand) error { return d.validateAbort() },
		Apply: func(c model.AbortCommand) {
			d.logger.Info("Abort requested", "reason", c.Reason)
			d.aborted, d.progress.AbortReason = true, c.Reason
			if d.cancelWork != nil {
				d.cancelWork()
			}
		},
	}
	return blueGreenCommands{promote: promote(model.CommandPromote, false), promoteFull: promote(model.CommandPromoteFull, true), abort: abort}
}

func (d *blueGreen) validatePromote(full bool) error {
	phase := d.progress.Phase
	switch {
	case d.aborted:
		return errors.New("the deployment is being aborted")
	case d.committed || phase == model.BGPhaseRollingBack:
		return fmt.Errorf("the deployment is %s: promote no longer applies", phase)
	case full && d.full:
		return errors.New("promote-full was already accepted: all traffic is being shifted")
	case full && phase != model.BGPhaseValidating && phase != model.BGPhaseCreatingGreen && phase != model.BGPhaseTesting && phase != model.BGPhaseShifting:
		return fmt.Errorf("the deployment is %s: all traffic is already shifted, promote-full no longer applies", phase)
	case full:
		return nil
	case !d.paused:
		return fmt.Errorf("the deployment is not paused (%s): promote ends a pause; promote-full skips every remaining step", d.progress.CurrentStep())
	case d.promoteRequested:
		return errors.New("promote was already accepted for this pause")
	}
	return nil
}

func (d *blueGreen) validateAbort() error {
	switch {
	case d.aborted:
		return errors.New("the deployment is already being aborted")
	case d.committed:
		return fmt.Errorf("the deployment is %s: the new task set is primary and the old one is being removed; deploy the previous task definition to go back", d.progress.Phase)
	case d.progress.Phase == model.BGPhaseRollingBack:
		return errors.New("the deployment is already rolling back")
	}
	return nil
}

func (d *blueGreen) run(ctx workflow.Context) (*model.BlueGreenResult, error) {
	workCtx, cancel := workflow.WithCancel(ctx)
	d.cancelWork = cancel
	defer cancel()
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
	if err := workflow.ExecuteActivity(d.short(ctx, "inspect "+d.spec.Service), deployments.InspectService, in).Get(ctx, &d.snap); err != nil {
		return err
	}
	d.greenTG, d.blueTG = d.snap.GreenTargetGroup, d.snap.BlueTargetGroup
	if d.blueTG == "" {
		d.blueTG = d.spec.TargetGroups[0]
		if d.greenTG == d.blueTG {
			d.blueTG = d.spec.TargetGroups[1]
		}
	}
	if d.snap.Blue != nil {
		d.progress.Blue = taskSetProgress(d.snap.Blue)
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
	if err := d.switchPrimary(ctx); err != nil {
		return err
	}
	d.progress.Phase = model.BGPhaseTerminationWait
	d.progress.Step = len(d.progress.Steps)
	d.updateDetails(ctx)
	if d.snap.Blue == nil {
		return nil // nothing to keep at scale
	}
	// promote-full skips the shifting steps, not this wait: it is the last
	// window in which abort rolls back (only promote ends it early).
	// Versioned: earlier runs skipped it after promote-full.
	d.holdAfterFull = workflow.GetVersion(ctx, changeFullKeepsTerminationWait, workflow.DefaultVersion, 1) == 1
	return d.pause(ctx, d.terminationWait, false)
}

// createGreen creates the green task set at the service's full scale and
// waits until it is stable.
func (d *blueGreen) createGreen(ctx workflow.Context) error {
	d.progress.Phase = model.BGPhaseCreatingGreen
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
	d.progress.Phase = model.BGPhaseTesting
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

// shift runs the steps of the plan; promote-full jumps to all traffic on green.
func (d *blueGreen) shift(ctx workflow.Context) error {
	d.progress.Phase = model.BGPhaseShifting
	previous := d.snap.ProductionActions
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
		if d.full {
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
	if d.full && d.progress.Weights.Green != 100 {
		d.progress.Step = len(d.progress.Steps) - 1
		d.updateDetails(ctx)
		return d.setWeight(ctx, 100)
	}
	return nil
}

// setWeight gives green weight percent of production traffic, then checks
// its health.
func (d *blueGreen) setWeight(ctx workflow.Context, weight int) error {
	err := d.setListener(ctx, d.spec.ProductionListener, cloud.ForwardWeights(
		cloud.TargetGroupTuple{TargetGroupArn: d.blueTG, Weight: 100 - weight},
		cloud.TargetGroupTuple{TargetGroupArn: d.greenTG, Weight: weight},
	))
	if err != nil {
		return err
	}
	d.progress.Weights = model.Weights{Blue: 100 - weight, Green: weight}
	d.logger.Info("Traffic shifted", "green", weight)
	d.updateDetails(ctx)
	return d.checkHealth(ctx)
}

// pause waits for period (gate: until promote) while one activity watches
// green's health. promote ends it early; abort cancels ctx; unhealthy
// targets fail it.
func (d *blueGreen) pause(ctx workflow.Context, period time.Duration, gate bool) error {
	end := workflow.Now(ctx).Add(period)
	d.paused, d.promoteRequested = true, false
	defer func() { d.paused, d.progress.WaitingFor, d.progress.PauseEnds = false, "", time.Time{} }()
	if gate {
		d.progress.WaitingFor = fmt.Sprintf("%s (or %s, %s)", model.CommandPromote, model.CommandPromoteFull, model.CommandAbort)
	} else {
		d.progress.PauseEnds = end
	}
	d.updateDetails(ctx)
	monitorCtx, stopMonitor := workflow.WithCancel(ctx)
	defer stopMonitor()
	monitor := d.monitor(monitorCtx)
	promoted := func() bool { return d.promoteRequested || (d.full && !d.holdAfterFull) }
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
	if d.promoteRequested {
		d.logger.Info("Pause ended by promote")
	}
	d.promoteRequested = false
	return nil
}

// monitor starts the activity that watches green's health during a pause.
// Its attempts are bounded in time and retried for as long as the pause lasts.
func (d *blueGreen) monitor(ctx workflow.Context) workflow.Future {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    d.healthInterval + 30*time.Second,
		RetryPolicy:         retryPolicy(0),
		Summary:             "watch the health of " + d.green.Id,
	})
	return workflow.ExecuteActivity(actx, deployments.MonitorTargetHealth, activities.MonitorInput{
		HealthInput: activities.HealthInput{TargetGroupArn: d.greenTG, TaskSetArn: d.green.TaskSetArn, Expected: d.green.ComputedDesiredCount},
		Interval:    d.healthInterval,
	})
}

// switchPrimary makes green the primary task set. Its compensation, added
// first, makes blue primary again at its previous scale: it also repairs a
// switch that failed half-way or whose answer was lost.
func (d *blueGreen) switchPrimary(ctx workflow.Context) error {
	d.progress.Phase = model.BGPhaseSwitchPrimary
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
		d.committed = true // no old task set to go back to
	}
	return nil
}

// finish removes blue once green is primary and the termination wait is
// over. It runs on a disconnected context: a cancellation now must not leave
// blue behind.
func (d *blueGreen) finish(ctx workflow.Context) (*model.BlueGreenResult, error) {
	d.committed = true
	d.saga = saga.Saga{} // the deployment stands: nothing to undo any more
	result := &model.BlueGreenResult{
		Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSetID: d.green.Id, TaskDefinition: d.spec.TaskDefinition,
		TargetGroup: d.greenTG, Promoted: d.full,
	}
	if blue := d.snap.Blue; blue != nil {
		d.progress.Phase = model.BGPhaseRemovingBlue
		d.updateDetails(ctx)
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, cleanupActivity()), deployments.RemoveTaskSets, activities.RemoveInput{
			Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSet: blue.Id,
		}).Get(dctx, nil)
		if err != nil {
			d.progress.Phase, d.progress.Error = model.BGPhaseFailed, lifecycle.RootMessage(err)
			d.state.Set(ctx, model.StateFailed)
			return nil, fmt.Errorf("the new task set %s is primary, but the old task set %s could not be removed: %w", d.green.Id, blue.Id, err)
		}
		d.progress.Blue.Status, d.progress.Blue.Scale = "Deleted", 0
		result.PreviousTaskSetID = blue.Id
	}
	d.progress.Phase = model.BGPhaseSucceeded
	d.updateDetails(ctx)
	d.state.Set(ctx, model.StateSucceeded)
	d.logger.Info("Deployment complete", "taskSet", d.green.Id)
	return result, nil
}

// rollback undoes every change made and returns the error the run ends with.
func (d *blueGreen) rollback(ctx workflow.Context, cause error) error {
	canceled := temporal.IsCanceledError(cause) && !d.aborted
	d.progress.Phase = model.BGPhaseRollingBack
	if !d.aborted && !canceled {
		d.progress.Error = lifecycle.RootMessage(cause)
	}
	d.logger.Warn("Rolling back", "cause", cause, "aborted", d.aborted)
	d.updateDetails(ctx)
	d.state.Set(ctx, model.StateCompensating)
	if err := d.saga.Compensate(ctx); err != nil {
		d.progress.Phase = model.BGPhaseFailed
		d.progress.Error = fmt.Sprintf("%s; and the rollback failed: %v", lifecycle.RootMessage(cause), err)
		d.updateDetails(ctx)
		d.state.Set(ctx, model.StateFailed)
		return fmt.Errorf("%w; and the rollback failed: %v", cause, err)
	}
	d.progress.Phase = model.BGPhaseRolledBack
	d.updateDetails(ctx)
	switch {
	case d.aborted:
		d.state.Set(ctx, model.StateAborted)
		return temporal.NewApplicationErrorWithOptions("deployment aborted by the operator and rolled back: "+d.progress.AbortReason, ErrTypeAborted,
			temporal.ApplicationErrorOptions{NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign})
	case canceled:
		d.state.Set(ctx, model.StateAborted)
		return cause
	}
	d.state.Set(ctx, model.StateFailed)
	var appErr *temporal.ApplicationError
	errType := ErrTypeRolledBack
	if errors.As(cause, &appErr) && appErr.Type() != "" {
		errType = appErr.Type()
	}
	return temporal.NewNonRetryableApplicationError("deployment rolled back: "+lifecycle.RootMessage(cause), errType, cause)
}

// ErrTypeRolledBack is the error type of a deployment rolled back for a
// reason without a type of its own (e.g. the stability timeout).
const ErrTypeRolledBack = "RolledBack"

func taskSetProgress(ts *cloud.TaskSet) *model.TaskSetProgress {
	p := &model.TaskSetProgress{
		ID: ts.Id, Arn: ts.TaskSetArn, TaskDefinition: ts.TaskDefinition, Status: ts.Status, Scale: ts.Scale.Value,
		Desired: ts.ComputedDesiredCount, Running: ts.RunningCount, Stability: ts.StabilityStatus,
	}
	if len(ts.LoadBalancers) > 0 {
		p.TargetGroup = ts.LoadBalancers[0].TargetGroupArn
	}
	return p
}

// updateDetails refreshes the Web UI's current details and the state
// search attribute.
func (d *blueGreen) updateDetails(ctx workflow.Context) {
	if d.progress.Phase != model.BGPhaseRollingBack && d.progress.Phase != model.BGPhaseRolledBack && d.progress.Phase != model.BGPhaseFailed && d.progress.Phase != model.BGPhaseSucceeded {
		state := model.StateRunning
		if d.progress.WaitingFor != "" {
			state = model.StateWaitingForOperator
		}
		d.state.Set(ctx, state)
	}
	workflow.SetCurrentDetails(ctx, blueGreenDetails(&d.progress))
}

// blueGreenDetails renders progress as Markdown for the Web UI.
func blueGreenDetails(p *model.BlueGreenProgress) string {
	var d details.Doc
	d.Para("**%s/%s** — %s, %s", p.Cluster, p.Service, p.Phase, p.CurrentStep())
	d.Para("Production traffic: blue %d%% · green %d%%", p.Weights.Blue, p.Weights.Green)
	if p.WaitingFor != "" {
		d.Para("⏸ Waiting for %s", p.WaitingFor)
	}
	if !p.PauseEnds.IsZero() {
		d.Para("⏸ Paused until %s", p.PauseEnds.Format(time.RFC3339))
	}
	if p.Error != "" {
		d.Para("❌ %s", p.Error)
	}
	steps := d.Table("step", "")
	for i, s := range p.Steps {
		mark := ""
		switch {
		case i < p.Step:
			mark = "✓"
		case i == p.Step:
			mark = "▶"
		}
		steps.Row(fmt.Sprintf("%d. %s", i+1, s), mark)
	}
	sets := d.Table("task set", "id", "task definition", "status", "scale", "running")
	for _, ts := range []struct {
		name string
		p    *model.TaskSetProgress
	}{{"blue", p.Blue}, {"green", p.Green}} {
		if ts.p != nil {
			sets.Row(ts.name, ts.p.ID, ts.p.TaskDefinition, ts.p.Status, fmt.Sprintf("%v%%", ts.p.Scale), fmt.Sprintf("%d/%d", ts.p.Running, ts.p.Desired))
		}
	}
	d.StepDeadline(model.StepDeadline)
	return d.String()
}
