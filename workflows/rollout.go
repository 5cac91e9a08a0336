package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/fanout"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
)

// RollingUpdate applies an image, a script or an OOS package version to the
// InService instances of a scaling group, batch by batch (Auto Scaling's
// rolling update task). It suspends the group's scaling processes for the
// task and restores exactly the previous set at the end, whatever the end
// (success, cancel, rollback, failure, or after a worker crash, since the
// restore runs from the workflow on a disconnected context). Per batch the
// instances enter Standby (load-balancer weight 0), the change is applied to
// them in chunks (rollout_chunk.go; runs started before: a RollingUpdateBatch
// child, rollout_batch.go), and they return to service with their weights.
// It pauses after batches as the pause policy says, and on failures beyond
// the error threshold, until the operator resumes; failed instances can be
// retried, skipped or cancelled (rollout_commands.go). A rollback continues
// as a new run of the same workflow ID (so the group stays locked) that
// applies the rollback change to the changed instances.
func RollingUpdate(ctx workflow.Context, spec model.RolloutSpec) (*model.RolloutState, error) {
	return execute[model.RolloutState](ctx, &rollout{spec: spec})
}

var rollouts *activities.Rollouts

type rollout struct {
	// toldRelease is the wait a release parent was last told of.
	toldRelease string
	spec        model.RolloutSpec
	st          model.RolloutState // the progress query's summary
	status      rolloutStatus      // where the task stands; keeps st.Status
	logger      log.Logger
	saga        saga.Saga
	tokenKey    string
	ref         model.RolloutRef // this run, as a rollback names it
	state       details.State    // the ImagefleetState search attribute

	insts   []model.InstanceProgress
	index   map[string]int // instance → its place in insts
	chunked bool           // instance work runs in chunks (version rollout-chunked)
	// localStandby: Standby moves run as local activities (version
	// rollout-standby-local).
	localStandby bool
	// retriesDetached: operator retries run on a disconnected context
	// (version rollout-retry-detached).
	retriesDetached bool

	// The group's hold (rollout_handoff.go): the rolling update task and
	// the processes the task suspended, with their saga steps' names, and
	// what a hand-off to the next run took out of the saga.
	taskID, taskStep, procStep string
	procs                      []string
	handedOver                 []saga.Compensation
	handoffRefusal             string             // refused during the hand-off to a rollback
	continued                  *model.RolloutSpec // the next run of the task, when it continues as new
	outgrew                    bool               // the task could not continue as new: no more tries
	runs                       int                // the task's runs before this one
}

func (r *rollout) setup(ctx workflow.Context) error {
	info := workflow.GetInfo(ctx)
	// OriginalRunID survives a reset; a rollback (a new run after continue-
	// as-new) gets new tokens.
	r.tokenKey = model.RolloutWorkflowID(r.spec.ScalingGroupID) + "/" + info.OriginalRunID
	r.ref = model.RolloutRef{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Description: r.spec.Description}
	r.logger = log.With(workflow.GetLogger(ctx), "scalingGroup", r.spec.ScalingGroupID)
	r.st = model.RolloutState{
		Spec: r.spec, ScalingGroupID: r.spec.ScalingGroupID, RegionID: r.spec.RegionID, TaskType: r.spec.TaskType,
		Description: r.spec.Description, RollbackOf: r.spec.RollbackOf,
		PausePolicy: r.spec.Policy(), ErrorThreshold: r.spec.ErrorThreshold, StartedAt: workflow.Now(ctx),
		Batches: []model.BatchProgress{}, FailedInstances: []model.InstanceProgress{}, SuspendedBefore: []string{},
	}
	r.st.Spec.Handoff = nil // the next run's business, not the progress's
	r.status = newRolloutStatus(&r.st)
	r.index = map[string]int{}
	err := lifecycle.Start(ctx, &r.state, lifecycle.Setup{
		Queries: []lifecycle.Query{
			{Name: model.QueryRollout, Handler: func() (model.RolloutState, error) { return r.st, nil },
				Description: "task summary: status, what it waits for, counts per batch and state, the first failed instances"},
			{Name: model.QueryRolloutInstances, Handler: r.instancePage,
				Description: "a page of instances with every detail, filtered by state, batch or changed: {\"state\":\"Failed\",\"batch\":2,\"pageSize\":100,\"pageToken\":\"\"}"},
		},
		WorkflowID: model.RolloutWorkflowID(r.spec.ScalingGroupID),
		SearchAttributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationRollout),
			model.SAScalingGroup.ValueSet(r.spec.ScalingGroupID),
		},
		Validate: r.spec.Validate,
		Refused:  func(err error) { r.status.fail(err.Error()) },
		Commands: r.registerCommands,
	})
	if err != nil {
		return err
	}
	return r.checkHandoff(ctx)
}

