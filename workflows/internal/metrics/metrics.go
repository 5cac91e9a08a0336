// Package metrics counts imagefleet's workflow-side events (operations
// started and ended, operator waits, instances changed, image copies) once
// each, however often a run is replayed, re-executed or moves between
// workers.
//
// Workflow code never records a metric itself: a workflow task can execute
// and then not count, when the server rejects its completion (a signal that
// arrived during the run's final task: UnhandledCommand) or when its worker
// dies before completing it; the next attempt executes the same code again,
// on this worker or another. So a run's Recorder queues the events, and
// the Record activity records them: an activity is scheduled only by a
// workflow task the server accepted, and its completion is in the history,
// so no later attempt schedules it again. The queue is sent when a run
// starts and begins to wait for an operator (so that both are seen at
// once), at the latest five minutes after the last send, and when the run
// ends or continues as new: a few activities per run, however many
// instances or copies it counts. Runs started before this way of counting
// (workflow version metrics-at-commit) record in the task, as they did.
//
// The names are Prometheus names as the worker's /metrics endpoint exports
// them (timers gain the _seconds suffix there); README.md lists every metric.
// Labels are bounded: operation, state, task type, region; never a run,
// instance or image ID.
package metrics

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
)

// Metric names.
const (
	// OperationsStarted counts operations started, by operation.
	OperationsStarted = "imagefleet_operations_started_total"
	// OperationsEnded counts operations ended, by operation and end state
	// (Succeeded, Failed, Aborted; Skipped for a scheduled build that
	// launched nothing).
	OperationsEnded = "imagefleet_operations_ended_total"
	// OperatorWaits counts the times a run began to wait for an operator.
	OperatorWaits = "imagefleet_operator_waits_total"
	// OperatorWaitDuration is how long a run waited for an operator, recorded
	// when the wait ends (exported as imagefleet_operator_wait_duration_seconds).
	OperatorWaitDuration = "imagefleet_operator_wait_duration"
	// InstancesChanged and InstancesFailed count the instances a rolling
	// update changed or failed to change, by task type.
	InstancesChanged = "imagefleet_instances_changed_total"
	InstancesFailed  = "imagefleet_instances_failed_total"
	// ImageCopyDuration is how long an image copy took from its start until
	// it was Available, by destination region (exported as
	// imagefleet_image_copy_duration_seconds).
	ImageCopyDuration = "imagefleet_image_copy_duration"
)

// Label names.
const (
	LabelOperation = "operation"
	LabelState     = "state"
	LabelTaskType  = "task_type"
	LabelRegion    = "region"
)

// Run follows one run's coarse state (the ImagefleetState values) and
// records its transitions: started, waiting for an operator and for how
// long, ended. Its zero value is ready; details.State drives it.
type Run struct {
	// Operation is the run's operation (the ImagefleetOperation value).
	Operation    string
	waitingSince time.Time
}

// StateChanged records the transition from one state to the next; from is
// empty for the run's first state.
func (r *Run) StateChanged(ctx workflow.Context, from, to string) {
	op := r.operation(ctx)
	// A run continued as new (a rolling update's rollback) carries on the
	// operation its first run started.
	if from == "" && workflow.GetInfo(ctx).ContinuedExecutionRunID == "" {
		emit(ctx, Event{Metric: OperationsStarted, Operation: op, Count: 1}, true)
	}
	if from == model.StateWaitingForOperator && !r.waitingSince.IsZero() {
		emit(ctx, Event{Metric: OperatorWaitDuration, Operation: op, Durations: []time.Duration{workflow.Now(ctx).Sub(r.waitingSince)}}, false)
		r.waitingSince = time.Time{}
	}
	switch to {
	case model.StateWaitingForOperator:
		r.waitingSince = workflow.Now(ctx)
		emit(ctx, Event{Metric: OperatorWaits, Operation: op, Count: 1}, true)
	case model.StateSucceeded, model.StateFailed, model.StateAborted, model.StateSkipped:
		// Sent when the run ends (Recorder.Close), with what is queued.
		emit(ctx, Event{Metric: OperationsEnded, Operation: op, State: to, Count: 1}, false)
	}
}

// InstanceOutcome records how a rolling update's change of one instance ended.
func InstanceOutcome(ctx workflow.Context, taskType string, succeeded bool) {
	name := InstancesFailed
	if succeeded {
		name = InstancesChanged
	}
	emit(ctx, Event{Metric: name, TaskType: taskType, Count: 1}, false)
}

// ImageCopied records the duration of an image copy that became Available.
func ImageCopied(ctx workflow.Context, region string, took time.Duration) {
	emit(ctx, Event{Metric: ImageCopyDuration, Region: region, Durations: []time.Duration{took}}, false)
}

// operation is the run's operation: as lifecycle.Start named it, else its
// ImagefleetOperation search attribute (a run continued as new inherits it).
func (r *Run) operation(ctx workflow.Context) string {
	if r.Operation != "" {
		return r.Operation
	}
	if op, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(model.SAOperation); ok && op != "" {
		return op
	}
	return "unknown"
}
