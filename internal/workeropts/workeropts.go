// Package workeropts holds the task-processing settings of imagefleet's
// worker (pollers and slots), so that whatever measures the worker beside
// bare Temporal (the bench's bare floor) runs with the same ones.
package workeropts

import "go.temporal.io/sdk/worker"

// MaxPollers is the most workflow-task and activity-task pollers a worker
// keeps: more than the SDK's default two, so that when many paused tasks
// are resumed at once (or many chunks end together) their tasks are picked
// up in parallel rather than two per poll round trip.
const MaxPollers = 8

// Apply sets the pollers and execution slots of o as imagefleet's worker
// has them (the slots are the SDK's defaults, left as they are).
func Apply(o worker.Options) worker.Options {
	pollers := worker.NewPollerBehaviorSimpleMaximum(worker.PollerBehaviorSimpleMaximumOptions{MaximumNumberOfPollers: MaxPollers})
	o.WorkflowTaskPollerBehavior, o.ActivityTaskPollerBehavior = pollers, pollers
	return o
}
