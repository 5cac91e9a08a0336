package workflows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

func rolloutSpec(batches int, policy string) model.RolloutSpec {
	return model.RolloutSpec{
		ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: model.TaskImage,
		Image:   &model.ImageChange{ImageID: "m-webapp-v2", RollbackImageID: "m-webapp-v1"},
		Batches: batches, PausePolicy: policy, Description: "webapp v2",
	}
}

// rolloutEnv is a test environment with a simulated group of n instances
// (i-01…): its activities keep track of Standby, processes and changes.
type rolloutEnv struct {
	*testsuite.TestWorkflowEnvironment
	t  *testing.T
	mu sync.Mutex

	instances []string
	tasks     int // rolling update tasks running
	standby   map[string]bool
	suspended []string       // processes suspended right now
	fails     map[string]int // instance → how many more changes fail there
	changes   []activities.ChangeInput
	events    []string // instances reported failed
	maxBatch  int      // largest number of instances in Standby at once
	expects   []expectation
}

func newRolloutEnv(t *testing.T, n int) *rolloutEnv {
	var s testsuite.WorkflowTestSuite
	env := &rolloutEnv{TestWorkflowEnvironment: newTestEnv(&s), t: t,
		standby: map[string]bool{}, fails: map[string]int{}, suspended: []string{cloud.ProcessHealthCheck}}
	for i := 1; i <= n; i++ {
		env.instances = append(env.instances, fmt.Sprintf("i-%02d", i))
	}
	env.RegisterWorkflowWithOptions(RollingUpdate, workflow.RegisterOptions{Name: model.RolloutWorkflowType})
	env.RegisterWorkflowWithOptions(RollingUpdateBatch, workflow.RegisterOptions{Name: model.RolloutBatchWorkflowType})
	env.RegisterActivity(&activities.Rollouts{})
	env.RegisterActivity(&activities.RolloutTasks{})
	return env
}

func (env *rolloutEnv) locked(f func()) {
	env.mu.Lock()
	defer env.mu.Unlock()
	f()
}

