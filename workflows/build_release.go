package workflows

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
)

// track records a created resource and registers its release.
func (b *build) track(kind, id, region string, s *saga.Saga) {
	b.progress.Resources = append(b.progress.Resources, model.BuildResource{Kind: kind, ID: id, Region: region, State: model.ResourceCreated})
	s.Add("release "+kind+" "+id, func(ctx workflow.Context) error { return b.release(ctx, id) })
}

func (b *build) resource(id string) *model.BuildResource {
	for i := range b.progress.Resources {
		if b.progress.Resources[i].ID == id {
			return &b.progress.Resources[i]
		}
	}
	return nil
}

// release releases one tracked resource unless it is released already.
func (b *build) release(ctx workflow.Context, id string) error {
	r := b.resource(id)
	if r == nil || r.State == model.ResourceReleased {
		return nil
	}
	opts := cleanupActivity()
	opts.Summary = "release " + r.Kind + " " + id
	actx := workflow.WithActivityOptions(ctx, opts)
	in := activities.ResourceInput{Region: r.Region, ID: id}
	var f workflow.Future
	switch r.Kind {
	case model.ResourceInstance, model.ResourceTestInstance:
		f = workflow.ExecuteActivity(actx, builds.ReleaseBuildInstance, in)
	case model.ResourceVSwitch:
		f = workflow.ExecuteActivity(actx, builds.DeleteBuildVSwitch, in)
	case model.ResourceVpc:
		f = workflow.ExecuteActivity(actx, builds.DeleteBuildVpc, in)
	case model.ResourcePackageVersion:
		// With the distribution's hold token: a distribution that ended
		// without its compensation (terminated) still holds the version,
		// and the cloud refuses to delete a held version to anyone else.
		pkg, version, _ := strings.Cut(id, "/")
		f = workflow.ExecuteActivity(actx, packages.DeletePackageVersion, activities.PackageVersionInput{
			Package: pkg, Version: version, ReleaseToken: holdToken(model.DistributeWorkflowID(pkg, version)),
		})
	default:
		f = workflow.ExecuteActivity(actx, images.DeleteImageCopy, activities.DeleteCopyInput{Region: r.Region, ImageID: id})
	}
	err := f.Get(ctx, nil)
	r = b.resource(id)
	if err != nil {
		r.Error = lifecycle.RootMessage(err)
		b.logger.Error("Could not release a resource", "kind", r.Kind, "id", id, "error", err)
		return err
	}
	r.State, r.Error = model.ResourceReleased, ""
	return nil
}

// succeed releases the intermediate resources and reports success.
func (b *build) succeed(ctx workflow.Context) (*model.BuildResult, error) {
	b.status.end()
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	b.progress.Step = model.StepRelease
	b.updateDetails(dctx)
	b.report(dctx, activities.UpdateExecutionInput{Status: model.ExecutionReleasing, Step: model.StepRelease})
	if err := b.intermediate.Compensate(dctx); err != nil {
		b.progress.Step, b.progress.Error = model.StepDone, "releasing the intermediate resources failed: "+err.Error()
		b.report(dctx, activities.UpdateExecutionInput{Status: model.ExecutionFailed, Message: b.progress.Error})
		b.state.Set(dctx, model.StateFailed)
		return nil, temporal.NewNonRetryableApplicationError(b.progress.Error, ErrTypeBuildCleanupFailed, err, b.result())
	}
	b.progress.Step = model.StepDone
	b.report(dctx, activities.UpdateExecutionInput{Status: model.ExecutionSucceeded, Step: model.StepDone, ImageID: b.progress.ImageID, Message: "image " + b.progress.ImageID})
	b.state.Set(dctx, model.StateSucceeded)
	b.updateDetails(dctx)
	b.logger.Info("Image built", "image", b.progress.ImageID, "regions", len(b.progress.Images))
	return b.result(), nil
}

// end finishes a failed or cancelled build: it releases the intermediate
// resources (instances, then vSwitch, then VPC) and deletes the images made,
// unless the template keeps the intermediate resources on failure; then it
// returns the error the run ends with, the result as its details.
func (b *build) end(ctx workflow.Context, step string, cause error) error {
	b.status.end()
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	cancelled := b.status.cancelled() || ctx.Err() != nil
	keep := !cancelled && b.tpl.ID != "" && !b.tpl.ReleaseOnFailure
	if cancelled {
		b.progress.Cancelled = true
		if b.progress.ExecutionID != "" {
			if err := workflow.ExecuteActivity(b.short(dctx, "mark the build cancelling"), builds.CancelBuildExecution,
				activities.UpdateExecutionInput{Region: b.in.Region, ExecutionID: b.progress.ExecutionID}).Get(dctx, nil); err != nil {
				b.logger.Error("Could not mark the build cancelling", "error", err)
			}
		}
	} else if b.progress.Error == "" {
		b.progress.FailedStep, b.progress.Error = step, lifecycle.RootMessage(cause)
	}
	b.progress.Step = model.StepRelease
	b.state.Set(dctx, model.StateCompensating)
	b.updateDetails(dctx)
	b.report(dctx, activities.UpdateExecutionInput{Status: model.ExecutionReleasing, Step: model.StepRelease})
	var cleanupErr error
	if keep {
		cleanupErr = b.outputs.Compensate(dctx)
		for i := range b.progress.Resources {
			if r := &b.progress.Resources[i]; r.State == model.ResourceCreated {
				r.State = model.ResourceKept
			}
		}
	} else {
		cleanupErr = errors.Join(b.intermediate.Compensate(dctx), b.outputs.Compensate(dctx))
	}
	b.progress.Step = model.StepDone
	result := b.result()
	if cancelled {
		// The cloud's record keeps the step it ended in (build list shows it).
		b.report(dctx, activities.UpdateExecutionInput{Status: model.ExecutionCancelled, Step: step, Message: "cancelled " + b.progress.CancelReason})
		b.state.Set(dctx, model.StateAborted)
		b.updateDetails(dctx)
		msg := "build cancelled during " + step
		if b.progress.CancelReason != "" {
			msg += ": " + b.progress.CancelReason
		}
		if cleanupErr != nil {
			msg += "; and some resources could not be released: " + cleanupErr.Error()
		}
		if !b.status.cancelled() {
			return temporal.NewCanceledError(result)
		}
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeBuildCancelled, temporal.ApplicationErrorOptions{
			NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign, Details: []any{result},
		})
	}
	msg := fmt.Sprintf("step %s failed: %s", step, lifecycle.RootMessage(cause))
	if keep && len(result.Kept) > 0 {
		ids := make([]string, len(result.Kept))
		for i, r := range result.Kept {
			ids[i] = r.Kind + " " + r.ID
		}
		msg += "; kept (release on failure is off): " + strings.Join(ids, ", ")
	}
	if cleanupErr != nil {
		msg += "; and some resources could not be released: " + cleanupErr.Error()
	}
	b.report(dctx, activities.UpdateExecutionInput{Status: model.ExecutionFailed, Step: step, Message: msg})
	b.state.Set(dctx, model.StateFailed)
	b.updateDetails(dctx)
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeBuildFailed, cause, result)
}

func (b *build) result() *model.BuildResult {
	r := &model.BuildResult{
		ExecutionID: b.progress.ExecutionID, ImageID: b.progress.ImageID, Images: maps.Clone(b.progress.Images),
		SharedWith: slices.Clone(b.progress.SharedWith), Resources: slices.Clone(b.progress.Resources),
	}
	for _, res := range b.progress.Resources {
		if res.State == model.ResourceKept {
			r.Kept = append(r.Kept, res)
		}
	}
	return r
}
