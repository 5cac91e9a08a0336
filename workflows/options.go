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

// watchAttempts is how often the wait for a region's copy
// (AwaitImageAvailable) is tried when it loses the cloud (an outage: the
// poll's errors in a row) or its worker before the region is shown failed
// for the operator, who may watch it again. It does not count the copy's
// attempts: a copy that fails in the cloud ends the wait at once, and the
// run counts it against copyAttempts.
const watchAttempts = 5

// cleanupActivity is for releasing a resource: like any step it retries
// transient errors until model.StepDeadline, since a resource left behind
// costs money.
func cleanupActivity() workflow.ActivityOptions {
	return stepActivity()
}