func (r *rollout) run(ctx workflow.Context) (*model.RolloutState, error) {
	plan, err := r.checkFirst(ctx) // the input, before the group is touched (rollout_task.go)
	if err == nil {
		err = r.holdGroup(ctx) // one task per group, in the cloud (rollout_task.go)
	}
	if err == nil {
		err = r.execute(ctx, plan)
	}
	if err == nil && r.continued != nil {
		// The same task goes on in a new run: nothing to release or restore
		// (the batch has ended, so no retry runs any more).
		r.awaitRetries(ctx, err)
		r.updateDetails(ctx)
		return nil, workflow.NewContinueAsNewError(ctx, model.RolloutWorkflowType, *r.continued)
	}
	// No decision is taken any more; in-flight retries finish first (a
	// cancel lets running work end).
	r.status.compensate(err)
	r.awaitRetries(ctx, err)
	// A rollback takes the task and the processes over (rollout_handoff.go).
	next := r.rollbackHandoff(ctx, err)
	// Shown Compensating even with nothing to undo (so not lifecycle.Compensate):
	// the recorded histories have this upsert.
	r.state.Set(ctx, model.StateCompensating)
	r.updateDetails(ctx)
	cerr := r.saga.Compensate(ctx)
	if cerr != nil && next != nil {
		// The instances did not return to service: no rollback; the group
		// is released as at any end.
		r.takeBack()
		next = nil
		cerr = errors.Join(cerr, r.saga.Compensate(ctx))
	}
	if cerr != nil {
		cerr = fmt.Errorf("restoring the scaling group: %w", cerr)
		r.logger.Error("Could not restore the scaling group", "error", cerr)
		err = errors.Join(err, cerr)
	}
	r.status.closeBatch()
	for i := range r.insts {
		if in := &r.insts[i]; in.State == model.InstanceStandby {
			in.State = model.InstancePending // back in service, never changed
		}
	}
	return r.end(ctx, err, next)
}

// end ends the run once the group is restored: with err, as the rollback
// run (continue-as-new; next when the group is handed over to it), or with
// the summary as the result.
func (r *rollout) end(ctx workflow.Context, err error, next *model.RolloutSpec) (*model.RolloutState, error) {
	if next != nil {
		return nil, r.continueAsRollback(ctx, *next)
	}
	if c := r.status.rollbackAsked(); err == nil && c != nil {
		spec, serr := r.rollbackSpec(*c)
		if serr == nil {
			return nil, r.continueAsRollback(ctx, spec)
		}
		err = temporal.NewNonRetryableApplicationError(serr.Error(), ErrTypeInvalidSpec, serr)
	}
	status, state := model.RolloutSucceeded, model.StateSucceeded
	switch {
	case err != nil:
		// Failed, or cancelled through Temporal (an operator's cancel that
		// then failed is a failure).
		r.st.Error = lifecycle.RootMessage(err)
		status, state = model.RolloutFailed, lifecycle.EndState(err, false)
		if state == model.StateAborted {
			status = model.RolloutCancelled
		}
	case r.status.cancelled():
		status, state = model.RolloutCancelled, model.StateAborted
	}
	r.status.end(status)
	r.state.Set(ctx, state)
	r.updateDetails(ctx)
	if err != nil {
		return nil, err
	}
	if err := lifecycle.AwaitHandlers(ctx); err != nil {
		return nil, err
	}
	return &r.st, nil
}

