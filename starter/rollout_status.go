package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/imagefleet/imagefleet/model"
	"github.com/spf13/cobra"
)

func rolloutStatusCommand(a *app) *cobra.Command {
	var (
		watch, exitOnPause, failed, all bool
		q                               model.InstancesQuery
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
				return a.watchRollout(cmd.Context(), out, args[0], exitOnPause)
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
			return endedStatus(id, info.GetStatus())
		},
	}
	fl := cmd.Flags()
	watchFlags(cmd, &watch, &exitOnPause, "task")
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
	changed := true
	q := model.InstancesQuery{Changed: &changed, PageSize: model.MaxInstancePage}
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

// succeededInstances are the instances of a run that ended Success.
func (a *app) succeededInstances(ctx context.Context, id, runID string) (map[string]bool, error) {
	q := model.InstancesQuery{State: model.InstanceSucceeded, PageSize: model.MaxInstancePage}
	done := map[string]bool{}
	for {
		page, err := a.instancePage(ctx, id, runID, q)
		if err != nil {
			return nil, err
		}
		for _, in := range page.Instances {
			done[in.InstanceID] = true
		}
		if page.NextPageToken == "" {
			return done, nil
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
	if st.Source != nil {
		fmt.Fprintf(out, "New instances boot from: %s", st.Source)
		if st.SourceBefore != nil && *st.SourceBefore != *st.Source {
			fmt.Fprintf(out, " (before the task: %s)", st.SourceBefore)
		}
		fmt.Fprintln(out)
	}
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
	if left := len(st.Spec.Instances) - c.Succeeded; st.RollbackOf != nil && left > 0 &&
		(st.Status == model.RolloutFailed || st.Status == model.RolloutCancelled) {
		fmt.Fprintf(out, "The rollback did not finish: starter rollout rollback %s rolls back the %d instance(s) left\n", st.ScalingGroupID, left)
	}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return ""
}

func printInstances(out io.Writer, taskType string, instances []model.InstanceProgress) {
	tw := table(out, "INSTANCE\tBATCH\tSTATE\tATTEMPTS\tDECISION\tEXIT\tOUTPUT / ERROR")
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
