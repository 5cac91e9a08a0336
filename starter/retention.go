package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// packageRetentionCommand groups the lifecycle rules of a package's
// published image versions (docs/retention.md).
func packageRetentionCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Lifecycle rules of a package's image versions: keep the newest or youngest, deprecate, then delete the rest's copies",
	}
	cmd.AddCommand(retentionRunCommand(a), retentionStatusCommand(a))
	cmd.AddCommand(retentionScheduleCommands(a)...)
	return cmd
}

// retentionFlags binds a rule's flags (and --spec, --dry-run) to a
// RetentionSpec.
func retentionFlags(cmd *cobra.Command) *specFlags[model.RetentionSpec] {
	sf := newSpecFlags[model.RetentionSpec](cmd, nil)
	sf.flag("package", "the EcsImage package the rule applies to", func(s *model.RetentionSpec) any { return &s.Rule.Package })
	sf.flag("keep-newest", "keep the newest N published versions", func(s *model.RetentionSpec) any { return &s.Rule.KeepNewest })
	sf.flag("keep-younger-than", "keep the versions released less than this long ago (30d, 720h)", func(s *model.RetentionSpec) any { return &s.Rule.KeepYoungerThan })
	sf.flag("grace-period", "time between a version's deprecation and the deletion of its copies (default 7d; 0s deletes at once)", func(s *model.RetentionSpec) any { return &s.Rule.GracePeriod })
	sf.flag("exclude-tag", "keep versions whose source image has this tag: key or key=value (repeatable)", func(s *model.RetentionSpec) any { return &s.Rule.ExcludeTags })
	sf.flag("dry-run", "only list what the run would deprecate and delete, region by region; --dry-run=false applies even a rule's first run (default: the first run of a rule is dry)",
		func(s *model.RetentionSpec) any { return ensure(&s.DryRun) })
	return sf
}

// retentionPlan checks a lifecycle run's spec and starts it.
func (a *app) retentionPlan(spec model.RetentionSpec) runPlan {
	rule := spec.Rule
	id := rule.WorkflowID()
	mode := "apply (a dry run if it is the rule's first)"
	if spec.DryRun != nil && *spec.DryRun {
		mode = "dry run"
	} else if spec.DryRun != nil {
		mode = "apply"
	}
	key := model.SAPackage.ValueSet(rule.Package)
	check := func(ctx context.Context) error { return a.checkRetentionPackage(ctx, rule.Package) }
	if rule.BuildTemplate != "" {
		key = model.SATemplate.ValueSet(rule.BuildTemplate)
		check = func(ctx context.Context) error {
			_, err := a.template(ctx, rule.Region, rule.BuildTemplate)
			return err
		}
	}
	return runPlan{
		Validate: spec.Validate,
		Check:    check,
		Started:  "lifecycle run of " + rule.Subject(),
		startRequest: startRequest{
			ID: id, Type: model.RetentionWorkflowType, Input: spec,
			Operation: model.OperationRetention,
			Keys:      []temporal.SearchAttributeUpdate{key, model.SARetentionRule.ValueSet(rule.Hash())},
			Summary:   fmt.Sprintf("Lifecycle rule on %s (%s)", rule.Subject(), mode),
			Details:   model.SpecMarkdown(spec),
			Conflict: func(context.Context) string {
				return fmt.Sprintf("a lifecycle run of %s is already running (workflow %s): one at a time", rule.Subject(), id)
			},
		},
	}
}

// checkRetentionPackage refuses a package that does not exist or does not
// hold ECS images (exit code 2).
func (a *app) checkRetentionPackage(ctx context.Context, pkg string) error {
	art, err := a.mustFind(ctx, pkg)
	if err != nil {
		return err
	}
	if art.ArtifactType != cloud.ArtifactEcsImage {
		return invalid("package %s is of type %s: lifecycle rules apply to %s packages", pkg, art.ArtifactType, cloud.ArtifactEcsImage)
	}
	return nil
}

