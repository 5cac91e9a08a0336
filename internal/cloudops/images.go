package cloudops

import (
	"context"
	"fmt"

	"github.com/imagefleet/imagefleet/cloud"
)

// CheckSourceImage verifies that the image exists in region and that the
// caller may distribute it: a custom image of the account or a marketplace
// image. A cloud error that a retry cannot fix is wrapped with the image's
// name; a retryable one is returned as it is.
func CheckSourceImage(ctx context.Context, ecs cloud.ECS, region, imageID string) (*cloud.Image, error) {
	resp, err := ecs.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: region, ImageIds: []string{imageID}})
	if err != nil {
		if apiErr, ok := cloud.AsAPIError(err); ok && !apiErr.Retryable() {
			return nil, fmt.Errorf("source image %s in %s: %w", imageID, region, err)
		}
		return nil, err
	}
	if len(resp.Images) == 0 {
		return nil, fmt.Errorf("source image %s does not exist in %s or is not visible to this account", imageID, region)
	}
	img := resp.Images[0]
	switch img.ImageOwnerAlias {
	case cloud.OwnerSelf, cloud.OwnerMarketplace:
	default:
		return nil, fmt.Errorf("source image %s is a %s image: a package can distribute only a custom image of the account or a marketplace image", imageID, img.ImageOwnerAlias)
	}
	if img.Status != cloud.ImageAvailable {
		return nil, fmt.Errorf("source image %s is %s, not Available", imageID, img.Status)
	}
	return &img, nil
}
