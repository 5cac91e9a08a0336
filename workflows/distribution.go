package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/fanout"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
	"github.com/imagefleet/imagefleet/workflows/internal/regional"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
)

// DistributeImagePackage publishes a version of an ECS image deployment
// package: it replicates the source image into every selected region at
// once, asks the operator what to do about a region that keeps failing
// (retry-region, drop-region or abort), shares the copies as the package's
// associated services dictate, and publishes the version with its
// region→image mapping, which locks it.
func DistributeImagePackage(ctx workflow.Context, spec model.DistributeSpec) (*model.DistributionResult, error) {
	d := &distribution{spec: spec}
	if err := d.setup(ctx); err != nil {
		return nil, err
	}
	return d.run(ctx)
}

// Error types a distribution fails with.
const (
	ErrTypeAborted  = regional.ErrTypeAborted
	ErrTypeNoRegion = regional.ErrTypeNoRegion
)

var (
	images   *activities.Images
	packages *activities.Packages
)

type distribution struct {
	spec     model.DistributeSpec
	progress model.DistributionProgress
	logger   log.Logger
	saga     saga.Saga
	// tokenKey scopes client tokens to this distribution: stable across
	// worker restarts, retries and resets, new for a new run of the same
	// version (whose old copies an abort deleted).
	tokenKey string

	regions regional.Work
	// newCopy says, per region, whether its next attempt starts a new copy
	// rather than watching one that could not be watched.
	newCopy map[string]bool
	// copyStarted is when each region's current copy was started, for the
	// copy duration metric.
	copyStarted map[string]time.Time
	// leftovers are failed copies whose deletion before a retry failed: the
	// saga deletes them if the run fails, publish if it succeeds.
	leftovers []regionImage
	state     details.State // the ImagefleetState search attribute
	// releaseToken is this run's hold on the version (holdPublication).
	releaseToken string
}

// Change IDs of workflow.GetVersion: behaviour changed after histories of
// earlier versions were recorded.
const (
	// changeReleaseToTheEnd: the release runs to its end after a cancel.
	changeReleaseToTheEnd = "release-to-the-end"
	// changeDeleteLeftoverCopies: publish deletes failed copies whose
	// deletion before a retry failed.
	changeDeleteLeftoverCopies = "delete-leftover-copies"
	// changeAnswerPublished: a run for a published version answers with
	// its result instead of failing on the version's lock.
	changeAnswerPublished = "answer-published"
	// changeDeleteOwnDraft: a failed or aborted run deletes the draft
	// version it created (never one that existed before it).
	changeDeleteOwnDraft = "delete-own-draft"
)

// regionImage is an image in a region.
type regionImage struct{ region, imageID string }

func (d *distribution) setup(ctx workflow.Context) error {
	info := workflow.GetInfo(ctx)
	d.tokenKey = info.WorkflowExecution.ID + "/" + info.FirstRunID
	d.logger = log.With(workflow.GetLogger(ctx), "package", d.spec.Package, "version", d.spec.Version)
	d.progress = model.DistributionProgress{Package: d.spec.Package, Version: d.spec.Version, Phase: model.PhaseValidating}
	d.newCopy = map[string]bool{}
	d.copyStarted = map[string]time.Time{}
	for _, r := range d.spec.Regions {
		d.progress.Regions = append(d.progress.Regions, model.RegionProgress{RegionStatus: model.RegionStatus{Region: r, State: model.RegionPending}})
		d.newCopy[r] = true
	}
	d.regions = d.regionalWork()
	// The query answers from the first workflow task, a refused run included.
	if err := workflow.SetQueryHandlerWithOptions(ctx, model.QueryProgress, func() (model.DistributionProgress, error) {
		return d.progress, nil
	}, workflow.QueryHandlerOptions{Description: "per-region progress of the distribution"}); err != nil {
		return err
	}
	if err := lifecycle.RequireWorkflowID(ctx, model.DistributeWorkflowID(d.spec.Package, d.spec.Version)); err != nil {
		d.progress.Phase, d.progress.Error = model.PhaseFailed, err.Error()
		return err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		model.SAOperation.ValueSet(model.OperationDistribute),
		model.SAPackage.ValueSet(d.spec.Package),
		model.SAVersion.ValueSet(d.spec.Version),
	); err != nil {
		return err
	}
	d.state.Set(ctx, model.StateRunning)
	if err := d.spec.Validate(); err != nil {
		d.progress.Phase, d.progress.Error = model.PhaseFailed, err.Error()
		d.state.Set(ctx, model.StateFailed)
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidSpec, err)
	}
	return d.registerCommands(ctx)
}

