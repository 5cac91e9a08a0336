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
	"github.com/imagefleet/imagefleet/workflows/internal/regional"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
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
// (retry-region, drop-region or abort, as a distribution). Then the version
// is released with the package's permission, derived from its services,
// which locks it. On failure or abort the file copies made are deleted.
//
// It never handles a registry credential: the activities fetch and use
// them (see activities.PackageContent).
func PublishPackageVersion(ctx workflow.Context, spec model.PublishSpec) (*model.PublishResult, error) {
	p := &publication{spec: spec}
	if err := p.setup(ctx); err != nil {
		return nil, err
	}
	return p.run(ctx)
}

var content *activities.PackageContent

type publication struct {
	spec     model.PublishSpec
	progress model.PublishProgress
	info     activities.PackageVersionInfo
	logger   log.Logger
	saga     saga.Saga
	regions  regional.Work
	tokenKey string
	state    details.State // the ImagefleetState search attribute
	// releaseToken is this run's hold on the version (holdPublication).
	releaseToken string
}

func (p *publication) setup(ctx workflow.Context) error {
	info := workflow.GetInfo(ctx)
	p.tokenKey = info.WorkflowExecution.ID + "/" + info.FirstRunID
	p.logger = log.With(workflow.GetLogger(ctx), "package", p.spec.Package, "version", p.spec.Version)
	p.progress = model.PublishProgress{Package: p.spec.Package, Version: p.spec.Version, Phase: model.PhaseValidating}
	p.regions = p.regionalWork()
	// The query answers from the first workflow task, a refused run included.
	if err := workflow.SetQueryHandlerWithOptions(ctx, model.QueryProgress, func() (model.PublishProgress, error) {
		return p.progress, nil
	}, workflow.QueryHandlerOptions{Description: "per-region delivery of the package version"}); err != nil {
		return err
	}
	if err := lifecycle.RequireWorkflowID(ctx, model.PublishWorkflowID(p.spec.Package, p.spec.Version)); err != nil {
		p.progress.Phase, p.progress.Error = model.PhaseFailed, err.Error()
		return err
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		model.SAOperation.ValueSet(model.OperationPublish),
		model.SAPackage.ValueSet(p.spec.Package),
		model.SAVersion.ValueSet(p.spec.Version),
	); err != nil {
		return err
	}
	p.state.Set(ctx, model.StateRunning)
	if err := p.spec.Validate(); err != nil {
		p.progress.Phase, p.progress.Error = model.PhaseFailed, err.Error()
		p.state.Set(ctx, model.StateFailed)
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidSpec, err)
	}
	return p.regions.RegisterCommands(ctx, func(command string, err error) {
		p.progress.LastRefusal = command + ": " + err.Error()
		p.logger.Warn("Operator command refused", "command", command, "error", err)
	})
}

// regionalWork is the delivery into every region and the operator's
// decisions about the regions, on this publication's progress.
func (p *publication) regionalWork() regional.Work {
	return regional.Work{
		Noun:   "publication",
		Logger: p.logger,
		Status: func(region string) *model.RegionStatus {
			if r := p.progress.Region(region); r != nil {
				return &r.RegionStatus
			}
			return nil
		},
		CanAbort: p.canAbort,
		Changed:  p.updateDetails,
		Attempt:  p.deliverOnce,
	}
}

// canAbort allows an abort until the release starts.
func (p *publication) canAbort() error {
	if p.progress.Phase != model.PhaseValidating && p.progress.Phase != model.PhaseReplicating {
		return fmt.Errorf("the publication is %s: abort applies only before publishing starts", p.progress.Phase)
	}
	return nil
}

