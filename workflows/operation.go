package workflows

import "go.temporal.io/sdk/workflow"

// operation is the shape of every imagefleet workflow (docs/architecture.md,
// "One shape for every operation"): setup begins the run through
// lifecycle.Start, run does the operation's work and ends it.
type operation[R any] interface {
	setup(ctx workflow.Context) error
	run(ctx workflow.Context) (*R, error)
}

// execute runs an operation. A run that setup refuses ends at once, having
// changed nothing.
func execute[R any](ctx workflow.Context, op operation[R]) (*R, error) {
	if err := op.setup(ctx); err != nil {
		return nil, err
	}
	return op.run(ctx)
}
