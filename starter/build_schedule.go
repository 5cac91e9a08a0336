package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

// `starter build schedule …`: a build template built on a Temporal Schedule
// (model/build_schedule.go), with the schedule plumbing of schedule.go.

func buildScheduleCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Build a template on a schedule (Temporal Schedules): create, list, pause, unpause, trigger, delete",
	}
	kind := scheduleKind{
		Noun: "build schedule",
		Args: "TEMPLATE_ID",
		Bind: func(cmd *cobra.Command) func(args []string) string {
			var region, name string
			cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the template")
			cmd.Flags().StringVar(&name, "name", model.DefaultScheduleName, "name of the template's schedule")
			return func(args []string) string { return model.BuildScheduleID(region, args[0], name) }
		},
	}
	cmd.AddCommand(buildScheduleCreateCommand(a), buildScheduleListCommand(a))
	cmd.AddCommand(scheduleCommands(a, kind)...)
	return cmd
}

func buildScheduleCreateCommand(a *app) *cobra.Command {
	var in *specFlags[model.BuildScheduleSpec]
	cmd := &cobra.Command{
		Use:   "create TEMPLATE_ID",
		Short: "Create a schedule that builds the template when its source image changed (and may publish the image)",
		Example: `  starter build schedule create ip-abc123 --cron "0 3 * * 1" --time-zone Europe/Berlin --jitter 10m
  starter build schedule create ip-abc123 --name nightly --every 24h --offset 2h \
      --publish-package webapp --version-pattern 'v{{.Date}}' --publish-description "nightly web application image"
  starter build schedule create ip-abc123 --every 168h --always   # weekly, even when the source is unchanged`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := in.load()
			if err != nil {
				return err
			}
			s.TemplateID = args[0]
			return a.createBuildSchedule(cmd.Context(), cmd.OutOrStdout(), s)
		},
	}
	in = newSpecFlags(cmd, func() model.BuildScheduleSpec {
		return model.BuildScheduleSpec{ScheduledBuildInput: model.ScheduledBuildInput{Region: defaultBuildRegion, ScheduleName: model.DefaultScheduleName}}
	})
	in.flag("region", "region of the template", func(s *model.BuildScheduleSpec) any { return &s.Region })
	in.flag("name", "name of the schedule (a template may have several)", func(s *model.BuildScheduleSpec) any { return &s.ScheduleName })
	in.flag("always", "build every time, even when the source image is unchanged", func(s *model.BuildScheduleSpec) any { return &s.Always })
	in.flag("retry-window", "the build's retry window (see `build start`)", func(s *model.BuildScheduleSpec) any { return &s.RetryWindow })
	scheduleFlags(in, func(s *model.BuildScheduleSpec) *model.ScheduleSpec { return &s.Schedule })
	pub := func(s *model.BuildScheduleSpec) *model.ScheduledPublish { return ensure(&s.Publish) }
	in.flag("publish-package", "publish each build as a new version of this ECS image package", func(s *model.BuildScheduleSpec) any { return &pub(s).Package })
	in.flag("version-pattern", "the version's name: {{.Date}} (YYYYMMDD), {{.Time}} (HHMMSS) in the schedule's time zone, {{.Execution}} (default "+model.DefaultVersionPattern+")", func(s *model.BuildScheduleSpec) any { return &pub(s).VersionPattern })
	in.flag("publish-description", "the version's description (10–500 characters)", func(s *model.BuildScheduleSpec) any { return &pub(s).Description })
	in.flag("publish-regions", "regions to publish in (default the template's regions)", func(s *model.BuildScheduleSpec) any { return &pub(s).Regions })
	return cmd
}

