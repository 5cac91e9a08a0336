package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

// rolloutCommand is `starter rollout …`: rolling updates of scaling groups.
func rolloutCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Rolling updates of Auto Scaling groups (image, script, OOS package) in batches",
		Long: `Rolling updates of Auto Scaling groups: apply an image, a script or an OOS
package version to the group's InService instances in batches, with pause
policies, an error threshold, per-instance retry/skip/cancel-instance, cancel
and rollback. One task per group at a time; the workflow ID is rollout/GROUP.`,
	}
	cmd.AddCommand(
		rolloutStartCommand(a),
		rolloutStatusCommand(a),
		rolloutSimpleCommand(a, model.CommandResume, "Continue a paused task", func([]string) any { return model.ResumeCommand{} }),
		rolloutInstanceCommand(a, model.CommandRetry, "Run the change again on a failed instance"),
		rolloutInstanceCommand(a, model.CommandSkip, "Mark a failed instance Success and go on"),
		rolloutInstanceCommand(a, model.CommandCancelInstance, "Mark a failed instance Failed for good and go on"),
		rolloutCancelCommand(a),
		rolloutRollbackCommand(a),
		rolloutSimpleCommand(a, model.CommandSetThreshold+" GROUP N", "Change the error threshold of a running task", nil),
		rolloutSimpleCommand(a, model.CommandSetPausePolicy+" GROUP POLICY", "Change the pause policy (None, FirstBatch, EachBatch) of a running task", nil),
	)
	return cmd
}

type rolloutFlags struct {
	region, taskType, image, rollbackImage, scriptType, script, scriptFile, rollbackScript string
	pkg, version, rollbackVersion, policy, description                                     string
	batches, threshold                                                                     int
	watch                                                                                  bool
}