func (d *distribution) registerCommands(ctx workflow.Context) error {
	return d.regions.RegisterCommands(ctx, func(command string, err error) {
		d.progress.LastRefusal = command + ": " + err.Error()
		d.logger.Warn("Operator command refused", "command", command, "error", err)
	})
}

// regionalWork is the copy into every region and the operator's decisions
// about the regions, on this distribution's progress.
func (d *distribution) regionalWork() regional.Work {
	return regional.Work{
		Noun:   "distribution",
		Logger: d.logger,
		Status: func(region string) *model.RegionStatus {
			if r := d.progress.Region(region); r != nil {
				return &r.RegionStatus
			}
			return nil
		},
		CanAbort:    d.canAbort,
		Changed:     d.updateDetails,
		Attempt:     d.copyInto,
		BeforeRetry: d.beforeRetry,
	}
}

// canAbort allows an abort until publishing starts.
func (d *distribution) canAbort() error {
	if d.progress.Phase != model.PhaseValidating && d.progress.Phase != model.PhaseReplicating {
		return fmt.Errorf("the distribution is %s: abort applies only before publishing starts", d.progress.Phase)
	}
	return nil
}

func (d *distribution) run(ctx workflow.Context) (*model.DistributionResult, error) {
	if done, err := d.alreadyPublished(ctx); done != nil || err != nil {
		if err != nil {
			return nil, d.fail(ctx, err)
		}
		return done, nil
	}
	artifactID, err := d.prepare(ctx)
	if err == nil {
		d.progress.ArtifactID = artifactID
		d.releaseToken, err = holdPublication(ctx, &d.saga, d.logger, artifactID, d.spec.Version)
	}
	if err == nil {
		err = d.replicate(ctx)
	}
	if err == nil {
		var result *model.DistributionResult
		if result, err = d.publish(ctx); err == nil {
			d.progress.Phase = model.PhasePublished
			d.state.Set(ctx, model.StateSucceeded)
			workflow.SetCurrentDetails(ctx, distributionDetails(&d.progress))
			return result, nil
		}
	}
	return nil, d.fail(ctx, err)
}

// alreadyPublished answers a start of a version that an earlier run
// published (a restart of its canonical workflow ID) with that result, so
// that the run ends Succeeded and changes nothing; a version published from
// another image is refused (VersionLocked). Versioned: earlier runs went
// straight to prepare.
func (d *distribution) alreadyPublished(ctx workflow.Context) (*model.DistributionResult, error) {
	if workflow.GetVersion(ctx, changeAnswerPublished, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil, nil
	}
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	var res *model.DistributionResult
	if err := workflow.ExecuteActivity(actx, packages.FindPublishedImageVersion, d.spec).Get(ctx, &res); err != nil || res == nil {
		return nil, err
	}
	d.progress.ArtifactID, d.progress.Permission, d.progress.Phase = res.ArtifactID, &res.Permission, model.PhasePublished
	for i := range d.progress.Regions {
		r := &d.progress.Regions[i]
		if img, ok := res.ImageIDs[r.Region]; ok {
			r.State, r.ImageID = model.RegionAvailable, img
		} else {
			r.State = model.RegionDropped
		}
	}
	d.logger.Info("Version already published: answering with its result")
	d.state.Set(ctx, model.StateSucceeded)
	workflow.SetCurrentDetails(ctx, distributionDetails(&d.progress))
	return res, nil
}

