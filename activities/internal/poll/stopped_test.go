package poll

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// A cancelled watch ends for good (the workflow no longer needs it), but a
// worker that stops must leave the activity to another worker's retry: a
// non-retryable error there failed a distribution's copy when its worker
// got SIGTERM.
func TestStoppedIsRetryableWhenTheWorkerStops(t *testing.T) {
	for name, workerStops := range map[string]bool{"cancelled by the workflow": false, "worker stopping": true} {
		t.Run(name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			stop := make(chan struct{})
			if workerStops {
				close(stop)
			}
			env.SetWorkerStopChannel(stop)
			env.RegisterActivityWithOptions(func(ctx context.Context) error {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				return Stopped(cctx)
			}, activity.RegisterOptions{Name: "watch"})
			_, err := env.ExecuteActivity("watch")
			require.Error(t, err)
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			require.Equal(t, !workerStops, appErr.NonRetryable(), "%v", err)
		})
	}
}
