package workflows

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// PublishPackageVersion publishes a draft version of a File, AcrImage or
// HelmChart deployment package:
//
//   - File: the file uploaded to the source region's bucket is copied into
//     the bucket of every other region at once; each region's internal
//     download URL is recorded.
//   - AcrImage, HelmChart: the registry is one for all regions; every
//     region's endpoint is asked for the tag pushed into the tenant
//     namespace, and the region's pull address over the internet (the only
//     endpoint that serves pulls) is recorded.
//
// A region whose delivery keeps failing waits for the operator
// (retry-region, drop-region or cancel, as a distribution). Then the version
// is released with the package's permission, derived from its services,
// which locks it. On failure or cancel the file copies made are deleted.
// The contract is in model/packages.go.
//
// It never handles a registry credential: the activities fetch and use
// them (see activities.PackageContent).
func PublishPackageVersion(ctx workflow.Context, spec model.PublishSpec) (*model.PublishResult, error) {
	return execute[model.PublishResult](ctx, &publication{spec: spec})
}

var content *activities.PackageContent

type publication struct {
	regionalRun
	spec     model.PublishSpec
	progress model.PublishProgress
	info     activities.PackageVersionInfo
}

func (p *publication) setup(ctx workflow.Context) error {
	p.progress = model.PublishProgress{Package: p.spec.Package, Version: p.spec.Version, Phase: model.PhaseValidating}
	p.bind(versionLogger(ctx, p.spec.Package, p.spec.Version))
	return p.start(ctx, lifecycle.Query{
		Name:        model.QueryProgress,
		Description: "per-region delivery of the package version",
		Handler:     func() (model.PublishProgress, error) { return p.progress, nil },
	}, model.PublishWorkflowID(p.spec.Package, p.spec.Version), model.OperationPublish, validateOrAnswer(ctx, &p.regionalRun, p, p.spec.Validate))
}

// bind wires the shared regional run to this publication's progress: the
// delivery into every region and the operator's decisions about the regions.
func (p *publication) bind(logger log.Logger) {
	p.regionalRun.bind(regionalBinding{
		noun: "publication", pkg: p.spec.Package, version: p.spec.Version, logger: logger,
		phase: &p.progress.Phase, waitingFor: &p.progress.WaitingFor, lastRefusal: &p.progress.LastRefusal, errText: &p.progress.Error,
		regionNames: func() []string { return p.info.Regions },
		details:     func() string { return publicationDetails(&p.progress) },
		regionStatus: func(region string) *model.RegionStatus {
			if r := p.progress.Region(region); r != nil {
				return &r.RegionStatus
			}
			return nil
		},
		attempt: p.deliverOnce,
		// copyAttempts counts deliveries the cloud refused: each is made
		// again until that many have failed.
		attempts: p.spec.Attempts(),
	})
}

func (p *publication) run(ctx workflow.Context) (*model.PublishResult, error) {
	return runRegional(ctx, &p.regionalRun, p)
}

func (p *publication) findPublished(actx workflow.Context) (res *model.PublishResult, err error) {
	err = workflow.ExecuteActivity(actx, content.FindPublishedContentVersion, activities.LoadVersionInput{Package: p.spec.Package, Version: p.spec.Version}).Get(actx, &res)
	return res, err
}

// findPublishedVersion is findPublished: a publication's lookup needs no
// more than the package and version.
func (p *publication) findPublishedVersion(actx workflow.Context) (*model.PublishResult, error) {
	return p.findPublished(actx)
}

func (p *publication) showPublished(res *model.PublishResult) {
	p.progress.Type, p.progress.ArtifactID, p.progress.Permission = res.Type, res.ArtifactID, &res.Permission
	for _, r := range workflow.DeterministicKeys(res.Delivery) {
		p.progress.Regions = append(p.progress.Regions, model.DeliveryProgress{RegionStatus: model.RegionStatus{Region: r, State: model.RegionAvailable}, Location: res.Delivery[r], Endpoint: res.Endpoint})
	}
}

// prepare loads the draft version: its type, content and regions.
func (p *publication) prepare(ctx workflow.Context) (string, error) {
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	if err := workflow.ExecuteActivity(actx, content.LoadDraftVersion, activities.LoadVersionInput{Package: p.spec.Package, Version: p.spec.Version}).Get(ctx, &p.info); err != nil {
		return "", err
	}
	p.progress.Type, p.progress.ArtifactID = p.info.Type, p.info.ArtifactID
	c := p.info.Content
	p.progress.Content = &c
	for _, r := range p.info.Regions {
		p.progress.Regions = append(p.progress.Regions, model.DeliveryProgress{RegionStatus: model.RegionStatus{Region: r, State: model.RegionPending}})
	}
	return p.info.ArtifactID, nil
}

