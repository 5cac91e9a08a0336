package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/model"
)

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
