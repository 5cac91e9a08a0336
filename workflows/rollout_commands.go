package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/operator"
)

// rolloutCommands are a rolling update's operator commands.
type rolloutCommands struct {
	resume                      operator.Command[model.ResumeCommand]
	retry, skip, cancelInstance operator.Command[model.InstanceCommand]
	cancel                      operator.Command[model.CancelCommand]
	rollback                    operator.Command[model.RollbackCommand]
	threshold                   operator.Command[model.ThresholdCommand]
	policy                      operator.Command[model.PausePolicyCommand]
}

// commands is the table of the operator commands: each validator reads the
// task's status, each apply makes a transition. Only the applies of the
// instance decisions use ctx.
func (r *rollout) commands(ctx workflow.Context) rolloutCommands {
	return rolloutCommands{
		resume:         operator.Command[model.ResumeCommand]{Name: model.CommandResume, Validate: r.validateResume, Apply: r.applyResume},
		retry:          r.decision(ctx, model.CommandRetry, r.retryInstance),
		skip:           r.decision(ctx, model.CommandSkip, skipInstance),
		cancelInstance: r.decision(ctx, model.CommandCancelInstance, cancelInstance),
		cancel:         operator.Command[model.CancelCommand]{Name: model.CommandCancel, Validate: r.validateCancel, Apply: r.applyCancel},
		rollback:       operator.Command[model.RollbackCommand]{Name: model.CommandRollback, Validate: r.validateRollback, Apply: r.applyRollback},
		threshold:      operator.Command[model.ThresholdCommand]{Name: model.CommandSetThreshold, Validate: r.validateThreshold, Apply: r.applyThreshold},
		policy:         operator.Command[model.PausePolicyCommand]{Name: model.CommandSetPausePolicy, Validate: r.validatePolicy, Apply: r.applyPolicy},
	}
}

// registerCommands installs the commands; a refused signal is kept as the
// progress's lastRefusal.
func (r *rollout) registerCommands(ctx workflow.Context) error {
	refused := r.recordRefusal() // rollout_handoff.go
	c := r.commands(ctx)
	return errors.Join(
		operator.Register(ctx, c.resume, refused),
		operator.Register(ctx, c.retry, refused),
		operator.Register(ctx, c.skip, refused),
		operator.Register(ctx, c.cancelInstance, refused),
		operator.Register(ctx, c.cancel, refused),
		operator.Register(ctx, c.rollback, refused),
		operator.Register(ctx, c.threshold, refused),
		operator.Register(ctx, c.policy, refused),
	)
}

func (r *rollout) validateResume(model.ResumeCommand) error {
	if err := r.status.canResume(); err != nil {
		return err
	}
	if r.st.Status == model.RolloutPausedFailure && r.st.Failures > r.st.ErrorThreshold {
		return fmt.Errorf("%s first", r.overThreshold())
	}
	return nil
}

func (r *rollout) applyResume(model.ResumeCommand) {
	r.logger.Info("Resumed by the operator")
	r.status.resume()
}

func (r *rollout) validateCancel(model.CancelCommand) error { return r.status.live() }

func (r *rollout) applyCancel(c model.CancelCommand) {
	r.logger.Info("Task cancelled by the operator", "reason", c.Reason)
	r.status.cancel(c.Reason)
}

func (r *rollout) validateRollback(c model.RollbackCommand) error {
	if r.spec.IsRollback() {
		return errors.New("this task is a rollback: a rollback cannot itself be rolled back")
	}
	if err := r.status.canRollback(); err != nil {
		return err
	}
	_, err := r.rollbackSpec(c)
	return err
}

func (r *rollout) applyRollback(c model.RollbackCommand) {
	r.logger.Info("Rollback requested by the operator")
	r.status.requestRollback(c)
}

// rollbackSpec is the spec of the run that rolls this task back as c says:
// checked by the rollback command's validator, built again (with the
// instances changed by then) when the task has stopped.
func (r *rollout) rollbackSpec(c model.RollbackCommand) (model.RolloutSpec, error) {
	return model.RollbackSpec(r.spec, r.ref, r.changed(), c)
}

func (r *rollout) validateThreshold(c model.ThresholdCommand) error {
	if c.ErrorThreshold < 0 {
		return fmt.Errorf("error threshold must not be negative, got %d", c.ErrorThreshold)
	}
	return r.status.live()
}

func (r *rollout) applyThreshold(c model.ThresholdCommand) {
	r.logger.Info("Error threshold changed", "from", r.st.ErrorThreshold, "to", c.ErrorThreshold)
	r.st.ErrorThreshold = c.ErrorThreshold
	r.refresh() // what the task waits for quotes the new threshold
}

