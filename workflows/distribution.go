package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/fanout"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// DistributeImagePackage publishes a version of an ECS image deployment
// package: it replicates the source image into every selected region at
// once, asks the operator what to do about a region that keeps failing
// (retry-region, drop-region or cancel; abort is cancel's deprecated
// alias), shares the copies as the package's associated services dictate,
// and publishes the version with its region→image mapping, which locks it.
// The contract is in model/distribution.go.
func DistributeImagePackage(ctx workflow.Context, spec model.DistributeSpec) (*model.DistributionResult, error) {
	return execute[model.DistributionResult](ctx, &distribution{spec: spec})
}

// Error types a distribution or a publication fails with (the contract is
// model's; the names here are kept for the code that used them).
const (
	ErrTypeAborted  = model.ErrTypeAborted
	ErrTypeNoRegion = model.ErrTypeNoRegion
)

var (
	images   *activities.Images
	packages *activities.Packages
)

type distribution struct {
	regionalRun
	spec     model.DistributeSpec
	progress model.DistributionProgress
	// newCopy says, per region, whether its next attempt starts a new copy
	// rather than watching one that could not be watched.
	newCopy map[string]bool
	// copyStarted is when each region's current copy was started, for the
	// copy duration metric.
	copyStarted map[string]time.Time
	// leftovers are failed copies whose deletion before a retry failed: the
	// saga deletes them if the run fails, publish if it succeeds.
	leftovers []regionImage
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
	// changeDeleteOwnDraft: a failed or cancelled run deletes the draft
	// version it created (never one that existed before it).
	changeDeleteOwnDraft = "delete-own-draft"
)

// regionImage is an image in a region.
type regionImage struct{ region, imageID string }

func (d *distribution) setup(ctx workflow.Context) error {
	d.progress = model.DistributionProgress{Package: d.spec.Package, Version: d.spec.Version, Phase: model.PhaseValidating}
	d.newCopy = map[string]bool{}
	d.copyStarted = map[string]time.Time{}
	for _, r := range d.spec.Regions {
		d.progress.Regions = append(d.progress.Regions, model.RegionProgress{RegionStatus: model.RegionStatus{Region: r, State: model.RegionPending}})
		d.newCopy[r] = true
	}
	d.bind(versionLogger(ctx, d.spec.Package, d.spec.Version))
	return d.start(ctx, lifecycle.Query{
		Name:        model.QueryProgress,
		Description: "per-region progress of the distribution",
		Handler:     func() (model.DistributionProgress, error) { return d.progress, nil },
	}, model.DistributeWorkflowID(d.spec.Package, d.spec.Version), model.OperationDistribute, validateOrAnswer(ctx, &d.regionalRun, d, d.spec.Validate))
}

// bind wires the shared regional run to this distribution's progress: the
// copy into every region and the operator's decisions about the regions.
func (d *distribution) bind(logger log.Logger) {
	d.regionalRun.bind(regionalBinding{
		noun: "distribution", pkg: d.spec.Package, version: d.spec.Version, logger: logger,
		phase: &d.progress.Phase, waitingFor: &d.progress.WaitingFor, lastRefusal: &d.progress.LastRefusal, errText: &d.progress.Error,
		regionNames: func() []string { return d.spec.Regions },
		details:     func() string { return distributionDetails(&d.progress) },
		regionStatus: func(region string) *model.RegionStatus {
			if r := d.progress.Region(region); r != nil {
				return &r.RegionStatus
			}
			return nil
		},
		attempt:     d.copyInto,
		beforeRetry: d.beforeRetry,
		// copyAttempts counts copies that fail in the cloud (CreateFailed):
		// each is replaced by a new copy until that many have failed.
		attempts: d.spec.Attempts(),
		counts:   func(err error) bool { return lifecycle.IsType(err, activities.ErrTypeCopyFailed) },
	})
}

func (d *distribution) run(ctx workflow.Context) (*model.DistributionResult, error) {
	return runRegional(ctx, &d.regionalRun, d)
}

func (d *distribution) findPublished(actx workflow.Context) (res *model.DistributionResult, err error) {
	err = workflow.ExecuteActivity(actx, packages.FindPublishedImageVersion, d.spec).Get(actx, &res)
	return res, err
}

