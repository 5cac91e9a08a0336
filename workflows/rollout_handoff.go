package workflows

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/operator"
)

// A task's run hands the group over to its next run (continue-as-new)
// without letting go of it: the cloud's rolling update task and the
// scaling processes the task suspended pass in the next run's spec
// (model.RolloutHandoff), and the next run adopts them instead of creating,
// checking and suspending again. Two kinds of next run:
//
//   - the rollback: a paused task that the operator rolls back;
//   - the same task, continued at a batch boundary when the run's history
//     grows long (the server suggests it, or rolloutRunEvents is reached):
//     it carries where the task stands and a compact record of every
//     instance, so that the queries answer the same.

// Change IDs of workflow.GetVersion.
const (
	// changeRollbackHandoff: a rollback adopts the group from the run it
	// rolls back. Runs recorded before finished the task and resumed the
	// processes first, and the rollback created and suspended them again.
	changeRollbackHandoff = "rollout-rollback-handoff"
	// changeContinueAsNew: a task continues as new at a batch boundary when
	// its history grows long.
	changeContinueAsNew = "rollout-continue-as-new"
)

// rolloutRunEvents is the history length after which a task continues as
// new at its next batch boundary, whatever the server suggests, unless its
// spec says otherwise (runEvents). Every accepted update takes at least two
// events, so this also keeps a run well below the server's limit of 2,000
// updates per run. It decides commands: changing it needs a new version of
// changeContinueAsNew. A variable for tests (the SDK's test environment
// counts no history: 0 continues at every boundary).
var rolloutRunEvents = 4000

// recordRefusal keeps a refused signal as the progress's lastRefusal and
// notes whether it came during the hand-off to a rollback, so that the
// rollback run shows it too.
func (r *rollout) recordRefusal() operator.Refused {
	record := operator.RecordRefusal(&r.st.LastRefusal, r.logger)
	return func(command string, err error) {
		record(command, err)
		if r.status.rollbackAsked() != nil {
			r.handoffRefusal = r.st.LastRefusal
		}
	}
}

// rolloutCommandNames are the names the task's commands are signalled
// under (rollout_commands.go).
var rolloutCommandNames = []string{
	model.CommandResume, model.CommandRetry, model.CommandSkip, model.CommandCancelInstance,
	model.CommandCancel, model.CommandRollback, model.CommandSetThreshold, model.CommandSetPausePolicy,
}

// awaitCommands lets every command accepted or signalled so far finish
// before the run continues as new: accepted updates apply, and signals are
// received (applied, or refused and kept), none left behind.
func awaitCommands(ctx workflow.Context) error {
	if err := lifecycle.AwaitHandlers(ctx); err != nil {
		return err
	}
	return operator.AwaitSignals(ctx, rolloutCommandNames...)
}

// checkHandoff refuses a hand-off that does not come from the run this
// one continues (a client cannot hand a run a task it does not hold), and
// restores where a continued task stands. It runs before anything changes.
func (r *rollout) checkHandoff(ctx workflow.Context) error {
	h := r.spec.Handoff
	if h == nil {
		return nil
	}
	info := workflow.GetInfo(ctx)
	var err error
	switch {
	case info.ContinuedExecutionRunID == "" || h.FromRunID != info.ContinuedExecutionRunID:
		err = fmt.Errorf("the hand-off comes from run %q, not from the run this one continues (%q): only a task's own run hands it over; start a task without handoff", h.FromRunID, info.ContinuedExecutionRunID)
	case r.spec.IsRollback() && h.Continuation == nil && h.FromRunID != r.spec.RollbackOf.RunID:
		err = fmt.Errorf("the hand-off comes from run %q, not from the run rolled back (%q)", h.FromRunID, r.spec.RollbackOf.RunID)
	case h.Continuation != nil:
		err = r.restore(*h.Continuation)
	}
	if err != nil {
		r.status.fail(err.Error())
		r.state.Set(ctx, model.StateFailed)
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidSpec, err)
	}
	r.st.LastRefusal = h.LastRefusal
	r.st.SuspendedBefore = slices.Clone(h.SuspendedBefore)
	if r.st.SuspendedBefore == nil {
		r.st.SuspendedBefore = []string{}
	}
	return nil
}

// restore takes over where the previous run of the task stopped: its
// batches, instances, policy and token key.
func (r *rollout) restore(c model.RolloutContinuation) error {
	// Deterministic: JSON of the run's own input (workflowcheck cannot see
	// through the decoder's reflection).
	insts, err := model.DecodeInstanceRecord(c.Instances) //workflowcheck:ignore
	if err != nil {
		return err
	}
	total := 0
	for _, b := range c.Batches {
		total += b.Size
	}
	if total != len(insts) {
		return fmt.Errorf("the continuation's batches hold %d instances, its record %d", total, len(insts))
	}
	r.tokenKey, r.runs = c.TokenKey, c.Runs
	r.st.Batches = slices.Clone(c.Batches)
	r.st.CurrentBatch = c.NextBatch
	r.st.PausePolicy, r.st.ErrorThreshold = c.PausePolicy, c.ErrorThreshold
	r.st.StartedAt = c.StartedAt
	r.status.batchPauses = c.BatchPauses
	r.st.OutputsDropped = c.OutputsDropped
	r.insts = insts
	for i, in := range insts {
		if in.Batch < 1 || in.Batch > len(c.Batches) {
			return fmt.Errorf("instance %s is in batch %d of %d", in.InstanceID, in.Batch, len(c.Batches))
		}
		r.index[in.InstanceID] = i
	}
	r.status.start()
	r.refresh()
	return nil
}