func (env *rolloutEnv) execute(spec model.RolloutSpec) {
	env.OnActivity(rolloutTasks.StartRollingUpdateTask, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StartTaskInput) (string, error) {
		env.locked(func() { env.tasks++ })
		return "rut-" + in.ClientToken[:8], nil
	}).Maybe()
	env.OnActivity(rolloutTasks.FinishRollingUpdateTask, mock.Anything, mock.Anything).Return(func(context.Context, activities.FinishTaskInput) error {
		env.locked(func() { env.tasks-- })
		return nil
	}).Maybe()
	env.OnActivity(rollouts.CheckRollout, mock.Anything, mock.Anything).Return(func(_ context.Context, spec model.RolloutSpec) (*activities.RolloutPlan, error) {
		plan := &activities.RolloutPlan{Instances: env.instances, OSType: cloud.OSLinux}
		env.locked(func() { plan.SuspendedProcesses = slices.Clone(env.suspended) })
		if spec.IsRollback() {
			plan.Instances = spec.Instances
		}
		return plan, nil
	}).Maybe()
	env.OnActivity(rollouts.SuspendProcesses, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ProcessesInput) error {
		env.locked(func() {
			for _, p := range in.Processes {
				if !slices.Contains(env.suspended, p) {
					env.suspended = append(env.suspended, p)
				}
			}
		})
		return nil
	}).Maybe()
	env.OnActivity(rollouts.ResumeProcesses, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ProcessesInput) error {
		env.locked(func() {
			env.suspended = slices.DeleteFunc(env.suspended, func(p string) bool { return slices.Contains(in.Processes, p) })
		})
		return nil
	}).Maybe()
	env.OnActivity(rollouts.EnterStandby, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StandbyInput) error {
		env.locked(func() {
			for _, id := range in.Instances {
				env.standby[id] = true
			}
			env.maxBatch = max(env.maxBatch, len(env.standby))
		})
		return nil
	}).Maybe()
	env.OnActivity(rollouts.ExitStandby, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StandbyInput) error {
		env.locked(func() {
			for _, id := range in.Instances {
				delete(env.standby, id)
			}
		})
		return nil
	}).Maybe()
	env.OnActivity(rollouts.ApplyChange, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ChangeInput) (*activities.ChangeResult, error) {
		var res *activities.ChangeResult
		env.locked(func() {
			require.True(env.t, env.standby[in.InstanceID], "%s changed while in service", in.InstanceID)
			env.changes = append(env.changes, in)
			if env.fails[in.InstanceID] > 0 {
				env.fails[in.InstanceID]--
				res = &activities.ChangeResult{ExitCode: 1, Output: "boom\n", Error: "the script exited with 1"}
			} else {
				res = &activities.ChangeResult{Succeeded: true, Output: "ok " + in.InstanceID + "\n"}
			}
		})
		return res, nil
	}).Maybe()
	env.OnActivity(rollouts.ApplyChangeChunk, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ChunkInput) (*activities.ChunkResult, error) {
		out := &activities.ChunkResult{}
		for _, ci := range in.Instances {
			var res activities.ChangeResult
			env.locked(func() {
				require.True(env.t, env.standby[ci.InstanceID], "%s changed while in service", ci.InstanceID)
				env.changes = append(env.changes, activities.ChangeInput{InstanceID: ci.InstanceID, TaskType: in.TaskType, ClientToken: ci.ClientToken})
				if env.fails[ci.InstanceID] > 0 {
					env.fails[ci.InstanceID]--
					res = activities.ChangeResult{ExitCode: 1, Output: "boom\n", Error: "the script exited with 1"}
				} else {
					res = activities.ChangeResult{Succeeded: true, Output: "ok " + ci.InstanceID + "\n"}
				}
			})
			out.Results = append(out.Results, activities.InstanceResult{InstanceID: ci.InstanceID, ChangeResult: res})
		}
		return out, nil
	}).Maybe()
	env.OnActivity(rollouts.ReportFailure, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FailureEventInput) error {
		env.locked(func() { env.events = append(env.events, in.InstanceID) })
		return nil
	}).Maybe()
	env.OnActivity(rollouts.ReportFailures, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FailureEventsInput) error {
		env.locked(func() {
			for _, f := range in.Failures {
				env.events = append(env.events, f.InstanceID)
			}
		})
		return nil
	}).Maybe()
	executeAs(env.TestWorkflowEnvironment, model.RolloutWorkflowID(spec.ScalingGroupID), model.RolloutWorkflowType, spec)
}

// succeedAfter makes every chunk's change succeed after d.
func (env *rolloutEnv) succeedAfter(d time.Duration) {
	env.OnActivity(rollouts.ApplyChangeChunk, mock.Anything, mock.Anything).After(d).Return(func(_ context.Context, in activities.ChunkInput) (*activities.ChunkResult, error) {
		out := &activities.ChunkResult{}
		for _, ci := range in.Instances {
			env.locked(func() {
				require.True(env.t, env.standby[ci.InstanceID], "%s left Standby while its change ran", ci.InstanceID)
				env.changes = append(env.changes, activities.ChangeInput{InstanceID: ci.InstanceID, ClientToken: ci.ClientToken})
			})
			out.Results = append(out.Results, activities.InstanceResult{InstanceID: ci.InstanceID, ChangeResult: activities.ChangeResult{Succeeded: true}})
		}
		return out, nil
	})
}

// instances pages through every instance of the task matching q.
func (env *rolloutEnv) listInstances(q model.InstancesQuery) []model.InstanceProgress {
	env.t.Helper()
	var all []model.InstanceProgress
	for {
		v, err := env.QueryWorkflow(model.QueryRolloutInstances, q)
		require.NoError(env.t, err)
		var page model.InstancePage
		require.NoError(env.t, v.Get(&page))
		all = append(all, page.Instances...)
		if page.NextPageToken == "" {
			require.Len(env.t, all, page.Total)
			return all
		}
		q.PageToken = page.NextPageToken
	}
}

