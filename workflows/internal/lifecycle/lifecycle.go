// Package lifecycle is how every imagefleet run begins and ends, so that the
// operations differ only in their work:
//
//   - Start: answer queries from the first workflow task, refuse a run under
//     another workflow ID than its operation's, name the run for visibility
//     (with the search attributes its namespace has), show it Running,
//     refuse an invalid spec, install the operator commands.
//   - End: EndState says how the run ended, Compensate undoes what it made,
//     AwaitHandlers lets accepted commands finish before it returns.
//
// The order of Start's steps is in every recorded history: changing it is a
// non-deterministic change.
package lifecycle

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
)

// Error types every operation may end with before it changes anything.
const (
	// ErrTypeInvalidSpec: the spec failed validation; nothing was changed.
	ErrTypeInvalidSpec = "InvalidSpec"
	// ErrTypeWrongWorkflowID: the run was started under another workflow ID
	// than its operation's (model.DistributeWorkflowID and the like);
	// nothing was changed.
	ErrTypeWrongWorkflowID = "WrongWorkflowID"
)

// Query is a query handler the run answers from its first workflow task.
type Query struct {
	Name        string
	Description string
	// Handler is a func() (T, error) or a func(arg A) (T, error).
	Handler any
}

// Setup is what differs between the operations' beginnings.
type Setup struct {
	// Queries are registered first, so that they answer for a run that is
	// refused too.
	Queries []Query
	// WorkflowID is the operation's canonical workflow ID for this spec: the
	// one key that makes Temporal refuse a second run for it.
	WorkflowID string
	// SearchAttributes name the run: its operation and its key.
	SearchAttributes []temporal.SearchAttributeUpdate
	// Validate checks the spec (model's Validate).
	Validate func() error
	// Refused records in the run's progress why it does not start.
	Refused func(err error)
	// Commands installs the operator commands of a run that starts.
	Commands func(ctx workflow.Context) error
}

// Start begins a run. An error ends the run: the run changed nothing.
func Start(ctx workflow.Context, state *details.State, s Setup) error {
	for _, q := range s.Queries {
		if err := workflow.SetQueryHandlerWithOptions(ctx, q.Name, q.Handler, workflow.QueryHandlerOptions{Description: q.Description}); err != nil {
			return err
		}
	}
	if err := RequireWorkflowID(ctx, s.WorkflowID); err != nil {
		s.Refused(err)
		return err
	}
	missing := unregistered(ctx)
	if len(missing) > 0 {
		workflow.GetLogger(ctx).Warn("The namespace lacks imagefleet's search attributes: this run does not set them, "+
			"so visibility queries and the Web UI's filters by them do not find it. Register them once per namespace "+
			"(starter setup on a self-hosted cluster; tcld or the UI on Temporal Cloud).", "missing", missing)
	}
	op, _ := temporal.NewSearchAttributes(s.SearchAttributes...).GetKeyword(model.SAOperation)
	state.Begin(op, missing)
	if updates := registeredOnly(s.SearchAttributes, missing); len(updates) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			return err
		}
	}
	state.Set(ctx, model.StateRunning)
	if err := s.Validate(); err != nil {
		s.Refused(err)
		state.Set(ctx, model.StateFailed)
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidSpec, err)
	}
	if s.Commands == nil {
		return nil
	}
	return s.Commands(ctx)
}

// changeCanonicalID: a run refuses to work under anything but its canonical
// workflow ID. Versioned so that runs started before keep replaying.
const changeCanonicalID = "canonical-workflow-id"

// RequireWorkflowID refuses a run whose workflow ID is not want. The
// workflow ID is what makes Temporal refuse a second run for the same key
// (package version, build template, scaling group, service): a run under
// any other ID would work beside the one that holds the key, so it must not
// start. Start calls it before anything changes the cloud.
func RequireWorkflowID(ctx workflow.Context, want string) error {
	if workflow.GetVersion(ctx, changeCanonicalID, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	if got := workflow.GetInfo(ctx).WorkflowExecution.ID; got != want {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("workflow ID %q refused: this operation runs only as %q, so that one run at a time holds its key; nothing was changed", got, want),
			ErrTypeWrongWorkflowID, nil)
	}
	return nil
}

// RequireChildOf refuses a child workflow that was not started by a run of
// parentID under an ID that begins with parentID+"/".
func RequireChildOf(ctx workflow.Context, parentID string) error {
	if workflow.GetVersion(ctx, changeCanonicalID, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	info := workflow.GetInfo(ctx)
	if p := info.ParentWorkflowExecution; p == nil || p.ID != parentID || !strings.HasPrefix(info.WorkflowExecution.ID, parentID+"/") {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("workflow %q refused: it runs only as a child of %q; nothing was changed", info.WorkflowExecution.ID, parentID),
			ErrTypeWrongWorkflowID, nil)
	}
	return nil
}

// EndState is the coarse state a run ends in: Succeeded without an error,
// Aborted when the operator or Temporal cancelled it, Failed otherwise.
func EndState(err error, cancelled bool) string {
	switch {
	case err == nil:
		return model.StateSucceeded
	case cancelled || temporal.IsCanceledError(err):
		return model.StateAborted
	default:
		return model.StateFailed
	}
}

// Compensate undoes, in reverse order, what the saga holds, with the run
// shown Compensating meanwhile; it does nothing when the saga is empty. It
// returns the compensations that failed, joined.
func Compensate(ctx workflow.Context, s *saga.Saga, state *details.State) error {
	if s.Len() == 0 {
		return nil
	}
	state.Set(ctx, model.StateCompensating)
	return s.Compensate(ctx)
}

// AwaitHandlers waits until every accepted operator command has finished,
// so that the run does not end under one (the SDK warns of that, and the
// command's sender would see it fail).
func AwaitHandlers(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// RootMessage is the message of the innermost application error, which is
// what an operator needs to read (not the activity-failure wrapping).
func RootMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

// IsType reports whether err wraps an application error of type errType.
func IsType(err error, errType string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == errType
}