// prepare checks the source image and creates the draft version. A draft
// this run created is deleted if the run fails (registered first, so it goes
// after the copies and the publication hold); one that existed before the
// run is the user's and stays. Versioned: earlier runs left every draft.
func (d *distribution) prepare(ctx workflow.Context) (string, error) {
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	if err := workflow.ExecuteActivity(actx, images.CheckSourceImage, activities.SourceImageInput{Region: d.spec.SourceRegion, ImageID: d.spec.SourceImage}).Get(ctx, nil); err != nil {
		return "", err
	}
	in := activities.PrepareVersionInput{Spec: d.spec, ClientToken: model.ClientToken(d.tokenKey, "create-version")}
	if workflow.GetVersion(ctx, changeDeleteOwnDraft, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		var artifactID string
		err := workflow.ExecuteActivity(actx, packages.PrepareArtifactVersion, in).Get(ctx, &artifactID)
		return artifactID, err
	}
	var v activities.PreparedVersion
	if err := workflow.ExecuteActivity(actx, packages.PrepareDraftVersion, in).Get(ctx, &v); err != nil {
		return "", err
	}
	if v.Created {
		d.saga.Add("delete draft version "+d.spec.Version, d.deleteDraft)
	}
	return v.ArtifactID, nil
}

// replicate copies the image into every region at once and returns when each
// region is Available or Dropped, or the operator aborts.
func (d *distribution) replicate(ctx workflow.Context) error {
	d.progress.Phase = model.PhaseReplicating
	d.updateDetails(ctx)
	return d.regions.Run(ctx, d.spec.Regions)
}

// beforeRetry prepares a failed region's next attempt. A copy that merely
// could not be watched (an outage, say) may still finish: it is watched
// again rather than copied twice. A failed copy is deleted and replaced.
func (d *distribution) beforeRetry(ctx workflow.Context, region string, failure error) {
	r := d.progress.Region(region)
	d.newCopy[region] = r.ImageID == "" || lifecycle.IsType(failure, activities.ErrTypeCopyFailed)
	if d.newCopy[region] && r.ImageID != "" {
		if err := d.deleteCopy(ctx, region, r.ImageID); err != nil {
			// Logged; tried again at the end (by the saga on failure, by
			// publish on success).
			d.leftovers = append(d.leftovers, regionImage{region: region, imageID: r.ImageID})
		}
		r.ImageID = ""
	}
}

// copyInto starts a copy (unless one is to be watched again) and waits
// until it is Available.
func (d *distribution) copyInto(ctx workflow.Context, region string) error {
	r := d.progress.Region(region)
	if d.newCopy[region] {
		d.copyStarted[region] = workflow.Now(ctx)
		// Started on a disconnected context: an abort must not lose the ID
		// of a copy the cloud has already begun, or compensation would miss it.
		startCtx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		startOpts := shortActivity(d.spec.Attempts())
		startOpts.Summary = "copy " + d.spec.SourceImage + " into " + r.Region
		startCtx = workflow.WithActivityOptions(startCtx, startOpts)
		var imageID string
		err := workflow.ExecuteActivity(startCtx, images.StartImageCopy, activities.StartCopyInput{
			SourceRegion: d.spec.SourceRegion,
			SourceImage:  d.spec.SourceImage,
			Region:       r.Region,
			ImageName:    d.spec.CopyName(),
			Description:  d.spec.Description,
			Tags:         map[string]string{"imagefleet:package": d.spec.Package, "imagefleet:version": d.spec.Version},
			ClientToken:  model.ClientToken(d.tokenKey, "copy", r.Region, fmt.Sprint(len(r.Copies)+1)),
		}).Get(startCtx, &imageID)
		if err != nil {
			return err
		}
		r.ImageID = imageID
		r.Copies = append(r.Copies, imageID)
		d.newCopy[region] = false
		d.saga.Add("delete copy "+imageID+" in "+region, func(ctx workflow.Context) error {
			return d.deleteCopy(ctx, region, imageID)
		})
		d.updateDetails(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:    15 * time.Second,
		WaitForCancellation: true,
		RetryPolicy:         retryPolicy(d.spec.Attempts()),
		Summary:             "wait for " + r.ImageID + " in " + r.Region,
	})
	if err := workflow.ExecuteActivity(actx, images.AwaitImageAvailable, activities.AwaitImageInput{Region: r.Region, ImageID: r.ImageID}).Get(ctx, nil); err != nil {
		return err
	}
	if started, ok := d.copyStarted[region]; ok {
		metrics.ImageCopied(ctx, region, workflow.Now(ctx).Sub(started))
	}
	return nil
}