// instance is one instance's detail.
func (env *rolloutEnv) instance(id string) model.InstanceProgress {
	env.t.Helper()
	for _, in := range env.listInstances(model.InstancesQuery{PageSize: model.MaxInstancePage}) {
		if in.InstanceID == id {
			return in
		}
	}
	require.Fail(env.t, "no such instance", id)
	return model.InstanceProgress{}
}

func (env *rolloutEnv) state() model.RolloutState {
	env.t.Helper()
	return queryProgress[model.RolloutState](env.t, env.TestWorkflowEnvironment, model.QueryRollout)
}

// send sends an operator command as an update; want is "" if it must be
// accepted, else a part of the reason it must be refused for. The outcome is
// checked when the run has ended (the test environment decides an update
// when the workflow next runs, after the callback).
func (env *rolloutEnv) send(name string, payload any, want string) {
	env.expects = append(env.expects, expectation{name: name, want: want, outcome: env.command(name, payload)})
}

type expectation struct {
	name, want string
	outcome    *updateOutcome
}

func (env *rolloutEnv) checkExpectations() {
	env.t.Helper()
	for _, e := range env.expects {
		if e.want == "" {
			require.True(env.t, e.outcome.decided, "%s not decided", e.name)
			require.NoError(env.t, e.outcome.rejected, e.name)
		} else {
			e.outcome.requireRejected(env.t, e.want)
		}
	}
}

func (env *rolloutEnv) command(name string, payload any) *updateOutcome {
	return sendCommand(env.TestWorkflowEnvironment, name, payload)
}

// at runs f at workflow time d (after everything before it has settled).
func (env *rolloutEnv) at(d time.Duration, f func()) { env.RegisterDelayedCallback(f, d) }

// requireRestored checks the end of every task: no instance left in Standby
// and exactly the processes suspended before the task still suspended.
func (env *rolloutEnv) requireRestored() {
	env.t.Helper()
	env.locked(func() {
		require.Empty(env.t, env.standby, "instances left in Standby")
		require.Equal(env.t, []string{cloud.ProcessHealthCheck}, env.suspended, "scaling processes not restored")
	})
}

func (env *rolloutEnv) result() model.RolloutState {
	env.t.Helper()
	env.checkExpectations()
	require.True(env.t, env.IsWorkflowCompleted())
	require.NoError(env.t, env.GetWorkflowError())
	var st model.RolloutState
	require.NoError(env.t, env.GetWorkflowResult(&st))
	return st
}

func TestSplitBatches(t *testing.T) {
	require.Equal(t, []int{4, 3, 3}, model.SplitBatches(10, 3))
	require.Equal(t, []int{5, 5}, model.SplitBatches(10, 2))
	require.Equal(t, []int{1, 1, 1}, model.SplitBatches(3, 3))
	require.Equal(t, []int{100, 100}, model.SplitBatches(200, 2))
	require.Nil(t, model.SplitBatches(2, 3))
}

func TestRolloutUnevenBatchesWithoutPause(t *testing.T) {
	env := newRolloutEnv(t, 10)
	env.execute(rolloutSpec(3, model.PauseNone))
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	sizes := []int{}
	for _, b := range st.Batches {
		sizes = append(sizes, b.Size)
		require.Equal(t, model.BatchDone, b.State)
		require.Equal(t, b.Size, b.Succeeded)
	}
	require.Equal(t, []int{4, 3, 3}, sizes)
	require.Equal(t, 4, env.maxBatch, "only one batch is out of service at a time")
	require.Len(t, env.changes, 10)
	for _, in := range env.listInstances(model.InstancesQuery{PageSize: 3}) {
		require.Equal(t, model.InstanceSucceeded, in.State, in.InstanceID)
		require.Equal(t, "ok "+in.InstanceID+"\n", in.Output)
	}
	require.Equal(t, []string{cloud.ProcessHealthCheck}, st.SuspendedBefore)
	env.requireRestored()
}

