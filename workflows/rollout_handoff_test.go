package workflows

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// continuedAs checks that the run continued as new as the workflow it must
// and returns the next run's spec.
func (env *rolloutEnv) continuedAs() model.RolloutSpec {
	env.t.Helper()
	env.checkExpectations()
	require.True(env.t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.ErrorAs(env.t, env.GetWorkflowError(), &can)
	require.Equal(env.t, model.RolloutWorkflowType, can.WorkflowType.Name)
	var spec model.RolloutSpec
	require.NoError(env.t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &spec))
	return spec
}

// nextRun is a test environment for the run that spec continues as: the
// same group, as the previous run left it.
func (env *rolloutEnv) nextRun(spec model.RolloutSpec) *rolloutEnv {
	next := newRolloutEnv(env.t, 0)
	env.locked(func() {
		next.instances = slices.Clone(env.instances)
		next.suspended = slices.Clone(env.suspended)
		next.tasks = env.tasks
		next.fails = env.fails
	})
	if spec.Handoff != nil {
		next.SetContinuedExecutionRunID(spec.Handoff.FromRunID)
	}
	return next
}

// TestRolloutRollbackTakesOverTheGroup (issue 18, items 1 and 23): the
// paused task hands its rolling update task and suspended processes to its
// rollback, which adopts them: nothing takes or releases the group between
// the two runs, and a signal refused during the hand-off shows in the
// rollback's lastRefusal.
func TestRolloutRollbackTakesOverTheGroup(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.fails["i-02"] = 1
	// Paused on i-02's failure, batch 1 in Standby. The rollback returns the
	// batch to service (a minute), and a retry signalled meanwhile is
	// refused: the rollback shows why.
	env.OnActivity(rollouts.ExitStandby, mock.Anything, mock.Anything).After(time.Minute).Return(func(_ context.Context, in activities.StandbyInput) error {
		env.locked(func() {
			for _, id := range in.Instances {
				delete(env.standby, id)
			}
		})
		return nil
	})
	env.at(time.Minute, func() {
		env.SignalWorkflow(model.CommandRollback, model.RollbackCommand{})
	})
	env.at(90*time.Second, func() {
		env.SignalWorkflow(model.CommandRetry, model.InstanceCommand{InstanceID: "i-02"})
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	spec := env.continuedAs()
	require.Equal(t, []string{"CheckRollout", "CreateRollingUpdateTask", "SuspendProcesses"}, env.holds,
		"the task neither finishes nor resumes the processes when it hands over")
	require.Equal(t, 1, env.tasks, "the group stays held")
	require.ElementsMatch(t, cloud.ScalingProcesses, env.suspended, "the processes stay suspended")
	h := spec.Handoff
	require.NotNil(t, h)
	require.Equal(t, "default-test-run-id", h.FromRunID)
	require.True(t, strings.HasPrefix(h.TaskID, "rut-"), h.TaskID)
	require.Equal(t, []string{cloud.ProcessHealthCheck}, h.SuspendedBefore)
	require.ElementsMatch(t, slices.DeleteFunc(slices.Clone(cloud.ScalingProcesses), func(p string) bool { return p == cloud.ProcessHealthCheck }), h.Suspended)
	require.Contains(t, h.LastRefusal, "retry: the task is cancelling", "the signal refused during the hand-off")
	require.Nil(t, h.Continuation)
	require.Equal(t, []string{"i-01", "i-02"}, spec.Instances)

	// The rollback adopts the group: no new task, no check, no suspension;
	// at its end it finishes the task handed over and resumes exactly the
	// processes the task suspended.
	rb := env.nextRun(spec)
	rb.execute(spec)
	st := rb.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Equal(t, []string{"ResumeProcesses", "FinishRollingUpdateTask " + h.TaskID}, rb.holds)
	require.Zero(t, rb.tasks)
	require.Equal(t, h.LastRefusal, st.LastRefusal)
	require.Equal(t, []string{cloud.ProcessHealthCheck}, st.SuspendedBefore)
	require.Len(t, rb.changes, 2)
	rb.requireRestored()
}

// TestRolloutHandoffFromAnotherRunIsRefused: a client cannot hand a run a
// task it does not hold; the run is refused before it touches the group.
func TestRolloutHandoffFromAnotherRunIsRefused(t *testing.T) {
	spec, err := model.RollbackSpec(rolloutSpec(2, model.PauseNone), model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "run-1"},
		[]string{"i-01", "i-02"}, model.RollbackCommand{})
	require.NoError(t, err)
	spec.Handoff = &model.RolloutHandoff{FromRunID: "run-1", TaskID: "rut-someone-elses"}
	env := newRolloutEnv(t, 4)
	env.SetContinuedExecutionRunID("run-0")
	env.execute(spec)
	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), "only a task's own run hands it over")
	require.Empty(t, env.holds)
	require.Empty(t, env.changes)
}

