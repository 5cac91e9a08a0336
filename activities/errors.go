// Package activities holds imagefleet's Temporal activities: thin, idempotent
// steps that call the cloud through the interfaces of package cloud. Each
// group of activities is a struct holding its cloud client; workflows name
// the methods through a nil pointer of that struct so the compiler checks
// every call.
package activities

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
)

// ErrTypeCopyFailed marks a copy that ended in CreateFailed: trying the same
// copy again cannot help, a new copy (operator retry) may.
const ErrTypeCopyFailed = "CopyFailed"

// fromCloud turns a cloud error into the error Temporal should see: a
// retryable error (honouring Retry-After) for throttling and server errors,
// and a non-retryable application error, typed with the cloud's code, for
// everything a retry cannot fix.
func fromCloud(err error) error {
	if err == nil {
		return nil
	}
	apiErr, ok := cloud.AsAPIError(err)
	if !ok {
		return err
	}
	if apiErr.Retryable() {
		return temporal.NewApplicationErrorWithOptions(apiErr.Error(), apiErr.Code, temporal.ApplicationErrorOptions{
			NextRetryDelay: apiErr.RetryAfter, // zero leaves the retry policy's backoff in charge
		})
	}
	return temporal.NewNonRetryableApplicationError(apiErr.Error(), apiErr.Code, nil)
}

// permanent wraps a problem that no retry can fix.
func permanent(errType string, err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), errType, nil)
}

// isNotFound reports whether err says the resource is gone.
func isNotFound(err error) bool {
	var apiErr *cloud.APIError
	return errors.As(err, &apiErr) && (apiErr.Code == cloud.CodeImageNotFound || apiErr.Code == cloud.CodeArtifactNotFound)
}
