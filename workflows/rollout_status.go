package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/imagefleet/imagefleet/model"
)

// rolloutStatus is where a rolling update stands: the task's one state
// machine. Its transitions are the only writers of the task's status
// (st.Status, st.CancelReason, st.CurrentBatch), which the progress query
// shows; the operator commands' validators read its guards.
//
//	Validating ─start→ Running ⇄ Paused (batch | failure)     pause(kind), resume + endPause
//	Validating, Running, Paused ─cancel→ Cancelling            (Paused only: requestRollback)
//	any but ended ─compensate→ Finishing (the batches are done) or Cancelling (the group is restored)
//	                 ─end→ Succeeded | Cancelled | Failed | RolledBack
//
// Beside the phase it keeps the batch in Standby (and whether it is going
// back into service), the operator's retries in flight and the batch pauses
// so far (FirstBatch pauses once).
type rolloutStatus struct {
	st    *model.RolloutState
	phase rolloutPhase

	resumed     bool                   // the operator resumed the current pause
	stop        rolloutStop            // how the operator asked the task to end
	rollback    *model.RollbackCommand // the rollback asked for (stop == rolloutRollbackAsked)
	retrying    int                    // operator retries in flight
	standby     []string               // the open batch's instances, in Standby; nil: no batch is open
	closing     bool                   // the open batch's instances are going back into service
	batchPauses int
}

type rolloutPhase int

const (
	rolloutPhaseValidating   rolloutPhase = iota // checks, before anything changes
	rolloutPhaseRunning                          // batches run
	rolloutPhasePaused                           // waiting for the operator
	rolloutPhaseStopping                         // cancel or rollback asked: running work ends, nothing new starts
	rolloutPhaseCompensating                     // the group is being restored
	rolloutPhaseEnded
)

type rolloutStop int

const (
	rolloutNotStopped rolloutStop = iota
	rolloutCancelAsked
	rolloutRollbackAsked
)

// newRolloutStatus starts in Validating; st is the summary it keeps in step.
func newRolloutStatus(st *model.RolloutState) rolloutStatus {
	st.Status = model.RolloutValidating
	return rolloutStatus{st: st}
}

// Predicates.

// paused reports whether the task waits for the operator.
func (s *rolloutStatus) paused() bool { return s.phase == rolloutPhasePaused }

// ending reports whether the operator asked the task to end (cancel or
// rollback).
func (s *rolloutStatus) ending() bool { return s.stop != rolloutNotStopped }

// cancelled reports whether the operator cancelled the task.
func (s *rolloutStatus) cancelled() bool { return s.stop == rolloutCancelAsked }

// rollbackAsked is the rollback the operator asked for, or nil.
func (s *rolloutStatus) rollbackAsked() *model.RollbackCommand { return s.rollback }

// pauseOver reports whether a pause has been answered: resumed, cancelled or
// rolled back.
func (s *rolloutStatus) pauseOver() bool { return s.resumed || s.ending() }

// batchOpen reports whether batch b (0-based) is open: its instances are in
// Standby and its failures may still be decided.
func (s *rolloutStatus) batchOpen(b int) bool {
	return s.standby != nil && !s.closing && b == s.st.CurrentBatch-1
}

// batchClosing reports whether batch b (0-based) is going back into service:
// its failures are final.
func (s *rolloutStatus) batchClosing(b int) bool {
	return s.standby != nil && s.closing && b == s.st.CurrentBatch-1
}

// inStandby are the instances the task has put in Standby and not returned.
func (s *rolloutStatus) inStandby() []string { return s.standby }

// noRetries reports whether no operator retry is running.
func (s *rolloutStatus) noRetries() bool { return s.retrying == 0 }

// pauseAfterBatch reports whether the pause policy pauses the task after
// the batch that just ended (never after the last: the caller knows).
func (s *rolloutStatus) pauseAfterBatch() bool {
	switch s.st.PausePolicy {
	case model.PauseEachBatch:
		return true
	case model.PauseFirstBatch:
		return s.batchPauses == 0
	}
	return false
}

// Guards: why a command does not apply now (nil: it does).

// live refuses anything once the task is on its way out or has ended.
func (s *rolloutStatus) live() error {
	switch s.phase {
	case rolloutPhaseStopping, rolloutPhaseCompensating:
		return fmt.Errorf("the task is %s", strings.ToLower(s.st.Status))
	case rolloutPhaseEnded:
		return fmt.Errorf("the task has ended (%s)", s.st.Status)
	}
	return nil
}

