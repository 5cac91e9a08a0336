package workflows

import (
	"errors"
	"fmt"
	"slices"
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

// ImageBuild builds a custom image from an image template (ECS Image
// Builder): it resolves the source image, prepares a network (the template's
// vSwitch or a temporary VPC and vSwitch), launches an intermediate instance
// (the smallest instance type in stock unless the template names one),
// checks the guest OS and repairs what it finds, runs the build components,
// creates the image, tests it on a new instance, distributes it to the
// template's regions (as a DistributeImagePackage child workflow), shares it
// with the template's accounts, and releases every intermediate resource —
// instances, then vSwitch, then VPC — also after a failure or cancel.
func ImageBuild(ctx workflow.Context, in model.BuildInput) (*model.BuildResult, error) {
	return execute[model.BuildResult](ctx, &build{in: in})
}

// Error types an image build fails with (the contract is model's).
const (
	ErrTypeBuildFailed        = model.ErrTypeBuildFailed
	ErrTypeBuildCancelled     = model.ErrTypeBuildCancelled
	ErrTypeComponentFailed    = model.ErrTypeComponentFailed
	ErrTypeGuestOSCheck       = model.ErrTypeGuestOSCheck
	ErrTypeNoInstanceType     = model.ErrTypeNoInstanceType
	ErrTypeBuildCleanupFailed = model.ErrTypeBuildCleanupFailed
)

var builds *activities.Builds

type build struct {
	in       model.BuildInput
	window   time.Duration
	tpl      model.BuildTemplate
	progress model.BuildProgress
	logger   log.Logger
	tokenKey string
	state    details.State // the ImagefleetState search attribute
	status   buildStatus   // what the operator commands see
	// stopSteps cancels the step running (cancel).
	stopSteps workflow.CancelFunc
	// children keeps what the build's distribution child waits for, which
	// the build shows as its own wait.
	children lifecycle.ChildWaits

	// intermediate holds the release of instances, vSwitch and VPC (added in
	// that reverse order, so they are released instances first); outputs the
	// deletion of the images made, run only when the build does not succeed.
	intermediate saga.Saga
	outputs      saga.Saga

	vpcID, vSwitchID, instanceID, instanceType string
	diskSize                                   int // GiB: the template's, at least the source image's
	componentsDone                             int
	attempts                                   map[string]int // step → runs, for client tokens

	// wireTypes: the run began before changeBuildModelTypes (build_legacy.go).
	wireTypes bool
}

func (b *build) setup(ctx workflow.Context) error {
	info := workflow.GetInfo(ctx)
	b.tokenKey = info.WorkflowExecution.ID + "/" + info.FirstRunID
	b.logger = log.With(workflow.GetLogger(ctx), "template", b.in.TemplateID, "region", b.in.Region)
	b.attempts = map[string]int{}
	b.progress = model.BuildProgress{Region: b.in.Region, TemplateID: b.in.TemplateID, Step: model.StepStart}
	err := lifecycle.Start(ctx, &b.state, lifecycle.Setup{
		Queries: []lifecycle.Query{{
			Name:        model.QueryBuildProgress,
			Description: "current step, guest-OS check report, component outputs, resources created and released",
			Handler:     func() (model.BuildProgress, error) { return b.progress, nil },
		}},
		WorkflowID: model.BuildWorkflowID(b.in.Region, b.in.TemplateID),
		SearchAttributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationBuild),
			model.SATemplate.ValueSet(b.in.TemplateID),
		},
		Validate: b.in.Validate,
		Refused:  func(err error) { b.progress.Step, b.progress.Error = model.StepDone, err.Error() },
		Commands: b.registerCommands,
	})
	b.window, _ = b.in.Window()
	return err
}

// registerCommands installs cancel and retry-step.
func (b *build) registerCommands(ctx workflow.Context) error {
	refused := operator.RecordRefusal(&b.progress.LastRefusal, b.logger)
	cancel, retry := b.commands()
	b.children.Changed = b.showChildWait
	b.children.Register(ctx)
	return errors.Join(operator.Register(ctx, cancel, refused), operator.Register(ctx, retry, refused))
}

