package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/imagefleet/imagefleet/model"
	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
)

// rolloutDecision is a command on the group's running task.
func rolloutDecision(a *app, name, args, short string, payload func(args []string) (any, error)) *cobra.Command {
	d := decision{
		Use: name + " GROUP" + args, Short: short, Args: 1 + strings.Count(args, " "),
		WorkflowID: func(args []string) string { return model.RolloutWorkflowID(args[0]) },
		Name:       name, Payload: payload,
	}
	if args == " INSTANCE" {
		d.Example = fmt.Sprintf("  starter rollout %s asg-web-hz i-webhz0003", name)
		d.Subject = func(args []string) string { return args[1] }
	}
	return decideCommand(a, d)
}

func rolloutInstanceCommand(a *app, name, short string) *cobra.Command {
	return rolloutDecision(a, name, " INSTANCE", short, func(args []string) (any, error) {
		return model.InstanceCommand{InstanceID: args[1]}, nil
	})
}

func rolloutThresholdCommand(a *app) *cobra.Command {
	return rolloutDecision(a, model.CommandSetThreshold, " N", "Change the error threshold of a running task", func(args []string) (any, error) {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 0 {
			return nil, invalid("the error threshold must be a whole number ≥ 0, got %q", args[1])
		}
		return model.ThresholdCommand{ErrorThreshold: n}, nil
	})
}

func rolloutPausePolicyCommand(a *app) *cobra.Command {
	return rolloutDecision(a, model.CommandSetPausePolicy, " POLICY", "Change the pause policy (None, FirstBatch, EachBatch) of a running task", func(args []string) (any, error) {
		if err := model.CheckPausePolicy(args[1]); err != nil {
			return nil, invalid("%w", err)
		}
		return model.PausePolicyCommand{PausePolicy: args[1]}, nil
	})
}

func rolloutCancelCommand(a *app) *cobra.Command {
	var c model.CancelCommand
	cmd := rolloutDecision(a, model.CommandCancel, "", "Cancel the task: running instance work finishes, no new batch starts, Standby instances return to service", fixed(&c))
	cmd.Flags().StringVar(&c.Reason, "reason", "", "why the task is cancelled")
	return cmd
}

func rolloutRollbackCommand(a *app) *cobra.Command {
	var (
		c                  model.RollbackCommand
		watch, exitOnPause bool
	)
	cmd := &cobra.Command{
		Use:   "rollback GROUP",
		Short: "Roll back the group's paused task, or its most recently finished one",
		Long: `Roll back the instances a task changed: with the task's rollback image,
rollback script or rollback package version unless given here. A paused task
(batch or failure) is cancelled and continues as its rollback, which takes
the group over without releasing it; a finished task's rollback starts as a
new task on the group. A rollback cannot itself be rolled back, but one that
failed or was cancelled is finished by running this again: a new rollback
task on the instances it did not roll back.`,
		Example: "  starter rollout rollback asg-web-hz --batches 2 --watch",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			id := model.RolloutWorkflowID(args[0])
			info, err := a.describeIfAny(ctx, id)
			if err != nil {
				return err
			}
			if info == nil {
				return invalid("no rolling update of %s to roll back", args[0])
			}
			if info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
				err = a.decide(cmd, id, model.CommandRollback, c, model.CommandRollback, "the task stops and continues as its rollback")
			} else {
				err = a.startRollback(ctx, out, id, info.GetExecution().GetRunId(), c)
			}
			if err != nil || !watch {
				return err
			}
			return a.watchRollout(ctx, out, args[0], exitOnPause)
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
	watchFlags(cmd, &watch, &exitOnPause, "rollback")
	return a.replyTimeoutFlag(cmd)
}

// startRollback starts the rollback of a finished run as a new task linked
// to it, on the instances the run changed.
func (a *app) startRollback(ctx context.Context, out io.Writer, id, runID string, c model.RollbackCommand) error {
	st, err := a.finishedRollout(ctx, id, runID)
	if err != nil {
		return err
	}
	if st.Spec.IsRollback() && st.Status != model.RolloutSucceeded {
		return a.rollBackAgain(ctx, out, id, runID, st, c)
	}
	changed, err := a.changedInstances(ctx, id, runID)
	if err != nil {
		return err
	}
	ref := model.RolloutRef{WorkflowID: id, RunID: runID, Description: st.Description}
	spec, err := model.RollbackSpec(st.Spec, ref, changed, c)
	if err != nil {
		return invalid("cannot roll back %s run %s: %w", id, runID, err)
	}
	details := fmt.Sprintf("Rolls back [%s run %s](%s) (%s, %s): %d instance(s)", id, runID, a.webURL(id, runID), st.TaskType, st.Status, len(spec.Instances))
	plan := a.rolloutPlan(spec, fmt.Sprintf("Rollback of %s run %s", id, runID), details)
	plan.Started = "the rollback of run " + runID
	_, err = a.startRun(ctx, out, plan)
	return err
}

// rollBackAgain finishes a rollback that failed or was cancelled: a new
// rollback task of the same task, on the instances it did not roll back.
func (a *app) rollBackAgain(ctx context.Context, out io.Writer, id, runID string, st *model.RolloutState, c model.RollbackCommand) error {
	done, err := a.succeededInstances(ctx, id, runID)
	if err != nil {
		return err
	}
	var left []string
	for _, in := range st.Spec.Instances {
		if !done[in] {
			left = append(left, in)
		}
	}
	spec, err := model.RollbackAgainSpec(st.Spec, left, c)
	if err != nil {
		return invalid("cannot finish the rollback %s run %s: %w", id, runID, err)
	}
	of := st.Spec.RollbackOf
	details := fmt.Sprintf("Finishes the rollback [%s run %s](%s) (%s): %d instance(s) of %d left to roll back", id, runID, a.webURL(id, runID), st.Status, len(left), len(st.Spec.Instances))
	plan := a.rolloutPlan(spec, fmt.Sprintf("Rollback of %s run %s", of.WorkflowID, of.RunID), details)
	plan.Started = "the rest of the rollback of run " + of.RunID
	_, err = a.startRun(ctx, out, plan)
	return err
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