// continueAsRollback ends the run RolledBack and continues as the rollback
// task, under the same workflow ID (the group stays locked).
func (r *rollout) continueAsRollback(ctx workflow.Context, spec model.RolloutSpec) error {
	r.status.end(model.RolloutRolledBack)
	r.updateDetails(ctx)
	wait := lifecycle.AwaitHandlers
	if spec.Handoff != nil {
		wait = awaitCommands // and the signals, whose refusals the rollback shows
	}
	if err := wait(ctx); err != nil {
		return err
	}
	if spec.Handoff != nil {
		// Read last: a signal refused during the hand-off reaches the rollback.
		spec.Handoff.LastRefusal = r.handoffRefusal
	}
	r.logger.Info("Continuing as the rollback task", "instances", len(spec.Instances), "handoff", spec.Handoff != nil)
	return workflow.NewContinueAsNewError(ctx, model.RolloutWorkflowType, spec)
}

// execute checks the group (unless checkFirst did: first), suspends its
// scaling processes and runs the batches.
func (r *rollout) execute(ctx workflow.Context, checked *activities.RolloutPlan) error {
	// Version 1 drives the instances in chunks from this workflow (one
	// activity per chunk of model.RolloutChunkSize instances); runs started
	// before keep one child workflow per batch with one activity per instance.
	r.chunked = workflow.GetVersion(ctx, "rollout-chunked", workflow.DefaultVersion, 1) == 1
	// Version 1 moves the batches into and out of Standby in local
	// activities (exitStandby); runs started before keep activities.
	r.localStandby = r.chunked && workflow.GetVersion(ctx, changeStandbyLocal, workflow.DefaultVersion, 1) == 1
	first := 0
	if h := r.spec.Handoff; h != nil {
		// The processes stay suspended from the run that handed them over;
		// the group was checked when its task began.
		r.adoptProcesses(h)
		r.addStandbyStep()
		if c := h.Continuation; c != nil {
			first = c.NextBatch
		} else {
			r.plan(r.spec.Instances)
		}
	} else {
		actx := workflow.WithActivityOptions(ctx, stepActivity())
		plan := checked // nil for runs from before rollout-check-first: checked now
		if plan == nil {
			var err error
			if plan, err = r.check(ctx); err != nil {
				return err
			}
		}
		r.st.SuspendedBefore = slices.Clone(plan.SuspendedProcesses)
		if r.st.SuspendedBefore == nil {
			r.st.SuspendedBefore = []string{}
		}
		var toSuspend []string
		for _, p := range activities.ScalingProcesses {
			if !slices.Contains(plan.SuspendedProcesses, p) {
				toSuspend = append(toSuspend, p)
			}
		}
		// Registered before the call: a suspension that happened but whose
		// answer was lost is undone too (resuming a running process is a no-op).
		r.resumeProcessesAtEnd(toSuspend)
		r.addStandbyStep()
		procs := activities.ProcessesInput{Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, Processes: toSuspend,
			ClientToken: model.ClientToken(r.tokenKey, "suspend-processes")}
		if err := workflow.ExecuteActivity(actx, rollouts.SuspendProcesses, procs).Get(ctx, nil); err != nil {
			return err
		}
		r.plan(plan.Instances)
	}
	if err := r.followImage(ctx); err != nil { // the group launches the new image (rollout_source.go)
		return err
	}
	r.status.start()
	r.updateDetails(ctx)

	for b := first; b < len(r.st.Batches); b++ {
		if r.status.ending() {
			break
		}
		if r.outgrown(ctx, b, first) {
			// Commands accepted so far apply first; a cancel or rollback
			// among them ends the task here instead.
			if err := awaitCommands(ctx); err != nil {
				return err
			}
			if r.status.ending() {
				break
			}
			if r.continued = r.continuation(ctx, b); r.continued != nil {
				return nil
			}
			r.outgrew = true
		}
		if err := r.runBatch(ctx, b, r.batchInstances(b)); err != nil {
			return err
		}
		last := b == len(r.st.Batches)-1
		if !last && !r.status.ending() && r.status.pauseAfterBatch() {
			if err := r.pause(ctx, model.RolloutPausedBatch); err != nil {
				return err
			}
		}
	}
	return nil
}

