package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
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

// stepAttempts bounds the retries of a run's steps that are not per region
// (checks, permissions, release). A spec's copyAttempts says when to ask the
// operator about a region, not how soon a whole run gives up on a transient
// error.
const stepAttempts = 10

// shortActivity is for a single cloud call.
func shortActivity(attempts int) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         retryPolicy(attempts),
	}
}

// cleanupActivity is for releasing a resource: it tries harder than a
// forward step, since a resource left behind costs money.
func cleanupActivity() workflow.ActivityOptions {
	return shortActivity(10)
}

// rootMessage is the message of the innermost application error, which is
// what an operator needs to read (not the activity-failure wrapping).
func rootMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

// isType reports whether err wraps an application error of type errType.
func isType(err error, errType string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == errType
}
