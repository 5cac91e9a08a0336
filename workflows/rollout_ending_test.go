package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

func TestRolloutRefusesInvalidSpec(t *testing.T) {
	for name, change := range map[string]func(*model.RolloutSpec){
		"no batches":     func(s *model.RolloutSpec) { s.Batches = 0 },
		"bad policy":     func(s *model.RolloutSpec) { s.PausePolicy = "Sometimes" },
		"no image":       func(s *model.RolloutSpec) { s.Image = nil },
		"bad group":      func(s *model.RolloutSpec) { s.ScalingGroupID = "web" },
		"negative limit": func(s *model.RolloutSpec) { s.ErrorThreshold = -1 },
		"two changes":    func(s *model.RolloutSpec) { s.Script = &model.ScriptChange{Type: model.ScriptShell, Script: "echo"} },
	} {
		t.Run(name, func(t *testing.T) {
			env := newRolloutEnv(t, 4)
			spec := rolloutSpec(2, model.PauseNone)
			change(&spec)
			env.execute(spec)
			require.True(t, env.IsWorkflowCompleted())
			require.True(t, lifecycle.IsType(env.GetWorkflowError(), ErrTypeInvalidSpec), env.GetWorkflowError())
			require.Empty(t, env.changes)
		})
	}
}

func TestRolloutRefusedByTheCloudChangesNothing(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.OnActivity(rollouts.CheckRollout, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("scaling group asg-web-hz has a scaling activity in progress", activities.ErrTypeRolloutRefused, nil))
	env.execute(rolloutSpec(2, model.PauseNone))
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.True(t, lifecycle.IsType(err, activities.ErrTypeRolloutRefused), err)
	require.ErrorContains(t, err, "scaling activity in progress")
	env.requireRestored()
	require.Empty(t, env.changes)
}

func TestRolloutWorkflowCancellationRestoresTheGroup(t *testing.T) {
	env := newRolloutEnv(t, 6)
	env.at(time.Minute, func() {
		require.Equal(t, model.RolloutPausedBatch, env.state().Status)
		env.CancelWorkflow()
	})
	env.execute(rolloutSpec(3, model.PauseEachBatch))
	require.True(t, env.IsWorkflowCompleted())
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), env.GetWorkflowError())
	env.requireRestored()
}

func TestRolloutWorkflowCancellationLetsTheRunningBatchFinish(t *testing.T) {
	env := newRolloutEnv(t, 4)
	// The changes of the first batch take a minute; Temporal cancels the
	// task after thirty seconds.
	env.succeedAfter(time.Minute)
	env.at(30*time.Second, env.CancelWorkflow)
	env.execute(rolloutSpec(2, model.PauseNone))
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), env.GetWorkflowError())
	env.locked(func() {
		require.Len(t, env.changes, 2, "the first batch's changes ran to their end, no other batch started")
	})
	require.Equal(t, model.InstanceSucceeded, env.instance("i-01").State, "in-flight work finished")
	require.Equal(t, model.InstancePending, env.instance("i-03").State)
	env.requireRestored()
}

func TestRolloutActivityFailureRestoresTheGroup(t *testing.T) {
	env := newRolloutEnv(t, 6)
	env.OnActivity(rollouts.EnterStandby, mock.Anything, mock.MatchedBy(func(in activities.StandbyInput) bool { return in.Instances[0] == "i-03" })).Return(
		func(_ context.Context, in activities.StandbyInput) error {
			env.locked(func() { env.standby[in.Instances[0]] = true }) // half done, then a permanent error
			return temporal.NewNonRetryableApplicationError("IncorrectLifecycleState: instance i-04 is Removing", "IncorrectLifecycleState", nil)
		})
	env.execute(rolloutSpec(3, model.PauseNone))
	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), "is Removing")
	st := env.state()
	require.Equal(t, model.RolloutFailed, st.Status)
	require.Contains(t, st.Error, "is Removing")
	env.requireRestored()
}

