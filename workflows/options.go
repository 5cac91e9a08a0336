package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
)

// retryPolicy retries transient cloud errors with exponential backoff; the
// activities mark permanent errors non-retryable, and a throttled call's
// Retry-After overrides the backoff.
func retryPolicy(attempts int) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    30 * time.Second,
		MaximumAttempts:    int32(attempts),
	}
}

// stepActivity is for a step that makes a single cloud call. It retries
// transient errors (5xx, throttling, timeouts, a lost worker) without an
// attempt limit until model.StepDeadline: a transient error never ends an
// operation, and an error no retry can fix is non-retryable and ends the step
// at once.
func stepActivity() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: model.StepDeadline,
		RetryPolicy:            retryPolicy(0),
	}
}

// shortActivity is for a single cloud call whose attempts are counted on
// purpose (a region's copy: after them the operator is asked).
func shortActivity(attempts int) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         retryPolicy(attempts),
	}
}

// cleanupActivity is for releasing a resource: like any step it retries
// transient errors until model.StepDeadline, since a resource left behind
// costs money.
func cleanupActivity() workflow.ActivityOptions {
	return stepActivity()
}
