package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
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
		rolloutDecision(a, model.CommandResume, "", "Continue a paused task", func([]string) (any, error) { return model.ResumeCommand{}, nil }),
		rolloutInstanceCommand(a, model.CommandRetry, "Run the change again on a failed instance"),
		rolloutInstanceCommand(a, model.CommandSkip, "Mark a failed instance Success and go on"),
		rolloutInstanceCommand(a, model.CommandCancelInstance, "Mark a failed instance Failed for good and go on"),
		rolloutCancelCommand(a),
		rolloutRollbackCommand(a),
		rolloutThresholdCommand(a),
		rolloutPausePolicyCommand(a),
	)
	return cmd
}

func rolloutStartCommand(a *app) *cobra.Command {
	var (
		spec               *specFlags[model.RolloutSpec]
		scriptFile         string
		watch, exitOnPause bool
	)
	cmd := &cobra.Command{
		Use:   "start GROUP",
		Short: "Start a rolling update of a scaling group",
		Long: `Start a rolling update of a scaling group. The spec comes from --spec (YAML
or JSON, the fields of model.RolloutSpec) and/or flags; flags override the
file. The spec is checked against the rules and the cloud before anything
starts; one task per group runs at a time.`,
		Example: `  starter rollout start asg-web-hz --type image --image m-webapp-v2 --rollback-image m-webapp-v1 --batches 3 --pause-policy FirstBatch --watch
  starter rollout start asg-web-hz --type script --script 'echo hello' --rollback-script 'echo bye' --batches 2
  starter rollout start asg-win-hz --type script --script-type RunPowerShellScript --script 'Write-Output ok' --batches 2
  starter rollout start asg-web-hz --type package --package webapp-agent --version 1.1.0 --rollback-version 1.0.0 --batches 5 --error-threshold 1
  starter rollout start asg-web-hz --spec rollout.yaml --batches 4`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := spec.load()
			if err != nil {
				return err
			}
			s.ScalingGroupID = args[0]
			if s, err = rolloutChange(s, scriptFile); err != nil {
				return err
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			return a.startAndWatch(ctx, out, a.rolloutPlan(s, "", ""), watch, func() error {
				return a.watchRollout(ctx, out, s.ScalingGroupID, exitOnPause)
			})
		},
	}
	type S = model.RolloutSpec
	spec = newSpecFlags(cmd, func() S {
		return S{RegionID: "cn-hangzhou", Batches: 1, PausePolicy: model.PauseNone, Script: &model.ScriptChange{Type: model.ScriptShell}}
	})
	image := func(s *S) *model.ImageChange { return ensure(&s.Image) }
	script := func(s *S) *model.ScriptChange { return ensure(&s.Script) }
	pkg := func(s *S) *model.OOSPackageChange { return ensure(&s.Package) }
	spec.flag("region", "region of the scaling group", func(s *S) any { return &s.RegionID })
	spec.flag("type", "task type: image, script or package", func(s *S) any { return &s.TaskType })
	spec.flag("image", "image: the image to apply (in the group's region)", func(s *S) any { return &image(s).ImageID })
	spec.flag("rollback-image", "image: the image a rollback applies", func(s *S) any { return &image(s).RollbackImageID })
	spec.flag("script-type", "script: RunShellScript, RunBatScript or RunPowerShellScript", func(s *S) any { return &script(s).Type })
	spec.flag("script", "script: the script to run", func(s *S) any { return &script(s).Script })
	spec.flag("rollback-script", "script: the script a rollback runs", func(s *S) any { return &script(s).RollbackScript })
	spec.flag("package", "package: the OOS package name", func(s *S) any { return &pkg(s).Name })
	spec.flag("version", "package: the version to install", func(s *S) any { return &pkg(s).Version })
	spec.flag("rollback-version", "package: the version a rollback installs", func(s *S) any { return &pkg(s).RollbackVersion })
	spec.flag("batches", "number of batches (1 to the number of InService instances)", func(s *S) any { return &s.Batches })
	spec.flag("pause-policy", "None, FirstBatch or EachBatch", func(s *S) any { return &s.PausePolicy })
	spec.flag("error-threshold", "failed instances tolerated before the task pauses", func(s *S) any { return &s.ErrorThreshold })
	spec.flag("description", "task description", func(s *S) any { return &s.Description })
	cmd.Flags().StringVar(&scriptFile, "script-file", "", "script: read the script from this file")
	watchFlags(cmd, &watch, &exitOnPause, "task")
	return cmd
}

// watchFlags are a rollout command's --watch and --exit-on-pause: a rolling
// update's watch stops when the task pauses unless told otherwise.
func watchFlags(cmd *cobra.Command, watch, exitOnPause *bool, what string) {
	cmd.Flags().BoolVar(watch, "watch", false, "redraw live progress until the "+what+" ends or pauses")
	cmd.Flags().BoolVar(exitOnPause, "exit-on-pause", true, "with --watch, exit with code 4 when the "+what+" pauses (false: keep watching)")
}

