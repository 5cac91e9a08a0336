package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
)

// operation is the shape of every imagefleet workflow (docs/architecture.md,
// "One shape for every operation"): setup begins the run through
// lifecycle.Start, run does the operation's work and ends it.
type operation[R any] interface {
	setup(ctx workflow.Context) error
	run(ctx workflow.Context) (*R, error)
}

// execute runs an operation. A run that setup refuses ends at once, having
// changed nothing. The run's metric events are recorded once it is sure
// they happened (metrics.Recorder): before it returns, ends or continues as
// new, the last of them are recorded.
func execute[R any](ctx workflow.Context, op operation[R]) (*R, error) {
	ctx, rec := metrics.WithRecorder(ctx)
	// Not deferred: a panicking or evicted run must not block.
	if err := op.setup(ctx); err != nil {
		rec.Close(ctx)
		return nil, err
	}
	res, err := op.run(ctx)
	rec.Close(ctx)
	return res, err
}
