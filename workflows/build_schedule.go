package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// ScheduledBuild is what a build schedule starts each time it fires
// (model/build_schedule.go): it resolves the template's source image now
// and ends Skipped when the source is the one the last successful scheduled
// build started from (the schedule's last completion result), or when a
// build of the template is already running; otherwise it runs the template's
// ImageBuild as a child under its canonical workflow ID and, when asked,
// publishes the built image as a new package version through a
// DistributeImagePackage child.
func ScheduledBuild(ctx workflow.Context, in model.ScheduledBuildInput) (*model.ScheduledBuildResult, error) {
	return execute[model.ScheduledBuildResult](ctx, &scheduledBuild{in: in})
}

type scheduledBuild struct {
	in       model.ScheduledBuildInput
	progress model.ScheduledBuildProgress
	result   model.ScheduledBuildResult
	tpl      model.BuildTemplate
	state    details.State
	logger   log.Logger
}

func (s *scheduledBuild) setup(ctx workflow.Context) error {
	s.logger = log.With(workflow.GetLogger(ctx), "template", s.in.TemplateID, "region", s.in.Region, "schedule", s.in.ScheduleName)
	s.progress = model.ScheduledBuildProgress{Region: s.in.Region, TemplateID: s.in.TemplateID, Step: model.ScheduledStepResolve}
	// The schedule appends the firing's time to the action's workflow ID:
	// any such ID is the schedule's run.
	want := model.ScheduledBuildWorkflowID(s.in.Region, s.in.TemplateID, s.in.ScheduleName)
	if id := workflow.GetInfo(ctx).WorkflowExecution.ID; model.IsScheduledBuildWorkflowID(id, s.in.Region, s.in.TemplateID, s.in.ScheduleName) {
		want = id
	}
	return lifecycle.Start(ctx, &s.state, lifecycle.Setup{
		Queries: []lifecycle.Query{{
			Name:        model.QueryScheduledBuildProgress,
			Description: "step, the source resolved now and the last built one, the build and version started, the outcome",
			Handler:     func() (model.ScheduledBuildProgress, error) { return s.progress, nil },
		}},
		WorkflowID: want,
		SearchAttributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationScheduledBuild),
			model.SATemplate.ValueSet(s.in.TemplateID),
		},
		Validate: s.in.Validate,
		Refused:  func(err error) { s.progress.Step, s.progress.Error = model.ScheduledStepDone, err.Error() },
	})
}

func (s *scheduledBuild) run(ctx workflow.Context) (*model.ScheduledBuildResult, error) {
	s.result.LastBuiltSource = s.lastBuiltSource(ctx)
	s.progress.LastBuiltSource = s.result.LastBuiltSource
	s.updateDetails(ctx)
	if err := s.resolve(ctx); err != nil {
		return nil, s.fail(ctx, err)
	}
	if !s.in.Always && s.result.Source == s.result.LastBuiltSource {
		return s.skip(ctx, fmt.Sprintf("source %s unchanged since the last scheduled build", s.result.Source))
	}
	s.enter(ctx, model.ScheduledStepBuild)
	running, err := s.build(ctx)
	if running != "" {
		return s.skip(ctx, running)
	}
	if err != nil && (temporal.IsCanceledError(err) || ctx.Err() != nil) {
		// Cancelled (by a client, or by the overlap policy CancelOther): the
		// build was cancelled with it and released what it made.
		return nil, s.fail(ctx, err)
	}
	if err != nil {
		return nil, s.fail(ctx, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("scheduled build of template %s failed: %s", s.in.TemplateID, lifecycle.RootMessage(err)),
			model.ErrTypeScheduledBuildFailed, err))
	}
	s.result.Outcome, s.result.LastBuiltSource = model.OutcomeBuilt, s.result.Source
	if s.in.Publish != nil {
		s.enter(ctx, model.ScheduledStepPublish)
		if err := s.publish(ctx); err != nil && (temporal.IsCanceledError(err) || ctx.Err() != nil) {
			return nil, s.fail(ctx, err) // the distribution deleted its copies and draft
		} else if err != nil {
			return nil, s.fail(ctx, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("template %s was built (image %s, kept), but publishing %s/%s failed: %s",
					s.in.TemplateID, s.result.ImageID, s.result.Package, s.result.Version, lifecycle.RootMessage(err)),
				model.ErrTypeScheduledPublishFailed, err, s.result))
		}
	}
	s.progress.Outcome, s.progress.LastBuiltSource = model.OutcomeBuilt, s.result.LastBuiltSource
	s.end(ctx, model.StateSucceeded)
	return &s.result, nil
}