func (p *publication) run(ctx workflow.Context) (*model.PublishResult, error) {
	if done, err := p.alreadyPublished(ctx); done != nil || err != nil {
		if err != nil {
			return nil, p.fail(ctx, err)
		}
		return done, nil
	}
	err := p.load(ctx)
	if err == nil {
		p.releaseToken, err = holdPublication(ctx, &p.saga, p.logger, p.info.ArtifactID, p.spec.Version)
	}
	if err == nil {
		err = p.deliver(ctx)
	}
	if err == nil {
		var result *model.PublishResult
		if result, err = p.release(ctx); err == nil {
			p.progress.Phase = model.PhasePublished
			p.state.Set(ctx, model.StateSucceeded)
			p.updateDetails(ctx)
			return result, nil
		}
	}
	return nil, p.fail(ctx, err)
}

// alreadyPublished answers a start of a version an earlier run published
// (a restart of its canonical workflow ID) with that result: the run ends
// Succeeded and changes nothing. Versioned: earlier runs went straight to
// load, which refuses a published version.
func (p *publication) alreadyPublished(ctx workflow.Context) (*model.PublishResult, error) {
	if workflow.GetVersion(ctx, changeAnswerPublished, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil, nil
	}
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	var res *model.PublishResult
	err := workflow.ExecuteActivity(actx, content.FindPublishedContentVersion, activities.LoadVersionInput{Package: p.spec.Package, Version: p.spec.Version}).Get(ctx, &res)
	if err != nil || res == nil {
		return nil, err
	}
	p.progress.Type, p.progress.ArtifactID, p.progress.Permission, p.progress.Phase = res.Type, res.ArtifactID, &res.Permission, model.PhasePublished
	for _, r := range workflow.DeterministicKeys(res.Delivery) {
		p.progress.Regions = append(p.progress.Regions, model.DeliveryProgress{RegionStatus: model.RegionStatus{Region: r, State: model.RegionAvailable}, Location: res.Delivery[r], Endpoint: res.Endpoint})
	}
	p.logger.Info("Version already published: answering with its result")
	p.state.Set(ctx, model.StateSucceeded)
	p.updateDetails(ctx)
	return res, nil
}

// load reads the draft version: its type, content and regions.
func (p *publication) load(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	if err := workflow.ExecuteActivity(actx, content.LoadDraftVersion, activities.LoadVersionInput{Package: p.spec.Package, Version: p.spec.Version}).Get(ctx, &p.info); err != nil {
		return err
	}
	p.progress.Type, p.progress.ArtifactID = p.info.Type, p.info.ArtifactID
	c := p.info.Content
	p.progress.Content = &c
	for _, r := range p.info.Regions {
		p.progress.Regions = append(p.progress.Regions, model.DeliveryProgress{RegionStatus: model.RegionStatus{Region: r, State: model.RegionPending}})
	}
	return nil
}

// deliver puts the content into every region at once and returns when each
// region is Available or Dropped, or the operator aborts.
func (p *publication) deliver(ctx workflow.Context) error {
	p.progress.Phase = model.PhaseReplicating
	p.updateDetails(ctx)
	return p.regions.Run(ctx, p.info.Regions)
}

