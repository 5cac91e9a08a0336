package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/fanout"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
	"github.com/imagefleet/imagefleet/workflows/internal/operator"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
)

// RollingUpdate applies an image, a script or an OOS package version to the
// InService instances of a scaling group, batch by batch (Auto Scaling's
// rolling update task). It suspends the group's scaling processes for the
// task and restores exactly the previous set at the end, whatever the end
// (success, cancel, rollback, failure, or after a worker crash, since the
// restore runs from the workflow on a disconnected context). Per batch the
// instances enter Standby (load-balancer weight 0), a child workflow
// (RollingUpdateBatch) applies the change to each in parallel, and they
// return to service with their weights. It pauses after batches as the pause
// policy says, and on failures beyond the error threshold, until the
// operator resumes; failed instances can be retried, skipped or cancelled.
// A rollback continues as a new run of the same workflow ID (so the group
// stays locked) that applies the rollback change to the changed instances.
func RollingUpdate(ctx workflow.Context, spec model.RolloutSpec) (*model.RolloutState, error) {
	r := &rollout{spec: spec}
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	return r.run(ctx)
}

var rollouts *activities.Rollouts

type rollout struct {
	spec     model.RolloutSpec
	st       model.RolloutState
	logger   log.Logger
	saga     saga.Saga
	tokenKey string
	state    details.State // the ImagefleetState search attribute

	batchOf    map[string]int // instance → 0-based batch
	insts      []model.InstanceProgress
	index      map[string]int // instance → its place in insts
	chunked    bool           // instance work runs in chunks (version rollout-chunked)
	standby    []string       // instances this task has put in Standby
	batchOpen  bool           // the current batch's instances are in Standby
	paused     bool
	resumed    bool
	batchPause int // batch pauses so far
	cancelled  bool
	rollback   *model.RollbackCommand
	retrying   int // operator retries in flight
}

func (r *rollout) setup(ctx workflow.Context) error {
	info := workflow.GetInfo(ctx)
	// OriginalRunID survives a reset; a rollback (a new run after continue-
	// as-new) gets new tokens.
	r.tokenKey = model.RolloutWorkflowID(r.spec.ScalingGroupID) + "/" + info.OriginalRunID
	r.logger = log.With(workflow.GetLogger(ctx), "scalingGroup", r.spec.ScalingGroupID)
	r.st = model.RolloutState{
		Spec: r.spec, ScalingGroupID: r.spec.ScalingGroupID, RegionID: r.spec.RegionID, TaskType: r.spec.TaskType,
		Description: r.spec.Description, RollbackOf: r.spec.RollbackOf, Status: model.RolloutValidating,
		PausePolicy: r.spec.Policy(), ErrorThreshold: r.spec.ErrorThreshold, StartedAt: workflow.Now(ctx),
		Batches: []model.BatchProgress{}, FailedInstances: []model.InstanceProgress{}, SuspendedBefore: []string{},
	}
	r.index = map[string]int{}
	// The queries answer from the first workflow task, a refused run included.
	if err := workflow.SetQueryHandlerWithOptions(ctx, model.QueryRollout, func() (model.RolloutState, error) {
		return r.st, nil
	}, workflow.QueryHandlerOptions{Description: "task summary: status, what it waits for, counts per batch and state, the first failed instances"}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandlerWithOptions(ctx, model.QueryRolloutInstances, r.instancePage,
		workflow.QueryHandlerOptions{Description: "a page of instances with every detail, filtered by state, batch or changed: {\"state\":\"Failed\",\"batch\":2,\"pageSize\":100,\"pageToken\":\"\"}"}); err != nil {
		return err
	}
	if err := lifecycle.RequireWorkflowID(ctx, model.RolloutWorkflowID(r.spec.ScalingGroupID)); err != nil {
		r.st.Status, r.st.Error = model.RolloutFailed, err.Error()
		return err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		model.SAOperation.ValueSet(model.OperationRollout),
		model.SAScalingGroup.ValueSet(r.spec.ScalingGroupID),
	); err != nil {
		return err
	}
	r.state.Set(ctx, model.StateRunning)
	if err := r.spec.Validate(); err != nil {
		r.st.Status, r.st.Error = model.RolloutFailed, err.Error()
		r.state.Set(ctx, model.StateFailed)
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidSpec, err)
	}
	return r.registerCommands(ctx)
}

