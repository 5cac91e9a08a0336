package activities

import (
	"context"
	"fmt"
	"strings"
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
	// short so that a finished copy is noticed within about a second.
	PollInterval time.Duration
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

// AwaitImageAvailable polls the image every PollInterval until it is
// Available, heartbeating its progress (poll.Until: throttling and
// transient errors are waited out; only a long unbroken run of them fails
// the attempt).
func (a *Images) AwaitImageAvailable(ctx context.Context, in AwaitImageInput) error {
	rules := poll.Rules{Interval: a.PollInterval, Waiting: func(ctx context.Context, err *cloud.APIError) {
		activity.RecordHeartbeat(ctx, CopyProgress{Status: "polling: " + err.Code})
	}}
	return fromCloud(poll.Until(ctx, rules, func(ctx context.Context) (bool, error) {
		resp, err := a.ECS.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: in.Region, ImageIds: []string{in.ImageID}, IncludeDeleted: true})
		switch {
		case err != nil:
			return false, err
		case len(resp.Images) == 0:
			return false, permanent(ErrTypeCopyFailed, fmt.Errorf("image %s in %s has disappeared", in.ImageID, in.Region))
		}
		img := resp.Images[0]
		switch img.Status {
		case cloud.ImageAvailable:
			return true, nil
		case cloud.ImageCreateFailed, cloud.ImageDeleted, cloud.ImageUnAvailable:
			return false, permanent(ErrTypeCopyFailed, fmt.Errorf("copy %s into %s ended %s", in.ImageID, in.Region, img.Status))
		}
		activity.RecordHeartbeat(ctx, CopyProgress{Status: img.Status, Progress: img.Progress})
		return false, nil
	}))
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