// slowStandby makes EnterStandby take d (in workflow time).
func (env *rolloutEnv) slowStandby(d time.Duration) {
	env.OnActivity(rollouts.EnterStandby, mock.Anything, mock.Anything).After(d).Return(func(_ context.Context, in activities.StandbyInput) error {
		env.locked(func() {
			for _, id := range in.Instances {
				env.standby[id] = true
			}
		})
		return nil
	})
}

// TestRolloutContinuesAsNewAtBatchBoundary (issue 18, item 20): a task
// whose history has grown long continues as new at its next batch
// boundary, handing over the group, where it stands, its policy (as the
// operator changed it) and every instance's outcome; the next run answers
// the queries as the previous one did and ends the task.
func TestRolloutContinuesAsNewAtBatchBoundary(t *testing.T) {
	defer func(n int) { rolloutRunEvents = n }(rolloutRunEvents)
	rolloutRunEvents = 0 // every batch boundary (the test environment counts no history)

	env := newRolloutEnv(t, 6)
	env.fails["i-03"] = 1
	env.at(time.Minute, func() {
		require.Equal(t, model.RolloutPausedBatch, env.state().Status)
		env.send(model.CommandSetThreshold, model.ThresholdCommand{ErrorThreshold: 2}, "")
		env.SignalWorkflow(model.CommandSkip, model.InstanceCommand{InstanceID: "i-05"})
	})
	env.at(2*time.Minute, func() { env.send(model.CommandResume, model.ResumeCommand{}, "") })
	env.execute(rolloutSpec(3, model.PauseEachBatch))
	spec := env.continuedAs()
	before := env.state()
	beforeInsts := env.listInstances(model.InstancesQuery{})
	require.Equal(t, []string{"CheckRollout", "CreateRollingUpdateTask", "SuspendProcesses"}, env.holds, "nothing released")
	require.Equal(t, 1, env.tasks)
	h := spec.Handoff
	require.NotNil(t, h)
	require.NotNil(t, h.Continuation)
	c := h.Continuation
	require.Equal(t, 1, c.NextBatch)
	require.Equal(t, 2, c.ErrorThreshold, "the threshold as the operator set it")
	require.Equal(t, 1, c.BatchPauses)
	require.Contains(t, h.LastRefusal, "skip: instance i-05 is Pending")
	require.NotNil(t, spec.Image.Switched, "the next run adopts the group's switched source (rollout_source.go)")
	require.Equal(t, rolloutSpec(3, model.PauseEachBatch), func() model.RolloutSpec {
		s, img := spec, *spec.Image
		s.Handoff, img.Switched, s.Image = nil, nil, &img
		return s
	}(), "the task's spec goes on unchanged but for the switched source")

	// The next run: it adopts the group and goes on with batch 2.
	rolloutRunEvents = 1 << 30
	next := env.nextRun(spec)
	next.slowStandby(time.Minute)
	var during model.RolloutState
	var duringInsts []model.InstanceProgress
	next.at(30*time.Second, func() {
		during = next.state()
		duringInsts = next.listInstances(model.InstancesQuery{})
	})
	next.at(5*time.Minute, func() {
		require.Equal(t, model.RolloutPausedBatch, next.state().Status)
		next.send(model.CommandResume, model.ResumeCommand{}, "")
	})
	next.execute(spec)
	st := next.result()

	// While batch 2 goes into Standby, the queries answer what the previous
	// run answered, but for batch 2's move.
	want := before
	want.Batches = slices.Clone(before.Batches)
	want.Batches[1].State = model.BatchRunning
	want.CurrentBatch = 2
	want.Counts.Pending -= 2
	want.Counts.Standby += 2
	require.Equal(t, want, during)
	require.Len(t, duringInsts, 6)
	for i, in := range beforeInsts {
		if in.Batch == 2 {
			in.State = model.InstanceStandby
		}
		require.Equal(t, in, duringInsts[i])
	}

	require.Equal(t, model.RolloutSucceeded, st.Status, "i-03's failure is within the threshold carried over")
	require.Equal(t, 5, st.Counts.Succeeded)
	require.Equal(t, 1, st.Counts.Failed)
	require.Equal(t, before.StartedAt, st.StartedAt)
	require.Equal(t, []string{"ResumeProcesses", "FinishRollingUpdateTask " + h.TaskID}, next.holds)
	require.Zero(t, next.tasks)
	require.Equal(t, "ok i-01\n", next.instance("i-01").Output, "outcomes of the previous run are kept")
	for _, ch := range next.changes {
		require.Equal(t, model.ClientToken(c.TokenKey, "change", ch.InstanceID, "1"), ch.ClientToken, "the task's tokens, kept across its runs")
	}
	next.requireRestored()
}