// A group with a rolling update task running (started by any client) is
// refused before anything changes; a run's own task ends with it.
func TestRolloutRefusedWhileTheGroupHasATask(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.OnActivity(rolloutTasks.StartRollingUpdateTask, mock.Anything, mock.Anything).Return("",
		temporal.NewNonRetryableApplicationError("scaling group asg-web-hz has rolling update task rut-1 running", cloud.CodeRollingUpdateRunning, nil))
	env.execute(rolloutSpec(2, model.PauseNone))
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, env.GetWorkflowError(), &appErr)
	require.Equal(t, cloud.CodeRollingUpdateRunning, appErr.Type())
	require.Empty(t, env.changes, "no instance was changed")
	require.Empty(t, env.standby)
	require.Equal(t, model.RolloutFailed, env.state().Status)
}

func TestRolloutEndsItsTask(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.execute(rolloutSpec(2, model.PauseNone))
	require.NoError(t, env.GetWorkflowError())
	require.Zero(t, env.tasks, "the task ended with the run")
}

// item 17: after set-threshold, what the task waits for quotes the new
// threshold; a paused rollback task does not offer rollback.
func TestRolloutMessagesFollowTheThresholdAndTheTaskKind(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.fails["i-01"], env.fails["i-02"] = 1, 1
	env.at(time.Minute, func() {
		require.Contains(t, env.state().WaitingFor, "exceed the error threshold 0")
		env.send(model.CommandSetThreshold, model.ThresholdCommand{ErrorThreshold: 1}, "")
	})
	env.at(90*time.Second, func() {
		w := env.state().WaitingFor
		require.Contains(t, w, "exceed the error threshold 1")
		require.NotContains(t, w, "threshold 0")
		env.send(model.CommandSetThreshold, model.ThresholdCommand{ErrorThreshold: 2}, "")
	})
	env.at(2*time.Minute, func() {
		require.NotContains(t, env.state().WaitingFor, "exceed")
		env.send(model.CommandResume, model.ResumeCommand{}, "")
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	require.Equal(t, model.RolloutSucceeded, env.result().Status)

	env = newRolloutEnv(t, 4)
	spec := rolloutSpec(2, model.PauseFirstBatch)
	spec.RollbackOf = &model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "run-1"}
	spec.Instances = []string{"i-01", "i-02", "i-03", "i-04"}
	env.at(5*time.Minute, func() {
		st := env.state()
		require.Equal(t, model.RolloutPausedBatch, st.Status)
		require.NotContains(t, st.WaitingFor, model.CommandRollback)
		env.send(model.CommandResume, model.ResumeCommand{}, "")
	})
	env.execute(spec)
	require.Equal(t, model.RolloutSucceeded, env.result().Status)
}

// Issue 13: each worker crash during a batch (a heartbeat timeout of the
// change's activity) must not cost the change one of its attempts. Six
// crashes in a row used to exhaust the activity's 5 attempts and mark the
// instances Failed although the cloud changed them.
func TestRolloutWorkerCrashesDoNotCostAttempts(t *testing.T) {
	env := newRolloutEnv(t, 4)
	crashes := 0
	env.OnActivity(rollouts.ApplyChangeChunk, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ChunkInput) (*activities.ChunkResult, error) {
		crashed := false
		env.locked(func() {
			if crashes < 6 {
				crashes++
				crashed = true
			}
		})
		if crashed {
			return nil, temporal.NewTimeoutError(enums.TIMEOUT_TYPE_HEARTBEAT, nil)
		}
		out := &activities.ChunkResult{}
		for _, ci := range in.Instances {
			out.Results = append(out.Results, activities.InstanceResult{InstanceID: ci.InstanceID, ChangeResult: activities.ChangeResult{Succeeded: true}})
		}
		return out, nil
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Equal(t, 6, crashes)
	for _, in := range env.listInstances(model.InstancesQuery{}) {
		require.Equal(t, model.InstanceSucceeded, in.State, in.InstanceID)
		require.Equal(t, 1, in.Attempts, "crashes are not attempts of the change")
	}
	require.Empty(t, env.events, "no failure event")
}

// At fleet size every payload stays below Temporal's 512 KB warning: the
// progress answer, the result, a page of instances and a chunk's result,
// with 10,000 instances that all failed with 256 bytes of output; the Web
// UI's details stay short.
func TestRolloutOf10000InstancesStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 instances")
	}
	const limit = 512 << 10
	env := newRolloutEnv(t, 10000)
	largestChunk := 0
	env.OnActivity(rollouts.ApplyChangeChunk, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ChunkInput) (*activities.ChunkResult, error) {
		out := &activities.ChunkResult{}
		for _, ci := range in.Instances {
			out.Results = append(out.Results, activities.InstanceResult{InstanceID: ci.InstanceID, Ref: "t-0123456789abcdefghij", ChangeResult: activities.ChangeResult{
				ExitCode: 1, Output: strings.Repeat("o", model.MaxKeptOutput), Error: "the script exited with 1: " + strings.Repeat("e", 100)}})
		}
		size := payloadSize(t, out)
		env.locked(func() { largestChunk = max(largestChunk, size) })
		return out, nil
	})
	spec := rolloutSpec(5, model.PauseNone)
	spec.ErrorThreshold = 10000
	env.execute(spec)
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Equal(t, 10000, st.Counts.Failed)
	require.Equal(t, 10000, st.FailedTotal)
	require.Len(t, st.FailedInstances, model.MaxListedFailures)
	require.Less(t, payloadSize(t, st), limit, "result")
	require.Less(t, payloadSize(t, env.state()), limit, "progress")
	require.Less(t, largestChunk, limit, "a chunk's result")
	v, err := env.QueryWorkflow(model.QueryRolloutInstances, model.InstancesQuery{State: model.InstanceFailed, PageSize: model.MaxInstancePage})
	require.NoError(t, err)
	var page model.InstancePage
	require.NoError(t, v.Get(&page))
	require.Len(t, page.Instances, model.MaxInstancePage)
	require.Equal(t, 10000, page.Total)
	require.Less(t, payloadSize(t, page), limit, "a page of instances")
	require.Less(t, len(rolloutDetails(&st)), 8<<10, "Web UI details")
	batch := env.listInstances(model.InstancesQuery{Batch: 5, PageSize: model.MaxInstancePage})
	require.Len(t, batch, 2000)
	require.Equal(t, 5, batch[0].Batch)
}

