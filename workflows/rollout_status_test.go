package workflows

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/model"
)

// statusAfter is a rolling update's status after the steps (rolloutSteps).
func statusAfter(steps ...string) (*rolloutStatus, *model.RolloutState) {
	st := &model.RolloutState{PausePolicy: model.PauseNone}
	s := newRolloutStatus(st)
	for _, step := range steps {
		rolloutSteps[step](&s)
	}
	return &s, st
}

// rolloutSteps are the transitions the tests name.
var rolloutSteps = map[string]func(s *rolloutStatus){
	"start":         func(s *rolloutStatus) { s.start() },
	"pause batch":   func(s *rolloutStatus) { s.pause(model.RolloutPausedBatch) },
	"pause failure": func(s *rolloutStatus) { s.pause(model.RolloutPausedFailure) },
	"resume":        func(s *rolloutStatus) { s.resume() },
	"end pause":     func(s *rolloutStatus) { s.endPause() },
	"cancel":        func(s *rolloutStatus) { s.cancel("wrong image") },
	"rollback":      func(s *rolloutStatus) { s.requestRollback(model.RollbackCommand{Batches: 2}) },
	"retry":         func(s *rolloutStatus) { s.retryStarted() },
	"compensate":    func(s *rolloutStatus) { s.compensate(errors.New("the cloud refused")) },
	"finish":        func(s *rolloutStatus) { s.compensate(nil) },
	"succeed":       func(s *rolloutStatus) { s.end(model.RolloutSucceeded) },
}

// Which commands each state allows (the guards the validators read), and
// the status the progress query shows in it.
func TestRolloutStatusGuards(t *testing.T) {
	const ok = ""
	for name, c := range map[string]struct {
		steps                    []string
		status                   string
		live, resume, rollback   string // "" allowed, else part of the refusal
		paused, ending, pauseOvr bool
	}{
		"validating":                   {nil, model.RolloutValidating, ok, "not paused", "only while paused", false, false, false},
		"running":                      {[]string{"start"}, model.RolloutRunning, ok, "not paused", "only while paused", false, false, false},
		"paused after a batch":         {[]string{"start", "pause batch"}, model.RolloutPausedBatch, ok, ok, ok, true, false, false},
		"paused on failure":            {[]string{"start", "pause failure"}, model.RolloutPausedFailure, ok, ok, ok, true, false, false},
		"resumed, not yet on":          {[]string{"start", "pause batch", "resume"}, model.RolloutPausedBatch, ok, "already resuming", ok, true, false, true},
		"paused, retry running":        {[]string{"start", "pause failure", "retry"}, model.RolloutPausedFailure, ok, "still being updated", "still being updated", true, false, false},
		"running again":                {[]string{"start", "pause batch", "resume", "end pause"}, model.RolloutRunning, ok, "not paused", "only while paused", false, false, false},
		"cancelled":                    {[]string{"start", "cancel"}, model.RolloutCancelling, "cancelling", "cancelling", "cancelling", false, true, true},
		"cancelled while paused":       {[]string{"start", "pause batch", "cancel"}, model.RolloutCancelling, "cancelling", "cancelling", "cancelling", false, true, true},
		"rolling back":                 {[]string{"start", "pause failure", "rollback"}, model.RolloutCancelling, "cancelling", "cancelling", "cancelling", false, true, true},
		"compensating after a failure": {[]string{"start", "compensate"}, model.RolloutCancelling, "cancelling", "cancelling", "cancelling", false, false, false},
		"finishing after the batches":  {[]string{"start", "finish"}, model.RolloutFinishing, "finishing", "finishing", "finishing", false, false, false},
		"compensating after a cancel":  {[]string{"start", "cancel", "finish"}, model.RolloutCancelling, "cancelling", "cancelling", "cancelling", false, true, true},
		"ended":                        {[]string{"start", "finish", "succeed"}, model.RolloutSucceeded, "has ended (Succeeded)", "has ended", "has ended", false, false, false},
	} {
		t.Run(name, func(t *testing.T) {
			s, st := statusAfter(c.steps...)
			require.Equal(t, c.status, st.Status, "st.Status is kept in step")
			requireGuard(t, c.live, s.live(), "live")
			requireGuard(t, c.resume, s.canResume(), "resume")
			requireGuard(t, c.rollback, s.canRollback(), "rollback")
			require.Equal(t, c.paused, s.paused(), "paused")
			require.Equal(t, c.ending, s.ending(), "ending")
			require.Equal(t, c.pauseOvr, s.pauseOver(), "pause over")
		})
	}
}

