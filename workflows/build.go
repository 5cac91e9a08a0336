package workflows

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
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
	b := &build{in: in}
	if err := b.setup(ctx); err != nil {
		return nil, err
	}
	return b.run(ctx)
}

// Error types an image build fails with.
const (
	ErrTypeBuildFailed        = "BuildFailed"
	ErrTypeBuildCancelled     = "BuildCancelled"
	ErrTypeComponentFailed    = "ComponentFailed"
	ErrTypeGuestOSCheck       = "GuestOSCheckFailed"
	ErrTypeNoInstanceType     = "NoInstanceTypeInStock"
	ErrTypeBuildCleanupFailed = "BuildCleanupFailed"
)

var builds *activities.Builds

type build struct {
	in       model.BuildInput
	window   time.Duration
	tpl      cloud.ImagePipeline
	progress model.BuildProgress
	logger   log.Logger
	tokenKey string
	state    details.State // the ImagefleetState search attribute

	// intermediate holds the release of instances, vSwitch and VPC (added in
	// that reverse order, so they are released instances first); outputs the
	// deletion of the images made, run only when the build does not succeed.
	intermediate saga.Saga
	outputs      saga.Saga

	vpcID, vSwitchID, instanceID, instanceType string
	diskSize                                   int // GiB: the template's, at least the source image's
	componentsDone                             int
	attempts                                   map[string]int // step → runs, for client tokens

	cancelled      bool
	cancelSteps    workflow.CancelFunc
	waiting        bool // a failed step waits for retry-step
	retryRequested bool
	finished       bool // releasing after the end, or done
}

func (b *build) setup(ctx workflow.Context) error {
	info := workflow.GetInfo(ctx)
	b.tokenKey = info.WorkflowExecution.ID + "/" + info.FirstRunID
	b.logger = log.With(workflow.GetLogger(ctx), "template", b.in.TemplateID, "region", b.in.Region)
	b.attempts = map[string]int{}
	b.progress = model.BuildProgress{Region: b.in.Region, TemplateID: b.in.TemplateID, Step: model.StepStart}
	// The query answers from the first workflow task, a refused run included.
	if err := workflow.SetQueryHandlerWithOptions(ctx, model.QueryBuildProgress, func() (model.BuildProgress, error) {
		return b.progress, nil
	}, workflow.QueryHandlerOptions{Description: "current step, guest-OS check report, component outputs, resources created and released"}); err != nil {
		return err
	}
	if err := lifecycle.RequireWorkflowID(ctx, model.BuildWorkflowID(b.in.Region, b.in.TemplateID)); err != nil {
		b.progress.Step, b.progress.Error = model.StepDone, err.Error()
		return err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		model.SAOperation.ValueSet(model.OperationBuild),
		model.SATemplate.ValueSet(b.in.TemplateID),
	); err != nil {
		return err
	}
	b.state.Set(ctx, model.StateRunning)
	if err := b.in.Validate(); err != nil {
		b.progress.Step, b.progress.Error = model.StepDone, err.Error()
		b.state.Set(ctx, model.StateFailed)
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidSpec, err)
	}
	b.window, _ = b.in.Window()
	refused := func(command string, err error) {
		b.progress.LastRefusal = command + ": " + err.Error()
		b.logger.Warn("Operator command refused", "command", command, "error", err)
	}
	cancel := operator.Command[model.CancelBuildCommand]{
		Name:     model.CommandCancelBuild,
		Validate: b.validateCancel,
		Apply: func(c model.CancelBuildCommand) {
			if b.cancelled {
				return // cancel may be sent more than once
			}
			b.logger.Info("Cancel requested", "reason", c.Reason)
			b.cancelled, b.progress.Cancelled, b.progress.CancelReason = true, true, c.Reason
			if b.cancelSteps != nil {
				b.cancelSteps()
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
			b.retryRequested = true
		},
	}
	return errors.Join(operator.Register(ctx, cancel, refused), operator.Register(ctx, retry, refused))
}

func (b *build) validateCancel(c model.CancelBuildCommand) error {
	switch {
	case c.ExecutionID != "" && b.progress.ExecutionID != "" && c.ExecutionID != b.progress.ExecutionID:
		return fmt.Errorf("build %s is not this run: template %s is running build %s", c.ExecutionID, b.in.TemplateID, b.progress.ExecutionID)
	case b.cancelled:
		return nil // again: accepted, nothing more to do
	case b.finished:
		return fmt.Errorf("build %s has ended (%s): there is nothing to cancel", b.progress.ExecutionID, b.progress.Step)
	}
	return nil
}

