// Package saga keeps the compensations of a workflow's side effects and runs
// them in reverse order, on a context that survives the workflow's
// cancellation, so that what was created is released even after a cancel.
package saga

import (
	"errors"
	"slices"

	"go.temporal.io/sdk/workflow"
)

// Compensation undoes one side effect.
type Compensation struct {
	Name string
	Undo func(ctx workflow.Context) error
}

// Saga is the list of compensations registered so far.
type Saga struct {
	steps []Compensation
}

// Add registers a compensation; the last added runs first.
func (s *Saga) Add(name string, undo func(ctx workflow.Context) error) {
	s.steps = append(s.steps, Compensation{Name: name, Undo: undo})
}

// Len is the number of compensations registered.
func (s *Saga) Len() int { return len(s.steps) }

// Transfer removes the compensations named and returns them, in the order
// they were added: what they undo has been handed to another owner (the
// next run of the workflow), which releases it instead. The caller may Add
// them back if the hand-over does not happen.
func (s *Saga) Transfer(names ...string) []Compensation {
	var out []Compensation
	s.steps = slices.DeleteFunc(s.steps, func(c Compensation) bool {
		if slices.Contains(names, c.Name) {
			out = append(out, c)
			return true
		}
		return false
	})
	return out
}

// Compensate runs every compensation in reverse order on a disconnected
// context. It goes on past a failed one and returns them all joined, so one
// stuck resource does not keep the others alive. Compensations that ran are
// removed, so calling it twice does not undo twice.
func (s *Saga) Compensate(ctx workflow.Context) error {
	ctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	var errs []error
	for i := len(s.steps) - 1; i >= 0; i-- {
		step := s.steps[i]
		if err := step.Undo(ctx); err != nil {
			workflow.GetLogger(ctx).Error("Compensation failed", "step", step.Name, "error", err)
			errs = append(errs, err)
		}
	}
	s.steps = nil
	return errors.Join(errs...)
}