func TestRolloutPauseAfterFirstBatch(t *testing.T) {
	env := newRolloutEnv(t, 6)
	var atPause model.RolloutState
	var early *updateOutcome
	env.at(time.Minute, func() {
		atPause = env.state()
		early = env.command(model.CommandRetry, model.InstanceCommand{InstanceID: "i-01"})
	})
	env.at(2*time.Minute, func() { env.send(model.CommandResume, model.ResumeCommand{}, "") })
	env.execute(rolloutSpec(3, model.PauseFirstBatch))

	require.Equal(t, model.RolloutPausedBatch, atPause.Status)
	require.Equal(t, 1, atPause.CurrentBatch)
	require.Contains(t, atPause.WaitingFor, "resume")
	early.requireRejected(t, "applies only to a failed instance")
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status, "after the resume it must not pause again")
	env.requireRestored()
}

func TestRolloutPauseAfterEachBatch(t *testing.T) {
	env := newRolloutEnv(t, 3)
	var statuses []string
	var batches []int
	for i := 1; i <= 2; i++ {
		env.at(time.Duration(i)*time.Hour, func() {
			st := env.state()
			statuses, batches = append(statuses, st.Status), append(batches, st.CurrentBatch)
			env.send(model.CommandResume, model.ResumeCommand{}, "")
		})
	}
	env.execute(rolloutSpec(3, model.PauseEachBatch))
	require.Equal(t, []string{model.RolloutPausedBatch, model.RolloutPausedBatch}, statuses)
	require.Equal(t, []int{1, 2}, batches)
	require.Equal(t, model.RolloutSucceeded, env.result().Status)
	env.requireRestored()
}

func TestRolloutFailuresWithinThresholdDoNotPause(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.fails["i-02"] = 1
	spec := rolloutSpec(2, model.PauseNone)
	spec.ErrorThreshold = 1
	env.execute(spec)
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	in := env.instance("i-02")
	require.Equal(t, model.InstanceFailed, in.State)
	require.Equal(t, "boom\n", in.Output)
	require.Equal(t, 1, in.ExitCode)
	require.Equal(t, []string{"i-02"}, env.events, "the failure is reported to the event log")
	env.requireRestored()
}

func TestRolloutFailureBeyondThresholdPausesForDecisions(t *testing.T) {
	env := newRolloutEnv(t, 6)
	env.fails["i-01"], env.fails["i-02"], env.fails["i-03"] = 1, 1, 1
	var atPause model.RolloutState
	var notFailed, resumeTooEarly, retry, skip, cancelInstance, again, resume *updateOutcome
	env.at(time.Minute, func() {
		atPause = env.state()
		notFailed = env.command(model.CommandSkip, model.InstanceCommand{InstanceID: "i-04"})
		resumeTooEarly = env.command(model.CommandResume, model.ResumeCommand{})
		retry = env.command(model.CommandRetry, model.InstanceCommand{InstanceID: "i-01"})
		skip = env.command(model.CommandSkip, model.InstanceCommand{InstanceID: "i-02"})
		cancelInstance = env.command(model.CommandCancelInstance, model.InstanceCommand{InstanceID: "i-03"})
	})
	env.at(2*time.Minute, func() {
		again = env.command(model.CommandSkip, model.InstanceCommand{InstanceID: "i-02"})
		resume = env.command(model.CommandResume, model.ResumeCommand{})
	})
	env.execute(rolloutSpec(2, model.PauseNone))

	require.Equal(t, model.RolloutPausedFailure, atPause.Status)
	require.Equal(t, 3, atPause.Failures)
	require.Contains(t, atPause.WaitingFor, "i-01, i-02, i-03")
	notFailed.requireRejected(t, "i-04 is Pending")
	resumeTooEarly.requireRejected(t, "exceed the error threshold")
	retry.requireAccepted(t)
	skip.requireAccepted(t)
	cancelInstance.requireAccepted(t)
	again.requireRejected(t, "i-02 is Success")
	resume.requireAccepted(t)

	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	i1, i2, i3 := env.instance("i-01"), env.instance("i-02"), env.instance("i-03")
	require.Equal(t, model.InstanceSucceeded, i1.State)
	require.Equal(t, 2, i1.Attempts)
	require.Equal(t, model.InstanceSucceeded, i2.State)
	require.Equal(t, model.DecisionSkipped, i2.Decision)
	require.Equal(t, model.InstanceFailed, i3.State)
	require.Equal(t, model.DecisionCancelled, i3.Decision)
	require.Equal(t, model.BatchDone, st.Batches[1].State, "the task continued with the next batch")
	// The retry used a new client token; the first attempt's was not reused.
	var tokens []string
	for _, c := range env.changes {
		if c.InstanceID == "i-01" {
			tokens = append(tokens, c.ClientToken)
		}
	}
	require.Len(t, tokens, 2)
	require.NotEqual(t, tokens[0], tokens[1])
	env.requireRestored()
}