func (d *distribution) deleteCopy(ctx workflow.Context, region, imageID string) error {
	opts := cleanupActivity()
	opts.Summary = "delete " + imageID + " in " + region
	actx := workflow.WithActivityOptions(ctx, opts)
	err := workflow.ExecuteActivity(actx, images.DeleteImageCopy, activities.DeleteCopyInput{Region: region, ImageID: imageID}).Get(ctx, nil)
	if err != nil {
		d.logger.Error("Could not delete a copy", "region", region, "image", imageID, "error", err)
	}
	return err
}

// publish shares every delivered image and releases the version.
func (d *distribution) publish(ctx workflow.Context) (*model.DistributionResult, error) {
	d.progress.Phase = model.PhaseSharing
	d.updateDetails(ctx)
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	var perm model.Permission
	if err := workflow.ExecuteActivity(actx, packages.ResolvePackagePermission, d.progress.ArtifactID).Get(ctx, &perm); err != nil {
		return nil, err
	}
	d.progress.Permission = &perm
	delivered := d.delivered()
	var shareErrs []error
	fanout.Each(ctx, d.regions.In(d.spec.Regions, model.RegionAvailable), 0, func(ctx workflow.Context, region string) {
		err := workflow.ExecuteActivity(actx, images.ShareImage, activities.ShareImageInput{
			Region: region, ImageID: delivered[region],
			Public: perm.Visibility == model.VisibilityPublic, Accounts: append(slices.Clone(perm.Accounts), d.spec.ShareAccounts...),
			ClientToken: model.ClientToken(d.tokenKey, "share", region),
		}).Get(ctx, nil)
		if err != nil {
			shareErrs = append(shareErrs, fmt.Errorf("share in %s: %w", region, err))
		}
	})
	if err := errors.Join(shareErrs...); err != nil {
		return nil, err
	}
	// Failed copies of dropped regions are not part of the package.
	for _, r := range d.progress.Regions {
		if r.State == model.RegionDropped && r.ImageID != "" {
			_ = d.deleteCopy(ctx, r.Region, r.ImageID) // logged; a leftover does not undo the publish
		}
	}
	// Nor are failed copies that could not be deleted before a retry
	// (versioned: runs before this change did not delete them here).
	if len(d.leftovers) > 0 && workflow.GetVersion(ctx, changeDeleteLeftoverCopies, workflow.DefaultVersion, 1) == 1 {
		for _, c := range d.leftovers {
			_ = d.deleteCopy(ctx, c.region, c.imageID) // logged; a leftover does not undo the publish
		}
		d.leftovers = nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err // cancelled before the release: nothing is published yet
	}
	d.progress.Phase = model.PhasePublishing
	d.updateDetails(ctx)
	// Released on a disconnected context: a cancel must not stop waiting for
	// a release the cloud may already have made, or compensation would
	// delete the copies of a published, locked version. Versioned: a run
	// cancelled during its release before this change asked to cancel it.
	rctx := ctx
	if workflow.GetVersion(ctx, changeReleaseToTheEnd, workflow.DefaultVersion, 1) == 1 {
		var cancel workflow.CancelFunc
		rctx, cancel = workflow.NewDisconnectedContext(ctx)
		defer cancel()
	}
	rctx = workflow.WithActivityOptions(rctx, stepActivity())
	err := workflow.ExecuteActivity(rctx, packages.ReleaseArtifactVersion, activities.ReleaseInput{
		ArtifactID: d.progress.ArtifactID, Version: d.spec.Version, ImageIDs: delivered, Permission: perm,
		ClientToken: model.ClientToken(d.tokenKey, "release"), ReleaseToken: d.releaseToken,
	}).Get(rctx, nil)
	if err != nil {
		return nil, err
	}
	result := &model.DistributionResult{
		Package: d.spec.Package, Version: d.spec.Version, ArtifactID: d.progress.ArtifactID,
		ImageIDs: delivered, Permission: perm,
	}
	for _, r := range d.progress.Regions {
		if r.State == model.RegionDropped {
			result.Dropped = append(result.Dropped, r.Region)
		}
	}
	d.logger.Info("Version published", "regions", len(delivered), "dropped", len(result.Dropped))
	return result, nil
}