// adoptTask takes over the rolling update task handed over, if any: the
// group stays held, and this run finishes the task at its end.
func (r *rollout) adoptTask() bool {
	h := r.spec.Handoff
	if h == nil || h.TaskID == "" {
		return false
	}
	r.logger.Info("Adopting the rolling update task handed over", "task", h.TaskID, "from", h.FromRunID)
	r.finishTaskAtEnd(h.TaskID)
	return true
}

// adoptProcesses takes over the processes the task suspended: this run
// resumes them at its end.
func (r *rollout) adoptProcesses(h *model.RolloutHandoff) {
	r.resumeProcessesAtEnd(slices.Clone(h.Suspended))
}

// rollbackHandoff is the spec of the rollback this run continues as, with
// the group handed over, or nil when it ends otherwise (or was recorded
// before the hand-off). The task and the processes leave this run's saga:
// the rollback releases them.
func (r *rollout) rollbackHandoff(ctx workflow.Context, err error) *model.RolloutSpec {
	c := r.status.rollbackAsked()
	if err != nil || c == nil {
		return nil
	}
	spec, serr := r.rollbackSpec(*c)
	if serr != nil {
		return nil // end says why
	}
	if workflow.GetVersion(ctx, changeRollbackHandoff, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	r.handedOver = r.saga.Transfer(r.heldSteps()...)
	spec.Handoff = &model.RolloutHandoff{
		FromRunID: workflow.GetInfo(ctx).WorkflowExecution.RunID, TaskID: r.taskID,
		Suspended: slices.Clone(r.procs), SuspendedBefore: slices.Clone(r.st.SuspendedBefore),
	}
	return &spec
}

// takeBack returns what a hand-off that cannot happen holds to this run's
// saga, which then releases it.
func (r *rollout) takeBack() {
	for _, step := range r.handedOver {
		r.saga.Add(step.Name, step.Undo)
	}
	r.handedOver = nil
}

// outgrown reports whether the task should continue as new before batch b:
// a batch has run in this run, and the server suggests it or the history
// has reached rolloutRunEvents.
func (r *rollout) outgrown(ctx workflow.Context, b, first int) bool {
	if r.outgrew || b <= first || b >= len(r.st.Batches) {
		return false
	}
	limit := rolloutRunEvents
	if r.spec.RunEvents > 0 {
		limit = r.spec.RunEvents
	}
	info := workflow.GetInfo(ctx)
	if !info.GetContinueAsNewSuggested() && info.GetCurrentHistoryLength() < limit {
		return false
	}
	return workflow.GetVersion(ctx, changeContinueAsNew, workflow.DefaultVersion, 1) == 1
}

// continuation is the spec of the run that continues the task before
// batch next, with the group handed over, or nil when the task cannot
// continue as new (its record does not fit: it goes on in this run). The
// operator's commands accepted or signalled so far have been applied.
func (r *rollout) continuation(ctx workflow.Context, next int) *model.RolloutSpec {
	record, dropped, err := model.EncodeInstanceRecord(r.insts, next, model.MaxInstanceRecord) //workflowcheck:ignore
	if err != nil {
		r.logger.Warn("Cannot continue as new: the task goes on in this run", "error", err)
		return nil
	}
	spec := r.spec
	spec.Handoff = &model.RolloutHandoff{
		FromRunID: workflow.GetInfo(ctx).WorkflowExecution.RunID, TaskID: r.taskID,
		Suspended: slices.Clone(r.procs), SuspendedBefore: slices.Clone(r.st.SuspendedBefore),
		LastRefusal: r.st.LastRefusal,
		Continuation: &model.RolloutContinuation{
			TokenKey: r.tokenKey, Runs: r.runs + 1, NextBatch: next,
			Batches: slices.Clone(r.st.Batches), PausePolicy: r.st.PausePolicy, ErrorThreshold: r.st.ErrorThreshold,
			BatchPauses: r.status.batchPauses, StartedAt: r.st.StartedAt,
			Instances: record, OutputsDropped: r.st.OutputsDropped + dropped,
		},
	}
	r.logger.Info("Continuing as new at a batch boundary", "nextBatch", next+1, "batches", len(r.st.Batches),
		"historyLength", workflow.GetInfo(ctx).GetCurrentHistoryLength(), "record", len(record), "outputsDropped", dropped)
	return &spec
}
