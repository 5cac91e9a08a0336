package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
)

// A watch the workflow cancels (a blue/green deployment stops its health
// watch when it completes) ends with a benign error: the SDK then reports
// the cancellation without an error-level "Activity error" log line.
func TestCancelledWaitIsBenign(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := sleep(ctx, time.Minute)
	require.ErrorIs(t, err, context.Canceled, "still reported to Temporal as a cancellation")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, temporal.ApplicationErrorCategoryBenign, appErr.Category())
}

// A wait that timed out is no normal end: its error stays as it is.
func TestTimedOutWaitIsNotBenign(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	err := sleep(ctx, time.Minute)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var appErr *temporal.ApplicationError
	require.False(t, errors.As(err, &appErr))
}
