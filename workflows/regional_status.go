package workflows

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// regionalStatus is where a distribution or a publication is, as one state
// machine:
//
//	Validating → Replicating → [Sharing →] Publishing → Published
//	      any of them → [Compensating →] Failed or Aborted
//
// A transition changes together the phase (and what the run waits for, and
// why it ended) in the run's progress, which the progress query answers,
// and the ImagefleetState search attribute (Running, WaitingForOperator,
// Compensating, Succeeded, Failed, Aborted).
type regionalStatus struct {
	// Fields of the run's progress: the status is their only writer.
	phase, waitingFor, errText *string
	state                      details.State
	// report tells a parent run (a build) what this run waits for.
	report lifecycle.WaitReport
}

// show binds the status to the progress fields it writes.
func (s *regionalStatus) show(phase, waitingFor, errText *string) {
	s.phase, s.waitingFor, s.errText = phase, waitingFor, errText
}

func (s *regionalStatus) is(phases ...string) bool { return slices.Contains(phases, *s.phase) }

// over reports whether the run no longer works: it publishes nothing more
// and waits for no one.
func (s *regionalStatus) over() bool {
	return s.is(model.PhaseCompensating, model.PhasePublished, model.PhaseFailed, model.PhaseAborted)
}

// canCancel allows a cancel until publishing starts: after it the release
// runs to its end, or compensation would delete what a locked version holds.
func (s *regionalStatus) canCancel(noun string) error {
	if !s.is(model.PhaseValidating, model.PhaseReplicating) {
		return fmt.Errorf("the %s is %s: %s applies only before publishing starts", noun, *s.phase, model.CommandCancel)
	}
	return nil
}

// refused: the run does not start (wrong workflow ID, invalid spec); its
// state search attribute is lifecycle.Start's.
func (s *regionalStatus) refused(err error) {
	*s.phase, *s.errText = model.PhaseFailed, err.Error()
}

func (s *regionalStatus) replicating() { *s.phase = model.PhaseReplicating }
func (s *regionalStatus) sharing()     { *s.phase = model.PhaseSharing }
func (s *regionalStatus) publishing()  { *s.phase = model.PhasePublishing }

// waiting shows what a working run waits for ("" for nothing), and so
// Running or WaitingForOperator. An ended or compensating run keeps both.
func (s *regionalStatus) waiting(ctx workflow.Context, waitingFor string) {
	if s.over() {
		return
	}
	*s.waitingFor = waitingFor
	s.state.Waiting(ctx, waitingFor != "")
	s.report.Report(ctx, waitingFor)
}

func (s *regionalStatus) published(ctx workflow.Context) {
	*s.phase, *s.waitingFor = model.PhasePublished, ""
	s.state.Set(ctx, model.StateSucceeded)
	s.report.Report(ctx, "")
}

func (s *regionalStatus) compensating(ctx workflow.Context) {
	*s.phase = model.PhaseCompensating
	s.state.Set(ctx, model.StateCompensating)
	s.report.Report(ctx, "")
}

// ended: the run ends with err, Aborted if the operator or Temporal
// cancelled it, Failed otherwise. It waits for nothing any more.
func (s *regionalStatus) ended(ctx workflow.Context, err error, cancelled bool) {
	state := lifecycle.EndState(err, cancelled)
	*s.phase, *s.waitingFor, *s.errText = model.PhaseFailed, "", err.Error()
	if state == model.StateAborted {
		*s.phase = model.PhaseAborted
	}
	s.state.Set(ctx, state)
	s.report.Report(ctx, "")
}
