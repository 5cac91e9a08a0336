package cloudops

import (
	"fmt"

	"github.com/imagefleet/imagefleet/cloud"
)

// RefusedError says why the cloud's state refuses a spec (an unknown scaling
// group, a service that cannot take a blue/green deployment...): retrying
// does not fix it.
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return e.Msg }

func refused(format string, args ...any) error {
	return &RefusedError{Msg: fmt.Sprintf(format, args...)}
}

// refusedIfPermanent turns a cloud error that a retry cannot fix into a
// refusal naming what was asked for; others are returned as they are.
func refusedIfPermanent(err error, format string, args ...any) error {
	if apiErr, ok := cloud.AsAPIError(err); ok && !apiErr.Retryable() {
		return &RefusedError{Msg: fmt.Sprintf(format, args...) + ": " + apiErr.Message}
	}
	return err
}
