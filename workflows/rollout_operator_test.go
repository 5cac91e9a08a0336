package workflows

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// After batch 1's failures are final, the next pause on failure asks only
// for decisions that would be accepted: on the open batch's failures, and
// the resume refusal says the same.
func TestRolloutWaitsOnlyForDecisionsThatAreAccepted(t *testing.T) {
	env := newRolloutEnv(t, 6)
	env.fails["i-01"], env.fails["i-03"] = 1, 1
	var atPause model.RolloutState
	var resume, final *updateOutcome
	env.at(time.Minute, func() {
		atPause = env.state()
		resume = env.command(model.CommandResume, model.ResumeCommand{})
		final = env.command(model.CommandRetry, model.InstanceCommand{InstanceID: "i-01"})
	})
	env.at(2*time.Minute, func() {
		env.send(model.CommandSkip, model.InstanceCommand{InstanceID: "i-03"}, "")
		env.send(model.CommandResume, model.ResumeCommand{}, "")
	})
	spec := rolloutSpec(3, model.PauseNone)
	spec.ErrorThreshold = 1
	env.execute(spec)

	require.Equal(t, model.RolloutPausedFailure, atPause.Status)
	require.Equal(t, 2, atPause.CurrentBatch)
	require.Contains(t, atPause.WaitingFor, "retry, skip or cancel-instance each of i-03, or raise the threshold to at least 2 with set-threshold, then resume")
	require.Contains(t, atPause.WaitingFor, "1 failed in batches that have ended: final")
	require.NotContains(t, atPause.WaitingFor, "i-01", "i-01's failure is final: no decision on it is accepted")
	resume.requireRejected(t, "each of i-03, or raise")
	require.NotContains(t, resume.rejected.Error(), "i-01")
	final.requireRejected(t, "batch 1, which has ended")

	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	env.requireRestored()
}

// With nothing left to decide (the threshold was lowered below the final
// failures), the task asks for the threshold.
func TestRolloutWaitsForTheThresholdWhenNothingCanBeDecided(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.fails["i-01"], env.fails["i-02"] = 1, 1
	var atPause model.RolloutState
	var resume *updateOutcome
	env.at(time.Minute, func() {
		require.Equal(t, model.RolloutPausedBatch, env.state().Status)
		env.send(model.CommandSetThreshold, model.ThresholdCommand{ErrorThreshold: 1}, "")
		env.send(model.CommandResume, model.ResumeCommand{}, "")
	})
	env.at(2*time.Minute, func() {
		atPause = env.state()
		resume = env.command(model.CommandResume, model.ResumeCommand{})
	})
	env.at(3*time.Minute, func() {
		env.send(model.CommandSetThreshold, model.ThresholdCommand{ErrorThreshold: 2}, "")
		env.send(model.CommandResume, model.ResumeCommand{}, "")
	})
	spec := rolloutSpec(2, model.PauseFirstBatch)
	spec.ErrorThreshold = 2
	env.execute(spec)

	require.Equal(t, model.RolloutPausedFailure, atPause.Status)
	require.Equal(t, "operator: 2 failed instance(s) exceed the error threshold 1 (2 failed in batches that have ended: final): raise the threshold to at least 2 with set-threshold, then resume (or cancel, rollback)", atPause.WaitingFor)
	resume.requireRejected(t, "raise the threshold to at least 2 with set-threshold first")
	require.NotContains(t, resume.rejected.Error(), "retry")
	require.Equal(t, model.RolloutSucceeded, env.result().Status)
	env.requireRestored()
}

// exitStandbyAfter makes the return to service of the batch holding id take
// d (as when ExitStandby waits out throttling).
func (env *rolloutEnv) exitStandbyAfter(id string, d time.Duration) {
	env.OnActivity(rollouts.ExitStandby, mock.Anything, mock.MatchedBy(func(in activities.StandbyInput) bool { return slices.Contains(in.Instances, id) })).
		After(d).Return(func(_ context.Context, in activities.StandbyInput) error {
		env.locked(func() {
			for _, id := range in.Instances {
				delete(env.standby, id)
			}
		})
		return nil
	}).Once()
}

// A batch going back into service refuses decisions on its failures, as an
// update and as a signal (kept as lastRefusal): the change must not run on
// an instance that is back behind the load balancer.
func TestRolloutClosingBatchRefusesDecisions(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.fails["i-01"] = 1
	env.exitStandbyAfter("i-01", time.Hour)
	var during model.RolloutState
	var retry, skip *updateOutcome
	env.at(time.Minute, func() {
		during = env.state()
		retry = env.command(model.CommandRetry, model.InstanceCommand{InstanceID: "i-01"})
		skip = env.command(model.CommandSkip, model.InstanceCommand{InstanceID: "i-01"})
		env.SignalWorkflow(model.CommandCancelInstance, model.InstanceCommand{InstanceID: "i-01"})
	})
	var lastRefusal string
	env.at(2*time.Minute, func() { lastRefusal = env.state().LastRefusal })
	spec := rolloutSpec(2, model.PauseNone)
	spec.ErrorThreshold = 1
	env.execute(spec)

	require.Equal(t, model.RolloutRunning, during.Status)
	require.Equal(t, 1, during.CurrentBatch, "batch 1 is going back into service")
	retry.requireRejected(t, "i-01 failed in batch 1, which is going back into service: its failure is final")
	skip.requireRejected(t, "going back into service")
	require.Contains(t, lastRefusal, "going back into service")
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	i1 := env.instance("i-01")
	require.Equal(t, model.InstanceFailed, i1.State)
	require.Equal(t, 1, i1.Attempts, "no change ran on the instance in service")
	require.Empty(t, i1.Decision)
	env.requireRestored()
}

