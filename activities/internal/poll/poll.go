// Package poll is the one loop activities wait for the cloud with: a copy to
// finish, an instance to run, a task set to settle, a command to end, a
// throttled call to go through. Why polling inside one heartbeating
// activity: the end is noticed within one interval, the history gets no
// event per poll, and a lost worker is found by the heartbeat timeout.
//
// The rules, the same for every activity:
//   - poll at once, then every Interval (or, with Ramp, after waits that
//     start at Ramp and double up to Interval); the check heartbeats its own
//     progress (it knows the activity's details type, which the Web UI and
//     the next attempt read);
//   - a retryable cloud error (cloud.APIError.Retryable: throttling, 5xx, a
//     cloud that cannot be reached) is waited out: for its Retry-After when
//     the cloud sent one, otherwise for a backoff that starts at Backoff and
//     doubles up to MaxBackoff. Rules.Waiting heartbeats meanwhile, again
//     every few seconds of a long wait;
//   - MaxErrors such errors in a row fail the attempt with the last one, and
//     Temporal's retry policy decides; a poll that answers resets the count;
//   - any other error ends the wait, returned as it is;
//   - when ctx ends, the wait ends with Stopped(ctx).
//
// Where many activities of a worker wait for resources of one kind (copies
// of images), Batch is one poller for all of them: one batched call per
// group and tick asks about every resource waited for, by the same rules
// (batch.go).
package poll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/clock"
)

const (
	// DefaultInterval is the time between two polls when Rules.Interval is
	// zero: a finished operation is noticed within about a second.
	DefaultInterval = 500 * time.Millisecond
	// DefaultMaxErrors is how many retryable errors in a row fail an attempt
	// when Rules.MaxErrors is zero.
	DefaultMaxErrors = 20
	// NoErrorCap as Rules.MaxErrors waits retryable errors out for as long as
	// the context lives.
	NoErrorCap = -1
	// beatEvery bounds the time between two heartbeats of a long wait, well
	// below the activities' heartbeat timeouts (15 s and more).
	beatEvery = 5 * time.Second
)

// Rules say how often to poll and how to wait out the cloud's errors. The
// zero value polls every DefaultInterval and fails the attempt after
// DefaultMaxErrors retryable errors in a row.
type Rules struct {
	// Interval is the time between two polls (DefaultInterval if zero).
	Interval time.Duration
	// Ramp, if set, is the first wait after a poll that was not done: it
	// doubles with every such poll up to Interval. An operation that the
	// cloud ends in a fraction of the interval (a script on a few instances)
	// is then noticed a few tens of milliseconds after it ends instead of
	// up to Interval later, for a handful more calls on a long one.
	Ramp time.Duration
	// MaxErrors is how many retryable cloud errors in a row fail the attempt
	// (DefaultMaxErrors if zero, NoErrorCap for none).
	MaxErrors int
	// Backoff is the first wait after a retryable error that came without a
	// Retry-After (Interval if zero); it doubles with every error in a row,
	// up to MaxBackoff (four intervals if zero).
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Waiting heartbeats while err is waited out; nil: the details are the
	// string "polling: " and the error's code.
	Waiting func(ctx context.Context, err *cloud.APIError)

	// sleep stands in for clock.Sleep in tests.
	sleep func(ctx context.Context, d time.Duration) error
}

// KeepPlace are the rules of a caller that must not lose its place to the
// cloud's throttling (a rolling update's chunk amid its bulk calls):
// retryable errors cost it nothing, however many there are; the first wait
// without Retry-After is short, the longest 5 s.
func KeepPlace(interval time.Duration, waiting func(ctx context.Context, err *cloud.APIError)) Rules {
	return Rules{Interval: interval, MaxErrors: NoErrorCap, Backoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, Waiting: waiting}
}

// Check polls once. done ends the wait; an error ends it too, unless it is
// a retryable cloud error.
type Check func(ctx context.Context) (done bool, err error)

