package workflows

import (
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// ScheduledImageRetention is what a package's retention schedule starts
// each time it fires (model/retention.go): it applies the rule as a child
// ImageRetention under the package's canonical workflow ID, and ends with
// Skipped set when a lifecycle run of the package is already running.
func ScheduledImageRetention(ctx workflow.Context, spec model.RetentionSpec) (*model.RetentionResult, error) {
	return execute[model.RetentionResult](ctx, &scheduledRetention{spec: spec})
}

type scheduledRetention struct {
	spec   model.RetentionSpec
	result model.RetentionResult
	state  details.State
}

func (s *scheduledRetention) setup(ctx workflow.Context) error {
	pkg := s.spec.Rule.Package
	s.result = model.RetentionResult{Package: pkg, WorkflowID: model.RetentionWorkflowID(pkg)}
	// The schedule appends the firing's time to the action's workflow ID.
	want := model.ScheduledRetentionWorkflowID(pkg)
	if id := workflow.GetInfo(ctx).WorkflowExecution.ID; model.IsScheduledRetentionWorkflowID(id, pkg) {
		want = id
	}
	return lifecycle.Start(ctx, &s.state, lifecycle.Setup{
		Queries: []lifecycle.Query{{
			Name:        model.QueryProgress,
			Description: "the lifecycle run this firing started (its workflow ID) and, once it ended, its result",
			Handler:     func() (model.RetentionResult, error) { return s.result, nil },
		}},
		WorkflowID: want,
		SearchAttributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationRetention),
			model.SAPackage.ValueSet(pkg),
		},
		Validate: func() error {
			if s.spec.Rule.Package == "" {
				return errors.New("a retention schedule applies a package's rule: the rule names no package")
			}
			return s.spec.Validate()
		},
		Refused: func(err error) { s.result.Skipped = err.Error() },
	})
}

func (s *scheduledRetention) run(ctx workflow.Context) (*model.RetentionResult, error) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: s.result.WorkflowID,
		// A cancelled or terminated firing does not leave its run behind.
		ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		WaitForCancellation: true,
		StaticSummary:       "scheduled lifecycle run of package " + s.spec.Rule.Package,
	})
	child := workflow.ExecuteChildWorkflow(cctx, model.RetentionWorkflowType, s.spec)
	err := child.GetChildWorkflowExecution().Get(ctx, nil)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		s.result.Skipped = fmt.Sprintf("a lifecycle run of package %s is already running (workflow %s)", s.spec.Rule.Package, s.result.WorkflowID)
		workflow.SetCurrentDetails(ctx, "Skipped: "+s.result.Skipped)
		s.state.Set(ctx, model.StateSucceeded)
		return &s.result, nil
	}
	if err == nil {
		workflow.SetCurrentDetails(ctx, "Applying the rule in the lifecycle run "+s.result.WorkflowID)
		var res model.RetentionResult
		if err = child.Get(ctx, &res); err == nil {
			res.WorkflowID = s.result.WorkflowID
			s.result = res
		}
	}
	s.state.Set(ctx, lifecycle.EndState(err, false))
	if err != nil {
		return nil, err
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Done in %s: deprecated %d, deleted %d versions (%d copies, %d GiB), kept %d; dry run: %t",
		s.result.WorkflowID, s.result.Deprecated, s.result.Deleted, s.result.CopiesDeleted, s.result.FreedGiB, s.result.Kept, s.result.DryRun))
	return &s.result, nil
}