// deliverOnce makes one attempt to put the content into r's region. Its
// calls retry transient errors (5xx, throttling) until model.StepDeadline:
// they are not the region's attempts, which count what the cloud refused.
func (p *publication) deliverOnce(ctx workflow.Context, region string) error {
	r := p.progress.Region(region)
	c := p.info.Content
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	switch p.info.Type {
	case model.PackageFile:
		r.Endpoint = model.EndpointInternal
		if r.Region == c.Region {
			r.Location = c.URL // the uploaded file is the source region's copy
			return nil
		}
		// Started on a disconnected context (startCopyActivity): a cancel
		// must not lose a copy the cloud has made, or compensation would
		// miss it.
		var fc activities.FileCopy
		err := startCopyActivity(ctx, stepActivity(), content.CopyFileToRegion, activities.CopyFileInput{
			SourceRegion: c.Region, SourceBucket: c.Bucket, Key: c.ObjectKey, Region: r.Region,
			ClientToken: model.ClientToken(p.tokenKey, "copy-file", r.Region, fmt.Sprint(r.Attempts)),
		}, &fc)
		if err != nil {
			return err
		}
		if !r.Copied {
			r.Copied = true
			p.saga.Add("delete file copy in "+region, func(ctx workflow.Context) error {
				actx := workflow.WithActivityOptions(ctx, cleanupActivity())
				err := workflow.ExecuteActivity(actx, content.DeleteFileCopy, activities.DeleteFileInput{Region: region, Bucket: fc.Bucket, Key: fc.Key}).Get(ctx, nil)
				if err != nil {
					p.logger.Error("Could not delete a file copy", "region", region, "error", err)
				}
				return err
			})
		}
		r.Location = fc.URL
		return ctx.Err()
	case model.PackageAcrImage, model.PackageHelmChart:
		var pull activities.RegistryLocation
		err := workflow.ExecuteActivity(actx, content.LocateRegistryTag, activities.RegistryTagInput{
			Region: r.Region, Namespace: c.Namespace, RepoName: c.RepoName, Tag: c.Tag,
		}).Get(ctx, &pull)
		if err != nil {
			return err
		}
		r.Location, r.Endpoint = pull.Address, pull.Endpoint
		return nil
	}
	return temporal.NewNonRetryableApplicationError("package type "+p.info.Type+" cannot be published by "+model.PublishWorkflowType, activities.ErrTypePackageType, nil)
}

// publish resolves the package's permission and releases the version.
func (p *publication) publish(ctx workflow.Context) (*model.PublishResult, error) {
	p.status.publishing()
	p.updateDetails(ctx)
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	var perm model.Permission
	if err := workflow.ExecuteActivity(actx, packages.ResolvePackagePermission, p.info.ArtifactID).Get(ctx, &perm); err != nil {
		return nil, err
	}
	p.progress.Permission = &perm
	delivered := p.delivered(func(region string) string { return p.progress.Region(region).Location })
	if err := ctx.Err(); err != nil {
		return nil, err // cancelled before the release: nothing is published yet
	}
	rctx, cancel := releaseContext(ctx)
	defer cancel()
	err := workflow.ExecuteActivity(rctx, content.ReleaseContentVersion, activities.ReleaseContentInput{
		ArtifactID: p.info.ArtifactID, Version: p.spec.Version, Delivery: delivered, Permission: perm,
		ClientToken: model.ClientToken(p.tokenKey, "release"), ReleaseToken: p.releaseToken,
	}).Get(rctx, nil)
	if err != nil {
		return nil, err
	}
	endpoint := model.EndpointInternet
	if p.info.Type == model.PackageFile {
		endpoint = model.EndpointInternal
	}
	result := &model.PublishResult{
		Package: p.spec.Package, Version: p.spec.Version, Type: p.info.Type, ArtifactID: p.info.ArtifactID,
		Delivery: delivered, Endpoint: endpoint, Permission: perm, Dropped: p.dropped(),
	}
	p.logger.Info("Version published", "type", p.info.Type, "regions", len(delivered), "dropped", len(result.Dropped))
	return result, nil
}

// copiesDeleted marks every region a file was copied into: compensation
// deleted the copies.
func (p *publication) copiesDeleted() {
	for i := range p.progress.Regions {
		if r := &p.progress.Regions[i]; r.Copied {
			r.State = model.RegionDeleted
		}
	}
}

// publicationDetails renders progress as Markdown for the Web UI.
func publicationDetails(p *model.PublishProgress) string {
	var d details.Doc
	d.Para("**%s %s** (%s) — %s", p.Package, p.Version, p.Type, p.Phase)
	if p.WaitingFor != "" {
		d.Para("⏸ Waiting for %s", p.WaitingFor)
	}
	t := d.Table("region", "state", "location", "endpoint", "attempts", "error")
	for _, r := range p.Regions {
		t.Row(r.Region, r.State, r.Location, r.Endpoint, r.Attempts, r.Error)
	}
	d.StepDeadline(model.StepDeadline)
	return d.String()
}