// deliverOnce makes one attempt (each with its activity retries) to put the
// content into r's region.
func (p *publication) deliverOnce(ctx workflow.Context, region string) error {
	r := p.progress.Region(region)
	c := p.info.Content
	actx := workflow.WithActivityOptions(ctx, shortActivity(p.spec.Attempts()))
	switch p.info.Type {
	case model.PackageFile:
		r.Endpoint = model.EndpointInternal
		if r.Region == c.Region {
			r.Location = c.URL // the uploaded file is the source region's copy
			return nil
		}
		// Started on a disconnected context: an abort must not lose a copy
		// the cloud has made, or compensation would miss it.
		startCtx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		startCtx = workflow.WithActivityOptions(startCtx, shortActivity(p.spec.Attempts()))
		var fc activities.FileCopy
		err := workflow.ExecuteActivity(startCtx, content.CopyFileToRegion, activities.CopyFileInput{
			SourceRegion: c.Region, SourceBucket: c.Bucket, Key: c.ObjectKey, Region: r.Region,
			ClientToken: model.ClientToken(p.tokenKey, "copy-file", r.Region, fmt.Sprint(r.Attempts)),
		}).Get(startCtx, &fc)
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

// release resolves the package's permission and releases the version.
func (p *publication) release(ctx workflow.Context) (*model.PublishResult, error) {
	p.progress.Phase = model.PhasePublishing
	p.updateDetails(ctx)
	actx := workflow.WithActivityOptions(ctx, stepActivity())
	var perm model.Permission
	if err := workflow.ExecuteActivity(actx, packages.ResolvePackagePermission, p.info.ArtifactID).Get(ctx, &perm); err != nil {
		return nil, err
	}
	p.progress.Permission = &perm
	delivered := p.delivered()
	if err := ctx.Err(); err != nil {
		return nil, err // cancelled before the release: nothing is published yet
	}
	// Released on a disconnected context: a cancel must not stop waiting for
	// a release the cloud may already have made, or compensation would
	// delete the file copies of a published, locked version. Versioned: a
	// run cancelled during its release before this change asked to cancel it.
	rctx := ctx
	if workflow.GetVersion(ctx, changeReleaseToTheEnd, workflow.DefaultVersion, 1) == 1 {
		var cancel workflow.CancelFunc
		rctx, cancel = workflow.NewDisconnectedContext(ctx)
		defer cancel()
	}
	rctx = workflow.WithActivityOptions(rctx, stepActivity())
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
		Delivery: delivered, Endpoint: endpoint, Permission: perm,
	}
	for _, r := range p.progress.Regions {
		if r.State == model.RegionDropped {
			result.Dropped = append(result.Dropped, r.Region)
		}
	}
	p.logger.Info("Version published", "type", p.info.Type, "regions", len(delivered), "dropped", len(result.Dropped))
	return result, nil
}

// fail deletes every copy made and returns the error the run ends with.
func (p *publication) fail(ctx workflow.Context, err error) error {
	if p.saga.Len() > 0 {
		p.progress.Phase = model.PhaseCompensating
		p.state.Set(ctx, model.StateCompensating)
		p.logger.Info("Deleting the copies made", "copies", p.saga.Len(), "cause", err)
		if cerr := p.saga.Compensate(ctx); cerr != nil {
			err = fmt.Errorf("%w; and some copies could not be deleted: %v", err, cerr)
		}
		for i := range p.progress.Regions {
			if r := &p.progress.Regions[i]; r.Copied {
				r.State = model.RegionDeleted
			}
		}
	}
	p.progress.WaitingFor = "" // an ended run waits for nothing
	if p.regions.Aborted() || temporal.IsCanceledError(err) {
		p.progress.Phase = model.PhaseAborted
		p.state.Set(ctx, model.StateAborted)
	} else {
		p.progress.Phase = model.PhaseFailed
		p.state.Set(ctx, model.StateFailed)
	}
	p.progress.Error = err.Error()
	p.updateDetails(ctx)
	return err
}

func (p *publication) delivered() map[string]string {
	m := map[string]string{}
	for _, r := range p.progress.Regions {
		if r.State == model.RegionAvailable {
			m[r.Region] = r.Location
		}
	}
	return m
}

// updateDetails refreshes what the run shows: the Web UI's current details
// and, while it runs, the coarse state search attribute.
func (p *publication) updateDetails(ctx workflow.Context) {
	p.progress.WaitingFor = p.regions.WaitingFor(p.info.Regions)
	if p.state.Current() == model.StateRunning || p.state.Current() == model.StateWaitingForOperator {
		state := model.StateRunning
		if p.progress.WaitingFor != "" {
			state = model.StateWaitingForOperator
		}
		p.state.Set(ctx, state)
	}
	workflow.SetCurrentDetails(ctx, publicationDetails(&p.progress))
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