func (b *build) validateRetry(c model.RetryStepCommand) error {
	switch {
	case b.cancelled:
		return errors.New("the build is being cancelled")
	case !b.waiting:
		return fmt.Errorf("no failed step waits for a retry (the build is at step %s)", b.progress.Step)
	case c.Step != "" && c.Step != b.progress.FailedStep:
		return fmt.Errorf("step %s did not fail: the failed step is %s", c.Step, b.progress.FailedStep)
	case b.retryRequested:
		return fmt.Errorf("a retry of %s is already requested", b.progress.FailedStep)
	case len(c.Components) > 0 && b.progress.FailedStep != model.StepComponents && b.progress.FailedStep != model.StepTest:
		return fmt.Errorf("components can be replaced only when %s or %s failed, not %s", model.StepComponents, model.StepTest, b.progress.FailedStep)
	}
	return c.Validate()
}

// replaceComponents applies an operator's fixed components to this build:
// the failed build component and those after it, or the test components.
func (b *build) replaceComponents(step string, comps []model.TemplateComponent) {
	fixed := make([]cloud.Component, len(comps))
	for i, c := range comps {
		fixed[i] = cloud.Component{ComponentName: c.Component, Name: c.Name, Type: c.Type, Content: c.Content, RequiresInternet: c.RequiresInternet}
	}
	if step == model.StepTest {
		b.tpl.TestContent = fixed
	} else {
		b.tpl.BuildContent = append(slices.Clip(b.tpl.BuildContent[:b.componentsDone]), fixed...)
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
	if b.tpl.TestMode {
		steps = append(steps, buildStep{model.StepTest, b.test})
	}
	steps = append(steps, buildStep{model.StepDistribute, b.distribute})
	if len(b.tpl.AddAccounts) > 0 {
		steps = append(steps, buildStep{model.StepShare, b.share})
	}
	return steps
}

func (b *build) run(ctx workflow.Context) (*model.BuildResult, error) {
	stepCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	b.cancelSteps = cancel
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
		if b.cancelled || ctx.Err() != nil {
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
	var out activities.StartExecutionOutput
	err := workflow.ExecuteActivity(b.short(ctx, "start a build of "+b.in.TemplateID), builds.StartBuildExecution, activities.StartExecutionInput{
		Region: b.in.Region, TemplateID: b.in.TemplateID, ClientToken: model.ClientToken(b.tokenKey, "start"),
	}).Get(ctx, &out)
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
	if b.tpl.DeleteInstanceOnFailure || b.window == 0 {
		return false
	}
	b.waiting = true
	b.progress.WaitingFor = fmt.Sprintf("operator: %s (run %s again; the resources are kept) or %s, within %s",
		model.CommandRetryStep, step, model.CommandCancelBuild, b.window)
	b.state.Set(ctx, model.StateWaitingForOperator)
	b.updateDetails(ctx)
	b.report(ctx, activities.UpdateExecutionInput{Message: fmt.Sprintf("step %s failed: %s; waiting for retry-step", step, b.progress.Error)})
	ok, err := workflow.AwaitWithTimeout(ctx, b.window, func() bool { return b.retryRequested || b.cancelled })
	retry := err == nil && ok && b.retryRequested && !b.cancelled
	b.waiting, b.retryRequested, b.progress.WaitingFor = false, false, ""
	if retry {
		b.state.Set(ctx, model.StateRunning)
	}
	return retry
}

// enter starts a step: the query, the Web UI and the cloud's execution
// record show it.
func (b *build) enter(ctx workflow.Context, step string) error {
	b.progress.Step = step
	b.attempts[step]++
	b.updateDetails(ctx)
	return workflow.ExecuteActivity(b.short(ctx, "report step "+step), builds.UpdateBuildExecution, activities.UpdateExecutionInput{
		Region: b.in.Region, ExecutionID: b.progress.ExecutionID, Status: executionStatus(step), Step: step,
	}).Get(ctx, nil)
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
		return cloud.PipelineExecutionRepairing
	case model.StepComponents, model.StepCreateImage:
		return cloud.PipelineExecutionBuilding
	case model.StepTest:
		return cloud.PipelineExecutionTesting
	case model.StepDistribute, model.StepShare:
		return cloud.PipelineExecutionDistributing
	case model.StepRelease:
		return cloud.PipelineExecutionReleasing
	}
	return cloud.PipelineExecutionPreparing
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

func (b *build) resolve(ctx workflow.Context) error {
	var img cloud.Image
	err := workflow.ExecuteActivity(b.short(ctx, "resolve "+b.tpl.BaseImage), builds.ResolveBuildSource, activities.ResolveSourceInput{
		Region: b.tpl.RegionId, BaseType: b.tpl.BaseImageType, Base: b.tpl.BaseImage,
	}).Get(ctx, &img)
	if err != nil {
		return err
	}
	b.progress.SourceImage, b.progress.OSType = img.ImageId, img.OSType
	// The system disk holds the image: a larger source image than the
	// template's disk size gets a disk of its own size.
	b.diskSize = max(b.tpl.SystemDiskSize, img.Size)
	return nil
}

func (b *build) network(ctx workflow.Context) error {
	region := b.tpl.RegionId
	if b.tpl.VSwitchId != "" {
		b.vSwitchID = b.tpl.VSwitchId
		return workflow.ExecuteActivity(b.short(ctx, "check vSwitch "+b.tpl.VSwitchId), builds.CheckBuildVSwitch,
			activities.ResourceInput{Region: region, ID: b.tpl.VSwitchId}).Get(ctx, nil)
	}
	name := "imagebuilder-" + b.progress.ExecutionID
	if b.vpcID == "" {
		var id string
		if err := b.create(ctx, "create a temporary VPC", builds.CreateBuildVpc, activities.NetworkInput{
			Region: region, Name: name, ClientToken: b.token("vpc", b.attempt(model.StepNetwork)),
		}, &id); err != nil {
			return err
		}
		b.vpcID = id
		b.track(model.ResourceVpc, id, region, &b.intermediate)
		if err := ctx.Err(); err != nil {
			return err // cancelled meanwhile: create nothing more
		}
	}
	if b.vSwitchID == "" {
		var id string
		if err := b.create(ctx, "create a temporary vSwitch", builds.CreateBuildVSwitch, activities.NetworkInput{
			Region: region, Name: name, VpcID: b.vpcID, ClientToken: b.token("vswitch", b.attempt(model.StepNetwork)),
		}, &id); err != nil {
			return err
		}
		b.vSwitchID = id
		b.track(model.ResourceVSwitch, id, region, &b.intermediate)
	}
	return ctx.Err()
}

// launch starts the intermediate instance: the template's instance type, or
// the smallest type in stock, trying the next size when one is sold out.
func (b *build) launch(ctx workflow.Context) error {
	if b.instanceID == "" {
		candidates := []string{b.tpl.InstanceType}
		if b.tpl.InstanceType == "" {
			var types []cloud.InstanceType
			if err := workflow.ExecuteActivity(b.short(ctx, "list instance types"), builds.BuildInstanceTypes, b.tpl.RegionId).Get(ctx, &types); err != nil {
				return err
			}
			candidates = nil
			for _, t := range types {
				if t.Status == cloud.StockSoldOut {
					b.progress.Attempts = append(b.progress.Attempts, model.InstanceTypeAttempt{InstanceType: t.InstanceTypeId, Result: "SoldOut", Error: "sold out (DescribeInstanceTypes)"})
					continue
				}
				candidates = append(candidates, t.InstanceTypeId)
			}
		}
		id, err := b.launchFirst(ctx, candidates, b.progress.SourceImage, "instance", model.ResourceInstance)
		if err != nil {
			return err
		}
		b.instanceID = id
	}
	return b.awaitRunning(ctx, b.instanceID)
}

// launchFirst launches an instance of the first type in stock.
func (b *build) launchFirst(ctx workflow.Context, types []string, image, purpose, kind string) (string, error) {
	for _, typ := range types {
		if err := ctx.Err(); err != nil {
			return "", err // cancelled while trying sizes
		}
		var id string
		err := b.create(ctx, "launch a "+typ+" "+purpose, builds.LaunchBuildInstance, activities.LaunchInput{
			Region: b.tpl.RegionId, ImageID: image, InstanceType: typ, VSwitchID: b.vSwitchID, DiskSize: b.diskSize,
			Name: "imagebuilder-" + purpose + "-" + b.progress.ExecutionID,
			Tags: map[string]string{"imagefleet:build": b.progress.ExecutionID},
			// The step's run number keeps a retried launch from answering
			// the instance a previous run made (and released).
			ClientToken: b.token(purpose, typ, b.attempt(b.progress.Step)),
		}, &id)
		if err == nil {
			if kind == model.ResourceInstance {
				b.progress.Attempts = append(b.progress.Attempts, model.InstanceTypeAttempt{InstanceType: typ, Result: "Launched"})
				b.instanceType = typ
			}
			b.track(kind, id, b.tpl.RegionId, &b.intermediate)
			return id, ctx.Err()
		}
		if !lifecycle.IsType(err, activities.ErrTypeNoStock) {
			if kind == model.ResourceInstance {
				b.progress.Attempts = append(b.progress.Attempts, model.InstanceTypeAttempt{InstanceType: typ, Result: "Failed", Error: lifecycle.RootMessage(err)})
			}
			return "", err
		}
		if kind == model.ResourceInstance {
			b.progress.Attempts = append(b.progress.Attempts, model.InstanceTypeAttempt{InstanceType: typ, Result: "SoldOut", Error: lifecycle.RootMessage(err)})
		}
		b.logger.Info("Instance type sold out, trying the next size", "instanceType", typ)
		b.updateDetails(ctx)
	}
	// The types tried: those launched here and those the listing showed sold
	// out (which were never launched).
	var tried []string
	if kind == model.ResourceInstance {
		for _, a := range b.progress.Attempts {
			tried = append(tried, a.InstanceType)
		}
	} else {
		tried = types
	}
	what := "none were offered"
	if len(tried) > 0 {
		what = "tried " + strings.Join(tried, ", ")
	}
	return "", temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("no instance type is in stock in %s (%s)", b.tpl.RegionId, what), ErrTypeNoInstanceType, nil)
}

func (b *build) awaitRunning(ctx workflow.Context, id string) error {
	return workflow.ExecuteActivity(b.long(ctx, "wait for "+id+" to run"), builds.AwaitBuildInstance,
		activities.ResourceInput{Region: b.tpl.RegionId, ID: id}).Get(ctx, nil)
}

func (b *build) checkGuestOS(ctx workflow.Context, instance string) ([]model.GuestOSCheck, error) {
	var checks []model.GuestOSCheck
	err := workflow.ExecuteActivity(b.short(ctx, "check the guest OS of "+instance), builds.CheckBuildGuestOS,
		activities.ResourceInput{Region: b.tpl.RegionId, ID: instance}).Get(ctx, &checks)
	return checks, err
}

// checkAndRepair checks the guest OS and, when repair is on, repairs what
// the check found. With repair off the problems are only reported (the test
// then fails on them).
func (b *build) checkAndRepair(ctx workflow.Context) error {
	checks, err := b.checkGuestOS(ctx, b.instanceID)
	if err != nil {
		return err
	}
	abnormal := activities.Abnormal(checks)
	if len(abnormal) > 0 && b.tpl.RepairMode {
		var repaired []string
		err := workflow.ExecuteActivity(b.short(ctx, "repair "+strings.Join(abnormal, ", ")), builds.RepairBuildGuestOS, activities.RepairInput{
			Region: b.tpl.RegionId, InstanceID: b.instanceID, Items: abnormal, ClientToken: b.token("repair", b.attempt(model.StepCheck)),
		}).Get(ctx, &repaired)
		if err != nil {
			return err
		}
		after, err := b.checkGuestOS(ctx, b.instanceID)
		if err != nil {
			return err
		}
		// Matched by item: the report after the repair need not list the
		// items in the same order, or the same items.
		before := map[string]string{} // item → detail; read by key only
		for _, c := range checks {
			before[c.Item] = c.Detail
		}
		for i := range after {
			if after[i].Result == cloud.CheckNormal && slices.Contains(repaired, after[i].Item) {
				after[i].Result = cloud.CheckRepaired
				after[i].Detail = before[after[i].Item]
			}
		}
		checks = after
	} else if len(abnormal) > 0 {
		b.logger.Warn("Guest-OS problems found; repair is off", "items", abnormal)
	}
	b.progress.Checks = checks
	return nil
}

// runComponent runs one component and records its output.
func (b *build) runComponent(ctx workflow.Context, phase, instance string, comp cloud.Component, token string) error {
	var out model.ComponentOutput
	err := workflow.ExecuteActivity(b.long(ctx, phase+" component "+componentLabel(comp)), builds.RunBuildComponent, activities.RunComponentInput{
		Region: b.tpl.RegionId, InstanceID: instance, OSType: b.progress.OSType, Phase: phase, Component: comp,
		PublicBandwidth: b.tpl.InternetMaxBandwidthOut, ClientToken: token,
	}).Get(ctx, &out)
	if err != nil {
		return err
	}
	b.progress.Components = append(b.progress.Components, out)
	b.updateDetails(ctx)
	if out.Status != cloud.InvocationSuccess {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s component %s failed: %s", strings.ToLower(phase), out.Name, out.Error), ErrTypeComponentFailed, nil)
	}
	return nil
}

func componentLabel(c cloud.Component) string {
	return cmpOr(c.ComponentName, c.Name, "inline command")
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// components runs the build components in order; a retry goes on from the
// one that failed.
func (b *build) components(ctx workflow.Context) error {
	for i := b.componentsDone; i < len(b.tpl.BuildContent); i++ {
		token := b.token("component", fmt.Sprint(i), b.attempt(model.StepComponents))
		if err := b.runComponent(ctx, cloud.ComponentBuild, b.instanceID, b.tpl.BuildContent[i], token); err != nil {
			return err
		}
		b.componentsDone = i + 1
	}
	return nil
}

// imageName is <prefix>_<executionId>, or the execution ID.
func (b *build) imageName() string {
	if b.tpl.ImageName == "" {
		return b.progress.ExecutionID
	}
	return b.tpl.ImageName + "_" + b.progress.ExecutionID
}

func (b *build) createImage(ctx workflow.Context) error {
	region := b.tpl.RegionId
	if b.progress.ImageID == "" {
		var id string
		if err := b.create(ctx, "create image "+b.imageName(), builds.CreateBuildImage, activities.CreateImageInput{
			Region: region, InstanceID: b.instanceID, Name: b.imageName(),
			Description: fmt.Sprintf("built by image template %s (%s)", b.tpl.Name, b.tpl.ImagePipelineId),
			Tags:        map[string]string{"imagefleet:template": b.tpl.ImagePipelineId, "imagefleet:build": b.progress.ExecutionID},
			ClientToken: b.token("image", b.attempt(model.StepCreateImage)),
		}, &id); err != nil {
			return err
		}
		b.progress.ImageID = id
		b.track(model.ResourceImage, id, region, &b.outputs)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	err := workflow.ExecuteActivity(b.long(ctx, "wait for image "+b.progress.ImageID), images.AwaitImageAvailable,
		activities.AwaitImageInput{Region: region, ImageID: b.progress.ImageID}).Get(ctx, nil)
	if lifecycle.IsType(err, activities.ErrTypeCopyFailed) {
		// A failed image cannot become Available: a retry makes a new one.
		if rerr := b.release(ctx, b.progress.ImageID); rerr == nil {
			b.progress.ImageID = ""
		}
	}
	return err
}

// test launches an instance of the new image, checks its guest OS, runs the
// test components and releases the instance.
func (b *build) test(ctx workflow.Context) error {
	id, err := b.launchFirst(ctx, []string{b.instanceType}, b.progress.ImageID, "test", model.ResourceTestInstance)
	if id != "" {
		defer func() {
			dctx, cancel := workflow.NewDisconnectedContext(ctx)
			defer cancel()
			_ = b.release(dctx, id) // logged; the final release tries again
		}()
	}
	if err != nil {
		return err
	}
	if err := b.awaitRunning(ctx, id); err != nil {
		return err
	}
	checks, err := b.checkGuestOS(ctx, id)
	if err != nil {
		return err
	}
	if abnormal := activities.Abnormal(checks); len(abnormal) > 0 {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the new image fails the guest-OS check: %s (repair is %s)", strings.Join(abnormal, ", "), onOff(b.tpl.RepairMode)), ErrTypeGuestOSCheck, nil)
	}
	for i, comp := range b.tpl.TestContent {
		if err := b.runComponent(ctx, cloud.ComponentTest, id, comp, b.token("test", fmt.Sprint(i), b.attempt(model.StepTest))); err != nil {
			return err
		}
	}
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

var nonPackageChars = regexp.MustCompile(`[^A-Za-z0-9_]`)

// distributionPackage names the Compute Nest package and version the
// distribution child publishes: build_<template name> and the execution ID.
func (b *build) distributionPackage() (pkg, version string) {
	pkg = "build_" + nonPackageChars.ReplaceAllString(b.tpl.Name, "_")
	if len(pkg) > 128 {
		pkg = pkg[:128]
	}
	return pkg, nonPackageChars.ReplaceAllString(b.progress.ExecutionID, "_")
}

// distribute copies the image into the template's other regions with a
// DistributeImagePackage child workflow.
func (b *build) distribute(ctx workflow.Context) error {
	region := b.tpl.RegionId
	b.progress.Images = map[string]string{region: b.progress.ImageID}
	var others []string
	for _, r := range b.tpl.ToRegionIds {
		if r != region {
			others = append(others, r)
		}
	}
	if len(others) == 0 {
		return nil
	}
	pkg, version := b.distributionPackage()
	spec := model.DistributeSpec{
		Package: pkg, Version: version,
		Description:  fmt.Sprintf("Image build %s of template %s", b.progress.ExecutionID, b.tpl.Name),
		SourceRegion: region, SourceImage: b.progress.ImageID, Regions: others,
		ImageName: b.imageName(), // every region's copy is <prefix>_<executionId>
	}
	if b.shareBeforeRelease(ctx) {
		spec.ShareAccounts = b.tpl.AddAccounts
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          model.DistributeWorkflowID(pkg, version),
		WaitForCancellation: true,
		StaticSummary:       "distribute " + b.progress.ImageID + " to " + strings.Join(others, ", "),
	})
	var res model.DistributionResult
	if err := workflow.ExecuteChildWorkflow(cctx, model.DistributeWorkflowType, spec).Get(ctx, &res); err != nil {
		// The distribution deleted its copies; the draft version it created
		// goes with the build's outputs (versioned: earlier runs left it).
		if workflow.GetVersion(ctx, changeDeleteFailedDraft, workflow.DefaultVersion, 1) == 1 {
			b.track(model.ResourcePackageVersion, pkg+"/"+version, region, &b.outputs)
		}
		return err
	}
	for _, r := range others { // in the template's order: deterministic
		if id, ok := res.ImageIDs[r]; ok {
			b.progress.Images[r] = id
			b.track(model.ResourceImageCopy, id, r, &b.outputs)
		}
	}
	// Released first (compensations run in reverse): a build that fails
	// later must not leave a published version pointing at deleted copies.
	b.track(model.ResourcePackageVersion, pkg+"/"+version, region, &b.outputs)
	return nil
}

// changeShareBeforeRelease: the distribution child shares the copies with
// the template's accounts before it publishes them, since a published
// version's copies are the service's and cannot be re-shared.
const changeShareBeforeRelease = "share-before-release"

// changeDeleteFailedDraft: a failed or cancelled distribution's draft
// version is deleted with the build's outputs.
const changeDeleteFailedDraft = "delete-failed-draft"

func (b *build) shareBeforeRelease(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeShareBeforeRelease, workflow.DefaultVersion, 1) == 1
}

// share shares the image with the template's accounts: in its own region,
// and (in runs before changeShareBeforeRelease) the copies in the others.
func (b *build) share(ctx workflow.Context) error {
	regions := []string{b.tpl.RegionId}
	for _, r := range b.tpl.ToRegionIds {
		if _, ok := b.progress.Images[r]; ok && r != b.tpl.RegionId && !b.shareBeforeRelease(ctx) {
			regions = append(regions, r)
		}
	}
	for _, region := range regions {
		err := workflow.ExecuteActivity(b.short(ctx, "share in "+region), images.ShareImage, activities.ShareImageInput{
			Region: region, ImageID: b.progress.Images[region], Accounts: b.tpl.AddAccounts,
			ClientToken: b.token("share", region, b.attempt(model.StepShare)),
		}).Get(ctx, nil)
		if err != nil {
			return fmt.Errorf("share in %s: %w", region, err)
		}
	}
	b.progress.SharedWith = slices.Clone(b.tpl.AddAccounts)
	return nil
}

// track records a created resource and registers its release.
func (b *build) track(kind, id, region string, s *saga.Saga) {
	b.progress.Resources = append(b.progress.Resources, model.BuildResource{Kind: kind, ID: id, Region: region, State: model.ResourceCreated})
	s.Add("release "+kind+" "+id, func(ctx workflow.Context) error { return b.release(ctx, id) })
}

func (b *build) resource(id string) *model.BuildResource {
	for i := range b.progress.Resources {
		if b.progress.Resources[i].ID == id {
			return &b.progress.Resources[i]
		}
	}
	return nil
}

// release releases one tracked resource unless it is released already.
func (b *build) release(ctx workflow.Context, id string) error {
	r := b.resource(id)
	if r == nil || r.State == model.ResourceReleased {
		return nil
	}
	opts := cleanupActivity()
	opts.Summary = "release " + r.Kind + " " + id
	actx := workflow.WithActivityOptions(ctx, opts)
	in := activities.ResourceInput{Region: r.Region, ID: id}
	var f workflow.Future
	switch r.Kind {
	case model.ResourceInstance, model.ResourceTestInstance:
		f = workflow.ExecuteActivity(actx, builds.ReleaseBuildInstance, in)
	case model.ResourceVSwitch:
		f = workflow.ExecuteActivity(actx, builds.DeleteBuildVSwitch, in)
	case model.ResourceVpc:
		f = workflow.ExecuteActivity(actx, builds.DeleteBuildVpc, in)
	case model.ResourcePackageVersion:
		pkg, version, _ := strings.Cut(id, "/")
		f = deletePackageVersion(actx, pkg, version)
	default:
		f = workflow.ExecuteActivity(actx, images.DeleteImageCopy, activities.DeleteCopyInput{Region: r.Region, ImageID: id})
	}
	err := f.Get(ctx, nil)
	r = b.resource(id)
	if err != nil {
		r.Error = lifecycle.RootMessage(err)
		b.logger.Error("Could not release a resource", "kind", r.Kind, "id", id, "error", err)
		return err
	}
	r.State, r.Error = model.ResourceReleased, ""
	return nil
}

// succeed releases the intermediate resources and reports success.
func (b *build) succeed(ctx workflow.Context) (*model.BuildResult, error) {
	b.finished = true
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	b.progress.Step = model.StepRelease
	b.updateDetails(dctx)
	b.report(dctx, activities.UpdateExecutionInput{Status: cloud.PipelineExecutionReleasing, Step: model.StepRelease})
	if err := b.intermediate.Compensate(dctx); err != nil {
		b.progress.Step, b.progress.Error = model.StepDone, "releasing the intermediate resources failed: "+err.Error()
		b.report(dctx, activities.UpdateExecutionInput{Status: cloud.PipelineExecutionFailed, Message: b.progress.Error})
		b.state.Set(dctx, model.StateFailed)
		return nil, temporal.NewNonRetryableApplicationError(b.progress.Error, ErrTypeBuildCleanupFailed, err, b.result())
	}
	b.progress.Step = model.StepDone
	b.report(dctx, activities.UpdateExecutionInput{Status: cloud.PipelineExecutionSuccess, Step: model.StepDone, ImageID: b.progress.ImageID, Message: "image " + b.progress.ImageID})
	b.state.Set(dctx, model.StateSucceeded)
	b.updateDetails(dctx)
	b.logger.Info("Image built", "image", b.progress.ImageID, "regions", len(b.progress.Images))
	return b.result(), nil
}

// end finishes a failed or cancelled build: it releases the intermediate
// resources (instances, then vSwitch, then VPC) and deletes the images made,
// unless the template keeps the intermediate resources on failure; then it
// returns the error the run ends with, the result as its details.
func (b *build) end(ctx workflow.Context, step string, cause error) error {
	b.finished = true
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	cancelled := b.cancelled || ctx.Err() != nil
	keep := !cancelled && b.tpl.ImagePipelineId != "" && !b.tpl.DeleteInstanceOnFailure
	if cancelled {
		b.progress.Cancelled = true
		if b.progress.ExecutionID != "" {
			if err := workflow.ExecuteActivity(b.short(dctx, "mark the build cancelling"), builds.CancelBuildExecution,
				activities.UpdateExecutionInput{Region: b.in.Region, ExecutionID: b.progress.ExecutionID}).Get(dctx, nil); err != nil {
				b.logger.Error("Could not mark the build cancelling", "error", err)
			}
		}
	} else if b.progress.Error == "" {
		b.progress.FailedStep, b.progress.Error = step, lifecycle.RootMessage(cause)
	}
	b.progress.Step = model.StepRelease
	b.state.Set(dctx, model.StateCompensating)
	b.updateDetails(dctx)
	b.report(dctx, activities.UpdateExecutionInput{Status: cloud.PipelineExecutionReleasing, Step: model.StepRelease})
	var cleanupErr error
	if keep {
		cleanupErr = b.outputs.Compensate(dctx)
		for i := range b.progress.Resources {
			if r := &b.progress.Resources[i]; r.State == model.ResourceCreated {
				r.State = model.ResourceKept
			}
		}
	} else {
		cleanupErr = errors.Join(b.intermediate.Compensate(dctx), b.outputs.Compensate(dctx))
	}
	b.progress.Step = model.StepDone
	result := b.result()
	if cancelled {
		// The cloud's record keeps the step it ended in (build list shows it).
		b.report(dctx, activities.UpdateExecutionInput{Status: cloud.PipelineExecutionCancelled, Step: step, Message: "cancelled " + b.progress.CancelReason})
		b.state.Set(dctx, model.StateAborted)
		b.updateDetails(dctx)
		msg := "build cancelled during " + step
		if b.progress.CancelReason != "" {
			msg += ": " + b.progress.CancelReason
		}
		if cleanupErr != nil {
			msg += "; and some resources could not be released: " + cleanupErr.Error()
		}
		if !b.cancelled {
			return temporal.NewCanceledError(result)
		}
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeBuildCancelled, temporal.ApplicationErrorOptions{
			NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign, Details: []any{result},
		})
	}
	msg := fmt.Sprintf("step %s failed: %s", step, lifecycle.RootMessage(cause))
	if keep && len(result.Kept) > 0 {
		ids := make([]string, len(result.Kept))
		for i, r := range result.Kept {
			ids[i] = r.Kind + " " + r.ID
		}
		msg += "; kept (release on failure is off): " + strings.Join(ids, ", ")
	}
	if cleanupErr != nil {
		msg += "; and some resources could not be released: " + cleanupErr.Error()
	}
	b.report(dctx, activities.UpdateExecutionInput{Status: cloud.PipelineExecutionFailed, Step: step, Message: msg})
	b.state.Set(dctx, model.StateFailed)
	b.updateDetails(dctx)
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeBuildFailed, cause, result)
}