func TestRolloutThresholdRaisedWhilePaused(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.fails["i-01"] = 1
	env.at(time.Minute, func() {
		env.send(model.CommandSetThreshold, model.ThresholdCommand{ErrorThreshold: -1}, "negative")
		env.send(model.CommandSetThreshold, model.ThresholdCommand{ErrorThreshold: 1}, "")
	})
	env.at(2*time.Minute, func() { env.send(model.CommandResume, model.ResumeCommand{}, "") })
	env.execute(rolloutSpec(2, model.PauseNone))
	st := env.result()
	require.Equal(t, 1, st.ErrorThreshold)
	require.Equal(t, model.RolloutSucceeded, st.Status)
	env.requireRestored()
}

func TestRolloutPausePolicyChangedWhileRunning(t *testing.T) {
	env := newRolloutEnv(t, 4)
	var statuses []string
	env.at(time.Minute, func() {
		statuses = append(statuses, env.state().Status)
		env.send(model.CommandSetPausePolicy, model.PausePolicyCommand{PausePolicy: "Sometimes"}, "pause policy")
		env.send(model.CommandSetPausePolicy, model.PausePolicyCommand{PausePolicy: model.PauseNone}, "")
		env.send(model.CommandResume, model.ResumeCommand{}, "")
	})
	env.execute(rolloutSpec(4, model.PauseEachBatch))
	require.Equal(t, []string{model.RolloutPausedBatch}, statuses)
	require.Equal(t, model.RolloutSucceeded, env.result().Status, "no further pause after switching to None")
}

func TestRolloutCancelWhilePausedOnFailure(t *testing.T) {
	env := newRolloutEnv(t, 6)
	env.fails["i-02"] = 1
	env.at(time.Minute, func() {
		env.send(model.CommandCancel, model.CancelCommand{Reason: "bad image"}, "")
		env.send(model.CommandResume, model.ResumeCommand{}, "cancelling")
		env.send(model.CommandRetry, model.InstanceCommand{InstanceID: "i-02"}, "cancelling")
	})
	env.execute(rolloutSpec(3, model.PauseNone))
	st := env.result()
	require.Equal(t, model.RolloutCancelled, st.Status)
	require.Equal(t, "bad image", st.CancelReason)
	require.Equal(t, model.InstancePending, env.instance("i-05").State, "no new batch started")
	require.Len(t, env.changes, 2)
	env.requireRestored()
}

