package poll

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
)

var (
	throttled   = &cloud.APIError{HTTPStatus: http.StatusTooManyRequests, Code: cloud.CodeThrottling, RetryAfter: 3 * time.Second}
	unavailable = &cloud.APIError{HTTPStatus: http.StatusServiceUnavailable, Code: cloud.CodeServiceUnavailable}
	invalid     = &cloud.APIError{HTTPStatus: http.StatusBadRequest, Code: cloud.CodeInvalidParameter}
)

// recorder stands in for the clock and the heartbeat: it keeps every wait
// asked for and every error heartbeated, and waits no time at all.
type recorder struct {
	waits   []time.Duration
	waiting []string
}

func (rec *recorder) rules(r Rules) Rules {
	r.sleep = func(ctx context.Context, d time.Duration) error {
		rec.waits = append(rec.waits, d)
		return ctx.Err()
	}
	r.Waiting = func(_ context.Context, err *cloud.APIError) { rec.waiting = append(rec.waiting, err.Code) }
	return r
}

// answers is a check that answers errs[i] on poll i, and done after them.
func answers(calls *int, errs ...error) Check {
	return func(context.Context) (bool, error) {
		*calls++
		if *calls > len(errs) {
			return true, nil
		}
		return false, errs[*calls-1]
	}
}

func TestPollsAtOnceThenEveryInterval(t *testing.T) {
	var rec recorder
	calls := 0
	err := Until(t.Context(), rec.rules(Rules{Interval: time.Second}), answers(&calls, nil, nil))
	require.NoError(t, err)
	require.Equal(t, 3, calls)
	require.Equal(t, []time.Duration{time.Second, time.Second}, rec.waits, "no wait before the first poll")
	require.Empty(t, rec.waiting)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var rec recorder
	calls := 0
	err := Until(t.Context(), rec.rules(Rules{Interval: time.Second}), answers(&calls, throttled, throttled))
	require.NoError(t, err)
	require.Equal(t, []time.Duration{3 * time.Second, 3 * time.Second}, rec.waits, "the cloud's Retry-After, not the interval nor a backoff")
	require.Equal(t, []string{cloud.CodeThrottling, cloud.CodeThrottling}, rec.waiting, "heartbeats while it waits")
}

func TestALongWaitKeepsHeartbeating(t *testing.T) {
	var rec recorder
	calls := 0
	long := &cloud.APIError{HTTPStatus: http.StatusTooManyRequests, Code: cloud.CodeThrottling, RetryAfter: 12 * time.Second}
	err := Until(t.Context(), rec.rules(Rules{}), answers(&calls, long))
	require.NoError(t, err)
	require.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second, 2 * time.Second}, rec.waits)
	require.Len(t, rec.waiting, 3, "a heartbeat every 5 s of the wait, below every heartbeat timeout")
}

func TestBackoffWithoutRetryAfterIsCapped(t *testing.T) {
	var rec recorder
	calls := 0
	err := Until(t.Context(), rec.rules(Rules{Interval: time.Second}), answers(&calls, unavailable, unavailable, unavailable, unavailable, unavailable))
	require.NoError(t, err)
	s := time.Second
	require.Equal(t, []time.Duration{s, 2 * s, 4 * s, 4 * s, 4 * s}, rec.waits, "doubles from the interval, up to four intervals")
}

func TestConsecutiveErrorsFailTheAttempt(t *testing.T) {
	var rec recorder
	calls := 0
	err := Until(t.Context(), rec.rules(Rules{MaxErrors: 3}), answers(&calls, unavailable, throttled, unavailable, unavailable))
	require.ErrorIs(t, err, unavailable, "the last error, for Temporal's retry policy")
	require.Equal(t, 3, calls)

	many := make([]error, DefaultMaxErrors)
	for i := range many {
		many[i] = unavailable
	}
	calls = 0
	err = Until(t.Context(), rec.rules(Rules{}), answers(&calls, many...))
	require.ErrorIs(t, err, unavailable, "DefaultMaxErrors by default")
	require.Equal(t, DefaultMaxErrors, calls)
}