func (r *rollout) registerCommands(ctx workflow.Context) error {
	refused := func(command string, err error) {
		r.st.LastRefusal = command + ": " + err.Error()
		r.logger.Warn("Operator command refused", "command", command, "error", err)
	}
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

// rolloutCommands are a rolling update's operator commands.
type rolloutCommands struct {
	resume                      operator.Command[model.ResumeCommand]
	retry, skip, cancelInstance operator.Command[model.InstanceCommand]
	cancel                      operator.Command[model.CancelCommand]
	rollback                    operator.Command[model.RollbackCommand]
	threshold                   operator.Command[model.ThresholdCommand]
	policy                      operator.Command[model.PausePolicyCommand]
}

// commands returns the operator commands, whose validators read the task's
// current state.
func (r *rollout) commands(ctx workflow.Context) rolloutCommands {
	decide := func(name string, apply func(in *model.InstanceProgress)) operator.Command[model.InstanceCommand] {
		return operator.Command[model.InstanceCommand]{
			Name:     name,
			Validate: func(c model.InstanceCommand) error { return r.validateDecision(name, c.InstanceID) },
			Apply: func(c model.InstanceCommand) {
				r.logger.Info("Operator decision", "command", name, "instance", c.InstanceID)
				apply(r.inst(c.InstanceID))
				r.refresh()
				workflow.SetCurrentDetails(ctx, rolloutDetails(&r.st))
			},
		}
	}
	retry := decide(model.CommandRetry, func(in *model.InstanceProgress) {
		in.State, in.Error, in.ExitCode, in.Output = model.InstanceUpdating, "", 0, ""
		in.Attempts++
		r.retrying++
		id, attempt := in.InstanceID, in.Attempts
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { r.retrying-- }()
			if r.chunked {
				// A chunk of one, which first looks at what the previous
				// attempt did in the cloud.
				r.applyChunk(ctx, []string{id}, true)
			} else {
				r.record(ctx, id, applyChange(ctx, r.changeInput(), id, attempt))
			}
			r.refresh()
			workflow.SetCurrentDetails(ctx, rolloutDetails(&r.st))
		})
	})
	skip := decide(model.CommandSkip, func(in *model.InstanceProgress) {
		in.State, in.Decision = model.InstanceSucceeded, model.DecisionSkipped
	})
	cancelInstance := decide(model.CommandCancelInstance, func(in *model.InstanceProgress) {
		in.Decision = model.DecisionCancelled
	})
	resume := operator.Command[model.ResumeCommand]{
		Name:     model.CommandResume,
		Validate: func(model.ResumeCommand) error { return r.validateResume() },
		Apply: func(model.ResumeCommand) {
			r.logger.Info("Resumed by the operator")
			r.resumed = true
		},
	}
	cancel := operator.Command[model.CancelCommand]{
		Name:     model.CommandCancel,
		Validate: func(model.CancelCommand) error { return r.validateCancel() },
		Apply: func(c model.CancelCommand) {
			r.logger.Info("Task cancelled by the operator", "reason", c.Reason)
			r.cancelled, r.st.CancelReason = true, c.Reason
			r.st.Status = model.RolloutCancelling
		},
	}
	rollback := operator.Command[model.RollbackCommand]{
		Name:     model.CommandRollback,
		Validate: func(c model.RollbackCommand) error { _, err := r.rollbackSpec(ctx, c); return err },
		Apply: func(c model.RollbackCommand) {
			r.logger.Info("Rollback requested by the operator")
			r.rollback = &c
			r.st.Status = model.RolloutCancelling
		},
	}
	threshold := operator.Command[model.ThresholdCommand]{
		Name: model.CommandSetThreshold,
		Validate: func(c model.ThresholdCommand) error {
			if c.ErrorThreshold < 0 {
				return fmt.Errorf("error threshold must not be negative, got %d", c.ErrorThreshold)
			}
			return r.validateRunning()
		},
		Apply: func(c model.ThresholdCommand) {
			r.logger.Info("Error threshold changed", "from", r.st.ErrorThreshold, "to", c.ErrorThreshold)
			r.st.ErrorThreshold = c.ErrorThreshold
			r.refresh() // what the task waits for quotes the new threshold
		},
	}
	policy := operator.Command[model.PausePolicyCommand]{
		Name: model.CommandSetPausePolicy,
		Validate: func(c model.PausePolicyCommand) error {
			if err := model.CheckPausePolicy(c.PausePolicy); err != nil {
				return err
			}
			return r.validateRunning()
		},
		Apply: func(c model.PausePolicyCommand) {
			r.logger.Info("Pause policy changed", "from", r.st.PausePolicy, "to", c.PausePolicy)
			r.st.PausePolicy = c.PausePolicy
		},
	}
	return rolloutCommands{resume: resume, retry: retry, skip: skip, cancelInstance: cancelInstance,
		cancel: cancel, rollback: rollback, threshold: threshold, policy: policy}
}

