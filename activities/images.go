package activities

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/imagefleet/imagefleet/activities/internal/poll"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
)

// Images are the activities on ECS images.
type Images struct {
	ECS cloud.ECS
	// PollInterval is how often AwaitImageAvailable asks for a copy's status;
	// short so that a finished copy is noticed within about a second. It
	// is the tick of the worker's shared poller of copies (copies).
	PollInterval time.Duration

	once  sync.Once
	batch *poll.Batch[cloud.Image]
}

// ErrTypeSourceImage marks a source image that does not exist or may not be used.
const ErrTypeSourceImage = "InvalidSourceImage"

// SourceImageInput names a source image.
type SourceImageInput struct {
	Region  string
	ImageID string
}

// CheckSourceImage is cloudops.CheckSourceImage as an activity: the workflow
// checks the image again, since any client may start it.
func (a *Images) CheckSourceImage(ctx context.Context, in SourceImageInput) (*cloud.Image, error) {
	img, err := cloudops.CheckSourceImage(ctx, a.ECS, in.Region, in.ImageID)
	if err != nil {
		if apiErr, ok := cloud.AsAPIError(err); ok && apiErr.Retryable() {
			return nil, fromCloud(err)
		}
		return nil, permanent(ErrTypeSourceImage, err)
	}
	return img, nil
}

// StartCopyInput starts one region's copy.
type StartCopyInput struct {
	SourceRegion string
	SourceImage  string
	Region       string
	ImageName    string
	Description  string
	Tags         map[string]string
	// ClientToken makes the call idempotent: the same token returns the same
	// copy, so a retried activity never copies twice.
	ClientToken string
}

// StartImageCopy starts an asynchronous copy and returns the new image's ID.
func (a *Images) StartImageCopy(ctx context.Context, in StartCopyInput) (string, error) {
	resp, err := a.ECS.CopyImage(ctx, &cloud.CopyImageRequest{
		RegionId:               in.SourceRegion,
		ImageId:                in.SourceImage,
		DestinationRegionId:    in.Region,
		DestinationImageName:   in.ImageName,
		DestinationDescription: in.Description,
		Tags:                   in.Tags,
		ClientToken:            in.ClientToken,
	})
	if err != nil {
		return "", fromCloud(err)
	}
	return resp.ImageId, nil
}

// AwaitImageInput names an image being created.
type AwaitImageInput struct {
	Region  string
	ImageID string
}

// CopyProgress is heartbeated while a copy runs, so the Web UI's pending
// activity shows how far it is.
type CopyProgress struct {
	Status   string
	Progress string
}

// maxPaceRest bounds how long a copy's own progress may keep it out of the
// shared poller's calls (see copyPace).
const maxPaceRest = 30 * time.Second

// copies is the worker's one poller of copies: per region, one
// DescribeImages call per PollInterval asks about up to 100 copies that
// activities wait for (poll.Batch).
func (a *Images) copies() *poll.Batch[cloud.Image] {
	a.once.Do(func() {
		a.batch = &poll.Batch[cloud.Image]{
			Rules: poll.Rules{Interval: a.PollInterval},
			Size:  poll.DefaultBatchSize,
			Fetch: a.describeMany,
		}
	})
	return a.batch
}

// describeMany asks about ids (at most 100) in one DescribeImages call,
// deleted images included so that "gone" is told from "never existed";
// further pages are asked for if the cloud pages the answer.
func (a *Images) describeMany(ctx context.Context, region string, ids []string) (map[string]cloud.Image, error) {
	found := make(map[string]cloud.Image, len(ids))
	for page := 1; ; page++ {
		resp, err := a.ECS.DescribeImages(ctx, &cloud.DescribeImagesRequest{
			RegionId: region, ImageIds: ids, IncludeDeleted: true, PageNumber: page, PageSize: poll.DefaultBatchSize,
		})
		if err != nil {
			return nil, err
		}
		for _, img := range resp.Images {
			found[img.ImageId] = img
		}
		if len(resp.Images) == 0 || len(found) >= resp.TotalCount {
			return found, nil
		}
	}
}