func (d *distribution) findPublishedVersion(actx workflow.Context) (res *model.DistributionResult, err error) {
	err = workflow.ExecuteActivity(actx, packages.FindPublishedVersion, activities.PackageVersionInput{Package: d.spec.Package, Version: d.spec.Version}).Get(actx, &res)
	return res, err
}

// showPublished shows the publication: its regions with their images, and
// those it dropped, whatever regions this start asked for; regions asked
// for that the version lacks are named as refused.
func (d *distribution) showPublished(res *model.DistributionResult) {
	d.progress.ArtifactID, d.progress.Permission = res.ArtifactID, &res.Permission
	var lacking []string
	for _, r := range d.spec.Regions {
		if _, ok := res.ImageIDs[r]; !ok && !slices.Contains(res.Dropped, r) {
			lacking = append(lacking, r)
		}
	}
	d.progress.Regions = nil
	for _, r := range workflow.DeterministicKeys(res.ImageIDs) {
		d.progress.Regions = append(d.progress.Regions, model.RegionProgress{RegionStatus: model.RegionStatus{Region: r, State: model.RegionAvailable}, ImageID: res.ImageIDs[r]})
	}
	for _, r := range res.Dropped {
		d.progress.Regions = append(d.progress.Regions, model.RegionProgress{RegionStatus: model.RegionStatus{Region: r, State: model.RegionDropped}})
	}
	if len(lacking) > 0 {
		d.progress.LastRefusal = fmt.Sprintf("start: version %s is published without %s (its publication is shown); publish a new version for them",
			d.spec.Version, strings.Join(lacking, ", "))
	}
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
		err := workflow.ExecuteActivity(actx, packages.PrepareArtifactVersion, in).Get(ctx, &d.progress.ArtifactID)
		return d.progress.ArtifactID, err
	}
	var v activities.PreparedVersion
	if err := workflow.ExecuteActivity(actx, packages.PrepareDraftVersion, in).Get(ctx, &v); err != nil {
		return "", err
	}
	if v.Created {
		d.saga.Add("delete draft version "+d.spec.Version, d.deleteDraft)
	}
	d.progress.ArtifactID = v.ArtifactID
	return v.ArtifactID, nil
}

// publish shares every delivered image and releases the version.
func (d *distribution) publish(ctx workflow.Context) (*model.DistributionResult, error) {
	d.status.sharing()
	d.updateDetails(ctx)
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	var perm model.Permission
	if err := workflow.ExecuteActivity(actx, packages.ResolvePackagePermission, d.progress.ArtifactID).Get(ctx, &perm); err != nil {
		return nil, err
	}
	d.progress.Permission = &perm
	delivered := d.delivered(func(region string) string { return d.progress.Region(region).ImageID })
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
	d.deleteFailedCopies(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err // cancelled before the release: nothing is published yet
	}
	d.status.publishing()
	d.updateDetails(ctx)
	rctx, cancel := releaseContext(ctx)
	defer cancel()
	err := workflow.ExecuteActivity(rctx, packages.ReleaseArtifactVersion, activities.ReleaseInput{
		ArtifactID: d.progress.ArtifactID, Version: d.spec.Version, ImageIDs: delivered, Permission: perm,
		ClientToken: model.ClientToken(d.tokenKey, "release"), ReleaseToken: d.releaseToken,
	}).Get(rctx, nil)
	if err != nil {
		return nil, err
	}
	result := &model.DistributionResult{
		Package: d.spec.Package, Version: d.spec.Version, ArtifactID: d.progress.ArtifactID,
		ImageIDs: delivered, Permission: perm, Dropped: d.dropped(),
	}
	d.logger.Info("Version published", "regions", len(delivered), "dropped", len(result.Dropped))
	return result, nil
}

// copiesDeleted marks every region a copy was made in: compensation deleted
// them.
func (d *distribution) copiesDeleted() {
	for i := range d.progress.Regions {
		if r := &d.progress.Regions[i]; len(r.Copies) > 0 {
			r.State = model.RegionDeleted
		}
	}
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