// ending reports whether the task is on its way out (cancel or rollback).
func (r *rollout) ending() bool { return r.cancelled || r.rollback != nil }

func (r *rollout) validateRunning() error {
	switch {
	case r.ending():
		return fmt.Errorf("the task is %s", strings.ToLower(model.RolloutCancelling))
	case r.st.Status == model.RolloutSucceeded || r.st.Status == model.RolloutFailed || r.st.Status == model.RolloutCancelled:
		return fmt.Errorf("the task has ended (%s)", r.st.Status)
	}
	return nil
}

func (r *rollout) validateDecision(name, id string) error {
	in := r.inst(id)
	switch {
	case id == "":
		return fmt.Errorf("%s needs an instanceId", name)
	case in == nil:
		return fmt.Errorf("instance %s is not part of this task", id)
	}
	if err := r.validateRunning(); err != nil {
		return err
	}
	switch {
	case in.State != model.InstanceFailed:
		return fmt.Errorf("instance %s is %s: %s applies only to a failed instance", id, in.State, name)
	case in.Decision != "":
		return fmt.Errorf("instance %s was already decided (%s)", id, in.Decision)
	case !r.batchOpen || r.batchOf[id] != r.st.CurrentBatch-1:
		return fmt.Errorf("instance %s failed in batch %d, which has ended: its failure was within the error threshold and is final", id, r.batchOf[id]+1)
	}
	return nil
}

func (r *rollout) validateResume() error {
	if err := r.validateRunning(); err != nil {
		return err
	}
	switch {
	case !r.paused:
		return fmt.Errorf("the task is %s, not paused", r.st.Status)
	case r.resumed:
		return errors.New("the task is already resuming")
	case r.retrying > 0:
		return fmt.Errorf("%d retried instance(s) are still being updated; resume when they have finished", r.retrying)
	case r.st.Status == model.RolloutPausedFailure && r.st.Failures > r.st.ErrorThreshold:
		return fmt.Errorf("%d failed instance(s) exceed the error threshold %d: retry, skip or cancel-instance them first (failed: %s), or raise the threshold with set-threshold",
			r.st.Failures, r.st.ErrorThreshold, listSome(r.undecided()))
	}
	return nil
}

func (r *rollout) validateCancel() error {
	return r.validateRunning()
}

// rollbackSpec validates a rollback command and returns the spec of the
// rollback run.
func (r *rollout) rollbackSpec(ctx workflow.Context, c model.RollbackCommand) (model.RolloutSpec, error) {
	if r.spec.IsRollback() {
		return model.RolloutSpec{}, errors.New("this task is a rollback: a rollback cannot itself be rolled back")
	}
	if err := r.validateRunning(); err != nil {
		return model.RolloutSpec{}, err
	}
	if !r.paused {
		return model.RolloutSpec{}, fmt.Errorf("the task is %s: a running task can be rolled back only while paused (batch or failure); cancel it, or roll it back after it ends", r.st.Status)
	}
	if r.retrying > 0 {
		return model.RolloutSpec{}, fmt.Errorf("%d retried instance(s) are still being updated", r.retrying)
	}
	info := workflow.GetInfo(ctx)
	ref := model.RolloutRef{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Description: r.spec.Description}
	return model.RollbackSpec(r.spec, ref, r.changed(), c)
}

func (r *rollout) undecided() []string {
	var out []string
	for _, in := range r.insts {
		if in.State == model.InstanceFailed && in.Decision == "" {
			out = append(out, in.InstanceID)
		}
	}
	return out
}

