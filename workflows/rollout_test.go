package workflows

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
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
	holds     []string // the calls that take or release the group, as the cloud's ledger shows them
	expects   []expectation
	source    model.ScalingSource // what the group launches (rollout_source_test.go)
	switches  []string            // changes of source, in order
}

func newRolloutEnv(t *testing.T, n int) *rolloutEnv {
	var s testsuite.WorkflowTestSuite
	env := &rolloutEnv{TestWorkflowEnvironment: newTestEnv(&s), t: t,
		standby: map[string]bool{}, fails: map[string]int{}, suspended: []string{cloud.ProcessHealthCheck},
		source: model.ScalingSource{ScalingConfigurationID: "asc-web-hz", ImageID: "m-webapp-v1"}}
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
		env.locked(func() { env.tasks++; env.holds = append(env.holds, "CreateRollingUpdateTask") })
		return "rut-" + in.ClientToken[:8], nil
	}).Maybe()
	env.OnActivity(rolloutTasks.FinishRollingUpdateTask, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FinishTaskInput) error {
		env.locked(func() { env.tasks--; env.holds = append(env.holds, "FinishRollingUpdateTask "+in.TaskID) })
		return nil
	}).Maybe()
	env.OnActivity(rollouts.CheckRollout, mock.Anything, mock.Anything).Return(func(_ context.Context, spec model.RolloutSpec) (*activities.RolloutPlan, error) {
		plan := &activities.RolloutPlan{Instances: env.instances, OSType: cloud.OSLinux}
		env.locked(func() {
			plan.SuspendedProcesses = slices.Clone(env.suspended)
			env.holds = append(env.holds, "CheckRollout")
		})
		if spec.IsRollback() {
			plan.Instances = spec.Instances
		}
		return plan, nil
	}).Maybe()
	env.OnActivity(rollouts.SuspendProcesses, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ProcessesInput) error {
		env.locked(func() {
			env.holds = append(env.holds, "SuspendProcesses")
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
			env.holds = append(env.holds, "ResumeProcesses")
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
	env.mockSource()
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

// A batch's moves into and out of Standby run as local activities (version
// rollout-standby-local): inside the workflow task that decides them, not a
// round trip through the server each. The order stays: each batch leaves
// service, is changed, and returns before the next one leaves.
func TestRolloutMovesStandbyInLocalActivities(t *testing.T) {
	env := newRolloutEnv(t, 6)
	var local, remote []string
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		env.locked(func() { local = append(local, info.ActivityType.Name) })
	})
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		env.locked(func() { remote = append(remote, info.ActivityType.Name) })
	})
	env.execute(rolloutSpec(3, model.PauseNone))
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Equal(t, []string{"EnterStandby", "ExitStandby", "EnterStandby", "ExitStandby", "EnterStandby", "ExitStandby"}, local)
	require.NotContains(t, remote, "EnterStandby")
	require.NotContains(t, remote, "ExitStandby")
	require.Contains(t, remote, "ApplyChangeChunk")
	require.Equal(t, 2, env.maxBatch, "only one batch is out of service at a time")
	require.Empty(t, env.standby, "every instance back in service")
	require.Len(t, env.changes, 6)
}

// A Standby move that does not go through as a local activity (here the
// cloud refuses it once) is tried again as an activity, with the step's
// whole deadline: a long wait for the cloud never runs inside a workflow
// task, where it would add a workflow task to the history every few seconds.
func TestRolloutStandbyMoveFallsBackToAnActivity(t *testing.T) {
	env := newRolloutEnv(t, 4)
	var local, remote []string
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		env.locked(func() { local = append(local, info.ActivityType.Name) })
	})
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		env.locked(func() { remote = append(remote, info.ActivityType.Name) })
	})
	unavailable := 0
	env.OnActivity(rollouts.EnterStandby, mock.MatchedBy(func(ctx context.Context) bool { return activity.GetInfo(ctx).IsLocalActivity }),
		mock.MatchedBy(func(in activities.StandbyInput) bool { return in.Instances[0] == "i-01" })).Return(func(context.Context, activities.StandbyInput) error {
		env.locked(func() { unavailable++ })
		return temporal.NewApplicationError("the cloud is unavailable", "ServiceUnavailable")
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	require.Equal(t, 3, unavailable, "the local activity's attempts")
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Equal(t, []string{"EnterStandby", "EnterStandby", "EnterStandby", "ExitStandby", "EnterStandby", "ExitStandby"}, local)
	entered := 0
	for _, name := range remote {
		if name == "EnterStandby" {
			entered++
		}
	}
	require.Equal(t, 1, entered, "the refused move tried again as an activity, once")
	require.Equal(t, 2, env.maxBatch, "only one batch is out of service at a time")
	require.Empty(t, env.standby)
	require.Len(t, env.changes, 4)
}