func payloadSize(t *testing.T, v any) int {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p.Size()
}

// A chunk whose activity cannot get through (the cloud unavailable for
// hours) gives up after the step deadline like any step: its instances fail
// with the reason and the task pauses for the operator, instead of waiting
// without end.
func TestRolloutChunkGivesUpAfterTheStepDeadline(t *testing.T) {
	env := newRolloutEnv(t, 2)
	// Each attempt fails after 50 minutes: the fourth ends past the
	// deadline (2 h + model.StepDeadline), the test suite's own limit of
	// 10 attempts would be reached after 8 h.
	env.OnActivity(rollouts.ApplyChangeChunk, mock.Anything, mock.Anything).After(50*time.Minute).Return(nil, transientError())
	var paused model.RolloutState
	env.at(4*time.Hour, func() {
		paused = env.state()
		env.send(model.CommandCancel, model.CancelCommand{Reason: "cloud down"}, "")
	})
	env.execute(rolloutSpec(1, model.PauseNone))
	st := env.result()
	require.Equal(t, model.RolloutPausedFailure, paused.Status)
	require.Equal(t, 2, paused.Failures)
	require.Contains(t, paused.FailedInstances[0].Error, "ServiceUnavailable")
	require.Equal(t, model.RolloutCancelled, st.Status)
	env.requireRestored()
}