// AwaitImageAvailable waits until the image is Available, heartbeating its
// progress. It does not poll on its own: it waits in the worker's shared
// poller of its region (Images.copies), which asks about every awaited copy
// of the region in one DescribeImages call per PollInterval and wakes this
// activity with its copy's answer, so a finished copy is noticed within one
// interval and the cloud sees one call per region and interval, however many
// copies are awaited (up to 100 per call). The poll package's rules apply
// to the shared calls: throttling and transient errors are waited out
// (Retry-After, backoff) and heartbeated; only a long unbroken run of them
// fails the attempts waiting. The activity stays cancellable and keeps
// heartbeating while it waits; its retry on another worker (after a crash)
// simply waits in that worker's poller.
func (a *Images) AwaitImageAvailable(ctx context.Context, in AwaitImageInput) error {
	var last CopyProgress
	var pace copyPace
	check := func(ctx context.Context, img cloud.Image, found bool) (bool, time.Duration, error) {
		if !found {
			return false, 0, permanent(ErrTypeCopyFailed, fmt.Errorf("image %s in %s has disappeared", in.ImageID, in.Region))
		}
		switch img.Status {
		case cloud.ImageAvailable:
			return true, 0, nil
		case cloud.ImageCreateFailed, cloud.ImageDeleted, cloud.ImageUnAvailable:
			return false, 0, permanent(ErrTypeCopyFailed, fmt.Errorf("copy %s into %s ended %s", in.ImageID, in.Region, img.Status))
		}
		last = CopyProgress{Status: img.Status, Progress: img.Progress}
		activity.RecordHeartbeat(ctx, last)
		return false, pace.rest(time.Now(), img.Progress), nil
	}
	beat := func(ctx context.Context, waiting *cloud.APIError) {
		if waiting != nil { // the poller waits out throttling or an outage
			last.Status = "polling: " + waiting.Code
		}
		activity.RecordHeartbeat(ctx, last)
	}
	return fromCloud(a.copies().Wait(ctx, in.Region, in.ImageID, check, beat))
}

// copyPace estimates from a copy's reported progress how long it certainly
// has left: the cloud reports Progress as a percentage, and the rate seen
// since the first answer, run at twice its speed, gives the rest. Half the
// linear estimate is the margin: a copy that more than doubles its pace is
// noticed later than a tick (only when its region has more than 100 copies
// awaited; otherwise every copy rides in every call anyway).
type copyPace struct {
	first    time.Time
	progress int
}

func (p *copyPace) rest(now time.Time, progress string) time.Duration {
	pct, err := strconv.Atoi(strings.TrimSuffix(progress, "%"))
	if err != nil || pct < 0 || pct >= 100 {
		return 0
	}
	if p.first.IsZero() {
		p.first, p.progress = now, pct
		return 0
	}
	gained := pct - p.progress
	if gained <= 0 {
		return 0
	}
	elapsed := now.Sub(p.first)
	remaining := elapsed * time.Duration(100-pct) / time.Duration(gained)
	return min(remaining/2, maxPaceRest)
}

// DeleteCopyInput names a copy to remove.
type DeleteCopyInput struct {
	Region  string
	ImageID string
}

// DeleteImageCopy removes a copy whatever its state: a running copy is
// cancelled, a finished or failed one deleted, a missing one is already gone.
func (a *Images) DeleteImageCopy(ctx context.Context, in DeleteCopyInput) error {
	_, err := a.ECS.CancelCopyImage(ctx, &cloud.CancelCopyImageRequest{RegionId: in.Region, ImageId: in.ImageID})
	if err == nil || isNotFound(err) {
		return nil
	}
	if !cloud.IsCode(err, cloud.CodeIncorrectStatus) {
		return fromCloud(err)
	}
	// Not copying any more: delete it.
	_, err = a.ECS.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: in.Region, ImageId: in.ImageID, Force: true})
	if err == nil || isNotFound(err) {
		return nil
	}
	if cloud.IsCode(err, cloud.CodeIncorrectStatus) && strings.Contains(strings.ToLower(err.Error()), "deleted") {
		return nil
	}
	return fromCloud(err)
}

// ShareImageInput sets who may use an image.
type ShareImageInput struct {
	Region   string
	ImageID  string
	Public   bool
	Accounts []string
	// ClientToken keeps a retried call from repeating the change.
	ClientToken string
}

// ShareImage applies a package's permission to one delivered image.
func (a *Images) ShareImage(ctx context.Context, in ShareImageInput) error {
	public := in.Public
	_, err := a.ECS.ModifyImageSharePermission(ctx, &cloud.ModifyImageSharePermissionRequest{
		RegionId:    in.Region,
		ImageId:     in.ImageID,
		IsPublic:    &public,
		AddAccount:  in.Accounts,
		ClientToken: in.ClientToken,
	})
	return fromCloud(err)
}