// refresh recounts failures, batch and state counts, lists the first
// failed instances and says what the task waits for: the summary that the
// progress query answers, bounded whatever the group's size.
func (r *rollout) refresh() {
	r.st.Failures = len(r.undecided())
	for i := range r.st.Batches {
		r.st.Batches[i].Succeeded, r.st.Batches[i].Failed = 0, 0
	}
	c := model.InstanceCounts{Total: len(r.insts)}
	r.st.FailedInstances = r.st.FailedInstances[:0]
	for _, in := range r.insts {
		b := &r.st.Batches[in.Batch-1]
		switch in.State {
		case model.InstancePending:
			c.Pending++
		case model.InstanceStandby:
			c.Standby++
		case model.InstanceUpdating:
			c.Updating++
		case model.InstanceSucceeded:
			b.Succeeded++
			c.Succeeded++
		case model.InstanceFailed:
			b.Failed++
			c.Failed++
			if len(r.st.FailedInstances) < model.MaxListedFailures {
				r.st.FailedInstances = append(r.st.FailedInstances, in)
			}
		}
		if in.Attempts > 0 {
			c.Changed++
		}
	}
	r.st.Counts, r.st.FailedTotal = c, c.Failed
	r.st.WaitingFor = ""
	// A rollback task cannot itself be rolled back: it does not offer it.
	others := fmt.Sprintf("(or %s, %s)", model.CommandCancel, model.CommandRollback)
	if r.spec.IsRollback() {
		others = fmt.Sprintf("(or %s)", model.CommandCancel)
	}
	switch {
	case !r.paused || r.ending():
	case r.st.Status == model.RolloutPausedBatch:
		r.st.WaitingFor = fmt.Sprintf("operator: batch %d of %d is done; check it, then %s %s",
			r.st.CurrentBatch, len(r.st.Batches), model.CommandResume, others)
	case r.st.Status == model.RolloutPausedFailure:
		if r.st.Failures > r.st.ErrorThreshold {
			r.st.WaitingFor = fmt.Sprintf("operator: %d failed instance(s) exceed the error threshold %d: %s, %s or %s each of %s, then %s %s",
				r.st.Failures, r.st.ErrorThreshold, model.CommandRetry, model.CommandSkip, model.CommandCancelInstance,
				listSome(r.undecided()), model.CommandResume, others)
		} else {
			r.st.WaitingFor = fmt.Sprintf("operator: %s %s", model.CommandResume, others)
		}
	}
}

func (r *rollout) run(ctx workflow.Context) (*model.RolloutState, error) {
	err := r.holdGroup(ctx) // one task per group, in the cloud (rollout_task.go)
	if err == nil {
		err = r.execute(ctx)
	}
	// In-flight retries finish first (a cancel lets running work end).
	if err == nil {
		_ = workflow.Await(ctx, func() bool { return r.retrying == 0 })
	}
	r.paused = false
	r.st.Status = model.RolloutCancelling
	r.state.Set(ctx, model.StateCompensating)
	r.updateDetails(ctx)
	if cerr := r.saga.Compensate(ctx); cerr != nil {
		cerr = fmt.Errorf("restoring the scaling group: %w", cerr)
		r.logger.Error("Could not restore the scaling group", "error", cerr)
		err = errors.Join(err, cerr)
	}
	r.standby, r.batchOpen = nil, false
	for i := range r.insts {
		if in := &r.insts[i]; in.State == model.InstanceStandby {
			in.State = model.InstancePending // back in service, never changed
		}
	}
	switch {
	case err != nil:
		r.st.Status, r.st.Error = model.RolloutFailed, lifecycle.RootMessage(err)
		state := model.StateFailed
		if temporal.IsCanceledError(err) {
			r.st.Status, state = model.RolloutCancelled, model.StateAborted
		}
		r.state.Set(ctx, state)
		r.updateDetails(ctx)
		return nil, err
	case r.rollback != nil:
		spec, rerr := r.rollbackSpec2(ctx)
		if rerr != nil {
			r.st.Status, r.st.Error = model.RolloutFailed, rerr.Error()
			r.state.Set(ctx, model.StateFailed)
			r.updateDetails(ctx)
			return nil, temporal.NewNonRetryableApplicationError(rerr.Error(), ErrTypeInvalidSpec, rerr)
		}
		r.st.Status = model.RolloutRolledBack
		r.updateDetails(ctx)
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
			return nil, err
		}
		r.logger.Info("Continuing as the rollback task", "instances", len(spec.Instances))
		return nil, workflow.NewContinueAsNewError(ctx, model.RolloutWorkflowType, spec)
	case r.cancelled:
		r.st.Status = model.RolloutCancelled
		r.state.Set(ctx, model.StateAborted)
	default:
		r.st.Status = model.RolloutSucceeded
		r.state.Set(ctx, model.StateSucceeded)
	}
	r.refresh()
	r.updateDetails(ctx)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return nil, err
	}
	return &r.st, nil
}