func TestAnAnswerResetsTheErrorCount(t *testing.T) {
	var rec recorder
	calls := 0
	err := Until(t.Context(), rec.rules(Rules{MaxErrors: 3}), answers(&calls, unavailable, unavailable, nil, unavailable, unavailable, nil))
	require.NoError(t, err, "never three errors in a row")
	require.Equal(t, 7, calls)
}

func TestNoErrorCapWaitsOutEveryError(t *testing.T) {
	var rec recorder
	calls := 0
	many := make([]error, 3*DefaultMaxErrors)
	for i := range many {
		many[i] = throttled
	}
	err := Until(t.Context(), rec.rules(KeepPlace(time.Second, nil)), answers(&calls, many...))
	require.NoError(t, err)
	require.Equal(t, len(many)+1, calls)
}

func TestOtherErrorsEndTheWaitAsTheyAre(t *testing.T) {
	var rec recorder
	calls := 0
	err := Until(t.Context(), rec.rules(Rules{}), answers(&calls, invalid))
	require.Same(t, invalid, err, "as it is: the caller maps it")
	require.Equal(t, 1, calls)
	plain := errors.New("decode")
	err = Retry(t.Context(), rec.rules(Rules{}), func(context.Context) error { return plain })
	require.Same(t, plain, err)
	require.Empty(t, rec.waits)
}

func TestRetryCallsUntilSuccess(t *testing.T) {
	var rec recorder
	calls := 0
	err := Retry(t.Context(), rec.rules(KeepPlace(time.Second, nil)), func(context.Context) error {
		calls++
		if calls < 3 {
			return unavailable
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, rec.waits)
}

// A wait the workflow cancels (a blue/green deployment stops its health
// watch when it completes) ends with a benign error: the SDK then reports
// the cancellation without an error-level "Activity error" log line.
func TestCancelledWaitIsBenign(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := Until(ctx, Rules{Interval: time.Minute}, func(context.Context) (bool, error) {
		calls++
		cancel()
		return false, nil
	})
	require.Equal(t, 1, calls)
	require.ErrorIs(t, err, context.Canceled, "still reported to Temporal as a cancellation")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, temporal.ApplicationErrorCategoryBenign, appErr.Category())

	// Cancelled while waiting out an error: the same.
	ctx, cancel = context.WithCancel(t.Context())
	err = Until(ctx, Rules{Waiting: func(context.Context, *cloud.APIError) { cancel() }}, func(context.Context) (bool, error) { return false, throttled })
	require.ErrorIs(t, err, context.Canceled)
	require.True(t, errors.As(err, &appErr))
}

// A wait that timed out is no normal end: its error stays as it is.
func TestTimedOutWaitIsNotBenign(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	err := Until(ctx, Rules{Interval: time.Minute}, func(context.Context) (bool, error) { return false, nil })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var appErr *temporal.ApplicationError
	require.False(t, errors.As(err, &appErr))
}

func TestRampStartsShortAndDoublesUpToTheInterval(t *testing.T) {
	var rec recorder
	calls := 0
	err := Until(t.Context(), rec.rules(Rules{Interval: 500 * time.Millisecond, Ramp: 25 * time.Millisecond}), answers(&calls, nil, nil, nil, nil, nil, nil, nil))
	require.NoError(t, err)
	require.Equal(t, 8, calls)
	ms := time.Millisecond
	require.Equal(t, []time.Duration{25 * ms, 50 * ms, 100 * ms, 200 * ms, 400 * ms, 500 * ms, 500 * ms}, rec.waits)
}

func TestRampKeepsItsPlaceAcrossErrors(t *testing.T) {
	var rec recorder
	calls := 0
	// A retryable error waits its own wait and does not move the ramp on.
	err := Until(t.Context(), rec.rules(Rules{Interval: time.Second, Ramp: 100 * time.Millisecond}), answers(&calls, nil, throttled, nil))
	require.NoError(t, err)
	require.Equal(t, []time.Duration{100 * time.Millisecond, 3 * time.Second, 200 * time.Millisecond}, rec.waits)
}

func TestRampLongerThanTheIntervalIsTheInterval(t *testing.T) {
	var rec recorder
	calls := 0
	err := Until(t.Context(), rec.rules(Rules{Interval: time.Second, Ramp: time.Minute}), answers(&calls, nil, nil))
	require.NoError(t, err)
	require.Equal(t, []time.Duration{time.Second, time.Second}, rec.waits)
}