// commands are the build's operator commands: their validators read the
// status, their Apply changes it.
func (b *build) commands() (operator.Command[model.CancelBuildCommand], operator.Command[model.RetryStepCommand]) {
	cancel := operator.Command[model.CancelBuildCommand]{
		Name:     model.CommandCancelBuild,
		Validate: b.validateCancel,
		Apply: func(c model.CancelBuildCommand) {
			if !b.status.cancel() {
				return // cancel may be sent more than once
			}
			b.logger.Info("Cancel requested", "reason", c.Reason)
			b.progress.Cancelled, b.progress.CancelReason = true, c.Reason
			if b.stopSteps != nil {
				b.stopSteps()
			}
		},
	}
	retry := operator.Command[model.RetryStepCommand]{
		Name:     model.CommandRetryStep,
		Validate: b.validateRetry,
		Apply: func(c model.RetryStepCommand) {
			b.logger.Info("Retry of the failed step requested", "step", b.progress.FailedStep, "components", len(c.Components))
			if len(c.Components) > 0 {
				b.replaceComponents(b.progress.FailedStep, c.Components)
			}
			b.status.retry()
		},
	}
	return cancel, retry
}

func (b *build) validateCancel(c model.CancelBuildCommand) error {
	switch {
	case c.ExecutionID != "" && b.progress.ExecutionID != "" && c.ExecutionID != b.progress.ExecutionID:
		return fmt.Errorf("build %s is not this run: template %s is running build %s", c.ExecutionID, b.in.TemplateID, b.progress.ExecutionID)
	case b.status.cancelled():
		return nil // again: accepted, nothing more to do
	case b.status.ended():
		return fmt.Errorf("build %s has ended (%s): there is nothing to cancel", b.progress.ExecutionID, b.progress.Step)
	}
	return nil
}

func (b *build) validateRetry(c model.RetryStepCommand) error {
	switch {
	case b.status.cancelled():
		return errors.New("the build is being cancelled")
	case !b.status.waiting() && !b.status.retryRequested():
		return fmt.Errorf("no failed step waits for a retry (the build is at step %s)", b.progress.Step)
	case c.Step != "" && c.Step != b.progress.FailedStep:
		return fmt.Errorf("step %s did not fail: the failed step is %s", c.Step, b.progress.FailedStep)
	case b.status.retryRequested():
		return fmt.Errorf("a retry of %s is already requested", b.progress.FailedStep)
	case len(c.Components) > 0 && b.progress.FailedStep != model.StepComponents && b.progress.FailedStep != model.StepTest:
		return fmt.Errorf("components can be replaced only when %s or %s failed, not %s", model.StepComponents, model.StepTest, b.progress.FailedStep)
	}
	return c.Validate()
}

// replaceComponents applies an operator's fixed components to this build:
// the failed build component and those after it, or the test components.
func (b *build) replaceComponents(step string, comps []model.TemplateComponent) {
	fixed := slices.Clone(comps)
	if step == model.StepTest {
		b.tpl.Tests = fixed
	} else {
		b.tpl.Components = append(slices.Clip(b.tpl.Components[:b.componentsDone]), fixed...)
	}
	b.progress.Replaced = append(b.progress.Replaced, fmt.Sprintf("%s: %d component(s)", step, len(fixed)))
}

type buildStep struct {
	name string
	run  func(ctx workflow.Context) error
}

func (b *build) steps() []buildStep {
	steps := []buildStep{
		{model.StepResolve, b.resolve},
		{model.StepNetwork, b.network},
		{model.StepInstance, b.launch},
		{model.StepCheck, b.checkAndRepair},
		{model.StepComponents, b.components},
		{model.StepCreateImage, b.createImage},
	}
	if b.tpl.Test {
		steps = append(steps, buildStep{model.StepTest, b.test})
	}
	steps = append(steps, buildStep{model.StepDistribute, b.distribute})
	if len(b.tpl.Accounts) > 0 {
		steps = append(steps, buildStep{model.StepShare, b.share})
	}
	return steps
}

func (b *build) run(ctx workflow.Context) (*model.BuildResult, error) {
	stepCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	b.stopSteps = cancel
	b.wireTypes = workflow.GetVersion(ctx, changeBuildModelTypes, workflow.DefaultVersion, 1) == workflow.DefaultVersion
	if err := b.start(stepCtx); err != nil {
		return nil, b.end(ctx, model.StepStart, err)
	}
	steps := b.steps()
	for i := 0; i < len(steps); {
		s := steps[i]
		err := b.enter(stepCtx, s.name)
		if err == nil {
			err = s.run(stepCtx)
		}
		if err == nil {
			i++
			continue
		}
		if b.status.cancelled() || ctx.Err() != nil {
			return nil, b.end(ctx, s.name, err)
		}
		b.progress.FailedStep, b.progress.Error = s.name, lifecycle.RootMessage(err)
		b.logger.Warn("Step failed", "step", s.name, "error", err)
		if !b.awaitRetry(ctx, s.name) {
			return nil, b.end(ctx, s.name, err)
		}
		b.progress.FailedStep, b.progress.Error = "", ""
	}
	return b.succeed(ctx)
}