// lastBuiltSource is the source of the last successful scheduled build:
// what the schedule's last completed run carried forward.
func (s *scheduledBuild) lastBuiltSource(ctx workflow.Context) string {
	if !workflow.HasLastCompletionResult(ctx) {
		return ""
	}
	var last model.ScheduledBuildResult
	if err := workflow.GetLastCompletionResult(ctx, &last); err != nil {
		s.logger.Warn("The schedule's last result is unreadable: building as if nothing was built", "error", err)
		return ""
	}
	return last.LastBuiltSource
}

// resolve reads the template and resolves its source image now, as the
// build's ResolveSource step does.
func (s *scheduledBuild) resolve(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	if err := workflow.ExecuteActivity(actx, builds.DescribeBuildTemplate, activities.TemplateInput{
		Region: s.in.Region, TemplateID: s.in.TemplateID,
	}).Get(ctx, &s.tpl); err != nil {
		return err
	}
	var src activities.SourceImage
	if err := workflow.ExecuteActivity(actx, builds.ResolveSource, activities.ResolveSourceInput{
		Region: s.tpl.Region, BaseType: s.tpl.SourceType, Base: s.tpl.Source,
	}).Get(ctx, &src); err != nil {
		return err
	}
	s.result.Source, s.progress.Source = src.ID, src.ID
	if err := workflow.UpsertMemo(ctx, map[string]any{model.MemoSource: src.ID, model.MemoLastBuiltSource: s.result.LastBuiltSource}); err != nil {
		s.logger.Warn("Could not record the source in the memo", "error", err)
	}
	return nil
}

// build runs the template's build as a child under its canonical workflow
// ID. running is set (and err nil) when a build of the template is already
// running: the firing skips, as the schedule's overlap policy would.
func (s *scheduledBuild) build(ctx workflow.Context) (running string, err error) {
	id := model.BuildWorkflowID(s.in.Region, s.in.TemplateID)
	s.progress.BuildWorkflowID = id
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: id,
		// A scheduled run that is cancelled or terminated does not leave its
		// build behind: the build is cancelled and releases what it made.
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WaitForCancellation: true,
		StaticSummary:       fmt.Sprintf("scheduled build of template %s (source %s)", s.in.TemplateID, s.result.Source),
	})
	child := workflow.ExecuteChildWorkflow(cctx, model.BuildWorkflowType, s.in.Build())
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			return fmt.Sprintf("a build of template %s is already running (workflow %s)", s.in.TemplateID, id), nil
		}
		return "", err
	}
	var res model.BuildResult
	if err := child.Get(ctx, &res); err != nil {
		return "", err
	}
	s.result.ExecutionID, s.result.ImageID, s.result.Images = res.ExecutionID, res.ImageID, res.Images
	s.progress.ExecutionID, s.progress.ImageID = res.ExecutionID, res.ImageID
	return "", nil
}

