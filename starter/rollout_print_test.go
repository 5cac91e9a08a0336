package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"

	"github.com/imagefleet/imagefleet/model"
)

// item 17: an image update has no exit code: EXIT shows "-", not 0.
func TestRolloutInstancesExitColumn(t *testing.T) {
	for taskType, want := range map[string]string{model.TaskImage: "-", model.TaskScript: "3"} {
		var out bytes.Buffer
		printInstances(&out, taskType, []model.InstanceProgress{
			{InstanceID: "i-01", Batch: 1, State: model.InstanceFailed, Attempts: 1, ExitCode: 3, Error: "failed"},
		})
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if fields := strings.Fields(lines[1]); fields[4] != want {
			t.Errorf("%s: EXIT %q, want %q (%s)", taskType, fields[4], want, lines[1])
		}
	}
}

// The watch of a paused task names only the commands that apply to it: a
// paused rollback cannot be rolled back, so it does not suggest rollback.
func TestRolloutWatchHintsFitTheTask(t *testing.T) {
	fastWatch(t)
	for name, tc := range map[string]struct {
		st   model.RolloutState
		want string
	}{
		"rollback": {model.RolloutState{Status: model.RolloutPausedBatch, RollbackOf: &model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "r1"},
			WaitingFor: "operator: batch 1 of 2 is done; check it, then resume (or cancel)"},
			"e.g. starter rollout resume asg-web-hz | starter rollout cancel asg-web-hz\n"},
		"task with failures": {model.RolloutState{Status: model.RolloutPausedFailure, FailedTotal: 1, WaitingFor: "operator: resume (or cancel, rollback)"},
			"e.g. starter rollout status asg-web-hz --failed | starter rollout resume asg-web-hz | starter rollout rollback asg-web-hz | starter rollout cancel asg-web-hz\n"},
	} {
		t.Run(name, func(t *testing.T) {
			c := &mocks.Client{}
			run := &mocks.WorkflowRun{}
			run.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) { <-args.Get(0).(context.Context).Done() }).Return(context.Canceled)
			c.On("GetWorkflow", mock.Anything, "rollout/asg-web-hz", "").Return(run)
			c.On("QueryWorkflow", mock.Anything, "rollout/asg-web-hz", "", model.QueryRollout).Return(func(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
				v := &mocks.Value{}
				v.On("Get", mock.Anything).Run(func(args mock.Arguments) { *args.Get(0).(*model.RolloutState) = tc.st }).Return(nil)
				return v, nil
			})
			var out bytes.Buffer
			err := (&app{temporal: c}).watchRollout(t.Context(), &out, "asg-web-hz", true)
			require.Equal(t, exitPaused, exitCode(t, err), "%v", err)
			require.Contains(t, out.String(), "⏸  waiting for "+tc.st.WaitingFor+"\n   "+tc.want)
		})
	}
}

// The status of an image update says what new instances boot from, and
// what they booted from before the task.
func TestRolloutStatusShowsTheSource(t *testing.T) {
	before := model.ScalingSource{LaunchTemplateID: "lt-web-hz", LaunchTemplateVersion: "Default", Version: 1, ImageID: "m-webapp-v1"}
	now := before
	now.Version, now.ImageID = 2, "m-webapp-v2"
	var out bytes.Buffer
	printRollout(&out, &model.RolloutState{ScalingGroupID: "asg-web-hz", TaskType: model.TaskImage, Status: model.RolloutSucceeded, SourceBefore: &before, Source: &now})
	want := "New instances boot from: launch template lt-web-hz version 2 (Default; image m-webapp-v2) (before the task: launch template lt-web-hz version 1 (Default; image m-webapp-v1))\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("status:\n%s\nwant a line %q", out.String(), want)
	}
	out.Reset()
	printRollout(&out, &model.RolloutState{ScalingGroupID: "asg-web-hz", TaskType: model.TaskScript, Status: model.RolloutSucceeded})
	if strings.Contains(out.String(), "boot from") {
		t.Errorf("a script task's status names a source:\n%s", out.String())
	}
}