func TestRolloutCancelLetsTheRunningBatchFinish(t *testing.T) {
	env := newRolloutEnv(t, 4)
	// The changes of the first batch take a minute.
	env.succeedAfter(time.Minute)
	env.at(30*time.Second, func() {
		require.Equal(t, model.RolloutRunning, env.state().Status)
		env.send(model.CommandCancel, model.CancelCommand{}, "")
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	st := env.result()
	require.Equal(t, model.RolloutCancelled, st.Status)
	require.Equal(t, model.InstanceSucceeded, env.instance("i-01").State, "in-flight work finished")
	require.Equal(t, model.InstancePending, env.instance("i-03").State)
	env.requireRestored()
}

// requireContinuedAsRollback checks that the run ended by continuing as its
// rollback and returns the rollback's spec.
func (env *rolloutEnv) requireContinuedAsRollback() model.RolloutSpec {
	env.t.Helper()
	env.checkExpectations()
	require.True(env.t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.ErrorAs(env.t, err, &can)
	require.Equal(env.t, model.RolloutWorkflowType, can.WorkflowType.Name)
	var spec model.RolloutSpec
	require.NoError(env.t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &spec))
	require.True(env.t, spec.IsRollback())
	return spec
}

func TestRolloutRollbackWhilePausedAfterBatch(t *testing.T) {
	env := newRolloutEnv(t, 10)
	env.at(time.Minute, func() {
		env.send(model.CommandRollback, model.RollbackCommand{Batches: 2, PausePolicy: model.PauseEachBatch}, "")
	})
	env.execute(rolloutSpec(3, model.PauseFirstBatch))
	spec := env.requireContinuedAsRollback()
	require.Equal(t, []string{"i-01", "i-02", "i-03", "i-04"}, spec.Instances, "the first batch's instances")
	require.Equal(t, "m-webapp-v1", spec.Image.ImageID, "the rollback image")
	require.Equal(t, 2, spec.Batches)
	require.Equal(t, model.PauseEachBatch, spec.PausePolicy)
	require.Equal(t, "asg-web-hz", spec.ScalingGroupID)
	env.requireRestored()
}

func TestRolloutRollbackWhilePausedOnFailure(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.fails["i-02"] = 1
	env.at(time.Minute, func() {
		env.send(model.CommandRollback, model.RollbackCommand{ImageID: "m-webapp-v0"}, "")
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	spec := env.requireContinuedAsRollback()
	require.Equal(t, []string{"i-01", "i-02"}, spec.Instances, "the failed instance is rolled back too")
	require.Equal(t, "m-webapp-v0", spec.Image.ImageID)
	require.Equal(t, 2, spec.Batches)
	env.requireRestored()
}

func TestRolloutRollbackRefusedWhileRunningAndForARollback(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.succeedAfter(time.Minute)
	spec := rolloutSpec(2, model.PauseFirstBatch)
	spec.RollbackOf = &model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "run-1"}
	spec.Instances = []string{"i-01", "i-02", "i-03", "i-04"}
	env.at(30*time.Second, func() {
		env.send(model.CommandRollback, model.RollbackCommand{}, "a rollback cannot itself be rolled back")
	})
	env.at(5*time.Minute, func() {
		require.Equal(t, model.RolloutPausedBatch, env.state().Status)
		env.send(model.CommandRollback, model.RollbackCommand{}, "a rollback cannot itself be rolled back")
		env.send(model.CommandResume, model.ResumeCommand{}, "")
	})
	env.execute(spec)
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.NotNil(t, st.RollbackOf)
}

func TestRolloutRollbackRefusedWhileRunning(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.succeedAfter(time.Minute)
	env.at(30*time.Second, func() {
		env.send(model.CommandRollback, model.RollbackCommand{}, "only while paused")
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	require.Equal(t, model.RolloutSucceeded, env.result().Status)
}

func TestRolloutRollbackSpecOfFinishedTask(t *testing.T) {
	orig := rolloutSpec(3, model.PauseNone)
	ref := model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "r1"}
	spec, err := model.RollbackSpec(orig, ref, []string{"i-01", "i-02"}, model.RollbackCommand{})
	require.NoError(t, err)
	require.Equal(t, 2, spec.Batches, "at most one batch per instance")
	require.Equal(t, "m-webapp-v1", spec.Image.ImageID)
	_, err = model.RollbackSpec(spec, ref, []string{"i-01"}, model.RollbackCommand{})
	require.ErrorContains(t, err, "cannot itself be rolled back")
	noRollbackImage := orig
	noRollbackImage.Image = &model.ImageChange{ImageID: "m-webapp-v2"}
	_, err = model.RollbackSpec(noRollbackImage, ref, []string{"i-01"}, model.RollbackCommand{})
	require.ErrorContains(t, err, "no rollback image")
	_, err = model.RollbackSpec(orig, ref, nil, model.RollbackCommand{})
	require.ErrorContains(t, err, "nothing to roll back")
}

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
