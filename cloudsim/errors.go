package cloudsim

import (
	"fmt"
	"net/http"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// Codes the simulator answers that package cloud does not name; callers treat
// them like any other permanent 4xx.
const (
	codeMethodNotAllowed = "InvalidHttpMethod"
	codeShareUserQuota   = "QuotaExceed.ShareImageUser"
)

// apiError is an error answered to the caller as a cloud.ErrorBody.
type apiError struct {
	status     int
	code       string
	msg        string
	retryAfter time.Duration // throttling: sent as the Retry-After header
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func invalidParam(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, cloud.CodeInvalidParameter, format, args...)
}

func internalError(format string, args ...any) *apiError {
	return newError(http.StatusInternalServerError, cloud.CodeInternalError, format, args...)
}

func unavailable(format string, args ...any) *apiError {
	return newError(http.StatusServiceUnavailable, cloud.CodeServiceUnavailable, format, args...)
}

// asAPIError turns any handler error into what the caller sees.
func asAPIError(err error) *apiError {
	if e, ok := err.(*apiError); ok {
		return e
	}
	return internalError("%v", err)
}
