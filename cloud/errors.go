package cloud

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error codes returned by the simulated cloud. They follow Alibaba Cloud's
// naming so that a real provider's codes map one to one.
const (
	CodeThrottling          = "Throttling.User"
	CodeServiceUnavailable  = "ServiceUnavailable"
	CodeInternalError       = "InternalError"
	CodeQuotaExceeded       = "QuotaExceed.Image"
	CodeInvalidParameter    = "InvalidParameter"
	CodeInvalidRegion       = "InvalidRegionId.NotFound"
	CodeImageNotFound       = "InvalidImageId.NotFound"
	CodeImageNotAuthorized  = "InvalidImageId.NotAuthorized"
	CodeIncorrectStatus     = "IncorrectImageStatus"
	CodeIdempotentMismatch  = "IdempotentParameterMismatch"
	CodeArtifactNotFound    = "EntityNotExist.Artifact"
	CodeArtifactExists      = "Artifact.NameAlreadyExists"
	CodeArtifactLocked      = "Artifact.VersionLocked"
	CodeServiceNotFound     = "EntityNotExist.Service"
	CodeForbidden           = "Forbidden.NotAuthorized"
	CodeUnknownAction       = "InvalidAction.NotFound"
	CodeMissingAccountID    = "MissingParameter.Account"
	CodeOperationConflict   = "OperationConflict"
	CodeResourceNotFound    = "EntityNotExist"
	CodeIncorrectInstStatus = "IncorrectInstanceStatus"
)

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	RequestId string
	Code      string
	Message   string
}

// APIError is an error answered by the cloud API.
type APIError struct {
	HTTPStatus int
	RequestID  string
	Code       string
	Message    string
	// RetryAfter is the server's Retry-After hint (throttling), zero if none.
	RetryAfter time.Duration
	// notSent: no connection could be made, so the call never reached the cloud.
	notSent bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d, request %s)", e.Code, e.Message, e.HTTPStatus, e.RequestID)
}

// Retryable reports whether the same call may succeed later: throttling,
// server errors and unavailability. Client errors (4xx) are permanent.
func (e *APIError) Retryable() bool {
	return e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus >= 500
}

// AsAPIError unwraps err to an *APIError.
func AsAPIError(err error) (*APIError, bool) {
	var apiErr *APIError
	ok := errors.As(err, &apiErr)
	return apiErr, ok
}

// IsCode reports whether err is an API error with the given code.
func IsCode(err error, code string) bool {
	apiErr, ok := AsAPIError(err)
	return ok && apiErr.Code == code
}