// canResume: only a pause not resumed yet, with no retry running.
func (s *rolloutStatus) canResume() error {
	if err := s.live(); err != nil {
		return err
	}
	switch {
	case !s.paused():
		return fmt.Errorf("the task is %s, not paused", s.st.Status)
	case s.resumed:
		return errors.New("the task is already resuming")
	case s.retrying > 0:
		return fmt.Errorf("%d retried instance(s) are still being updated; resume when they have finished", s.retrying)
	}
	return nil
}

// canRollback: a running task rolls back only while paused, with no retry
// running.
func (s *rolloutStatus) canRollback() error {
	if err := s.live(); err != nil {
		return err
	}
	switch {
	case !s.paused():
		return fmt.Errorf("the task is %s: a running task can be rolled back only while paused (batch or failure); cancel it, or roll it back after it ends", s.st.Status)
	case s.retrying > 0:
		return fmt.Errorf("%d retried instance(s) are still being updated", s.retrying)
	}
	return nil
}

// Transitions. Each assumes its guard (if any) has passed; one that does not
// apply in the current phase changes nothing.

// start: the checks passed and the batches are planned.
func (s *rolloutStatus) start() {
	if s.phase == rolloutPhaseValidating {
		s.set(rolloutPhaseRunning, model.RolloutRunning)
	}
}

// pause waits for the operator, after a batch (model.RolloutPausedBatch) or
// on failures beyond the threshold (model.RolloutPausedFailure).
func (s *rolloutStatus) pause(kind string) {
	if s.phase != rolloutPhaseRunning {
		return
	}
	if kind == model.RolloutPausedBatch {
		s.batchPauses++
	}
	s.set(rolloutPhasePaused, kind)
}

// resume is the operator's answer to a pause; endPause acts on it.
func (s *rolloutStatus) resume() {
	if s.phase == rolloutPhasePaused {
		s.resumed = true
	}
}

// endPause: the pause is over (pauseOver); the task runs on unless it is
// ending.
func (s *rolloutStatus) endPause() {
	s.resumed = false
	if s.phase == rolloutPhasePaused {
		s.set(rolloutPhaseRunning, model.RolloutRunning)
	}
}

// cancel: running work ends, no new batch starts, the group is restored.
func (s *rolloutStatus) cancel(reason string) {
	if s.live() != nil {
		return
	}
	s.stop, s.st.CancelReason = rolloutCancelAsked, reason
	s.set(rolloutPhaseStopping, model.RolloutCancelling)
}

// requestRollback stops the paused task as cancel does; it then continues
// as its rollback.
func (s *rolloutStatus) requestRollback(c model.RollbackCommand) {
	if s.phase != rolloutPhasePaused {
		return
	}
	s.stop, s.rollback = rolloutRollbackAsked, &c
	s.set(rolloutPhaseStopping, model.RolloutCancelling)
}

func (s *rolloutStatus) retryStarted() { s.retrying++ }
func (s *rolloutStatus) retryEnded()   { s.retrying-- }

// openBatch: batch b's instances (0-based) are going into Standby. Noted
// before the call, so that compensation returns them whatever became of it.
func (s *rolloutStatus) openBatch(b int, ids []string) {
	s.st.CurrentBatch = b + 1
	s.standby, s.closing = slices.Clone(ids), false
}

// closingBatch: the open batch's instances are going back into service; no
// decision on its failures is taken any more.
func (s *rolloutStatus) closingBatch() {
	if s.standby != nil {
		s.closing = true
	}
}

// closeBatch: the open batch's instances are back in service.
func (s *rolloutStatus) closeBatch() { s.standby, s.closing = nil, false }

// compensate: the task has stopped working and restores the group: it is
// Finishing when its batches are done (err nil, not cancelled nor rolled
// back), Cancelling otherwise.
func (s *rolloutStatus) compensate(err error) {
	switch {
	case s.phase == rolloutPhaseEnded:
	case err == nil && !s.ending():
		s.set(rolloutPhaseCompensating, model.RolloutFinishing)
	default:
		s.set(rolloutPhaseCompensating, model.RolloutCancelling)
	}
}

// end ends the task: model.RolloutSucceeded, RolloutCancelled,
// RolloutFailed or RolloutRolledBack.
func (s *rolloutStatus) end(status string) { s.set(rolloutPhaseEnded, status) }

// fail ends the task Failed, for reason.
func (s *rolloutStatus) fail(reason string) {
	s.end(model.RolloutFailed)
	s.st.Error = reason
}

func (s *rolloutStatus) set(p rolloutPhase, status string) { s.phase, s.st.Status = p, status }