func (b *build) result() *model.BuildResult {
	r := &model.BuildResult{
		ExecutionID: b.progress.ExecutionID, ImageID: b.progress.ImageID, Images: maps.Clone(b.progress.Images),
		SharedWith: slices.Clone(b.progress.SharedWith), Resources: slices.Clone(b.progress.Resources),
	}
	for _, res := range b.progress.Resources {
		if res.State == model.ResourceKept {
			r.Kept = append(r.Kept, res)
		}
	}
	return r
}

// updateDetails renders the build for the Web UI.
func (b *build) updateDetails(ctx workflow.Context) {
	p := &b.progress
	var d details.Doc
	d.Para("**build %s** of template %s (%s) — step **%s**", p.ExecutionID, p.TemplateName, p.TemplateID, p.Step)
	if p.WaitingFor != "" {
		d.Para("⏸ Waiting for %s", p.WaitingFor)
	}
	if p.FailedStep != "" {
		d.Para("✗ %s failed: %s", p.FailedStep, p.Error)
	}
	if len(p.Resources) > 0 {
		tbl := d.Table("resource", "id", "region", "state")
		for _, r := range p.Resources {
			tbl.Row(r.Kind, r.ID, r.Region, r.State)
		}
	}
	d.StepDeadline(model.StepDeadline)
	workflow.SetCurrentDetails(ctx, d.String())
}