// Until calls check at once, then every Interval, until it is done or fails
// for good, as the package's rules say.
func Until(ctx context.Context, r Rules, check Check) error {
	r = r.withDefaults()
	errorsInARow := 0
	next := r.Interval // the wait after a poll that was not done
	if r.Ramp > 0 {
		next = min(r.Ramp, r.Interval)
	}
	for {
		done, err := check(ctx)
		if err == nil && done {
			return nil
		}
		if ctx.Err() != nil {
			return Stopped(ctx)
		}
		wait := next
		if err != nil {
			apiErr, ok := cloud.AsAPIError(err)
			if !ok || !apiErr.Retryable() {
				return err
			}
			errorsInARow++
			if r.MaxErrors != NoErrorCap && errorsInARow >= r.MaxErrors {
				return err
			}
			wait = r.errorWait(errorsInARow, apiErr)
			if err := r.waitOut(ctx, wait, apiErr); err != nil {
				return err
			}
			continue
		}
		errorsInARow = 0
		if err := r.sleep(ctx, wait); err != nil {
			return Stopped(ctx)
		}
		next = min(2*next, r.Interval)
	}
}

// Retry calls f until it succeeds or fails with an error other than a
// retryable cloud error, waiting as Until does.
func Retry(ctx context.Context, r Rules, f func(ctx context.Context) error) error {
	return Until(ctx, r, func(ctx context.Context) (bool, error) {
		err := f(ctx)
		return err == nil, err
	})
}

func (r Rules) withDefaults() Rules {
	if r.Interval <= 0 {
		r.Interval = DefaultInterval
	}
	if r.MaxErrors == 0 {
		r.MaxErrors = DefaultMaxErrors
	}
	if r.Backoff <= 0 {
		r.Backoff = r.Interval
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = 4 * r.Interval
	}
	r.MaxBackoff = max(r.MaxBackoff, r.Backoff)
	if r.Waiting == nil {
		r.Waiting = func(ctx context.Context, err *cloud.APIError) { activity.RecordHeartbeat(ctx, "polling: "+err.Code) }
	}
	if r.sleep == nil {
		r.sleep = clock.Sleep
	}
	return r
}

// errorWait is the wait after the n-th retryable error in a row (n ≥ 1):
// the cloud's Retry-After, or the backoff.
func (r Rules) errorWait(n int, apiErr *cloud.APIError) time.Duration {
	if apiErr.RetryAfter > 0 {
		return apiErr.RetryAfter
	}
	d := r.Backoff
	for i := 1; i < n && d < r.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.MaxBackoff)
}

// waitOut waits d after apiErr, heartbeating at its start and every
// beatEvery of it.
func (r Rules) waitOut(ctx context.Context, d time.Duration, apiErr *cloud.APIError) error {
	for {
		r.Waiting(ctx, apiErr)
		step := min(d, beatEvery)
		if err := r.sleep(ctx, step); err != nil {
			return Stopped(ctx)
		}
		if d -= step; d <= 0 {
			return nil
		}
	}
}

// Stopped is the error of an activity whose context ended. A cancellation
// is how a workflow stops a watch it no longer needs (a blue/green
// deployment's health watch once traffic has moved): a benign error that
// still wraps context.Canceled, so that Temporal records a cancellation and
// the worker does not log it as an error. A timeout stays an error, and so
// does a worker that stops (SIGTERM, after its stop timeout): the workflow
// still needs the activity, which another worker's retry goes on with.
func Stopped(ctx context.Context) error {
	if !errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	if activity.IsActivity(ctx) {
		select {
		case <-activity.GetWorkerStopChannel(ctx):
			return fmt.Errorf("stopped: the worker is shutting down (retried on another worker): %w", ctx.Err())
		default:
		}
	}
	return temporal.NewApplicationErrorWithOptions("stopped: the workflow no longer needs this activity", "Cancelled", temporal.ApplicationErrorOptions{
		Cause: ctx.Err(), NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign,
	})
}
