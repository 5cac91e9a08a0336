// Package regional runs a piece of work in every region at once and lets an
// operator decide about a region that keeps failing: retry it, drop it, or
// cancel the whole run. Image distribution and the publication of other
// package contents share it.
//
// The operator commands are retry-region, drop-region and cancel; abort is
// cancel's deprecated alias (same payload, validator and apply), accepted
// as a signal and as an update like every name.
package regional

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/fanout"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/operator"
)

// Error types a run ends with (model.ErrTypeAborted, model.ErrTypeNoRegion).
const (
	ErrTypeAborted  = model.ErrTypeAborted
	ErrTypeNoRegion = model.ErrTypeNoRegion
)

// changeNoAttemptAfterAbort is the workflow.GetVersion change ID of
// runRegion's stop after a cancel that arrived during BeforeRetry.
const changeNoAttemptAfterAbort = "regional-no-attempt-after-abort"

// changeAttemptsCountFailures is the workflow.GetVersion change ID of
// runRegion making a failed attempt again on its own until Attempts have
// failed in a row (before it, the first failure asked the operator).
const changeAttemptsCountFailures = "regional-attempts-count-failures"

// changeDecisionHeldUntilDone is the workflow.GetVersion change ID of
// runRegion keeping an operator's decision about a region until it has been
// carried out (BeforeRetry included), so that a second decision is refused.
const changeDecisionHeldUntilDone = "regional-decision-held-until-done"

// Work is one run's regional work and the operator's decisions about it.
// Fill in the fields, register the commands in setup, then Run.
type Work struct {
	// Noun names the run in messages, e.g. "distribution".
	Noun   string
	Logger log.Logger
	// Status returns the region's entry of the caller's progress.
	Status func(region string) *model.RegionStatus
	// CanCancel refuses a cancel that the caller's phase no longer allows.
	CanCancel func() error
	// Changed is called after every change of a region's state, to refresh
	// what the run shows (current details, search attributes).
	Changed func(ctx workflow.Context)
	// Attempt makes one attempt (with its activity retries) in a region.
	Attempt func(ctx workflow.Context, region string) error
	// BeforeRetry, if set, runs before a failed region is attempted again
	// (on its own or on the operator's retry), with the error of the failed
	// attempt, e.g. to remove a failed copy.
	BeforeRetry func(ctx workflow.Context, region string, failure error)
	// Attempts is how many attempts of a region may fail in a row (the
	// spec's copyAttempts) before the operator is asked; the failed ones
	// before it are made again at once. Transient errors never count here:
	// the activities retry them until model.StepDeadline, and an attempt
	// fails only on what the cloud answered for good (a copy that ended
	// CreateFailed, a refused request). 0 or 1: the first failure asks.
	Attempts int
	// Counts, if set, says which failures count as attempts made again on
	// their own (a copy that failed in the cloud); the others go to the
	// operator at once. nil: every failure counts.
	Counts func(failure error) bool

	decisions    map[string]string // region → pending operator decision
	cancelled    bool
	cancelReason string
	cancel       workflow.CancelFunc
}

// Commands are the run's operator commands, as RegisterCommands installs
// them.
type Commands struct {
	RetryRegion, DropRegion operator.Command[model.RegionCommand]
	// Cancel is registered as cancel and under its deprecated alias abort.
	Cancel operator.Command[model.CancelCommand]
}

// RegisterCommands installs retry-region, drop-region and cancel (with its
// alias abort).
func (w *Work) RegisterCommands(ctx workflow.Context, refused operator.Refused) error {
	w.decisions = map[string]string{}
	c := w.Commands()
	return errors.Join(
		operator.Register(ctx, c.RetryRegion, refused),
		operator.Register(ctx, c.DropRegion, refused),
		operator.Register(ctx, c.Cancel, refused),
	)
}

// Commands returns retry-region, drop-region and cancel, whose validators
// read the run's current state.
func (w *Work) Commands() Commands {
	decide := func(decision string) operator.Command[model.RegionCommand] {
		return operator.Command[model.RegionCommand]{
			Name:     decision,
			Validate: func(c model.RegionCommand) error { return w.validateDecision(decision, c.Region) },
			Apply: func(c model.RegionCommand) {
				w.Logger.Info("Operator decision", "command", decision, "region", c.Region)
				w.decisions[c.Region] = decision
			},
		}
	}
	return Commands{
		RetryRegion: decide(model.CommandRetryRegion),
		DropRegion:  decide(model.CommandDropRegion),
		Cancel: operator.Command[model.CancelCommand]{
			Name: model.CommandCancel,
			//lint:ignore SA1019 the deprecated name is still accepted: this is where it is kept working
			Aliases:  []string{model.CommandAbort},
			Validate: func(model.CancelCommand) error { return w.validateCancel() },
			Apply: func(c model.CancelCommand) {
				w.Logger.Info("Cancel requested", "reason", c.Reason)
				w.cancelled, w.cancelReason = true, c.Reason
				if w.cancel != nil {
					w.cancel()
				}
			},
		},
	}
}

func (w *Work) validateDecision(decision, region string) error {
	s := w.Status(region)
	switch {
	case region == "":
		return errors.New("the command needs a region")
	case s == nil:
		return fmt.Errorf("region %s is not part of this %s", region, w.Noun)
	case w.cancelled:
		return fmt.Errorf("the %s is being aborted", w.Noun)
	case s.State != model.RegionFailed:
		return fmt.Errorf("region %s is %s: %s applies only to a failed region", region, s.State, decision)
	case w.decisions[region] != "":
		return fmt.Errorf("region %s already has a decision (%s) being carried out", region, w.decisions[region])
	}
	return nil
}

