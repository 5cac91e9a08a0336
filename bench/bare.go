package main

import (
	"context"
	"time"

	"go.temporal.io/sdk/workflow"
)

// The bare-Temporal floor: workflows of our own that do nothing but what
// Temporal itself must do, run by an in-process worker on its own task queue
// of the same server, in the same window as the rolling updates.

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

// bareStarted records when each bare resume's activity started.
var bareStarted = make(chan bareStart, 1024)

type bareStart struct {
	id string
	at time.Time
}

// started is the activity of BareResume: it notes when it ran.
func started(ctx context.Context, id string) error {
	bareStarted <- bareStart{id: id, at: time.Now()}
	return nil
}

// BareResume waits for the update "resume", then starts one activity: the
// floor of a paused task's resume → first cloud call of the next batch.
func BareResume(ctx workflow.Context, id string) error {
	resumed := false
	if err := workflow.SetUpdateHandler(ctx, "resume", func(ctx workflow.Context) error {
		resumed = true
		return nil
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return resumed }); err != nil {
		return err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	if err := workflow.ExecuteActivity(ctx, started, id).Get(ctx, nil); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}