// plan splits the task's instances into its batches.
func (r *rollout) plan(instances []string) {
	next := 0
	for b, size := range model.SplitBatches(len(instances), r.spec.Batches) {
		r.st.Batches = append(r.st.Batches, model.BatchProgress{Index: b + 1, Size: size, State: model.BatchPending})
		for _, id := range instances[next : next+size] {
			r.index[id] = len(r.insts)
			r.insts = append(r.insts, model.InstanceProgress{InstanceID: id, Batch: b + 1, State: model.InstancePending})
		}
		next += size
	}
}

// batchInstances are the instances of batch b (0-based), in order.
func (r *rollout) batchInstances(b int) []string {
	var ids []string
	for _, in := range r.insts {
		if in.Batch == b+1 {
			ids = append(ids, in.InstanceID)
		}
	}
	return ids
}

// resumeProcessesAtEnd: the task's compensation resumes procs, the
// processes it suspended (or adopted suspended).
func (r *rollout) resumeProcessesAtEnd(procs []string) {
	r.procs = procs
	r.procStep = "resume the scaling processes suspended by the task"
	in := activities.ProcessesInput{Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, Processes: procs}
	r.saga.Add(r.procStep, func(ctx workflow.Context) error {
		in := in
		in.ClientToken = model.ClientToken(r.tokenKey, "resume-processes")
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, cleanupActivity()), rollouts.ResumeProcesses, in).Get(ctx, nil)
	})
}

// addStandbyStep: the task's compensation returns to service the
// instances it left in Standby.
func (r *rollout) addStandbyStep() {
	r.saga.Add("return the instances in Standby to service", func(ctx workflow.Context) error {
		if len(r.status.inStandby()) == 0 {
			return nil
		}
		return r.exitStandby(ctx, r.status.inStandby())
	})
}

// heldSteps name the saga's steps that release the group's hold.
func (r *rollout) heldSteps() []string {
	var out []string
	for _, name := range []string{r.taskStep, r.procStep} {
		if name != "" {
			out = append(out, name)
		}
	}
	return out
}

// pause waits for resume, cancel or rollback.
func (r *rollout) pause(ctx workflow.Context, kind string) error {
	r.status.pause(kind)
	r.state.Set(ctx, model.StateWaitingForOperator)
	r.updateDetails(ctx)
	r.logger.Info("Task paused", "status", kind)
	err := workflow.Await(ctx, r.status.pauseOver)
	r.status.endPause()
	r.state.Set(ctx, model.StateRunning)
	r.updateDetails(ctx)
	return err
}

// runBatch takes the batch's instances out of service, applies the change
// to them and returns them to service (endBatch).
func (r *rollout) runBatch(ctx workflow.Context, b int, ids []string) error {
	batch := &r.st.Batches[b]
	batch.State = model.BatchRunning
	for _, id := range ids {
		r.inst(id).State = model.InstanceStandby
	}
	r.status.openBatch(b, ids)
	r.updateDetails(ctx)
	if err := r.moveStandby(ctx, true, ids); err != nil {
		return err
	}
	for _, id := range ids {
		p := r.inst(id)
		p.State = model.InstanceUpdating
		p.Attempts++
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
	} else if err := r.runBatchChild(ctx, b, ids); err != nil {
		return err
	}
	return r.endBatch(ctx, b, ids)
}