// TestRolloutContinuedTaskRollsBackWithItsGroup: a task continued as new
// and then rolled back hands the same rolling update task to its rollback,
// which rolls back the instances every run of the task changed.
func TestRolloutContinuedTaskRollsBackWithItsGroup(t *testing.T) {
	defer func(n int) { rolloutRunEvents = n }(rolloutRunEvents)
	rolloutRunEvents = 0
	env := newRolloutEnv(t, 6)
	env.at(time.Minute, func() { env.send(model.CommandResume, model.ResumeCommand{}, "") })
	env.execute(rolloutSpec(3, model.PauseEachBatch))
	spec := env.continuedAs()
	task := spec.Handoff.TaskID

	rolloutRunEvents = 1 << 30
	next := env.nextRun(spec)
	next.at(time.Minute, func() {
		require.Equal(t, model.RolloutPausedBatch, next.state().Status)
		next.send(model.CommandRollback, model.RollbackCommand{}, "")
	})
	next.execute(spec)
	rb := next.continuedAs()
	require.Empty(t, next.holds, "the continued run takes and releases nothing")
	require.Equal(t, []string{"i-01", "i-02", "i-03", "i-04"}, rb.Instances, "changed in either run")
	require.Equal(t, task, rb.Handoff.TaskID, "the task's one rolling update task")
	require.Nil(t, rb.Handoff.Continuation)
	require.Zero(t, rb.RunEvents)

	last := next.nextRun(rb)
	last.execute(rb)
	require.Equal(t, model.RolloutSucceeded, last.result().Status)
	require.Equal(t, []string{"ResumeProcesses", "FinishRollingUpdateTask " + task}, last.holds)
	last.requireRestored()
}

// TestRolloutCancelAtTheBoundaryEndsTheTask: a cancel accepted while the
// task waits after a batch ends it at the boundary where it would have
// continued as new: nothing is handed over, the group is released.
func TestRolloutCancelAtTheBoundaryEndsTheTask(t *testing.T) {
	defer func(n int) { rolloutRunEvents = n }(rolloutRunEvents)
	rolloutRunEvents = 0
	env := newRolloutEnv(t, 6)
	env.at(time.Minute, func() { env.send(model.CommandCancel, model.CancelCommand{Reason: "enough"}, "") })
	env.execute(rolloutSpec(3, model.PauseEachBatch))
	st := env.result()
	require.Equal(t, model.RolloutCancelled, st.Status)
	require.Equal(t, []string{"CheckRollout", "CreateRollingUpdateTask", "SuspendProcesses", "ResumeProcesses"}, env.holds[:4])
	require.Zero(t, env.tasks)
	env.requireRestored()
}
