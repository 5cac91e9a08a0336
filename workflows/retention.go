package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/fanout"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/operator"
)

// ImageRetention applies a package's lifecycle rule (model/retention.go,
// docs/retention.md): it reads the package's published versions and what
// uses their copies, plans what to keep, deprecate and delete, and, unless
// the run is dry, carries the plan out: deprecations first, then the
// deletions, each version's copies in every region at once. Every cloud
// call carries a client token made of the package, version, region and
// image (a business key, not the run), so a retried, replayed or repeated
// deletion is made once. A copy the cloud refuses to delete because
// something uses it now stays, and the run says so.
func ImageRetention(ctx workflow.Context, spec model.RetentionSpec) (*model.RetentionResult, error) {
	return execute[model.RetentionResult](ctx, &imageRetention{spec: spec})
}

var retention *activities.Retention

type imageRetention struct {
	spec     model.RetentionSpec
	times    model.RetentionTimes
	progress model.RetentionProgress
	state    details.State
	logger   log.Logger

	cancelled    bool
	cancelReason string
}

func (r *imageRetention) setup(ctx workflow.Context) error {
	rule := r.spec.Rule
	r.logger = log.With(workflow.GetLogger(ctx), "subject", rule.Subject())
	r.progress = model.RetentionProgress{Package: rule.Package, BuildTemplate: rule.BuildTemplate, Region: rule.Region,
		Rule: rule.Hash(), Phase: model.RetentionPhasePlanning}
	key := model.SAPackage.ValueSet(rule.Package)
	if rule.BuildTemplate != "" {
		key = model.SATemplate.ValueSet(rule.BuildTemplate)
	}
	return lifecycle.Start(ctx, &r.state, lifecycle.Setup{
		Queries: []lifecycle.Query{{
			Name:        model.QueryProgress,
			Description: "the lifecycle run's plan and what it has done, per version and region",
			Handler:     func() (model.RetentionProgress, error) { return r.progress, nil },
		}},
		WorkflowID: rule.WorkflowID(),
		SearchAttributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationRetention),
			key,
			model.SARetentionRule.ValueSet(rule.Hash()),
		},
		Validate: func() error {
			var err error
			r.times, err = rule.Times()
			return err
		},
		Refused: func(err error) { r.progress.Error = err.Error() },
		Commands: func(ctx workflow.Context) error {
			return operator.Register(ctx, operator.Command[model.CancelCommand]{
				Name: model.CommandCancel,
				Validate: func(model.CancelCommand) error {
					switch {
					case r.cancelled:
						return errors.New("the run is already cancelled")
					case r.progress.Phase == model.RetentionPhaseDone || r.progress.Phase == model.RetentionPhaseAborted:
						return fmt.Errorf("the run is %s: nothing left to cancel", r.progress.Phase)
					}
					return nil
				},
				Apply: func(c model.CancelCommand) { r.cancelled, r.cancelReason = true, c.Reason },
			}, operator.RecordRefusal(&r.progress.LastRefusal, r.logger))
		},
	})
}

func (r *imageRetention) run(ctx workflow.Context) (*model.RetentionResult, error) {
	res, err := r.apply(ctx)
	state := lifecycle.EndState(err, r.cancelled)
	switch {
	case err == nil:
		r.progress.Phase = model.RetentionPhaseDone
	case state == model.StateAborted:
		r.progress.Phase, r.progress.Error = model.RetentionPhaseAborted, err.Error()
	default:
		r.progress.Error = lifecycle.RootMessage(err)
	}
	r.state.Set(ctx, state)
	r.updateDetails(ctx)
	if herr := lifecycle.AwaitHandlers(ctx); herr != nil && err == nil {
		return nil, herr
	}
	return res, err
}

func (r *imageRetention) apply(ctx workflow.Context) (*model.RetentionResult, error) {
	rule := r.spec.Rule
	r.updateDetails(ctx)
	var facts activities.RetentionFacts
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, stepActivity()), retention.RetentionFacts,
		activities.RetentionFactsInput{Rule: rule}).Get(ctx, &facts); err != nil {
		return nil, err
	}
	r.progress.Versions = planRetention(rule, r.times, facts, workflow.Now(ctx))
	switch {
	case r.spec.DryRun != nil && *r.spec.DryRun:
		r.progress.DryRun, r.progress.DryRunWhy = true, "asked for (dryRun: true)"
	case r.spec.DryRun == nil && !facts.RuleRanBefore:
		r.progress.DryRun, r.progress.DryRunWhy = true, "the first run of this rule on the "+rule.Subject()+": it only lists what it would do; run it again (or with dryRun: false) to apply it"
	}
	if r.progress.DryRun {
		return r.result(), nil
	}
	r.progress.Phase = model.RetentionPhaseApplying
	r.updateDetails(ctx)
	opts := workflow.WithActivityOptions(ctx, stepActivity())
	// Oldest first: the versions that have waited longest go first.
	for i := len(r.progress.Versions) - 1; i >= 0; i-- {
		if err := r.stopped(ctx); err != nil {
			return r.result(), err
		}
		v := &r.progress.Versions[i]
		if v.Action != model.RetentionDeprecate && v.Action != model.RetentionDelete {
			continue
		}
		if rule.BuildTemplate != "" {
			r.deleteBuildImage(ctx, v)
			r.updateDetails(ctx)
			continue
		}
		in := activities.RetentionVersionInput{ArtifactID: facts.ArtifactID, Package: rule.Package, Version: v.Version}
		if !v.Deprecated {
			in.ClientToken = model.ClientToken("retention", rule.Package, v.Version, "deprecate")
			var since time.Time
			if err := workflow.ExecuteActivity(opts, retention.DeprecateVersion, in).Get(ctx, &since); err != nil {
				return r.failed(ctx, v, err)
			}
			v.Deprecated, v.DeleteAfter = true, since.Add(r.times.GracePeriod)
			if v.Action == model.RetentionDeprecate {
				v.State = model.RetentionDone
				r.updateDetails(ctx)
				continue
			}
		}
		if err := r.deleteVersion(ctx, opts, in, v); err != nil {
			return r.failed(ctx, v, err)
		}
		r.updateDetails(ctx)
	}
	return r.result(), nil
}