// rollbackSpec2 builds the rollback run's spec once the task has stopped.
func (r *rollout) rollbackSpec2(ctx workflow.Context) (model.RolloutSpec, error) {
	info := workflow.GetInfo(ctx)
	ref := model.RolloutRef{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Description: r.spec.Description}
	return model.RollbackSpec(r.spec, ref, r.changed(), *r.rollback)
}

func (r *rollout) execute(ctx workflow.Context) error {
	// Version 1 drives the instances in chunks from this workflow (one
	// activity per chunk of model.RolloutChunkSize instances); runs started
	// before keep one child workflow per batch with one activity per instance.
	r.chunked = workflow.GetVersion(ctx, "rollout-chunked", workflow.DefaultVersion, 1) == 1
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	var plan activities.RolloutPlan
	if err := workflow.ExecuteActivity(actx, rollouts.CheckRollout, r.spec).Get(ctx, &plan); err != nil {
		return err
	}
	r.st.SuspendedBefore = slices.Clone(plan.SuspendedProcesses)
	if r.st.SuspendedBefore == nil {
		r.st.SuspendedBefore = []string{}
	}
	var toSuspend []string
	for _, p := range cloud.ScalingProcesses {
		if !slices.Contains(plan.SuspendedProcesses, p) {
			toSuspend = append(toSuspend, p)
		}
	}
	procs := activities.ProcessesInput{Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, Processes: toSuspend}
	// Registered before the call: a suspension that happened but whose
	// answer was lost is undone too (resuming a running process is a no-op).
	r.saga.Add("resume the scaling processes suspended by the task", func(ctx workflow.Context) error {
		in := procs
		in.ClientToken = model.ClientToken(r.tokenKey, "resume-processes")
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, cleanupActivity()), rollouts.ResumeProcesses, in).Get(ctx, nil)
	})
	r.saga.Add("return the instances in Standby to service", func(ctx workflow.Context) error {
		if len(r.standby) == 0 {
			return nil
		}
		return r.exitStandby(ctx, r.standby)
	})
	procs.ClientToken = model.ClientToken(r.tokenKey, "suspend-processes")
	if err := workflow.ExecuteActivity(actx, rollouts.SuspendProcesses, procs).Get(ctx, nil); err != nil {
		return err
	}

	sizes := model.SplitBatches(len(plan.Instances), r.spec.Batches)
	r.batchOf = map[string]int{}
	next := 0
	for b, size := range sizes {
		r.st.Batches = append(r.st.Batches, model.BatchProgress{Index: b + 1, Size: size, State: model.BatchPending})
		for _, id := range plan.Instances[next : next+size] {
			r.batchOf[id] = b
			r.index[id] = len(r.insts)
			r.insts = append(r.insts, model.InstanceProgress{InstanceID: id, Batch: b + 1, State: model.InstancePending})
		}
		next += size
	}
	r.st.Status = model.RolloutRunning
	r.updateDetails(ctx)

	next = 0
	for b, size := range sizes {
		if r.ending() {
			break
		}
		if err := r.runBatch(ctx, b, plan.Instances[next:next+size]); err != nil {
			return err
		}
		next += size
		last := b == len(sizes)-1
		if !last && !r.ending() && r.pauseAfterBatch() {
			r.batchPause++
			if err := r.pause(ctx, model.RolloutPausedBatch); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *rollout) pauseAfterBatch() bool {
	switch r.st.PausePolicy {
	case model.PauseEachBatch:
		return true
	case model.PauseFirstBatch:
		return r.batchPause == 0
	}
	return false
}

// pause waits for resume, cancel or rollback.
func (r *rollout) pause(ctx workflow.Context, status string) error {
	r.paused, r.resumed, r.st.Status = true, false, status
	r.state.Set(ctx, model.StateWaitingForOperator)
	r.updateDetails(ctx)
	r.logger.Info("Task paused", "status", status)
	err := workflow.Await(ctx, func() bool { return r.resumed || r.ending() })
	r.paused = false
	if !r.ending() {
		r.st.Status = model.RolloutRunning
	}
	r.state.Set(ctx, model.StateRunning)
	r.updateDetails(ctx)
	return err
}

func (r *rollout) runBatch(ctx workflow.Context, b int, ids []string) error {
	r.st.CurrentBatch = b + 1
	batch := &r.st.Batches[b]
	batch.State = model.BatchRunning
	for _, id := range ids {
		r.inst(id).State = model.InstanceStandby
	}
	// Noted before the call, so that compensation returns them whatever
	// became of it.
	r.standby, r.batchOpen = slices.Clone(ids), true
	r.updateDetails(ctx)
	sctx := workflow.WithActivityOptions(ctx, standbyActivity(len(ids)))
	if err := workflow.ExecuteActivity(sctx, rollouts.EnterStandby, activities.StandbyInput{Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, Instances: ids}).Get(ctx, nil); err != nil {
		return err
	}
	in := RolloutBatchInput{Change: r.changeInput()}
	for _, id := range ids {
		p := r.inst(id)
		p.State = model.InstanceUpdating
		p.Attempts++
		in.Instances = append(in.Instances, BatchInstance{InstanceID: id, Attempt: p.Attempts})
	}
	r.updateDetails(ctx)
	if r.chunked {
		// The batch's work ends even when the task is cancelled through
		// Temporal, before compensation returns the instances to service.
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		fanout.Each(dctx, slices.Collect(slices.Chunk(ids, model.RolloutChunkSize)), maxChunksInFlight, func(ctx workflow.Context, chunk []string) {
			r.applyChunk(ctx, chunk, false)
			r.updateDetails(ctx)
		})
		return r.endBatch(ctx, b, ids)
	}
	info := workflow.GetInfo(ctx)
	// A task cancelled through Temporal lets the batch's running work end,
	// as the cancel command does, before compensation returns the instances
	// to service: otherwise they would take traffic mid-change.
	childCtx := ctx
	if workflow.GetVersion(ctx, "rollout-batch-ends-on-cancel", workflow.DefaultVersion, 1) == 1 {
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		childCtx = dctx
	}
	cctx := workflow.WithChildOptions(childCtx, workflow.ChildWorkflowOptions{
		// Derived from the input, not the parent's ID, so that a replay under
		// another ID (the replayer's) issues the same command.
		WorkflowID:    fmt.Sprintf("%s/batch-%d/%s", model.RolloutWorkflowID(r.spec.ScalingGroupID), b+1, info.OriginalRunID),
		StaticSummary: fmt.Sprintf("batch %d of %d of the rolling update of %s (%d instances)", b+1, len(r.st.Batches), r.spec.ScalingGroupID, len(ids)),
	})
	var res RolloutBatchResult
	if err := workflow.ExecuteChildWorkflow(cctx, model.RolloutBatchWorkflowType, in).Get(childCtx, &res); err != nil {
		return err
	}
	for _, id := range ids {
		r.record(ctx, id, res.Results[id])
	}
	return r.endBatch(ctx, b, ids)
}

// endBatch pauses on failures beyond the threshold, waits for the operator's
// retries and returns the batch's instances to service.
func (r *rollout) endBatch(ctx workflow.Context, b int, ids []string) error {
	batch := &r.st.Batches[b]
	r.refresh()
	r.updateDetails(ctx)
	for !r.ending() && r.st.Failures > r.st.ErrorThreshold {
		r.logger.Warn("Failures beyond the error threshold", "failures", r.st.Failures, "threshold", r.st.ErrorThreshold)
		if err := r.pause(ctx, model.RolloutPausedFailure); err != nil {
			return err
		}
		if err := workflow.Await(ctx, func() bool { return r.retrying == 0 }); err != nil {
			return err
		}
		r.refresh()
	}
	// Running work ends before the instances return to service.
	if err := workflow.Await(ctx, func() bool { return r.retrying == 0 }); err != nil {
		return err
	}
	if err := r.exitStandby(ctx, ids); err != nil {
		return err
	}
	r.standby, r.batchOpen = nil, false
	batch.State = model.BatchDone
	r.refresh()
	r.updateDetails(ctx)
	return nil
}

func (r *rollout) exitStandby(ctx workflow.Context, ids []string) error {
	sctx := workflow.WithActivityOptions(ctx, standbyActivity(len(ids)))
	return workflow.ExecuteActivity(sctx, rollouts.ExitStandby, activities.StandbyInput{Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, Instances: ids}).Get(ctx, nil)
}

// record keeps an instance's outcome: the one place where an instance's
// change ends, whatever ran it (batch, chunk, operator retry).
func (r *rollout) record(ctx workflow.Context, id string, res activities.ChangeResult) {
	metrics.InstanceOutcome(ctx, r.spec.TaskType, res.Succeeded)
	in := r.inst(id)
	in.ExitCode, in.Output, in.Error = res.ExitCode, res.Output, res.Error
	if res.Succeeded {
		in.State = model.InstanceSucceeded
	} else {
		in.State = model.InstanceFailed
	}
}

// inst is the entry of an instance of the task, or nil.
func (r *rollout) inst(id string) *model.InstanceProgress {
	i, ok := r.index[id]
	if !ok {
		return nil
	}
	return &r.insts[i]
}

// changed are the instances the task ran its change on (successfully or
// not): those a rollback rolls back.
func (r *rollout) changed() []string {
	var out []string
	for _, in := range r.insts {
		if in.Attempts > 0 {
			out = append(out, in.InstanceID)
		}
	}
	return out
}

// listSome joins the first ids and says how many more there are, so that a
// message stays short at fleet size.
func listSome(ids []string) string {
	const shown = 20
	if len(ids) <= shown {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:shown], ", "), len(ids)-shown)
}

