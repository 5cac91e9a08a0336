package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// Release takes one image from a build template (or an existing image) to
// fleets (docs/release.md): the image built (an ImageBuild child), the
// package version published to the regions (a DistributeImagePackage
// child), then the stages in order: each stage's groups updated by
// RollingUpdate children (ImageUpdate to the image their region received),
// at most the stage's parallelism at a time, behind the stage's gates
// (approval before it, soak and verification after it).
//
// A group that fails holds its stage until the operator skips it, rolls
// the release back or cancels it; a verification that fails stops
// promotion the same way. The rollback returns every group changed so far
// to the image it had before, stage by stage in reverse order, in parallel
// within a stage, each group once.
func Release(ctx workflow.Context, spec model.ReleaseSpec) (*model.ReleaseProgress, error) {
	return execute[model.ReleaseProgress](ctx, &release{spec: spec})
}

// Error types a release ends with.
const (
	// ErrTypeReleaseCancelled: the operator cancelled the release (cancel);
	// groups already updated stay updated.
	ErrTypeReleaseCancelled = "ReleaseCancelled"
	// ErrTypeReleaseRolledBack: the operator rolled the release back; every
	// group it changed has its previous image again.
	ErrTypeReleaseRolledBack = "ReleaseRolledBack"
	// ErrTypeReleaseRollbackIncomplete: the rollback could not roll back
	// every group (progress names them and what to do).
	ErrTypeReleaseRollbackIncomplete = "ReleaseRollbackIncomplete"
)

type release struct {
	spec   model.ReleaseSpec
	p      model.ReleaseProgress
	logger log.Logger
	state  details.State
	status releaseStatus

	// cancelWork cancels the forward work (children, waits): cancel and
	// rollback call it.
	workCtx    workflow.Context
	cancelWork workflow.CancelFunc
	namespace  string
}

func (r *release) setup(ctx workflow.Context) error {
	r.p = model.NewReleaseProgress(r.spec)
	// The forward work's context exists before the commands that cancel it.
	r.workCtx, r.cancelWork = workflow.WithCancel(ctx)
	r.namespace = workflow.GetInfo(ctx).Namespace
	r.logger = log.With(workflow.GetLogger(ctx), "release", r.spec.Name, "version", r.spec.Version)
	return lifecycle.Start(ctx, &r.state, lifecycle.Setup{
		Queries: []lifecycle.Query{{
			Name:        model.QueryProgress,
			Description: "the release's phase and its stages × groups: state, image, rolling update, waits, approvals",
			Handler:     func() (model.ReleaseProgress, error) { return r.p, nil },
		}},
		WorkflowID: model.ReleaseWorkflowID(r.spec.Name, r.spec.Version),
		SearchAttributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationRelease),
			model.SARelease.ValueSet(model.ReleaseKey(r.spec.Name, r.spec.Version)),
			model.SAPackage.ValueSet(r.spec.Package),
			model.SAVersion.ValueSet(r.spec.Version),
		},
		Validate: r.spec.Validate,
		Refused: func(err error) {
			r.p.Phase = model.ReleaseFailed
			r.p.Error = err.Error()
		},
		Commands: r.registerCommands,
	})
}

func (r *release) run(ctx workflow.Context) (*model.ReleaseProgress, error) {
	err := r.forward(r.workCtx)
	if r.status.rollingBack() {
		err = r.rollBack(ctx)
	}
	return r.end(ctx, err)
}

