// Package metrics records imagefleet's workflow-side metrics through
// workflow.GetMetricsHandler, which records nothing while a workflow
// replays: a run's events are counted once, by the worker that first
// executes them, however often the run is replayed or moves between workers.
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
	// (Succeeded, Failed, Aborted).
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
	waitingSince time.Time
}

// StateChanged records the transition from one state to the next; from is
// empty for the run's first state.
func (r *Run) StateChanged(ctx workflow.Context, from, to string) {
	h := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{LabelOperation: operation(ctx)})
	// A run continued as new (a rolling update's rollback) carries on the
	// operation its first run started.
	if from == "" && workflow.GetInfo(ctx).ContinuedExecutionRunID == "" {
		h.Counter(OperationsStarted).Inc(1)
	}
	if from == model.StateWaitingForOperator && !r.waitingSince.IsZero() {
		h.Timer(OperatorWaitDuration).Record(workflow.Now(ctx).Sub(r.waitingSince))
		r.waitingSince = time.Time{}
	}
	switch to {
	case model.StateWaitingForOperator:
		r.waitingSince = workflow.Now(ctx)
		h.Counter(OperatorWaits).Inc(1)
	case model.StateSucceeded, model.StateFailed, model.StateAborted, model.StateSkipped:
		h.WithTags(map[string]string{LabelState: to}).Counter(OperationsEnded).Inc(1)
	}
}

// InstanceOutcome records how a rolling update's change of one instance ended.
func InstanceOutcome(ctx workflow.Context, taskType string, succeeded bool) {
	h := workflow.GetMetricsHandler(ctx).WithTags(map[string]string{LabelTaskType: taskType})
	if succeeded {
		h.Counter(InstancesChanged).Inc(1)
	} else {
		h.Counter(InstancesFailed).Inc(1)
	}
}

// ImageCopied records the duration of an image copy that became Available.
func ImageCopied(ctx workflow.Context, region string, took time.Duration) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{LabelRegion: region}).Timer(ImageCopyDuration).Record(took)
}

// operation is the run's ImagefleetOperation search attribute, which every
// workflow sets before its first state.
func operation(ctx workflow.Context) string {
	if op, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(model.SAOperation); ok && op != "" {
		return op
	}
	return "unknown"
}
