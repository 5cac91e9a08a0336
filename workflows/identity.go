package workflows

import "github.com/imagefleet/imagefleet/workflows/internal/lifecycle"

// Error types every operation may end with before it changes anything; the
// checks live in workflows/internal/lifecycle.
const (
	// ErrTypeWrongWorkflowID is the error type of a run started under another
	// workflow ID than its operation's (model.DistributeWorkflowID and the
	// like). It is not retryable: the run changed nothing.
	ErrTypeWrongWorkflowID = lifecycle.ErrTypeWrongWorkflowID
	// ErrTypeInvalidSpec is the error type of a run whose spec is invalid.
	ErrTypeInvalidSpec = lifecycle.ErrTypeInvalidSpec
)