// fail deletes every copy made (and the draft version, if this run created
// it) and returns the error the run ends with.
func (d *distribution) fail(ctx workflow.Context, err error) error {
	if d.saga.Len() > 0 {
		d.progress.Phase = model.PhaseCompensating
		d.state.Set(ctx, model.StateCompensating)
		d.logger.Info("Deleting what the run made", "steps", d.saga.Len(), "cause", err)
		if cerr := d.saga.Compensate(ctx); cerr != nil {
			err = fmt.Errorf("%w; and some of what the run made could not be deleted: %v", err, cerr)
		}
		for i := range d.progress.Regions {
			if r := &d.progress.Regions[i]; len(r.Copies) > 0 {
				r.State = model.RegionDeleted
			}
		}
	}
	d.progress.WaitingFor = "" // an ended run waits for nothing
	if d.regions.Aborted() || temporal.IsCanceledError(err) {
		d.progress.Phase = model.PhaseAborted
		d.state.Set(ctx, model.StateAborted)
	} else {
		d.progress.Phase = model.PhaseFailed
		d.state.Set(ctx, model.StateFailed)
	}
	d.progress.Error = err.Error()
	workflow.SetCurrentDetails(ctx, distributionDetails(&d.progress))
	return err
}

// deleteDraft deletes the draft version this run created.
func (d *distribution) deleteDraft(ctx workflow.Context) error {
	opts := cleanupActivity()
	opts.Summary = "delete draft version " + d.spec.Version
	err := deletePackageVersion(workflow.WithActivityOptions(ctx, opts), d.spec.Package, d.spec.Version).Get(ctx, nil)
	if err != nil {
		d.logger.Error("Could not delete the draft version", "error", err)
	}
	return err
}

// deletePackageVersion deletes a package version, published or not: a
// distribution's own draft, a build's package version.
func deletePackageVersion(actx workflow.Context, pkg, version string) workflow.Future {
	return workflow.ExecuteActivity(actx, packages.DeletePackageVersion, activities.PackageVersionInput{Package: pkg, Version: version})
}

// delivered maps every Available region to its image.
func (d *distribution) delivered() map[string]string {
	m := map[string]string{}
	for _, r := range d.progress.Regions {
		if r.State == model.RegionAvailable {
			m[r.Region] = r.ImageID
		}
	}
	return m
}

// updateDetails refreshes what the run shows: the Web UI's current details
// and the coarse state search attribute.
func (d *distribution) updateDetails(ctx workflow.Context) {
	d.progress.WaitingFor = d.regions.WaitingFor(d.spec.Regions)
	state := model.StateRunning
	if d.progress.WaitingFor != "" {
		state = model.StateWaitingForOperator
	}
	d.state.Set(ctx, state)
	workflow.SetCurrentDetails(ctx, distributionDetails(&d.progress))
}

// distributionDetails renders progress as Markdown for the Web UI.
func distributionDetails(p *model.DistributionProgress) string {
	var d details.Doc
	d.Para("**%s %s** — %s", p.Package, p.Version, p.Phase)
	if p.WaitingFor != "" {
		d.Para("⏸ Waiting for %s", p.WaitingFor)
	}
	t := d.Table("region", "state", "image", "attempts", "error")
	for _, r := range p.Regions {
		t.Row(r.Region, r.State, r.ImageID, r.Attempts, r.Error)
	}
	d.StepDeadline(model.StepDeadline)
	return d.String()
}