// endBatch pauses on failures beyond the threshold, waits for the operator's
// retries and returns the batch's instances to service.
func (r *rollout) endBatch(ctx workflow.Context, b int, ids []string) error {
	batch := &r.st.Batches[b]
	r.updateDetails(ctx)
	for !r.status.ending() && r.st.Failures > r.st.ErrorThreshold {
		r.logger.Warn("Failures beyond the error threshold", "failures", r.st.Failures, "threshold", r.st.ErrorThreshold)
		if err := r.pause(ctx, model.RolloutPausedFailure); err != nil {
			return err
		}
		if err := workflow.Await(ctx, r.status.noRetries); err != nil {
			return err
		}
		r.refresh()
	}
	// Running work ends before the instances return to service.
	if err := workflow.Await(ctx, r.status.noRetries); err != nil {
		return err
	}
	r.closingBatch(ctx)
	if err := r.exitStandby(ctx, ids); err != nil {
		return err
	}
	r.status.closeBatch()
	batch.State = model.BatchDone
	r.updateDetails(ctx)
	return nil
}

func (r *rollout) exitStandby(ctx workflow.Context, ids []string) error {
	return r.moveStandby(ctx, false, ids)
}

// changeStandbyLocal: a batch's moves into and out of Standby run as local
// activities. A batch whose cloud work is instant is three round trips
// through the server (Standby, the chunks, back to service), each an
// activity task and a workflow task; as local activities the two moves run
// inside the workflow task that decides them, and a batch costs one. The
// moves are idempotent (an instance already in, or out of, Standby stays
// so), so a local activity run again after a lost workflow task is
// harmless, and the order is the same: a batch's instances leave service,
// are changed, and return before the next batch leaves.
const changeStandbyLocal = "rollout-standby-local"

// localStandbyWindow and localStandbyAttempts bound how long and how often
// a Standby move is tried as a local activity before it is tried as an
// activity.
const (
	localStandbyWindow   = time.Minute
	localStandbyAttempts = 3
)

// moveStandby moves ids into Standby (enter) or back to service.
func (r *rollout) moveStandby(ctx workflow.Context, enter bool, ids []string) error {
	in := activities.StandbyInput{Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, Instances: ids}
	if r.localStandby {
		name := "ExitStandby" // activities.Rollouts.ExitStandby, by its registered name
		if enter {
			name = "EnterStandby"
		}
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: localStandbyWindow, ScheduleToCloseTimeout: localStandbyWindow, RetryPolicy: retryPolicy(localStandbyAttempts),
		})
		err := workflow.ExecuteLocalActivity(lctx, name, in).Get(ctx, nil)
		var refused *temporal.ApplicationError
		if err == nil || ctx.Err() != nil || (errors.As(err, &refused) && refused.NonRetryable()) {
			return err // a refusal is final, as it is for the activity
		}
		// A cloud that is slow, throttles or is down: a long local activity
		// would grow the history by a workflow task every few seconds.
		// The move is tried again as an activity, with the step's whole
		// deadline.
		r.logger.Warn("Standby move did not go through at once: trying again as an activity", "enter", enter, "instances", len(ids), "error", err)
	}
	sctx := workflow.WithActivityOptions(ctx, standbyActivity(len(ids)))
	if enter {
		return workflow.ExecuteActivity(sctx, rollouts.EnterStandby, in).Get(ctx, nil)
	}
	return workflow.ExecuteActivity(sctx, rollouts.ExitStandby, in).Get(ctx, nil)
}

// standbyActivity is for moving a batch into or out of Standby: one call per
// 20 instances, heartbeating.
func standbyActivity(n int) workflow.ActivityOptions {
	o := stepActivity()
	o.StartToCloseTimeout = 30*time.Second + time.Duration(n)*time.Second
	o.HeartbeatTimeout = 30 * time.Second
	return o
}
