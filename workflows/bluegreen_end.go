package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
)

// finish removes blue once green is primary and the termination wait is
// over. It runs on a disconnected context: a cancellation now must not leave
// blue behind.
func (d *blueGreen) finish(ctx workflow.Context) (*model.BlueGreenResult, error) {
	d.status.commit()
	d.saga = saga.Saga{} // the deployment stands: nothing to undo any more
	result := &model.BlueGreenResult{
		Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSetID: d.green.ID, TaskDefinition: d.spec.TaskDefinition,
		TargetGroup: d.greenTG, Promoted: d.status.full,
	}
	if blue := d.snap.Blue; blue != nil {
		d.enter(model.BGPhaseRemovingBlue)
		d.updateDetails(ctx)
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(dctx, cleanupActivity()), deployments.RemoveTaskSets, activities.RemoveInput{
			Cluster: d.spec.Cluster, Service: d.spec.Service, TaskSet: blue.ID,
		}).Get(dctx, nil)
		if err != nil {
			d.enter(model.BGPhaseFailed)
			d.progress.Error = lifecycle.RootMessage(err)
			d.state.Set(ctx, model.StateFailed)
			return nil, fmt.Errorf("the new task set %s is primary, but the old task set %s could not be removed: %w", d.green.ID, blue.ID, err)
		}
		d.progress.Blue.Status, d.progress.Blue.Scale = model.TaskSetDeleted, 0
		result.PreviousTaskSetID = blue.ID
	}
	d.enter(model.BGPhaseSucceeded)
	d.updateDetails(ctx)
	d.state.Set(ctx, model.StateSucceeded)
	d.logger.Info("Deployment complete", "taskSet", d.green.ID)
	return result, nil
}

// rollback undoes every change made and returns the error the run ends with.
// A cancelled deployment ends in phase Aborted (as its ImagefleetState), one
// that failed in RolledBack; one refused before it changed anything (e.g.
// ServiceNotReady) in Failed, and its error does not claim a rollback.
func (d *blueGreen) rollback(ctx workflow.Context, cause error) error {
	canceled := temporal.IsCanceledError(cause) && !d.status.cancelled
	untouched := d.saga.Len() == 0 // nothing was changed: nothing to roll back
	d.enter(model.BGPhaseRollingBack)
	if !d.status.cancelled && !canceled {
		d.progress.Error = lifecycle.RootMessage(cause)
	}
	d.logger.Warn("Rolling back", "cause", cause, "cancelled", d.status.cancelled)
	d.updateDetails(ctx)
	d.state.Set(ctx, model.StateCompensating)
	if err := d.saga.Compensate(ctx); err != nil {
		d.enter(model.BGPhaseFailed)
		d.progress.Error = fmt.Sprintf("%s; and the rollback failed: %v", lifecycle.RootMessage(cause), err)
		d.updateDetails(ctx)
		d.state.Set(ctx, model.StateFailed)
		return fmt.Errorf("%w; and the rollback failed: %v", cause, err)
	}
	end := lifecycle.EndState(cause, d.status.cancelled)
	switch {
	case end == model.StateAborted:
		d.enter(model.BGPhaseAborted)
	case untouched:
		d.enter(model.BGPhaseFailed)
	default:
		d.enter(model.BGPhaseRolledBack)
	}
	d.updateDetails(ctx)
	d.state.Set(ctx, end)
	switch {
	case d.status.cancelled:
		what := "deployment aborted by the operator and rolled back: "
		if untouched {
			what = "deployment aborted by the operator before it changed anything: "
		}
		return temporal.NewApplicationErrorWithOptions(what+d.progress.AbortReason, model.ErrTypeBlueGreenCancelled,
			temporal.ApplicationErrorOptions{NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign})
	case canceled:
		return cause
	}
	var appErr *temporal.ApplicationError
	errType := ErrTypeRolledBack
	if errors.As(cause, &appErr) && appErr.Type() != "" {
		errType = appErr.Type()
	}
	what := "deployment rolled back: "
	if untouched {
		what = "deployment refused, nothing was changed: "
	}
	return temporal.NewNonRetryableApplicationError(what+lifecycle.RootMessage(cause), errType, cause)
}

// ErrTypeRolledBack is model.ErrTypeRolledBack.
const ErrTypeRolledBack = model.ErrTypeRolledBack