// start records the build in the cloud and reads the template.
func (b *build) start(ctx workflow.Context) error {
	b.updateDetails(ctx)
	out, err := b.startExecution(b.short(ctx, "start a build of "+b.in.TemplateID), activities.StartExecutionInput{
		Region: b.in.Region, TemplateID: b.in.TemplateID, ClientToken: model.ClientToken(b.tokenKey, "start"),
	})
	if err != nil {
		return err
	}
	b.tpl = out.Template
	b.progress.ExecutionID, b.progress.TemplateName = out.ExecutionID, out.Template.Name
	b.logger = log.With(b.logger, "execution", out.ExecutionID)
	return nil
}

// awaitRetry waits for retry-step when the template keeps resources on
// failure; it reports whether the step is to run again.
func (b *build) awaitRetry(ctx workflow.Context, step string) bool {
	if b.tpl.ReleaseOnFailure || b.window == 0 {
		return false
	}
	b.status.wait()
	b.progress.WaitingFor = fmt.Sprintf("operator: %s (run %s again; the resources are kept) or %s, within %s",
		model.CommandRetryStep, step, model.CommandCancelBuild, b.window)
	b.state.Waiting(ctx, true)
	b.updateDetails(ctx)
	b.report(ctx, activities.UpdateExecutionInput{Message: fmt.Sprintf("step %s failed: %s; waiting for retry-step", step, b.progress.Error)})
	ok, err := workflow.AwaitWithTimeout(ctx, b.window, func() bool { return b.status.waitOver() })
	retry := b.status.stopWaiting() && err == nil && ok
	b.progress.WaitingFor = ""
	if retry {
		b.state.Waiting(ctx, false)
	}
	return retry
}

// enter starts a step: the query, the Web UI and the cloud's execution
// record show it. A step run again after retry-step says so in the record,
// whose message said until then that the build waited for it.
func (b *build) enter(ctx workflow.Context, step string) error {
	b.progress.Step = step
	b.attempts[step]++
	b.updateDetails(ctx)
	in := activities.UpdateExecutionInput{
		Region: b.in.Region, ExecutionID: b.progress.ExecutionID, Status: executionStatus(step), Step: step,
	}
	if b.attempts[step] > 1 {
		in.Message = fmt.Sprintf("step %s runs again (retry-step)", step)
	}
	return workflow.ExecuteActivity(b.short(ctx, "report step "+step), builds.UpdateBuildExecution, in).Get(ctx, nil)
}

// report updates the cloud's execution record; a failure is logged, since
// the record is informative and the build goes on.
func (b *build) report(ctx workflow.Context, in activities.UpdateExecutionInput) {
	in.Region, in.ExecutionID = b.in.Region, b.progress.ExecutionID
	if in.ExecutionID == "" {
		return
	}
	if err := workflow.ExecuteActivity(b.short(ctx, "report the build's status"), builds.UpdateBuildExecution, in).Get(ctx, nil); err != nil {
		b.logger.Error("Could not update the execution record", "status", in.Status, "error", err)
	}
}

func executionStatus(step string) string {
	switch step {
	case model.StepCheck:
		return model.ExecutionRepairing
	case model.StepComponents, model.StepCreateImage:
		return model.ExecutionBuilding
	case model.StepTest:
		return model.ExecutionTesting
	case model.StepDistribute, model.StepShare:
		return model.ExecutionDistributing
	case model.StepRelease:
		return model.ExecutionReleasing
	}
	return model.ExecutionPreparing
}

func (b *build) token(parts ...string) string {
	return model.ClientToken(append([]string{b.tokenKey}, parts...)...)
}

func (b *build) attempt(step string) string { return fmt.Sprint(b.attempts[step]) }

func (b *build) short(ctx workflow.Context, summary string) workflow.Context {
	opts := stepActivity()
	opts.Summary = summary
	return workflow.WithActivityOptions(ctx, opts)
}

// long is for activities that poll until a cloud operation ends; like any
// step they retry transient errors until model.StepDeadline (past the poll's
// own two hours).
func (b *build) long(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Hour,
		ScheduleToCloseTimeout: 2*time.Hour + model.StepDeadline,
		HeartbeatTimeout:       15 * time.Second,
		WaitForCancellation:    true,
		RetryPolicy:            retryPolicy(0),
		Summary:                summary,
	})
}

// create runs a creating activity on a disconnected context, so that a
// cancel cannot lose the ID of a resource the cloud has made.
func (b *build) create(ctx workflow.Context, summary string, act any, in any, id *string) error {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	return workflow.ExecuteActivity(b.short(dctx, summary), act, in).Get(dctx, id)
}
