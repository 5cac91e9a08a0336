package details

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
)

// State keeps the ImagefleetState search attribute, which operators filter
// and list runs by, in step with a run's coarse state. It upserts only on a
// change, so the history gets one event per transition. Each transition is
// also recorded in the metrics (started, waiting for an operator, ended).
type State struct {
	current string
	metrics metrics.Run
	// unset: the namespace lacks the ImagefleetState attribute, so the run
	// does not set it (the server would fail every workflow task).
	unset bool
}

// Begin names the run's operation (for the metrics) and the search
// attributes its namespace lacks (lifecycle.Start found them), before the
// first Set.
func (s *State) Begin(operation string, missing []string) {
	s.metrics.Operation = operation
	s.unset = slices.Contains(missing, model.SAState.GetName())
}

// Set records state and upserts it if it changed. A failed upsert is logged:
// the attribute is for finding runs, not worth failing one for; one the
// namespace lacks is not set (lifecycle.Start warned of it).
func (s *State) Set(ctx workflow.Context, state string) {
	if state == s.current {
		return
	}
	s.metrics.StateChanged(ctx, s.current, state)
	s.current = state
	if s.unset {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, model.SAState.ValueSet(state)); err != nil {
		workflow.GetLogger(ctx).Error("Could not upsert the state search attribute", "state", state, "error", err)
	}
}

// Current is the state last set.
func (s *State) Current() string { return s.current }

// Waiting shows a run that is Running or WaitingForOperator as the one or
// the other; a run in any other state (compensating, ended) keeps it.
func (s *State) Waiting(ctx workflow.Context, waiting bool) {
	if s.current != model.StateRunning && s.current != model.StateWaitingForOperator {
		return
	}
	if waiting {
		s.Set(ctx, model.StateWaitingForOperator)
	} else {
		s.Set(ctx, model.StateRunning)
	}
}