func (w *Work) validateCancel() error {
	if w.cancelled {
		return fmt.Errorf("the %s is already being aborted", w.Noun)
	}
	return w.CanCancel()
}

// Cancelled reports whether the operator cancelled the run (which then ends
// Aborted).
func (w *Work) Cancelled() bool { return w.cancelled }

// CancelError is the error a run the operator cancelled ends with (type
// Aborted): expected, so benign.
func (w *Work) CancelError() error {
	return temporal.NewApplicationErrorWithOptions(w.Noun+" aborted by the operator: "+w.cancelReason, ErrTypeAborted,
		temporal.ApplicationErrorOptions{NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign})
}

// Run works in every region at once and returns when each region is
// Available or Dropped, or the operator cancels. It fails when no region was
// delivered.
func (w *Work) Run(ctx workflow.Context, regions []string) error {
	if w.cancelled {
		return w.CancelError()
	}
	runCtx, cancel := workflow.WithCancel(ctx)
	w.cancel = cancel
	defer cancel()
	fanout.Each(runCtx, regions, 0, w.runRegion)
	if w.cancelled {
		return w.CancelError()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if len(w.In(regions, model.RegionAvailable)) == 0 {
		return temporal.NewNonRetryableApplicationError("every region was dropped: nothing to publish", ErrTypeNoRegion, nil)
	}
	return nil
}

// runRegion attempts a region until it succeeds or the operator drops it.
func (w *Work) runRegion(ctx workflow.Context, region string) {
	s := w.Status(region)
	failed := 0 // attempts failed in a row since the last decision
	for {
		s.State, s.Error, s.Attempts = model.RegionCopying, "", s.Attempts+1
		s.StartedAt = workflow.Now(ctx)
		w.Changed(ctx)
		err := w.Attempt(ctx, region)
		if err == nil {
			s.State, s.FinishedAt = model.RegionAvailable, workflow.Now(ctx)
			w.Changed(ctx)
			return
		}
		if ctx.Err() != nil {
			return // aborted or cancelled: the caller compensates
		}
		failed++
		if w.againOnItsOwn(ctx, failed, err) {
			s.Error = fmt.Sprintf("attempt %d of %d failed: %s; trying again", failed, w.Attempts, lifecycle.RootMessage(err))
			w.Logger.Warn("Region attempt failed, trying again", "region", region, "failed", failed, "attempts", w.Attempts, "error", err)
			w.Changed(ctx)
			if w.BeforeRetry != nil {
				w.BeforeRetry(ctx, region, err)
			}
			if ctx.Err() != nil {
				return
			}
			continue
		}
		failed = 0
		s.State, s.Error = model.RegionFailed, lifecycle.RootMessage(err)
		w.Logger.Warn("Region failed, waiting for an operator decision", "region", region, "error", err)
		w.Changed(ctx)
		if err := workflow.Await(ctx, func() bool { return w.decisions[region] != "" }); err != nil {
			return
		}
		decision := w.decisions[region]
		// The decision stays recorded until it has been carried out, so that
		// a second one sent meanwhile (while BeforeRetry deletes a failed
		// copy, say) is refused rather than accepted and then ignored or
		// applied unasked. Versioned: runs before this change forgot the
		// decision first.
		held := workflow.GetVersion(ctx, changeDecisionHeldUntilDone, workflow.DefaultVersion, 1) == 1
		if !held {
			delete(w.decisions, region)
		}
		if decision == model.CommandDropRegion {
			delete(w.decisions, region)
			s.State, s.FinishedAt = model.RegionDropped, workflow.Now(ctx)
			w.Changed(ctx)
			return
		}
		if w.BeforeRetry != nil {
			w.BeforeRetry(ctx, region, err)
		}
		delete(w.decisions, region)
		// Cancelled while preparing the retry: start nothing more (versioned:
		// runs before this change made the attempt).
		if ctx.Err() != nil && workflow.GetVersion(ctx, changeNoAttemptAfterAbort, workflow.DefaultVersion, 1) == 1 {
			return
		}
	}
}

// againOnItsOwn reports whether a region's failed attempt, the failed-th in
// a row, is made again without asking the operator. Versioned: runs before
// this change asked at the first failure.
func (w *Work) againOnItsOwn(ctx workflow.Context, failed int, err error) bool {
	if failed >= w.Attempts || (w.Counts != nil && !w.Counts(err)) {
		return false
	}
	return workflow.GetVersion(ctx, changeAttemptsCountFailures, workflow.DefaultVersion, 1) == 1
}

// In lists the regions (of regions, in their order) whose state is state;
// a region the run does not show (a published version's restart asking for
// a region the version lacks) is in none.
func (w *Work) In(regions []string, state string) []string {
	var out []string
	for _, r := range regions {
		if s := w.Status(r); s != nil && s.State == state {
			out = append(out, r)
		}
	}
	return out
}

// WaitingFor says which failed regions wait for a decision, or "".
func (w *Work) WaitingFor(regions []string) string {
	if w.cancelled {
		return ""
	}
	var failed []string
	for _, r := range w.In(regions, model.RegionFailed) {
		if w.decisions[r] == "" {
			failed = append(failed, r)
		}
	}
	if len(failed) == 0 {
		return ""
	}
	return fmt.Sprintf("operator decision for %s: %s, %s or %s",
		strings.Join(failed, ", "), model.CommandRetryRegion, model.CommandDropRegion, model.CommandCancel)
}