// forward builds, distributes and runs the stages until the release
// succeeds, fails, is cancelled or is rolled back.
func (r *release) forward(ctx workflow.Context) error {
	image, err := r.sourceImage(ctx)
	if err != nil {
		return err
	}
	if err := r.distribute(ctx, image); err != nil {
		return err
	}
	r.setPhase(ctx, model.ReleasePromoting)
	for i := range r.spec.Stages {
		if err := r.runStage(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// end sets the release's final phase and state and answers it.
func (r *release) end(ctx workflow.Context, err error) (*model.ReleaseProgress, error) {
	cancelled := r.status.cancelled()
	switch {
	case r.status.rollingBack():
		// err is the rollback's: nil when every group was rolled back.
		if err == nil {
			r.p.Phase = model.ReleaseRolledBack
			err = r.stopped("the release was rolled back: "+r.p.RollbackReason, ErrTypeReleaseRolledBack)
			cancelled = true
		} else {
			r.p.Phase = model.ReleaseFailed
		}
	case err == nil:
		r.p.Phase = model.ReleaseSucceeded
	case cancelled:
		r.p.Phase = model.ReleaseAborted
		err = r.stopped("the release was cancelled: "+r.p.CancelReason, ErrTypeReleaseCancelled)
	case temporal.IsCanceledError(err):
		r.p.Phase = model.ReleaseAborted
	default:
		r.p.Phase = model.ReleaseFailed
	}
	r.status.end()
	r.p.WaitingFor, r.p.Resolve = "", ""
	if err != nil {
		r.p.Error = lifecycle.RootMessage(err)
	}
	r.state.Set(ctx, lifecycle.EndState(err, cancelled))
	r.updateDetails(ctx)
	if herr := lifecycle.AwaitHandlers(ctx); herr != nil && err == nil {
		err = herr
	}
	if err != nil {
		return nil, err
	}
	return &r.p, nil
}

// stopped is the error a release the operator stopped ends with: benign
// (an operator's decision, not a fault), with the progress as its details.
func (r *release) stopped(msg, errType string) error {
	return temporal.NewApplicationErrorWithOptions(msg, errType, temporal.ApplicationErrorOptions{
		NonRetryable: true, Category: temporal.ApplicationErrorCategoryBenign, Details: []any{r.p},
	})
}

// setPhase shows the release in phase.
func (r *release) setPhase(ctx workflow.Context, phase string) {
	r.p.Phase = phase
	r.updateDetails(ctx)
}

// sourceImage is the spec's image, or the one an ImageBuild child builds
// from the template.
func (r *release) sourceImage(ctx workflow.Context) (string, error) {
	if img := r.spec.Source.Image; img != nil {
		r.p.SourceImage = img.ImageID
		return img.ImageID, nil
	}
	tpl := *r.spec.Source.Template
	r.p.Build = &model.ChildRun{WorkflowID: model.BuildWorkflowID(tpl.Region, tpl.TemplateID), State: model.StateRunning}
	r.setPhase(ctx, model.ReleaseBuilding)
	var res model.BuildResult
	err := r.child(ctx, r.p.Build, model.BuildWorkflowType, "build "+tpl.TemplateID+" for release "+r.spec.Name, tpl, &res)
	if err == nil && res.ImageID == "" {
		err = errors.New("the build answered no image")
	}
	if err != nil {
		return "", fmt.Errorf("build %s: %w", r.p.Build.WorkflowID, err)
	}
	r.p.SourceImage = res.ImageID
	return res.ImageID, nil
}

// distribute publishes the package version to the regions with a
// DistributeImagePackage child and records the image each region received.
func (r *release) distribute(ctx workflow.Context, image string) error {
	spec := r.spec.Distribution(image)
	r.p.Distribution = &model.ChildRun{WorkflowID: model.DistributeWorkflowID(spec.Package, spec.Version), State: model.StateRunning}
	r.setPhase(ctx, model.ReleaseDistributing)
	var res model.DistributionResult
	if err := r.child(ctx, r.p.Distribution, model.DistributeWorkflowType, "publish "+spec.Package+" "+spec.Version+" for release "+r.spec.Name, spec, &res); err != nil {
		return fmt.Errorf("distribution %s: %w", r.p.Distribution.WorkflowID, err)
	}
	r.p.Images = map[string]string{spec.SourceRegion: image}
	for _, region := range spec.Regions { // the spec's order: deterministic
		if id, ok := res.ImageIDs[region]; ok {
			r.p.Images[region] = id
		}
	}
	return nil
}

// child runs a child workflow under run.WorkflowID and records its run ID
// and end in run. A release that ends for good asks its children to
// cancel (a rolling update then restores its group) rather than have
// them terminated.
func (r *release) child(ctx workflow.Context, run *model.ChildRun, workflowType, summary string, input, result any) error {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          run.WorkflowID,
		WaitForCancellation: true,
		ParentClosePolicy:   parentClosePolicy,
		StaticSummary:       summary,
	})
	f := workflow.ExecuteChildWorkflow(cctx, workflowType, input)
	var exec workflow.Execution
	if err := f.GetChildWorkflowExecution().Get(ctx, &exec); err != nil {
		run.State, run.Error = model.StateFailed, lifecycle.RootMessage(err)
		r.updateDetails(ctx)
		return err
	}
	run.RunID = exec.RunID
	r.updateDetails(ctx)
	err := f.Get(ctx, result)
	run.State = lifecycle.EndState(err, false)
	if err != nil {
		run.Error = lifecycle.RootMessage(err)
	}
	r.updateDetails(ctx)
	return err
}