// publish publishes the built image as a new version of the package, named
// from the pattern, through a DistributeImagePackage child.
func (s *scheduledBuild) publish(ctx workflow.Context) error {
	p := *s.in.Publish
	// The name is made once and recorded: a replay on a worker with other
	// time-zone data names the same version.
	var named versionName
	if err := workflow.SideEffect(ctx, func(workflow.Context) any {
		loc, err := p.Location()
		if err != nil {
			loc = time.UTC // Validate refused such a zone before the run began
		}
		name, err := p.VersionName(model.NewVersionFields(workflow.Now(ctx), loc, s.result.ExecutionID))
		if err != nil {
			return versionName{Error: err.Error()}
		}
		return versionName{Name: name}
	}).Get(&named); err != nil {
		return err
	}
	if named.Error != "" {
		return temporal.NewNonRetryableApplicationError(named.Error, lifecycle.ErrTypeInvalidSpec, nil)
	}
	version := named.Name
	s.result.Package, s.result.Version = p.Package, version
	s.progress.Package, s.progress.Version = p.Package, version
	regions := slices.Clone(p.Regions)
	if len(regions) == 0 {
		regions = slices.Clone(s.tpl.Regions)
	}
	if len(regions) == 0 {
		regions = []string{s.tpl.Region}
	}
	spec := model.DistributeSpec{
		Package: p.Package, Version: version, Description: p.Description,
		SourceRegion: s.tpl.Region, SourceImage: s.result.ImageID, Regions: regions,
	}
	s.updateDetails(ctx)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          model.DistributeWorkflowID(p.Package, version),
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WaitForCancellation: true,
		StaticSummary:       fmt.Sprintf("publish %s as %s/%s in %s", s.result.ImageID, p.Package, version, strings.Join(regions, ", ")),
	})
	var res model.DistributionResult
	if err := workflow.ExecuteChildWorkflow(cctx, model.DistributeWorkflowType, spec).Get(ctx, &res); err != nil {
		return err
	}
	if res.AlreadyPublished {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("version %s of package %s was published before, by an earlier run (the version pattern %q gave its name again)", version, p.Package, p.Pattern()),
			model.ErrTypeScheduledPublishFailed, nil)
	}
	return nil
}

// versionName is the version a scheduled build publishes, or why its
// pattern gave none.
type versionName struct {
	Name  string `json:"name,omitempty"`
	Error string `json:"error,omitempty"`
}

// skip ends the run Skipped, launching nothing; the last built source is
// carried forward unchanged.
func (s *scheduledBuild) skip(ctx workflow.Context, reason string) (*model.ScheduledBuildResult, error) {
	s.logger.Info("Scheduled build skipped", "reason", reason)
	s.result.Outcome, s.result.Reason = model.OutcomeSkipped, reason
	s.progress.Outcome, s.progress.Reason = model.OutcomeSkipped, reason
	s.end(ctx, model.StateSkipped)
	return &s.result, nil
}

func (s *scheduledBuild) fail(ctx workflow.Context, err error) error {
	s.progress.Error = lifecycle.RootMessage(err)
	s.end(ctx, lifecycle.EndState(err, false))
	return err
}

func (s *scheduledBuild) enter(ctx workflow.Context, step string) {
	s.progress.Step = step
	s.updateDetails(ctx)
}

func (s *scheduledBuild) end(ctx workflow.Context, state string) {
	s.progress.Step = model.ScheduledStepDone
	if s.progress.Outcome != "" {
		if err := workflow.UpsertMemo(ctx, map[string]any{model.MemoOutcome: s.progress.Outcome, model.MemoLastBuiltSource: s.result.LastBuiltSource}); err != nil {
			s.logger.Warn("Could not record the outcome in the memo", "error", err)
		}
	}
	s.updateDetails(ctx)
	s.state.Set(ctx, state)
}

func (s *scheduledBuild) updateDetails(ctx workflow.Context) {
	p := &s.progress
	var d details.Doc
	d.Para("**scheduled build** of template %s (%s), schedule %s — step **%s**", p.TemplateID, p.Region, s.in.ScheduleName, p.Step)
	tbl := d.Table("source now", "last built source", "build", "image", "version")
	tbl.Row(orDash(p.Source), orDash(p.LastBuiltSource), orDash(p.BuildWorkflowID), orDash(p.ImageID), orDash(strings.Trim(p.Package+"/"+p.Version, "/")))
	if p.Outcome != "" {
		d.Para("Outcome: **%s** %s", p.Outcome, p.Reason)
	}
	if p.Error != "" {
		d.Para("✗ %s", p.Error)
	}
	workflow.SetCurrentDetails(ctx, d.String())
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
