package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/model"
)

// statusAfter is a rolling update's status after the transitions.
func statusAfter(steps ...func(s *rolloutStatus)) (*rolloutStatus, *model.RolloutState) {
	st := &model.RolloutState{PausePolicy: model.PauseNone}
	s := newRolloutStatus(st)
	for _, step := range steps {
		step(&s)
	}
	return &s, st
}

var (
	stepStart        = func(s *rolloutStatus) { s.start() }
	stepPauseBatch   = func(s *rolloutStatus) { s.pause(model.RolloutPausedBatch) }
	stepPauseFailure = func(s *rolloutStatus) { s.pause(model.RolloutPausedFailure) }
	stepResume       = func(s *rolloutStatus) { s.resume() }
	stepEndPause     = func(s *rolloutStatus) { s.endPause() }
	stepCancel       = func(s *rolloutStatus) { s.cancel("wrong image") }
	stepRollBack     = func(s *rolloutStatus) { s.requestRollback(model.RollbackCommand{Batches: 2}) }
	stepRetry        = func(s *rolloutStatus) { s.retryStarted() }
	stepCompensate   = func(s *rolloutStatus) { s.compensate() }
	stepSucceed      = func(s *rolloutStatus) { s.end(model.RolloutSucceeded) }
)

// Which commands each state allows (the guards the validators read), and
// the status the progress query shows in it.
func TestRolloutStatusGuards(t *testing.T) {
	const ok = ""
	for name, c := range map[string]struct {
		steps                    []func(*rolloutStatus)
		status                   string
		live, resume, rollback   string // "" allowed, else part of the refusal
		paused, ending, pauseOvr bool
	}{
		"validating":            {nil, model.RolloutValidating, ok, "not paused", "only while paused", false, false, false},
		"running":               {rolloutSteps(stepStart), model.RolloutRunning, ok, "not paused", "only while paused", false, false, false},
		"paused after a batch":  {rolloutSteps(stepStart, stepPauseBatch), model.RolloutPausedBatch, ok, ok, ok, true, false, false},
		"paused on failure":     {rolloutSteps(stepStart, stepPauseFailure), model.RolloutPausedFailure, ok, ok, ok, true, false, false},
		"resumed, not yet on":   {rolloutSteps(stepStart, stepPauseBatch, stepResume), model.RolloutPausedBatch, ok, "already resuming", ok, true, false, true},
		"paused, retry running": {rolloutSteps(stepStart, stepPauseFailure, stepRetry), model.RolloutPausedFailure, ok, "still being updated", "still being updated", true, false, false},
		"running again":         {rolloutSteps(stepStart, stepPauseBatch, stepResume, stepEndPause), model.RolloutRunning, ok, "not paused", "only while paused", false, false, false},
		"cancelled":             {rolloutSteps(stepStart, stepCancel), model.RolloutCancelling, "cancelling", "cancelling", "cancelling", false, true, true},
		"cancelled while paused": {rolloutSteps(stepStart, stepPauseBatch, stepCancel), model.RolloutCancelling, "cancelling", "cancelling", "cancelling",
			false, true, true},
		"rolling back":                 {rolloutSteps(stepStart, stepPauseFailure, stepRollBack), model.RolloutCancelling, "cancelling", "cancelling", "cancelling", false, true, true},
		"compensating after a failure": {rolloutSteps(stepStart, stepCompensate), model.RolloutCancelling, "cancelling", "cancelling", "cancelling", false, false, false},
		"ended":                        {rolloutSteps(stepStart, stepCompensate, stepSucceed), model.RolloutSucceeded, "has ended (Succeeded)", "has ended", "has ended", false, false, false},
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

func rolloutSteps(s ...func(*rolloutStatus)) []func(*rolloutStatus) { return s }

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
	s, st := statusAfter(stepCancel, stepStart)
	require.Equal(t, model.RolloutCancelling, st.Status)
	require.Equal(t, "wrong image", st.CancelReason)
	require.True(t, s.cancelled())

	// Pauses only while running; a pause over because of a cancel stays
	// cancelling.
	_, st = statusAfter(stepPauseBatch)
	require.Equal(t, model.RolloutValidating, st.Status)
	_, st = statusAfter(stepStart, stepCancel, stepPauseFailure)
	require.Equal(t, model.RolloutCancelling, st.Status)
	s, st = statusAfter(stepStart, stepPauseBatch, stepCancel, stepEndPause)
	require.Equal(t, model.RolloutCancelling, st.Status)
	require.False(t, s.paused())

	// A rollback only from a pause; it is kept for the end.
	s, st = statusAfter(stepStart, stepRollBack)
	require.Equal(t, model.RolloutRunning, st.Status)
	require.Nil(t, s.rollbackAsked())
	s, _ = statusAfter(stepStart, stepPauseBatch, stepRollBack)
	require.Equal(t, &model.RollbackCommand{Batches: 2}, s.rollbackAsked())
	require.False(t, s.cancelled())

	// A resume outside a pause does not carry over to the next pause.
	s, _ = statusAfter(stepStart, stepResume, stepPauseBatch)
	require.False(t, s.pauseOver())

	// An ended task stays ended.
	_, st = statusAfter(stepStart, stepSucceed, stepCompensate, stepStart, stepPauseBatch, stepCancel)
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
	s, st := statusAfter(stepStart)
	st.PausePolicy = model.PauseFirstBatch
	require.True(t, s.pauseAfterBatch())
	stepPauseFailure(s)
	stepResume(s)
	stepEndPause(s)
	require.True(t, s.pauseAfterBatch(), "a pause on failure is not the first batch's pause")
	stepPauseBatch(s)
	stepResume(s)
	stepEndPause(s)
	require.False(t, s.pauseAfterBatch())
	st.PausePolicy = model.PauseEachBatch
	require.True(t, s.pauseAfterBatch())
	st.PausePolicy = model.PauseNone
	require.False(t, s.pauseAfterBatch())
}

// Only the open batch's failures may be decided; its instances are what
// compensation returns to service.
func TestRolloutStatusOpenBatch(t *testing.T) {
	s, st := statusAfter(stepStart)
	require.False(t, s.batchOpen(0))
	ids := []string{"i-03", "i-04"}
	s.openBatch(1, ids)
	ids[0] = "changed by the caller"
	require.Equal(t, 2, st.CurrentBatch)
	require.True(t, s.batchOpen(1))
	require.False(t, s.batchOpen(0), "an earlier batch has ended")
	require.Equal(t, []string{"i-03", "i-04"}, s.inStandby())
	s.closeBatch()
	require.False(t, s.batchOpen(1))
	require.Empty(t, s.inStandby())
	require.Equal(t, 2, st.CurrentBatch, "the batch last run")

	stepRetry(s)
	require.False(t, s.noRetries())
	s.retryEnded()
	require.True(t, s.noRetries())
}
