package cloud

import (
	"context"
	"time"
)

// ImageRetention is what the lifecycle of published image versions needs
// beyond publishing them: a version's deprecation (Compute Nest), deleting a
// version's copy in one region (Compute Nest deletes the image it delivered
// there, with ECS's rules for deleting an image), and the snapshot storage
// the account's images take per region (ECS DescribeSnapshotsUsage).
//
// An image cannot be deleted while something refers to it: an instance
// created from it (CodeImageUsingByInstance; DeleteImage with Force
// overrides it, as in ECS), a scaling group's active scaling configuration
// (CodeImageUsingByScalingConfiguration) or a launch template version
// (CodeImageUsingByLaunchTemplate). DeleteImage and DeleteArtifactDelivery
// refuse such an image with these codes (HTTP 403) and change nothing.
type ImageRetention interface {
	// ModifyArtifactVersion deprecates a published version (Deprecated
	// true) or takes the deprecation back (false). A deprecated version is
	// not offered to new deployments but stays usable; its copies can then
	// be deleted region by region. Setting the state it has changes nothing.
	ModifyArtifactVersion(ctx context.Context, req *ModifyArtifactVersionRequest) (*ModifyArtifactVersionResponse, error)
	// DeleteArtifactDelivery deletes a deprecated version's copy in one
	// region: the image is deleted and the region leaves the version's
	// ImageDelivery. The source region's delivery that is the source image
	// itself (the account's own) only leaves the mapping. Refused with
	// CodeArtifactNotDeprecated for a version that is not deprecated, and
	// with the in-use codes above.
	DeleteArtifactDelivery(ctx context.Context, req *DeleteArtifactDeliveryRequest) (*DeleteArtifactDeliveryResponse, error)
	// DescribeSnapshotsUsage is the snapshot storage of the account's
	// custom images in a region (deleted images do not count).
	DescribeSnapshotsUsage(ctx context.Context, req *DescribeSnapshotsUsageRequest) (*DescribeSnapshotsUsageResponse, error)
}

// Error codes of image deletion and deprecation.
const (
	// CodeImageUsingByInstance: an instance was created from the image
	// (ECS DeleteImage's code, HTTP 403).
	CodeImageUsingByInstance = "ImageUsingByInstance"
	// CodeImageUsingByScalingConfiguration: a scaling group's active
	// scaling configuration launches the image.
	CodeImageUsingByScalingConfiguration = "ImageUsingByScalingConfiguration"
	// CodeImageUsingByLaunchTemplate: a launch template version launches
	// the image.
	CodeImageUsingByLaunchTemplate = "ImageUsingByLaunchTemplate"
	// CodeArtifactNotDeprecated: a version's copies are deleted only once
	// the version is deprecated.
	CodeArtifactNotDeprecated = "Artifact.VersionNotDeprecated"
	// CodeArtifactNotPublished: only a published version is deprecated.
	CodeArtifactNotPublished = "Artifact.VersionNotPublished"
)

type ModifyArtifactVersionRequest struct {
	ArtifactId  string
	VersionName string
	// Deprecated is the deprecation state the version gets.
	Deprecated  bool
	ClientToken string `json:",omitempty"`
}

type ModifyArtifactVersionResponse struct {
	RequestId string
	// DeprecateTime is when the version was deprecated (zero when it is not).
	DeprecateTime time.Time `json:",omitzero"`
}

type DeleteArtifactDeliveryRequest struct {
	ArtifactId  string
	VersionName string
	RegionId    string
	ClientToken string `json:",omitempty"`
}

type DeleteArtifactDeliveryResponse struct {
	RequestId string
	// ImageId is the image the region's delivery was; ImageDeleted says
	// whether it was deleted (false for the source image itself).
	ImageId      string
	ImageDeleted bool
	// SizeGiB is the storage the deletion freed.
	SizeGiB int
}

type DescribeSnapshotsUsageRequest struct {
	RegionId string
}

type DescribeSnapshotsUsageResponse struct {
	RequestId     string
	SnapshotCount int
	// SnapshotSize is in bytes, as ECS reports it.
	SnapshotSize int64
}

var _ ImageRetention = (*Client)(nil)

func (c *Client) ModifyArtifactVersion(ctx context.Context, req *ModifyArtifactVersionRequest) (*ModifyArtifactVersionResponse, error) {
	return call[ModifyArtifactVersionResponse](ctx, c, "ModifyArtifactVersion", req)
}

func (c *Client) DeleteArtifactDelivery(ctx context.Context, req *DeleteArtifactDeliveryRequest) (*DeleteArtifactDeliveryResponse, error) {
	return call[DeleteArtifactDeliveryResponse](ctx, c, "DeleteArtifactDelivery", req)
}

func (c *Client) DescribeSnapshotsUsage(ctx context.Context, req *DescribeSnapshotsUsageRequest) (*DescribeSnapshotsUsageResponse, error) {
	return call[DescribeSnapshotsUsageResponse](ctx, c, "DescribeSnapshotsUsage", req)
}
