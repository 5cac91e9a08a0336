// Package fanout runs a piece of workflow code for many items at once: the
// regions of a distribution, the instances of a batch.
package fanout

import (
	"go.temporal.io/sdk/workflow"
)

// Each runs fn for every item concurrently, at most limit at a time (0: no
// limit), and returns when every call has returned. fn reports its outcome
// through the caller's state; cancelling ctx is fn's to honour.
func Each[T any](ctx workflow.Context, items []T, limit int, fn func(ctx workflow.Context, item T)) {
	wg := workflow.NewWaitGroup(ctx)
	var sem workflow.Semaphore
	if limit > 0 && limit < len(items) {
		sem = workflow.NewSemaphore(ctx, int64(limit))
	}
	for _, item := range items {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			if sem != nil {
				// Acquire fails only when ctx is cancelled: fn still runs, so
				// that it can record how the item ended.
				if err := sem.Acquire(ctx, 1); err == nil {
					defer sem.Release(1)
				}
			}
			fn(ctx, item)
		})
	}
	wg.Wait(ctx)
}