func requireGuard(t *testing.T, want string, err error, what string) {
	t.Helper()
	if want == "" {
		require.NoError(t, err, what)
	} else {
		require.ErrorContains(t, err, want, what)
	}
}

// A transition that does not apply in the current phase changes nothing.
func TestRolloutStatusTransitionsOnlyFromTheirPhases(t *testing.T) {
	// A cancel during the checks is not undone when the batches start.
	s, st := statusAfter("cancel", "start")
	require.Equal(t, model.RolloutCancelling, st.Status)
	require.Equal(t, "wrong image", st.CancelReason)
	require.True(t, s.cancelled())

	// Pauses only while running; a pause over because of a cancel stays
	// cancelling.
	_, st = statusAfter("pause batch")
	require.Equal(t, model.RolloutValidating, st.Status)
	_, st = statusAfter("start", "cancel", "pause failure")
	require.Equal(t, model.RolloutCancelling, st.Status)
	s, st = statusAfter("start", "pause batch", "cancel", "end pause")
	require.Equal(t, model.RolloutCancelling, st.Status)
	require.False(t, s.paused())

	// A rollback only from a pause; it is kept for the end.
	s, st = statusAfter("start", "rollback")
	require.Equal(t, model.RolloutRunning, st.Status)
	require.Nil(t, s.rollbackAsked())
	s, _ = statusAfter("start", "pause batch", "rollback")
	require.Equal(t, &model.RollbackCommand{Batches: 2}, s.rollbackAsked())
	require.False(t, s.cancelled())

	// A resume outside a pause does not carry over to the next pause.
	s, _ = statusAfter("start", "resume", "pause batch")
	require.False(t, s.pauseOver())

	// An ended task stays ended.
	_, st = statusAfter("start", "succeed", "compensate", "start", "pause batch", "cancel")
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Empty(t, st.CancelReason)

	// fail ends the task with the reason, from any phase.
	s, st = statusAfter()
	s.fail("region \"xx\" is unknown")
	require.Equal(t, model.RolloutFailed, st.Status)
	require.Equal(t, "region \"xx\" is unknown", st.Error)
}

// The pause policy: FirstBatch pauses once (a pause on failure does not
// count), EachBatch after every batch, None never.
func TestRolloutStatusPausePolicy(t *testing.T) {
	s, st := statusAfter("start")
	st.PausePolicy = model.PauseFirstBatch
	require.True(t, s.pauseAfterBatch())
	rolloutSteps["pause failure"](s)
	rolloutSteps["resume"](s)
	rolloutSteps["end pause"](s)
	require.True(t, s.pauseAfterBatch(), "a pause on failure is not the first batch's pause")
	rolloutSteps["pause batch"](s)
	rolloutSteps["resume"](s)
	rolloutSteps["end pause"](s)
	require.False(t, s.pauseAfterBatch())
	st.PausePolicy = model.PauseEachBatch
	require.True(t, s.pauseAfterBatch())
	st.PausePolicy = model.PauseNone
	require.False(t, s.pauseAfterBatch())
}

// Only the open batch's failures may be decided; its instances are what
// compensation returns to service.
func TestRolloutStatusOpenBatch(t *testing.T) {
	s, st := statusAfter("start")
	require.False(t, s.batchOpen(0))
	ids := []string{"i-03", "i-04"}
	s.openBatch(1, ids)
	ids[0] = "changed by the caller"
	require.Equal(t, 2, st.CurrentBatch)
	require.True(t, s.batchOpen(1))
	require.False(t, s.batchOpen(0), "an earlier batch has ended")
	require.Equal(t, []string{"i-03", "i-04"}, s.inStandby())
	// Going back into service: its failures are final, its instances still
	// in Standby until the call returns.
	s.closingBatch()
	require.False(t, s.batchOpen(1))
	require.True(t, s.batchClosing(1))
	require.Equal(t, []string{"i-03", "i-04"}, s.inStandby())
	s.closeBatch()
	require.False(t, s.batchClosing(1))
	require.False(t, s.batchOpen(1))
	require.Empty(t, s.inStandby())
	require.Equal(t, 2, st.CurrentBatch, "the batch last run")
	s.openBatch(2, []string{"i-05"})
	require.True(t, s.batchOpen(2), "a new batch is open, not closing")

	rolloutSteps["retry"](s)
	require.False(t, s.noRetries())
	s.retryEnded()
	require.True(t, s.noRetries())
}