func retentionRunCommand(a *app) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Apply a lifecycle rule to a package once (the first run of a rule only lists what it would do)",
		Long: `Start the workflow ImageRetention (workflow ID retention/<package>) with a rule:
keep the newest N published versions and/or those younger than D, and every
version in use (an instance, a scaling group's configuration or launch
template, a running rolling update, the newest version of a package a
service offers); deprecate the others, then, after the grace period, delete
their copies in every region and the version.

The first run of a rule (no earlier successful run of the same rule on the
package) is a dry run unless --dry-run=false; --dry-run always is.`,
		Example: `  starter package retention run --package webapp --keep-newest 5 --keep-younger-than 30d --grace-period 7d --exclude-tag release=lts --wait
  starter package retention run --package webapp --keep-newest 5 --dry-run --wait`,
		Args: cobra.NoArgs,
	}
	sf := retentionFlags(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the run to end and print its plan and what it did")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, out := cmd.Context(), cmd.OutOrStdout()
		spec, err := sf.load()
		if err != nil {
			return err
		}
		plan := a.retentionPlan(spec)
		return a.startAndWatch(ctx, out, plan, wait, func() error { return a.watchRetention(ctx, out, plan.ID) })
	}
	return cmd
}

func retentionStatusCommand(a *app) *cobra.Command {
	var pkg string
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show the latest lifecycle run of a package: its plan and what it did, per version and region",
		Example: "  starter package retention status --package webapp",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !model.ValidPackageName(pkg) {
				return invalid("--package %q must be a package name (3–128 letters, digits, underscore)", pkg)
			}
			p, err := query[model.RetentionProgress](cmd.Context(), a, model.RetentionWorkflowID(pkg), "", model.QueryProgress)
			if err != nil {
				return fmt.Errorf("no lifecycle run of package %s answers: %w", pkg, err)
			}
			printRetention(cmd.OutOrStdout(), p)
			return nil
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", "package name")
	return cmd
}

// watchRetention prints the run's phase until it ends, then its plan.
func (a *app) watchRetention(ctx context.Context, out io.Writer, id string) error {
	res, err := watchRun(ctx, a, out, id, "", watch[model.RetentionProgress, model.RetentionResult]{
		Query: model.QueryProgress,
		Show: changedLine(func(p *model.RetentionProgress) string {
			done := 0
			for _, v := range p.Versions {
				if v.State == model.RetentionDone || v.State == model.RetentionKept {
					done++
				}
			}
			return fmt.Sprintf("%s: %d versions, %d actions done", p.Phase, len(p.Versions), done)
		}),
		Waiting: func(*model.RetentionProgress) string { return "" },
	})
	if err != nil {
		if p, qerr := query[model.RetentionProgress](ctx, a, id, "", model.QueryProgress); qerr == nil {
			printRetention(out, p)
		}
		return err
	}
	printRetention(out, &model.RetentionProgress{Package: res.Package, DryRun: res.DryRun, DryRunWhy: res.DryRunWhy, Versions: res.Versions, Phase: model.RetentionPhaseDone})
	if res.DryRun {
		fmt.Fprintf(out, "\nWould deprecate %d version(s) and delete %d version(s) (%d copies, %d GiB); keep %d.\n", res.Deprecated, res.Deleted, res.CopiesDeleted, res.FreedGiB, res.Kept)
		return nil
	}
	fmt.Fprintf(out, "\nDeprecated %d version(s), deleted %d version(s) (%d copies, %d GiB freed); kept %d.\n", res.Deprecated, res.Deleted, res.CopiesDeleted, res.FreedGiB, res.Kept)
	return nil
}

// printRetention prints a run's plan: a line per version and region.
func printRetention(out io.Writer, p *model.RetentionProgress) {
	if p.DryRun {
		fmt.Fprintf(out, "DRY RUN (%s): nothing was changed.\n", p.DryRunWhy)
	}
	if p.Error != "" {
		fmt.Fprintf(out, "Error: %s\n", p.Error)
	}
	tw := table(out, "VERSION\tRELEASED\tACTION\tSTATE\tREGION\tIMAGE\tGIB\tWHY")
	for _, v := range p.Versions {
		why := v.Reason
		if v.Error != "" {
			why += " — " + v.Error
		}
		if len(v.Regions) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t\t\t%s\n", v.Version, v.ReleaseTime.UTC().Format(time.DateTime), v.Action, v.State, why)
		}
		for i, r := range v.Regions {
			line := why
			if i > 0 {
				line = ""
			}
			if len(r.UsedBy) > 0 {
				line = strings.TrimSpace(line + " [" + r.Region + " in use: " + strings.Join(r.UsedBy, ", ") + "]")
			}
			if r.Error != "" {
				line += " — " + r.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", v.Version, v.ReleaseTime.UTC().Format(time.DateTime), v.Action, firstNonEmpty(r.State, v.State), r.Region, r.ImageID, r.SizeGiB, line)
		}
	}
	tw.Flush()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// retentionScheduleCommands are `schedule create|list|pause|unpause|
// trigger|delete`: a package's rule on a Temporal Schedule, with the
// schedule plumbing of schedule.go.
func retentionScheduleCommands(a *app) []*cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Apply a package's lifecycle rule on a schedule (Temporal Schedules): create, list, pause, unpause, trigger, delete",
	}
	kind := scheduleKind{
		Noun: "retention schedule",
		Args: "PACKAGE",
		Bind: func(*cobra.Command) func(args []string) string {
			return func(args []string) string { return model.RetentionScheduleID(args[0]) }
		},
	}
	cmd.AddCommand(retentionScheduleCreateCommand(a), retentionScheduleListCommand(a))
	cmd.AddCommand(scheduleCommands(a, kind)...)
	return []*cobra.Command{cmd}
}

func retentionScheduleCreateCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create the schedule that applies a package's lifecycle rule (its first firing is a dry run)",
		Example: `  starter package retention schedule create --package webapp --keep-newest 5 --keep-younger-than 30d --grace-period 7d --cron "0 4 * * *" --time-zone Europe/Berlin
  starter package retention schedule create --package webapp --keep-newest 10 --every 24h --offset 2h --jitter 10m`,
		Args: cobra.NoArgs,
	}
	in := newSpecFlags[model.RetentionScheduleSpec](cmd, nil)
	run := func(s *model.RetentionScheduleSpec) *model.RetentionSpec { return &s.Run }
	in.flag("package", "the EcsImage package the rule applies to", func(s *model.RetentionScheduleSpec) any { return &run(s).Rule.Package })
	in.flag("keep-newest", "keep the newest N published versions", func(s *model.RetentionScheduleSpec) any { return &run(s).Rule.KeepNewest })
	in.flag("keep-younger-than", "keep the versions released less than this long ago (30d, 720h)", func(s *model.RetentionScheduleSpec) any { return &run(s).Rule.KeepYoungerThan })
	in.flag("grace-period", "time between a version's deprecation and the deletion of its copies (default 7d)", func(s *model.RetentionScheduleSpec) any { return &run(s).Rule.GracePeriod })
	in.flag("exclude-tag", "keep versions whose source image has this tag: key or key=value (repeatable)", func(s *model.RetentionScheduleSpec) any { return &run(s).Rule.ExcludeTags })
	in.flag("dry-run", "every firing only lists what it would do (--dry-run=false: even the first applies the rule)", func(s *model.RetentionScheduleSpec) any { return ensure(&run(s).DryRun) })
	scheduleFlags(in, func(s *model.RetentionScheduleSpec) *model.ScheduleSpec { return &s.Schedule })
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		s, err := in.load()
		if err != nil {
			return err
		}
		return a.createRetentionSchedule(cmd.Context(), cmd.OutOrStdout(), s)
	}
	return cmd
}

// createRetentionSchedule checks the rule, the schedule and the package,
// then creates the schedule; nothing is created when anything is wrong
// (exit code 2).
func (a *app) createRetentionSchedule(ctx context.Context, out io.Writer, s model.RetentionScheduleSpec) error {
	if err := s.Validate(); err != nil {
		return &exitError{code: exitInvalid, err: err}
	}
	pkg := s.Run.Rule.Package
	if err := a.checkRetentionPackage(ctx, pkg); err != nil {
		return err
	}
	summary := "Lifecycle rule on package " + pkg
	action := &client.ScheduleWorkflowAction{
		ID:        model.ScheduledRetentionWorkflowID(pkg),
		Workflow:  model.ScheduledRetentionWorkflowType,
		Args:      []any{s.Run},
		TaskQueue: model.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			model.SAOperation.ValueSet(model.OperationRetention),
			model.SAPackage.ValueSet(pkg),
			model.SAState.ValueSet(model.StateRunning),
		),
		StaticSummary: summary,
		StaticDetails: staticDetails("", s.Run),
	}
	opts, err := scheduleOptions(model.RetentionScheduleID(pkg), s.Schedule, action,
		model.SAOperation.ValueSet(model.OperationRetention), model.SAPackage.ValueSet(pkg))
	if err != nil {
		return err
	}
	if opts.Note == "" {
		opts.Note = summary
	}
	if err := a.createSchedule(ctx, out, opts); err != nil {
		return err
	}
	if s.Run.DryRun == nil {
		fmt.Fprintln(out, "First run:   a dry run (the rule's first); later runs apply it")
	}
	return nil
}

func retentionScheduleListCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list [PACKAGE]",
		Short: "List the retention schedules (of one package), with their next and last runs",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := model.RetentionScheduleID("")
			if len(args) == 1 {
				prefix = model.RetentionScheduleID(args[0])
			}
			rows, err := a.listSchedules(cmd.Context(), prefix, retentionOutcome)
			if err != nil {
				return err
			}
			if len(args) == 1 { // not another package whose name begins alike
				rows = slices.DeleteFunc(rows, func(r scheduleRow) bool { return r.ID != prefix })
			}
			return printSchedules(cmd.OutOrStdout(), rows)
		},
	}
}

// retentionOutcome is what a retention schedule's last run did, for list.
func retentionOutcome(ctx context.Context, c client.Client, run *client.ScheduleWorkflowExecution) string {
	status := runStatus(ctx, c, run)
	if status != statusName(enums.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
		return status
	}
	var res model.RetentionResult
	if err := c.GetWorkflow(ctx, run.WorkflowID, run.FirstExecutionRunID).Get(ctx, &res); err != nil {
		return status
	}
	switch {
	case res.Skipped != "":
		return "Skipped: " + res.Skipped
	case res.DryRun:
		return fmt.Sprintf("Dry run: would deprecate %d, delete %d versions (%d copies)", res.Deprecated, res.Deleted, res.CopiesDeleted)
	}
	return fmt.Sprintf("Deprecated %d, deleted %d versions (%d copies, %d GiB), kept %d", res.Deprecated, res.Deleted, res.CopiesDeleted, res.FreedGiB, res.Kept)
}

// buildRetentionCommand is `build retention run|status`: a lifecycle rule
// on the images a build template's builds made (docs/retention.md).
func buildRetentionCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retention",
		Short: "Lifecycle rule of a build template's images: keep the newest or youngest and those in use, delete the others",
	}
	var wait bool
	run := &cobra.Command{
		Use:   "run TEMPLATE_ID",
		Short: "Apply a lifecycle rule to the images of a build template's successful builds (the first run of a rule only lists)",
		Long: `Start the workflow ImageRetention (workflow ID retention/build/<region>/<templateId>)
on the images the template's successful builds made in its region: keep the
newest N and/or those younger than D, and every image in use (an instance,
a scaling group's source, a running rolling update, a package version that
holds it); delete the others with DeleteImage. There is no grace period.`,
		Example: "  starter build retention run ip-abc123 --keep-newest 3 --wait",
		Args:    cobra.ExactArgs(1),
	}
	sf := newSpecFlags(run, func() model.RetentionSpec {
		return model.RetentionSpec{Rule: model.RetentionRule{Region: defaultBuildRegion}}
	})
	sf.flag("region", "region of the template", func(s *model.RetentionSpec) any { return &s.Rule.Region })
	sf.flag("keep-newest", "keep the images of the newest N builds", func(s *model.RetentionSpec) any { return &s.Rule.KeepNewest })
	sf.flag("keep-younger-than", "keep the images of builds younger than this (30d, 720h)", func(s *model.RetentionSpec) any { return &s.Rule.KeepYoungerThan })
	sf.flag("exclude-tag", "keep images with this tag: key or key=value (repeatable)", func(s *model.RetentionSpec) any { return &s.Rule.ExcludeTags })
	sf.flag("dry-run", "only list what the run would delete; --dry-run=false applies even a rule's first run", func(s *model.RetentionSpec) any { return ensure(&s.DryRun) })
	run.Flags().BoolVar(&wait, "wait", false, "wait for the run to end and print its plan and what it did")
	run.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, out := cmd.Context(), cmd.OutOrStdout()
		spec, err := sf.load()
		if err != nil {
			return err
		}
		spec.Rule.BuildTemplate = args[0]
		plan := a.retentionPlan(spec)
		return a.startAndWatch(ctx, out, plan, wait, func() error { return a.watchRetention(ctx, out, plan.ID) })
	}
	var region string
	status := &cobra.Command{
		Use:   "status TEMPLATE_ID",
		Short: "Show the latest lifecycle run of a build template's images",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := model.RetentionBuildWorkflowID(region, args[0])
			p, err := query[model.RetentionProgress](cmd.Context(), a, id, "", model.QueryProgress)
			if err != nil {
				return fmt.Errorf("no lifecycle run %s answers: %w", id, err)
			}
			printRetention(cmd.OutOrStdout(), p)
			return nil
		},
	}
	status.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the template")
	cmd.AddCommand(run, status)
	return cmd
}