// rolloutChange keeps the change the task type names (the short names
// image, script and package are accepted), with the script read from
// scriptFile when given.
func rolloutChange(s model.RolloutSpec, scriptFile string) (model.RolloutSpec, error) {
	image, script, pkg := s.Image, s.Script, s.Package
	s.Image, s.Script, s.Package = nil, nil, nil
	switch s.TaskType {
	case "image", model.TaskImage:
		s.TaskType, s.Image = model.TaskImage, ensure(&image)
	case "script", model.TaskScript:
		s.TaskType, s.Script = model.TaskScript, ensure(&script)
		if scriptFile != "" {
			data, err := os.ReadFile(scriptFile)
			if err != nil {
				return s, invalid("read script: %w", err)
			}
			s.Script.Script = string(data)
		}
		if s.Script.Type == "" {
			s.Script.Type = model.ScriptShell
		}
	case "package", model.TaskOOSPackage:
		s.TaskType, s.Package = model.TaskOOSPackage, ensure(&pkg)
	default:
		return s, invalid("--type must be image, script or package, got %q", s.TaskType)
	}
	return s, nil
}

// rolloutPlan checks the spec against the rules and the cloud, then starts
// the task. A task already running on the group is refused, naming it.
func (a *app) rolloutPlan(spec model.RolloutSpec, summary, details string) runPlan {
	id := model.RolloutWorkflowID(spec.ScalingGroupID)
	if summary == "" {
		summary = fmt.Sprintf("Rolling update (%s) of %s in %d batch(es)", spec.TaskType, spec.ScalingGroupID, spec.Batches)
	}
	return runPlan{
		Validate: func() error {
			if spec.Handoff != nil {
				return errors.New("handoff is set only by a task's own run when it continues as new; leave it out")
			}
			return spec.Validate()
		},
		Check: func(ctx context.Context) error {
			// The running task is named before the cloud is asked anything.
			if running, err := a.runningRollout(ctx, id); err != nil {
				return err
			} else if running != "" {
				return invalid("a rolling update is already running on %s: %s", spec.ScalingGroupID, running)
			}
			if _, err := cloudops.CheckRollout(ctx, a.cloudClient(), spec); err != nil {
				return checkFailed("check scaling group "+spec.ScalingGroupID, err)
			}
			return nil
		},
		startRequest: startRequest{
			ID: id, Type: model.RolloutWorkflowType, Input: spec,
			Operation: model.OperationRollout,
			Keys: []temporal.SearchAttributeUpdate{
				model.SAScalingGroup.ValueSet(spec.ScalingGroupID),
			},
			Summary: summary,
			Details: details,
			Conflict: func(ctx context.Context) string {
				running, _ := a.runningRollout(ctx, id)
				return fmt.Sprintf("a rolling update is already running on %s: %s", spec.ScalingGroupID, running)
			},
		},
	}
}

// runningRollout describes the task running under id, or "" if none runs.
func (a *app) runningRollout(ctx context.Context, id string) (string, error) {
	info, err := a.describeIfAny(ctx, id)
	if err != nil || info.GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return "", err
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

// watchRollout redraws the task's progress until it ends (exit 0, or 1 if it
// did not complete); when it pauses, exitOnPause stops the watch (exit 4).
func (a *app) watchRollout(ctx context.Context, out io.Writer, group string, exitOnPause bool) error {
	_, err := watchRun(ctx, a, out, model.RolloutWorkflowID(group), "", watch[model.RolloutState, model.RolloutState]{
		Query: model.QueryRollout,
		Show: changedFrame(func(w io.Writer, st *model.RolloutState) {
			frame := *st
			frame.WaitingFor = "" // the watch prints it when the task pauses
			printRollout(w, &frame)
		}),
		Waiting: func(st *model.RolloutState) string {
			if st.Status != model.RolloutPausedBatch && st.Status != model.RolloutPausedFailure {
				return ""
			}
			return cmp.Or(st.WaitingFor, st.Status)
		},
		HintFor:     func(st *model.RolloutState) string { return rolloutHint(group, st) },
		ExitOnPause: exitOnPause,
	})
	return err
}

// rolloutHint names the commands that apply to a paused task: a look at its
// failures when it has some, resume, rollback unless the task is itself a
// rollback (which cannot be rolled back), and cancel.
func rolloutHint(group string, st *model.RolloutState) string {
	var hints []string
	if st.FailedTotal > 0 {
		hints = append(hints, "starter rollout status "+group+" --failed")
	}
	hints = append(hints, "starter rollout resume "+group)
	if st.RollbackOf == nil {
		hints = append(hints, "starter rollout rollback "+group)
	}
	hints = append(hints, "starter rollout cancel "+group)
	return strings.Join(hints, " | ")
}