func (r *rollout) changeInput() ChangeSpec {
	return ChangeSpec{
		Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, TaskType: r.spec.TaskType,
		Image: r.spec.Image, Script: r.spec.Script, Package: r.spec.Package, TokenKey: r.tokenKey,
	}
}

// standbyActivity is for moving a batch into or out of Standby: one call per
// 20 instances, heartbeating.
func standbyActivity(n int) workflow.ActivityOptions {
	o := stepActivity()
	o.StartToCloseTimeout = 30*time.Second + time.Duration(n)*time.Second
	o.HeartbeatTimeout = 30 * time.Second
	return o
}

func (r *rollout) updateDetails(ctx workflow.Context) {
	r.refresh()
	workflow.SetCurrentDetails(ctx, rolloutDetails(&r.st))
}

// rolloutDetails renders the state as Markdown for the Web UI: what the task
// waits for, the batches, and the instances that need attention.
func rolloutDetails(st *model.RolloutState) string {
	var d details.Doc
	kind := "Rolling update"
	if st.RollbackOf != nil {
		kind = fmt.Sprintf("Rollback of %s (run %s)", st.RollbackOf.WorkflowID, st.RollbackOf.RunID)
	}
	d.Para("**%s of %s** (%s) — %s, batch %d of %d", kind, st.ScalingGroupID, st.TaskType, st.Status, st.CurrentBatch, len(st.Batches))
	if st.WaitingFor != "" {
		d.Para("⏸ Waiting for %s", st.WaitingFor)
	}
	d.Para("pause policy %s, error threshold %d, failures %d", st.PausePolicy, st.ErrorThreshold, st.Failures)
	batches := d.Table("batch", "size", "state", "success", "failed")
	for _, b := range st.Batches {
		batches.Row(b.Index, b.Size, b.State, b.Succeeded, b.Failed)
	}
	c := st.Counts
	d.Para("instances: %d — %d succeeded, %d failed, %d updating, %d in Standby, %d pending", c.Total, c.Succeeded, c.Failed, c.Updating, c.Standby, c.Pending)
	if len(st.FailedInstances) > 0 {
		failed := d.Table("failed instance", "batch", "attempts", "decision", "error")
		for _, in := range st.FailedInstances {
			failed.Row(in.InstanceID, in.Batch, in.Attempts, in.Decision, in.Error)
		}
		if st.FailedTotal > len(st.FailedInstances) {
			d.Para("… and %d more failed instances (query `%s` with `{\"state\":\"Failed\"}`)", st.FailedTotal-len(st.FailedInstances), model.QueryRolloutInstances)
		}
	}
	d.StepDeadline(model.StepDeadline)
	return d.String()
}
