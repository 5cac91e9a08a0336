package main

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/workeropts"
)

// The bare-Temporal floor: workflows of our own that do nothing but what
// Temporal itself must do, run on their own task queue of the same server by
// a worker process of their own (this binary with --bare-worker) with the
// pollers and slots of imagefleet's worker (workeropts), measured in turn
// with imagefleet's operations.

const bareTaskQueue = "imagefleet-bench-bare"

// noop is the no-op activity.
func noop(context.Context) error { return nil }

// BareActivities runs n no-op activities, at most window at a time.
func BareActivities(ctx workflow.Context, n, window int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	sem := workflow.NewSemaphore(ctx, int64(window))
	wg := workflow.NewWaitGroup(ctx)
	for range n {
		if err := sem.Acquire(ctx, 1); err != nil {
			return err
		}
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			defer sem.Release(1)
			_ = workflow.ExecuteActivity(ctx, noop).Get(ctx, nil)
		})
	}
	wg.Wait(ctx)
	return nil
}

// started is the activity of BareResume: it answers when it ran.
func started(context.Context) (time.Time, error) { return time.Now(), nil }

// BareResume waits for the update "resume", then runs one local activity:
// the floor of a paused task's resume → first cloud call of the next batch. Its
// result is when the activity ran (by the bare worker's clock, the
// machine's, as the cloud's ledger times are).
func BareResume(ctx workflow.Context) (time.Time, error) {
	var at time.Time
	resumed := false
	if err := workflow.SetUpdateHandler(ctx, "resume", func(ctx workflow.Context) error {
		resumed = true
		return nil
	}); err != nil {
		return at, err
	}
	if err := workflow.Await(ctx, func() bool { return resumed }); err != nil {
		return at, err
	}
	// A local activity: a resumed task's first cloud call (its Standby move)
	// is one too, run in the workflow task the resume wakes.
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	if err := workflow.ExecuteLocalActivity(lctx, started).Get(ctx, &at); err != nil {
		return at, err
	}
	return at, workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// bareWorker runs the bare workflows' worker until ctx ends: the bench
// starts it as a process of its own, as imagefleet's worker is.
func bareWorker(ctx context.Context, address, keysFile string) error {
	copts := client.Options{HostPort: address, Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	if keysFile != "" {
		keys, err := codec.LoadKeyFile(keysFile)
		if err != nil {
			return err
		}
		codec.Apply(&copts, codec.New(keys))
	}
	c, err := client.Dial(copts)
	if err != nil {
		return err
	}
	defer c.Close()
	w := worker.New(c, bareTaskQueue, workeropts.Apply(worker.Options{}))
	w.RegisterWorkflow(BareActivities)
	w.RegisterWorkflow(BareResume)
	w.RegisterActivity(noop)
	w.RegisterActivity(started)
	if err := w.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	w.Stop()
	return nil
}