func rolloutStartCommand(a *app) *cobra.Command {
	var f rolloutFlags
	cmd := &cobra.Command{
		Use:   "start GROUP",
		Short: "Start a rolling update of a scaling group",
		Example: `  starter rollout start asg-web-hz --type image --image m-webapp-v2 --rollback-image m-webapp-v1 --batches 3 --pause-policy FirstBatch --watch
  starter rollout start asg-web-hz --type script --script 'echo hello' --rollback-script 'echo bye' --batches 2
  starter rollout start asg-win-hz --type script --script-type RunPowerShellScript --script 'Write-Output ok' --batches 2
  starter rollout start asg-web-hz --type package --package webapp-agent --version 1.1.0 --rollback-version 1.0.0 --batches 5 --error-threshold 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := f.spec(args[0])
			if err != nil {
				return err
			}
			id, runID, err := a.startRollout(cmd.Context(), spec, "", "")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			a.printStarted(out, model.RolloutWorkflowType, id, runID)
			if !f.watch {
				return nil
			}
			return a.watchRollout(cmd.Context(), out, id)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.region, "region", "cn-hangzhou", "region of the scaling group")
	fl.StringVar(&f.taskType, "type", "", "task type: image, script or package")
	fl.StringVar(&f.image, "image", "", "image: the image to apply (in the group's region)")
	fl.StringVar(&f.rollbackImage, "rollback-image", "", "image: the image a rollback applies")
	fl.StringVar(&f.scriptType, "script-type", model.ScriptShell, "script: RunShellScript, RunBatScript or RunPowerShellScript")
	fl.StringVar(&f.script, "script", "", "script: the script to run")
	fl.StringVar(&f.scriptFile, "script-file", "", "script: read the script from this file")
	fl.StringVar(&f.rollbackScript, "rollback-script", "", "script: the script a rollback runs")
	fl.StringVar(&f.pkg, "package", "", "package: the OOS package name")
	fl.StringVar(&f.version, "version", "", "package: the version to install")
	fl.StringVar(&f.rollbackVersion, "rollback-version", "", "package: the version a rollback installs")
	fl.IntVar(&f.batches, "batches", 1, "number of batches (1 to the number of InService instances)")
	fl.StringVar(&f.policy, "pause-policy", model.PauseNone, "None, FirstBatch or EachBatch")
	fl.IntVar(&f.threshold, "error-threshold", 0, "failed instances tolerated before the task pauses")
	fl.StringVar(&f.description, "description", "", "task description")
	fl.BoolVar(&f.watch, "watch", false, "redraw live progress until the task ends or pauses")
	return cmd
}

func (f *rolloutFlags) spec(group string) (model.RolloutSpec, error) {
	spec := model.RolloutSpec{
		ScalingGroupID: group, RegionID: f.region, Batches: f.batches, PausePolicy: f.policy,
		ErrorThreshold: f.threshold, Description: f.description,
	}
	switch f.taskType {
	case "image", model.TaskImage:
		spec.TaskType, spec.Image = model.TaskImage, &model.ImageChange{ImageID: f.image, RollbackImageID: f.rollbackImage}
	case "script", model.TaskScript:
		script := f.script
		if f.scriptFile != "" {
			data, err := os.ReadFile(f.scriptFile)
			if err != nil {
				return spec, invalid("read script: %w", err)
			}
			script = string(data)
		}
		spec.TaskType, spec.Script = model.TaskScript, &model.ScriptChange{Type: f.scriptType, Script: script, RollbackScript: f.rollbackScript}
	case "package", model.TaskPackage:
		spec.TaskType, spec.Package = model.TaskPackage, &model.PackageChange{Name: f.pkg, Version: f.version, RollbackVersion: f.rollbackVersion}
	default:
		return spec, invalid("--type must be image, script or package, got %q", f.taskType)
	}
	return spec, nil
}

// startRollout checks the spec against the rules and the cloud, then starts
// the task. A task already running on the group is refused, naming it.
func (a *app) startRollout(ctx context.Context, spec model.RolloutSpec, summary, details string) (id, runID string, err error) {
	if err := spec.Validate(); err != nil {
		return "", "", &exitError{code: exitInvalid, err: err}
	}
	id = model.RolloutWorkflowID(spec.ScalingGroupID)
	// The running task is named before the cloud is asked anything.
	if running, err := a.runningRollout(ctx, id); err != nil {
		return "", "", err
	} else if running != "" {
		return "", "", invalid("a rolling update is already running on %s: %s", spec.ScalingGroupID, running)
	}
	if _, err := cloudops.CheckRollout(ctx, a.cloudClient(), spec); err != nil {
		return "", "", checkFailed("check scaling group "+spec.ScalingGroupID, err)
	}
	if summary == "" {
		summary = fmt.Sprintf("Rolling update (%s) of %s in %d batch(es)", spec.TaskType, spec.ScalingGroupID, spec.Batches)
	}
	runID, err = a.start(ctx, startRequest{
		ID: id, Type: model.RolloutWorkflowType, Input: spec,
		Attributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationRollout),
			model.SAScalingGroup.ValueSet(spec.ScalingGroupID),
			model.SAState.ValueSet(model.StateRunning),
		},
		Summary: summary,
		Details: details,
		Conflict: func(ctx context.Context) string {
			running, _ := a.runningRollout(ctx, id)
			return fmt.Sprintf("a rolling update is already running on %s: %s", spec.ScalingGroupID, running)
		},
	})
	return id, runID, err
}

// runningRollout describes the task running under id, or "" if none runs.
func (a *app) runningRollout(ctx context.Context, id string) (string, error) {
	c, err := a.client()
	if err != nil {
		return "", err
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("describe %s: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return "", nil
	}
	msg := fmt.Sprintf("workflow %s run %s, started %s", id, info.GetExecution().GetRunId(), info.GetStartTime().AsTime().Format(time.RFC3339))
	if st, err := a.rolloutState(ctx, id, ""); err == nil {
		msg += fmt.Sprintf(" (%s, %s", st.TaskType, st.Status)
		if st.Description != "" {
			msg += ": " + st.Description
		}
		msg += ")"
	}
	return msg, nil
}

func (a *app) rolloutState(ctx context.Context, id, runID string) (*model.RolloutState, error) {
	return query[model.RolloutState](ctx, a, id, runID, model.QueryRollout)
}

func rolloutStatusCommand(a *app) *cobra.Command {
	var (
		watch, failed, all bool
		q                  model.InstancesQuery
	)
	cmd := &cobra.Command{
		Use:   "status GROUP",
		Short: "Show a task's summary (batches, counts, first failures); with --failed, --batch, --state or --all, its instance rows, page by page",
		Example: "  starter rollout status asg-web-hz\n  starter rollout status asg-web-hz --watch\n" +
			"  starter rollout status asg-web-hz --failed\n  starter rollout status asg-web-hz --batch 3 --page-size 50 [--page-token 50]\n" +
			"  starter rollout status asg-web-hz --all",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := model.RolloutWorkflowID(args[0])
			out := cmd.OutOrStdout()
			if failed {
				q.State = model.InstanceFailed
			}
			if err := q.Validate(); err != nil {
				return invalid("%w", err)
			}
			if watch {
				return a.watchRollout(cmd.Context(), out, id)
			}
			info, err := a.describe(cmd.Context(), id)
			if err != nil {
				return err
			}
			st, err := a.rolloutState(cmd.Context(), id, "")
			if err != nil {
				return fmt.Errorf("query %s: %w", id, err)
			}
			fmt.Fprintf(out, "Workflow:  %s (%s)\nWeb UI:    %s\n", id, info.GetStatus(), a.webURL(id, info.GetExecution().GetRunId()))
			printRollout(out, st)
			fmt.Fprintln(out)
			switch {
			case all || q != (model.InstancesQuery{}) || st.Counts.Total <= smallTask:
				if err := a.printInstancePages(cmd.Context(), out, id, st.TaskType, q, all || q == (model.InstancesQuery{})); err != nil {
					return err
				}
			case len(st.FailedInstances) > 0:
				printInstances(out, st.TaskType, st.FailedInstances)
				if more := st.FailedTotal - len(st.FailedInstances); more > 0 {
					fmt.Fprintf(out, "… and %d more failed instances: starter rollout status %s --failed\n", more, args[0])
				}
			}
			if endedUnsuccessfully(info.GetStatus()) {
				return &exitError{code: exitFailed, err: fmt.Errorf("%s ended %s", id, info.GetStatus())}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&watch, "watch", false, "redraw live progress until the task ends or pauses")
	fl.BoolVar(&failed, "failed", false, "list the failed instances")
	fl.IntVar(&q.Batch, "batch", 0, "list the instances of batch N")
	fl.StringVar(&q.State, "state", "", "list the instances in this state (Pending, Standby, Updating, Success, Failed)")
	fl.BoolVar(&all, "all", false, "list every matching instance, page after page")
	fl.IntVar(&q.PageSize, "page-size", 0, fmt.Sprintf("instance rows per page (default %d, at most %d)", model.DefaultInstancePage, model.MaxInstancePage))
	fl.StringVar(&q.PageToken, "page-token", "", "the page to show, as printed after the previous page")
	return cmd
}

// smallTask is the size up to which status lists every instance by default.
const smallTask = 20

// instancePage queries one page of a task's instances.
func (a *app) instancePage(ctx context.Context, id, runID string, q model.InstancesQuery) (*model.InstancePage, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	v, err := c.QueryWorkflow(ctx, id, runID, model.QueryRolloutInstances, q)
	if err != nil {
		return nil, fmt.Errorf("query %s %s: %w", id, model.QueryRolloutInstances, err)
	}
	var page model.InstancePage
	if err := v.Get(&page); err != nil {
		return nil, err
	}
	return &page, nil
}

// printInstancePages prints the instance rows of one page (all: every page).
func (a *app) printInstancePages(ctx context.Context, out io.Writer, id, taskType string, q model.InstancesQuery, all bool) error {
	shown := 0
	for {
		page, err := a.instancePage(ctx, id, "", q)
		if err != nil {
			return err
		}
		printInstances(out, taskType, page.Instances)
		shown += len(page.Instances)
		if page.NextPageToken == "" {
			fmt.Fprintf(out, "%d instance(s)\n", page.Total)
			return nil
		}
		if !all {
			fmt.Fprintf(out, "%d of %d instance(s); next page: --page-token %s\n", shown, page.Total, page.NextPageToken)
			return nil
		}
		q.PageToken = page.NextPageToken
	}
}

// changedInstances are the instances a run ran its change on, page by page.
func (a *app) changedInstances(ctx context.Context, id, runID string) ([]string, error) {
	q := model.InstancesQuery{Changed: true, PageSize: model.MaxInstancePage}
	var ids []string
	for {
		page, err := a.instancePage(ctx, id, runID, q)
		if err != nil {
			return nil, err
		}
		for _, in := range page.Instances {
			ids = append(ids, in.InstanceID)
		}
		if page.NextPageToken == "" {
			return ids, nil
		}
		q.PageToken = page.NextPageToken
	}
}

// printRollout renders the task: a bar per batch, counts by state, what it
// waits for.
func printRollout(out io.Writer, st *model.RolloutState) {
	kind := "Rolling update"
	if st.RollbackOf != nil {
		kind = fmt.Sprintf("Rollback of %s run %s", st.RollbackOf.WorkflowID, st.RollbackOf.RunID)
	}
	fmt.Fprintf(out, "%s of %s (%s) — %s, batch %d of %d\n", kind, st.ScalingGroupID, st.TaskType, st.Status, st.CurrentBatch, len(st.Batches))
	if st.Description != "" {
		fmt.Fprintf(out, "Description: %s\n", st.Description)
	}
	fmt.Fprintf(out, "Pause policy %s, error threshold %d, failures %d, processes suspended before: %s\n",
		st.PausePolicy, st.ErrorThreshold, st.Failures, strings.Join(st.SuspendedBefore, ",")+orNone(st.SuspendedBefore))
	const width = 30
	for _, b := range st.Batches {
		done := b.Succeeded + b.Failed
		filled := 0
		if b.Size > 0 {
			filled = done * width / b.Size
		}
		fmt.Fprintf(out, "  batch %2d [%s%s] %3d/%-3d ok %-3d failed %-3d %s\n", b.Index,
			strings.Repeat("█", filled), strings.Repeat("·", width-filled), done, b.Size, b.Succeeded, b.Failed, b.State)
	}
	c := st.Counts
	fmt.Fprintf(out, "Instances: %d — %s %d, %s %d, %s %d, %s %d, %s %d\n", c.Total, model.InstanceSucceeded, c.Succeeded, model.InstanceFailed, c.Failed,
		model.InstanceUpdating, c.Updating, model.InstanceStandby, c.Standby, model.InstancePending, c.Pending)
	if st.WaitingFor != "" {
		fmt.Fprintf(out, "⏸  Waiting for %s\n", st.WaitingFor)
	}
	if st.LastRefusal != "" {
		fmt.Fprintf(out, "Last refused command: %s\n", st.LastRefusal)
	}
	if st.Error != "" {
		fmt.Fprintf(out, "Error: %s\n", st.Error)
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return ""
}

func printInstances(out io.Writer, taskType string, instances []model.InstanceProgress) {
	tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tBATCH\tSTATE\tATTEMPTS\tDECISION\tEXIT\tOUTPUT / ERROR")
	for _, in := range instances {
		text := firstLine(in.Output)
		if in.Error != "" {
			text = in.Error
			if o := firstLine(in.Output); o != "" {
				text += " | " + o
			}
		}
		exit := "-" // an image update runs no command: it has no exit code
		if taskType != model.TaskImage && in.Attempts > 0 {
			exit = fmt.Sprint(in.ExitCode)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%s\n", in.InstanceID, in.Batch, in.State, in.Attempts, in.Decision, exit, text)
	}
	_ = tw.Flush()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// watchRollout redraws the task's progress until it ends (exit 0, or 1 if it
// failed) or pauses (exit 4).
func (a *app) watchRollout(ctx context.Context, out io.Writer, id string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	tty := isTerminal(out)
	last := ""
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		desc, err := c.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			return fmt.Errorf("describe %s: %w", id, err)
		}
		status := desc.GetWorkflowExecutionInfo().GetStatus()
		if st, err := a.rolloutState(ctx, id, ""); err == nil {
			var b strings.Builder
			printRollout(&b, st)
			if text := b.String(); text != last {
				if tty {
					fmt.Fprint(out, "\033[H\033[2J")
				} else if last != "" {
					fmt.Fprintln(out, "---")
				}
				fmt.Fprint(out, text)
				last = text
			}
			if status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING && (st.Status == model.RolloutPausedBatch || st.Status == model.RolloutPausedFailure) {
				return &exitError{code: exitPaused, err: fmt.Errorf("%s is paused: %s", id, st.WaitingFor)}
			}
		}
		switch status {
		case enums.WORKFLOW_EXECUTION_STATUS_RUNNING, enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		case enums.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			return nil
		default:
			err := c.GetWorkflow(ctx, id, "").Get(ctx, nil)
			return &exitError{code: exitFailed, err: fmt.Errorf("%s ended %s: %v", id, status, err)}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// rolloutSimpleCommand is a command on the group's running task; payload
// builds its payload from the arguments after GROUP (nil: set-threshold and
// set-pause-policy).
func rolloutSimpleCommand(a *app, use, short string, payload func(args []string) any) *cobra.Command {
	name, _, _ := strings.Cut(use, " ")
	nargs := 1
	if payload == nil {
		nargs = 2
		payload = func(args []string) any {
			if name == model.CommandSetPausePolicy {
				return model.PausePolicyCommand{PausePolicy: args[0]}
			}
			n, _ := strconv.Atoi(args[0]) // checked in RunE
			return model.ThresholdCommand{ErrorThreshold: n}
		}
	} else {
		use = name + " GROUP"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch name {
			case model.CommandSetThreshold:
				if n, err := strconv.Atoi(args[1]); err != nil || n < 0 {
					return invalid("the error threshold must be a whole number ≥ 0, got %q", args[1])
				}
			case model.CommandSetPausePolicy:
				if err := model.CheckPausePolicy(args[1]); err != nil {
					return invalid("%w", err)
				}
			}
			if err := a.sendCommand(cmd.Context(), model.RolloutWorkflowID(args[0]), name, payload(args[1:])); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: accepted\n", name)
			return nil
		},
	}
}

func rolloutInstanceCommand(a *app, name, short string) *cobra.Command {
	return &cobra.Command{
		Use:     name + " GROUP INSTANCE",
		Short:   short,
		Example: fmt.Sprintf("  starter rollout %s asg-web-hz i-webhz0003", name),
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.sendCommand(cmd.Context(), model.RolloutWorkflowID(args[0]), name, model.InstanceCommand{InstanceID: args[1]}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: accepted\n", name, args[1])
			return nil
		},
	}
}

func rolloutCancelCommand(a *app) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "cancel GROUP",
		Short: "Cancel the task: running instance work finishes, no new batch starts, Standby instances return to service",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.sendCommand(cmd.Context(), model.RolloutWorkflowID(args[0]), model.CommandCancel, model.CancelCommand{Reason: reason}); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "cancel: accepted")
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the task is cancelled")
	return cmd
}

func rolloutRollbackCommand(a *app) *cobra.Command {
	var (
		c     model.RollbackCommand
		watch bool
	)
	cmd := &cobra.Command{
		Use:   "rollback GROUP",
		Short: "Roll back the group's paused task, or its most recently finished one",
		Long: `Roll back the instances a task changed: with the task's rollback image,
rollback script or rollback package version unless given here. A paused task
(batch or failure) is cancelled and continues as its rollback; a finished
task's rollback starts as a new task on the group. A rollback cannot itself
be rolled back.`,
		Example: "  starter rollout rollback asg-web-hz --batches 2 --watch",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			id := model.RolloutWorkflowID(args[0])
			client, err := a.client()
			if err != nil {
				return err
			}
			desc, err := client.DescribeWorkflowExecution(cmd.Context(), id, "")
			var notFound *serviceerror.NotFound
			if errors.As(err, &notFound) {
				return invalid("no rolling update of %s to roll back: %w", args[0], err)
			}
			if err != nil {
				return fmt.Errorf("describe %s: %w", id, err)
			}
			info := desc.GetWorkflowExecutionInfo()
			if info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
				if err := a.sendCommand(cmd.Context(), id, model.CommandRollback, c); err != nil {
					return err
				}
				fmt.Fprintln(out, "rollback: accepted; the task stops and continues as its rollback")
			} else {
				runID := info.GetExecution().GetRunId()
				st, err := a.finishedRollout(cmd.Context(), id, runID)
				if err != nil {
					return err
				}
				changed, err := a.changedInstances(cmd.Context(), id, runID)
				if err != nil {
					return err
				}
				ref := model.RolloutRef{WorkflowID: id, RunID: runID, Description: st.Description}
				spec, err := model.RollbackSpec(st.Spec, ref, changed, c)
				if err != nil {
					return invalid("cannot roll back %s run %s: %w", id, runID, err)
				}
				details := fmt.Sprintf("Rolls back [%s run %s](%s) (%s, %s): %d instance(s)", id, runID, a.webURL(id, runID), st.TaskType, st.Status, len(spec.Instances))
				_, newRun, err := a.startRollout(cmd.Context(), spec, fmt.Sprintf("Rollback of %s run %s", id, runID), details)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "Started the rollback of run %s\nWorkflow ID: %s\nWeb UI:      %s\n", runID, id, a.webURL(id, newRun))
			}
			if watch {
				return a.watchRollout(cmd.Context(), out, id)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&c.Description, "description", "", "description of the rollback task")
	fl.IntVar(&c.Batches, "batches", 0, "batches (default: the task's, at most one per instance)")
	fl.StringVar(&c.PausePolicy, "pause-policy", "", "None, FirstBatch or EachBatch (default None)")
	fl.IntVar(&c.ErrorThreshold, "error-threshold", 0, "failed instances tolerated before the rollback pauses")
	fl.StringVar(&c.ImageID, "image", "", "image to apply instead of the task's rollback image")
	fl.StringVar(&c.Script, "script", "", "script to run instead of the task's rollback script")
	fl.StringVar(&c.Version, "version", "", "package version to install instead of the task's rollback version")
	fl.BoolVar(&watch, "watch", false, "redraw live progress until the rollback ends or pauses")
	return cmd
}

// finishedRollout is the final state of a finished task: its result when it
// completed, else what its query still answers.
func (a *app) finishedRollout(ctx context.Context, id, runID string) (*model.RolloutState, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	var st model.RolloutState
	if err := c.GetWorkflow(ctx, id, runID).Get(ctx, &st); err == nil && st.Spec.ScalingGroupID != "" {
		return &st, nil
	}
	qst, err := a.rolloutState(ctx, id, runID)
	if err != nil {
		return nil, fmt.Errorf("read the final state of %s run %s: %w", id, runID, err)
	}
	return qst, nil
}