// deleteVersion deletes a deprecated version's copies in every region at
// once, then the version, unless a copy stays because it is in use.
func (r *imageRetention) deleteVersion(ctx, opts workflow.Context, in activities.RetentionVersionInput, v *model.RetentionVersion) error {
	var firstErr error
	fanout.Each(ctx, indexes(len(v.Regions)), 0, func(ctx workflow.Context, j int) {
		reg := &v.Regions[j]
		copyIn := activities.DeleteCopyOfVersionInput{RetentionVersionInput: in, Region: reg.Region}
		copyIn.ClientToken = model.ClientToken("retention", in.Package, in.Version, reg.Region, reg.ImageID, "delete")
		var out activities.DeletedCopy
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, stepActivity()), retention.DeleteVersionCopy, copyIn).Get(ctx, &out)
		switch {
		case err != nil:
			reg.State, reg.Error = model.RetentionFailed, lifecycle.RootMessage(err)
			if firstErr == nil {
				firstErr = err
			}
		case out.InUse != "":
			reg.State, reg.UsedBy = model.RetentionKept, append(reg.UsedBy, out.InUse)
		default:
			reg.State = model.RetentionDone
			if out.SizeGiB > 0 {
				reg.SizeGiB = out.SizeGiB
			}
		}
		r.updateDetails(ctx)
	})
	if firstErr != nil {
		return firstErr
	}
	for _, reg := range v.Regions {
		if reg.State == model.RetentionKept {
			v.State, v.Reason = model.RetentionKept, v.Reason+"; kept: a copy came into use since the plan (the cloud refused its deletion), the version stays deprecated"
			return nil
		}
	}
	if err := workflow.ExecuteActivity(opts, retention.DeleteRetiredVersion, in).Get(ctx, nil); err != nil {
		return err
	}
	v.State = model.RetentionDone
	return nil
}

// deleteBuildImage deletes the image a build made (its one region); an
// image that came into use since the plan stays, with the cloud's reason.
func (r *imageRetention) deleteBuildImage(ctx workflow.Context, v *model.RetentionVersion) {
	for i := range v.Regions {
		reg := &v.Regions[i]
		in := activities.DeleteBuildImageInput{Region: reg.Region, ImageID: reg.ImageID,
			ClientToken: model.ClientToken("retention", "build", r.spec.Rule.Region, r.spec.Rule.BuildTemplate, v.Version, reg.ImageID, "delete")}
		var out activities.DeletedCopy
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, stepActivity()), retention.DeleteBuildImage, in).Get(ctx, &out)
		switch {
		case err != nil:
			reg.State, reg.Error = model.RetentionFailed, lifecycle.RootMessage(err)
			v.State, v.Error = model.RetentionFailed, reg.Error
		case out.InUse != "":
			reg.State, reg.UsedBy = model.RetentionKept, append(reg.UsedBy, out.InUse)
			v.State, v.Reason = model.RetentionKept, v.Reason+"; kept: the image came into use since the plan (the cloud refused its deletion)"
		default:
			reg.State, v.State = model.RetentionDone, model.RetentionDone
			if out.SizeGiB > 0 {
				reg.SizeGiB = out.SizeGiB
			}
		}
	}
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// stopped says whether the operator or Temporal cancelled the run: it
// then does nothing more (what it did stays done).
func (r *imageRetention) stopped(ctx workflow.Context) error {
	switch {
	case r.cancelled:
		return temporal.NewNonRetryableApplicationError("lifecycle run cancelled by the operator: "+r.cancelReason, model.ErrTypeAborted, nil)
	case ctx.Err() != nil:
		return temporal.NewCanceledError("lifecycle run cancelled")
	}
	return nil
}

func (r *imageRetention) failed(ctx workflow.Context, v *model.RetentionVersion, err error) (*model.RetentionResult, error) {
	v.State, v.Error = model.RetentionFailed, lifecycle.RootMessage(err)
	return r.result(), err
}

// result totals the progress.
func (r *imageRetention) result() *model.RetentionResult {
	res := &model.RetentionResult{Package: r.progress.Package, BuildTemplate: r.progress.BuildTemplate, DryRun: r.progress.DryRun, DryRunWhy: r.progress.DryRunWhy,
		Versions: r.progress.Versions, WorkflowID: r.spec.Rule.WorkflowID()}
	for _, v := range r.progress.Versions {
		done := r.progress.DryRun || v.State == model.RetentionDone
		switch {
		case v.Action == model.RetentionKeep || v.Action == model.RetentionWait || v.State == model.RetentionKept:
			res.Kept++
		case v.Action == model.RetentionDelete && done:
			res.Deleted++
		}
		if v.DeprecatedByRun && (r.progress.DryRun || v.Deprecated) {
			res.Deprecated++
		}
		for _, reg := range v.Regions {
			if reg.State == model.RetentionDone || (r.progress.DryRun && reg.State == model.RetentionPlanned) {
				res.CopiesDeleted++
				res.FreedGiB += reg.SizeGiB
			}
		}
	}
	return res
}