// createBuildSchedule checks the spec and the template, then creates the
// schedule; nothing is created when anything is wrong (exit code 2).
func (a *app) createBuildSchedule(ctx context.Context, out io.Writer, s model.BuildScheduleSpec) error {
	if s.Publish != nil && s.Publish.TimeZone == "" {
		s.Publish.TimeZone = s.Schedule.TimeZone // {{.Date}} is the schedule's day
	}
	if err := s.Validate(); err != nil {
		return &exitError{code: exitInvalid, err: err}
	}
	tpl, err := a.template(ctx, s.Region, s.TemplateID)
	if err != nil {
		return err // no such template: invalid input (exit code 2)
	}
	if s.Publish != nil {
		art, err := cloudops.FindArtifact(ctx, a.cloudClient(), s.Publish.Package)
		if err != nil {
			return checkFailed("check package "+s.Publish.Package, err)
		}
		if art != nil && art.ArtifactType != cloud.ArtifactEcsImage {
			return invalid("package %s holds %s versions: a scheduled build publishes ECS images (%s)", art.Name, art.ArtifactType, cloud.ArtifactEcsImage)
		}
	}
	id := model.BuildScheduleID(s.Region, s.TemplateID, s.ScheduleName)
	summary := fmt.Sprintf("Scheduled build of template %s (%s) in %s", s.TemplateID, tpl.Name, s.Region)
	if s.Publish != nil {
		summary += ", published to " + s.Publish.Package
	}
	action := &client.ScheduleWorkflowAction{
		ID:        model.ScheduledBuildWorkflowID(s.Region, s.TemplateID, s.ScheduleName),
		Workflow:  model.ScheduledBuildWorkflowType,
		Args:      []any{s.ScheduledBuildInput},
		TaskQueue: model.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			model.SAOperation.ValueSet(model.OperationScheduledBuild),
			model.SATemplate.ValueSet(s.TemplateID),
			model.SAState.ValueSet(model.StateRunning),
		),
		StaticSummary: summary,
		StaticDetails: staticDetails("", s.ScheduledBuildInput),
	}
	opts, err := scheduleOptions(id, s.Schedule, action,
		model.SAOperation.ValueSet(model.OperationScheduledBuild), model.SATemplate.ValueSet(s.TemplateID))
	if err != nil {
		return err
	}
	if opts.Note == "" {
		opts.Note = summary
	}
	if err := a.createSchedule(ctx, out, opts); err != nil {
		return err
	}
	cond := "when the source image (" + strings.ToLower(tpl.BaseImageType) + " " + tpl.BaseImage + ") changed since the last scheduled build"
	if s.Always {
		cond = "every time"
	}
	fmt.Fprintf(out, "Builds:      %s\n", cond)
	return nil
}

func buildScheduleListCommand(a *app) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "list [TEMPLATE_ID]",
		Short: "List the build schedules (of one template), with their next and last runs",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := "build-schedule/"
			if len(args) == 1 {
				prefix = model.BuildScheduleID(region, args[0], "")
			}
			rows, err := a.listSchedules(cmd.Context(), prefix, scheduledBuildOutcome)
			if err != nil {
				return err
			}
			return printSchedules(cmd.OutOrStdout(), rows)
		},
	}
	cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the template")
	return cmd
}

// scheduledBuildOutcome is a completed scheduled build's outcome (Built,
// with the version it published, or Skipped, with why), or the run's status.
func scheduledBuildOutcome(ctx context.Context, c client.Client, run *client.ScheduleWorkflowExecution) string {
	status := runStatus(ctx, c, run)
	if status != statusName(enums.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
		return status
	}
	var res model.ScheduledBuildResult
	if err := c.GetWorkflow(ctx, run.WorkflowID, run.FirstExecutionRunID).Get(ctx, &res); err != nil {
		return status
	}
	switch {
	case res.Outcome == model.OutcomeSkipped:
		return "Skipped: " + res.Reason
	case res.Version != "":
		return fmt.Sprintf("Built %s from %s, published %s/%s", res.ImageID, res.Source, res.Package, res.Version)
	}
	return fmt.Sprintf("Built %s from %s", res.ImageID, res.Source)
}
