package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

var nonPackageChars = regexp.MustCompile(`[^A-Za-z0-9_]`)

// distributionPackage names the Compute Nest package and version the
// distribution child publishes: build_<template name> and the execution ID.
func (b *build) distributionPackage() (pkg, version string) {
	pkg = "build_" + nonPackageChars.ReplaceAllString(b.tpl.Name, "_")
	if len(pkg) > 128 {
		pkg = pkg[:128]
	}
	return pkg, nonPackageChars.ReplaceAllString(b.progress.ExecutionID, "_")
}

// distribute copies the image into the template's other regions with a
// DistributeImagePackage child workflow.
func (b *build) distribute(ctx workflow.Context) error {
	region := b.tpl.Region
	b.progress.Images = map[string]string{region: b.progress.ImageID}
	var others []string
	for _, r := range b.tpl.Regions {
		if r != region {
			others = append(others, r)
		}
	}
	if len(others) == 0 {
		return nil
	}
	pkg, version := b.distributionPackage()
	spec := model.DistributeSpec{
		Package: pkg, Version: version,
		Description:  fmt.Sprintf("Image build %s of template %s", b.progress.ExecutionID, b.tpl.Name),
		SourceRegion: region, SourceImage: b.progress.ImageID, Regions: others,
		ImageName: b.imageName(), // every region's copy is <prefix>_<executionId>
	}
	if b.shareBeforeRelease(ctx) {
		spec.ShareAccounts = b.tpl.Accounts
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          model.DistributeWorkflowID(pkg, version),
		WaitForCancellation: true,
		// A build that is terminated or times out cannot compensate: its
		// distribution is asked to cancel, so that it deletes its copies,
		// gives up its hold on the version and deletes its draft itself
		// (the default, Terminate, would leave them all behind).
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		StaticSummary:     "distribute " + b.progress.ImageID + " to " + strings.Join(others, ", "),
	})
	var res model.DistributionResult
	childID := model.DistributeWorkflowID(pkg, version)
	b.children.Expect(childID)
	err := workflow.ExecuteChildWorkflow(cctx, model.DistributeWorkflowType, spec).Get(ctx, &res)
	if b.children.Forget(childID) {
		b.showChildWait(ctx)
	}
	if err != nil {
		// The distribution deleted its copies; the draft version it created
		// goes with the build's outputs (versioned: earlier runs left it).
		if workflow.GetVersion(ctx, changeDeleteFailedDraft, workflow.DefaultVersion, 1) == 1 {
			b.track(model.ResourcePackageVersion, pkg+"/"+version, region, &b.outputs)
		}
		return err
	}
	for _, r := range others { // in the template's order: deterministic
		if id, ok := res.ImageIDs[r]; ok {
			b.progress.Images[r] = id
			b.track(model.ResourceImageCopy, id, r, &b.outputs)
		}
	}
	// Released first (compensations run in reverse): a build that fails
	// later must not leave a published version pointing at deleted copies.
	b.track(model.ResourcePackageVersion, pkg+"/"+version, region, &b.outputs)
	return nil
}

// showChildWait shows what the distribution child waits for (an operator
// decision about a region) as the build's own wait, naming the child the
// command goes to; or, when it waits no more, that the build runs.
func (b *build) showChildWait(ctx workflow.Context) {
	w, waiting := b.children.Waiting()
	if waiting {
		b.progress.WaitingFor, b.progress.WaitingOn = w.Text(), w.WorkflowID
	} else {
		b.progress.WaitingFor, b.progress.WaitingOn = "", ""
	}
	b.state.Waiting(ctx, waiting)
	b.updateDetails(ctx)
}

// changeShareBeforeRelease: the distribution child shares the copies with
// the template's accounts before it publishes them, since a published
// version's copies are the service's and cannot be re-shared.
const changeShareBeforeRelease = "share-before-release"

// changeDeleteFailedDraft: a failed or cancelled distribution's draft
// version is deleted with the build's outputs.
const changeDeleteFailedDraft = "delete-failed-draft"

func (b *build) shareBeforeRelease(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeShareBeforeRelease, workflow.DefaultVersion, 1) == 1
}

// share shares the image with the template's accounts: in its own region,
// and (in runs before changeShareBeforeRelease) the copies in the others.
func (b *build) share(ctx workflow.Context) error {
	regions := []string{b.tpl.Region}
	for _, r := range b.tpl.Regions {
		if _, ok := b.progress.Images[r]; ok && r != b.tpl.Region && !b.shareBeforeRelease(ctx) {
			regions = append(regions, r)
		}
	}
	for _, region := range regions {
		err := workflow.ExecuteActivity(b.short(ctx, "share in "+region), images.ShareImage, activities.ShareImageInput{
			Region: region, ImageID: b.progress.Images[region], Accounts: b.tpl.Accounts,
			ClientToken: b.token("share", region, b.attempt(model.StepShare)),
		}).Get(ctx, nil)
		if err != nil {
			return fmt.Errorf("share in %s: %w", region, err)
		}
	}
	b.progress.SharedWith = slices.Clone(b.tpl.Accounts)
	return nil
}
