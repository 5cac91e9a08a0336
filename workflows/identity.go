package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ErrTypeWrongWorkflowID is the error type of a run started under another
// workflow ID than its operation's (model.DistributeWorkflowID and the
// like). It is not retryable: the run changed nothing.
const ErrTypeWrongWorkflowID = "WrongWorkflowID"

// changeCanonicalID: a run refuses to work under anything but its canonical
// workflow ID. Versioned so that runs started before keep replaying.
const changeCanonicalID = "canonical-workflow-id"

// requireWorkflowID refuses a run whose workflow ID is not want. The
// workflow ID is what makes Temporal refuse a second run for the same key
// (package version, template, scaling group, service): a run under any other
// ID would work beside the one that holds the key, so it must not start.
// Call it before anything that changes the cloud.
func requireWorkflowID(ctx workflow.Context, want string) error {
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

// requireChildOf refuses a child workflow that was not started by a run of
// parentID under an ID that begins with parentID+"/".
func requireChildOf(ctx workflow.Context, parentID string) error {
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
