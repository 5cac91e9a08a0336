package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
)

// A distribution's copies: one per region and attempt, each deleted again
// if the run fails or is cancelled, or if it failed and is not part of the
// published version.

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
		if err := d.startCopy(ctx, r); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:    15 * time.Second,
		WaitForCancellation: true,
		RetryPolicy:         retryPolicy(watchAttempts),
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

// startCopy starts a new copy into r's region; the saga deletes it if the
// run fails.
func (d *distribution) startCopy(ctx workflow.Context, r *model.RegionProgress) error {
	region := r.Region
	d.copyStarted[region] = workflow.Now(ctx)
	// Started on a disconnected context (startCopyActivity): a cancel must
	// not lose the ID of a copy the cloud has already begun, or
	// compensation would miss it. Transient errors (5xx, throttling) are
	// retried until model.StepDeadline: they are not the copy's attempts.
	startOpts := stepActivity()
	startOpts.Summary = "copy " + d.spec.SourceImage + " into " + region
	var imageID string
	err := startCopyActivity(ctx, startOpts, images.StartImageCopy, activities.StartCopyInput{
		SourceRegion: d.spec.SourceRegion,
		SourceImage:  d.spec.SourceImage,
		Region:       region,
		ImageName:    d.spec.CopyName(),
		Description:  d.spec.Description,
		Tags:         map[string]string{"imagefleet:package": d.spec.Package, "imagefleet:version": d.spec.Version},
		ClientToken:  model.ClientToken(d.tokenKey, "copy", region, fmt.Sprint(len(r.Copies)+1)),
	}, &imageID)
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

// deleteFailedCopies deletes, before the release, the copies that are not
// part of the package: failed copies of dropped regions, and failed copies
// whose deletion before a retry failed. A copy left behind is logged; it
// does not undo the publication.
func (d *distribution) deleteFailedCopies(ctx workflow.Context) {
	for _, r := range d.progress.Regions {
		if r.State == model.RegionDropped && r.ImageID != "" {
			_ = d.deleteCopy(ctx, r.Region, r.ImageID)
		}
	}
	// Versioned: runs before this change did not delete the leftovers here.
	if len(d.leftovers) > 0 && workflow.GetVersion(ctx, changeDeleteLeftoverCopies, workflow.DefaultVersion, 1) == 1 {
		for _, c := range d.leftovers {
			_ = d.deleteCopy(ctx, c.region, c.imageID)
		}
		d.leftovers = nil
	}
}
