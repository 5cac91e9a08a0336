package workflows

import (
	"slices"

	"github.com/imagefleet/imagefleet/model"
)

// blueGreenPause is where a deployment stands in a pause of its traffic
// shift (timed, manual gate, or the termination wait).
type blueGreenPause int

const (
	blueGreenNotPaused blueGreenPause = iota
	blueGreenPaused                   // promote ends the pause
	blueGreenPromoted                 // promote was accepted: the pause ends
)

// blueGreenStatus is a deployment's state machine. The phase moves forward
// (model.BGPhase*: validating → creating green → testing → shifting →
// switching primary → termination wait → removing blue → succeeded, or
// rolling back → rolled back / failed); within the shift and the termination
// wait the deployment may be paused; promote-full, cancel and the commit to
// removing blue are one-way. The commands' validators read it; their Apply
// and the run change it only through its transitions.
type blueGreenStatus struct {
	phase string
	pause blueGreenPause
	// full: promote-full was accepted; the remaining steps are skipped.
	full bool
	// cancelled: cancel (abort) was accepted; the deployment rolls back.
	cancelled bool
	// committed: blue's removal started, or there is no blue to go back
	// to: nothing rolls back any more.
	committed bool
}

// Phases before all traffic is on green: promote-full applies.
var blueGreenBeforeFullShift = []string{model.BGPhaseValidating, model.BGPhaseCreatingGreen, model.BGPhaseTesting, model.BGPhaseShifting}

// Queries.

func (s *blueGreenStatus) paused() bool      { return s.pause != blueGreenNotPaused }
func (s *blueGreenStatus) promoted() bool    { return s.pause == blueGreenPromoted }
func (s *blueGreenStatus) rollingBack() bool { return s.phase == model.BGPhaseRollingBack }

// shifting: not all traffic is on green yet, so promote-full applies.
func (s *blueGreenStatus) shifting() bool { return slices.Contains(blueGreenBeforeFullShift, s.phase) }

// over: the deployment rolls back, rolled back, failed or
// succeeded: its details show no operator wait.
func (s *blueGreenStatus) over() bool {
	switch s.phase {
	case model.BGPhaseRollingBack, model.BGPhaseRolledBack, model.BGPhaseAborted, model.BGPhaseFailed, model.BGPhaseSucceeded:
		return true
	}
	return false
}

// Transitions.

// enter moves to phase.
func (s *blueGreenStatus) enter(phase string) { s.phase = phase }

// beginPause: a pause starts; promote now ends it.
func (s *blueGreenStatus) beginPause() { s.pause = blueGreenPaused }

// endPause: the pause is over, by promote or by its end.
func (s *blueGreenStatus) endPause() { s.pause = blueGreenNotPaused }

// promote ends the current pause; full also skips the remaining steps.
func (s *blueGreenStatus) promote(full bool) {
	if s.pause == blueGreenPaused {
		s.pause = blueGreenPromoted
	}
	s.full = s.full || full
}

// cancel: the operator cancelled; the deployment rolls back.
func (s *blueGreenStatus) cancel() { s.cancelled = true }

// commit: from now on the deployment does not roll back.
func (s *blueGreenStatus) commit() { s.committed = true }