// A cancel through Temporal lets an operator's retry end before the
// compensation returns its instance to service, as it does a batch's work.
func TestRolloutWorkflowCancellationWaitsForRetries(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.fails["i-01"], env.fails["i-02"] = 1, 1
	var inStandbyAtEnd, cancelled bool
	env.OnActivity(rollouts.ApplyChangeChunk, mock.Anything, mock.MatchedBy(func(in activities.ChunkInput) bool {
		return len(in.Instances) == 1 && in.Instances[0].InstanceID == "i-01"
	})).After(time.Hour).Return(func(ctx context.Context, in activities.ChunkInput) (*activities.ChunkResult, error) {
		env.locked(func() { inStandbyAtEnd, cancelled = env.standby["i-01"], ctx.Err() != nil })
		return &activities.ChunkResult{Results: []activities.InstanceResult{{InstanceID: "i-01", ChangeResult: activities.ChangeResult{Succeeded: true}}}}, nil
	}).Once()
	env.at(time.Minute, func() {
		require.Equal(t, model.RolloutPausedFailure, env.state().Status)
		env.send(model.CommandRetry, model.InstanceCommand{InstanceID: "i-01"}, "")
	})
	var retrying model.RolloutState
	env.at(90*time.Second, func() { retrying = env.state() })
	env.at(2*time.Minute, env.CancelWorkflow)
	var whileRetrying model.RolloutState
	env.at(3*time.Minute, func() {
		whileRetrying = env.state()
		env.send(model.CommandRetry, model.InstanceCommand{InstanceID: "i-02"}, "the task is cancelling")
	})
	env.execute(rolloutSpec(2, model.PauseNone))

	require.True(t, env.IsWorkflowCompleted())
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), env.GetWorkflowError())
	env.checkExpectations()
	require.Equal(t, "operator: 1 retried instance(s) are being updated; when they end, 1 failed instance(s) exceed the error threshold 0: "+
		"retry, skip or cancel-instance each of i-02, or raise the threshold to at least 1 with set-threshold, then resume (or cancel, rollback)", retrying.WaitingFor)
	require.Equal(t, model.RolloutCancelling, whileRetrying.Status)
	require.True(t, inStandbyAtEnd, "the retried instance stayed out of service until its change ended")
	require.False(t, cancelled, "the retry was not cancelled")
	i1 := env.instance("i-01")
	require.Equal(t, model.InstanceSucceeded, i1.State)
	require.Equal(t, 2, i1.Attempts)
	require.Equal(t, model.InstancePending, env.instance("i-03").State, "no new batch started")
	env.requireRestored()
}

// A task whose batches are all done is Finishing while it restores the
// group, not Cancelling.
func TestRolloutFinishingWhileRestoringTheGroup(t *testing.T) {
	env := newRolloutEnv(t, 2)
	env.OnActivity(rollouts.ResumeProcesses, mock.Anything, mock.Anything).After(time.Hour).Return(nil).Once()
	var restoring model.RolloutState
	env.at(time.Minute, func() { restoring = env.state() })
	env.execute(rolloutSpec(1, model.PauseNone))
	require.Equal(t, model.RolloutFinishing, restoring.Status)
	require.Equal(t, model.RolloutSucceeded, env.result().Status)
}

// The input is checked against the cloud before the group's rolling update
// task is created: a refused input leaves nothing in the cloud.
func TestRolloutRefusedByTheCloudCreatesNoTask(t *testing.T) {
	env := newRolloutEnv(t, 4)
	created := 0
	env.OnActivity(rolloutTasks.StartRollingUpdateTask, mock.Anything, mock.Anything).Return(func(context.Context, activities.StartTaskInput) (string, error) {
		created++
		return "rut-1", nil
	}).Maybe()
	env.OnActivity(rollouts.CheckRollout, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("5 batches for 4 instances: every batch needs at least one instance", activities.ErrTypeRolloutRefused, nil))
	env.execute(rolloutSpec(5, model.PauseNone))
	require.ErrorContains(t, env.GetWorkflowError(), "5 batches for 4 instances")
	require.Zero(t, created, "the group's task was not created")
	require.Equal(t, model.RolloutFailed, env.state().Status)
}