func (r *rollout) validatePolicy(c model.PausePolicyCommand) error {
	if err := model.CheckPausePolicy(c.PausePolicy); err != nil {
		return err
	}
	return r.status.live()
}

func (r *rollout) applyPolicy(c model.PausePolicyCommand) {
	r.logger.Info("Pause policy changed", "from", r.st.PausePolicy, "to", c.PausePolicy)
	r.st.PausePolicy = c.PausePolicy
}

// decision is an operator's decision on a failed instance of the open batch:
// retry, skip or cancel-instance.
func (r *rollout) decision(ctx workflow.Context, name string, apply func(ctx workflow.Context, in *model.InstanceProgress)) operator.Command[model.InstanceCommand] {
	return operator.Command[model.InstanceCommand]{
		Name:     name,
		Validate: func(c model.InstanceCommand) error { return r.validateDecision(name, c.InstanceID) },
		Apply: func(c model.InstanceCommand) {
			r.logger.Info("Operator decision", "command", name, "instance", c.InstanceID)
			apply(ctx, r.inst(c.InstanceID))
			r.updateDetails(ctx)
		},
	}
}

func (r *rollout) validateDecision(name, id string) error {
	in := r.inst(id)
	switch {
	case id == "":
		return fmt.Errorf("%s needs an instanceId", name)
	case in == nil:
		return fmt.Errorf("instance %s is not part of this task", id)
	}
	if err := r.status.live(); err != nil {
		return err
	}
	switch {
	case in.State != model.InstanceFailed:
		return fmt.Errorf("instance %s is %s: %s applies only to a failed instance", id, in.State, name)
	case in.Decision != "":
		return fmt.Errorf("instance %s was already decided (%s)", id, in.Decision)
	case r.status.batchClosing(in.Batch - 1):
		return fmt.Errorf("instance %s failed in batch %d, which is going back into service: its failure is final", id, in.Batch)
	case !r.status.batchOpen(in.Batch - 1):
		return fmt.Errorf("instance %s failed in batch %d, which has ended: its failure was within the error threshold and is final", id, in.Batch)
	}
	return nil
}

// changeRetryDetached: an operator's retry runs on a disconnected context,
// as a batch's work does, so that a cancel through Temporal lets it end
// before compensation returns its instance to service (awaitRetries). Runs
// started before cancelled it with the run.
const changeRetryDetached = "rollout-retry-detached"

// retryInstance runs the change on the instance again, as a new attempt.
func (r *rollout) retryInstance(ctx workflow.Context, in *model.InstanceProgress) {
	in.State, in.Error, in.ExitCode, in.Output = model.InstanceUpdating, "", 0, ""
	in.Attempts++
	r.status.retryStarted()
	id, attempt := in.InstanceID, in.Attempts
	if workflow.GetVersion(ctx, changeRetryDetached, workflow.DefaultVersion, 1) == 1 {
		r.retriesDetached = true
		ctx, _ = workflow.NewDisconnectedContext(ctx)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer r.status.retryEnded()
		if r.chunked {
			// A chunk of one, which first looks at what the previous
			// attempt did in the cloud.
			r.applyChunk(ctx, []string{id}, true)
		} else {
			r.record(ctx, id, applyChange(ctx, r.changeInput(), id, attempt))
		}
		r.updateDetails(ctx)
	})
}

func skipInstance(_ workflow.Context, in *model.InstanceProgress) {
	in.State, in.Decision = model.InstanceSucceeded, model.DecisionSkipped
}

func cancelInstance(_ workflow.Context, in *model.InstanceProgress) {
	in.Decision = model.DecisionCancelled
}

// awaitRetries lets the operator's retries in flight end before the group
// is restored, whatever ended the task: a cancel through Temporal (err) too,
// since their work runs on a disconnected context. Runs started before
// changeRetryDetached waited only when the task ended without an error.
func (r *rollout) awaitRetries(ctx workflow.Context, err error) {
	switch {
	case err == nil:
		_ = workflow.Await(ctx, r.status.noRetries)
	case r.retriesDetached && !r.status.noRetries():
		r.logger.Info("Waiting for the operator's retries to end before restoring the group", "retries", r.status.retrying)
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		_ = workflow.Await(dctx, r.status.noRetries)
	}
}

// changeBatchClosing: a batch going back into service (ExitStandby, which
// may wait out throttling for long) refuses decisions on its failures. Runs
// started before took them until the call returned.
const changeBatchClosing = "rollout-batch-closing"

// closingBatch marks the open batch as going back into service.
func (r *rollout) closingBatch(ctx workflow.Context) {
	if workflow.GetVersion(ctx, changeBatchClosing, workflow.DefaultVersion, 1) == 1 {
		r.status.closingBatch()
		r.updateDetails(ctx)
	}
}
