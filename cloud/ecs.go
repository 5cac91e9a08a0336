package cloud

import (
	"context"
	"time"
)

// ECS is the image part of Alibaba Cloud's Elastic Compute Service API.
type ECS interface {
	DescribeRegions(ctx context.Context, req *DescribeRegionsRequest) (*DescribeRegionsResponse, error)
	DescribeImages(ctx context.Context, req *DescribeImagesRequest) (*DescribeImagesResponse, error)
	// CopyImage starts an asynchronous copy and returns the new image's ID at
	// once; the copy is Available after a while (see DescribeImages).
	CopyImage(ctx context.Context, req *CopyImageRequest) (*CopyImageResponse, error)
	CancelCopyImage(ctx context.Context, req *CancelCopyImageRequest) (*CancelCopyImageResponse, error)
	DeleteImage(ctx context.Context, req *DeleteImageRequest) (*DeleteImageResponse, error)
	ModifyImageSharePermission(ctx context.Context, req *ModifyImageSharePermissionRequest) (*ModifyImageSharePermissionResponse, error)
	DescribeImageSharePermission(ctx context.Context, req *DescribeImageSharePermissionRequest) (*DescribeImageSharePermissionResponse, error)
}

// Image statuses, as ECS names them.
const (
	ImageCreating     = "Creating"
	ImageAvailable    = "Available"
	ImageCreateFailed = "CreateFailed"
	ImageUnAvailable  = "UnAvailable"
	ImageDeprecated   = "Deprecated"
	// ImageDeleted is the status the simulator reports for a deleted image
	// when it is described by ID (real ECS just omits it).
	ImageDeleted = "Deleted"
)

// Image owner aliases.
const (
	OwnerSelf        = "self"
	OwnerSystem      = "system"
	OwnerOthers      = "others" // shared with the caller
	OwnerMarketplace = "marketplace"
	OwnerCommunity   = "community"
)

// Image is an ECS image in one region.
type Image struct {
	ImageId         string
	ImageName       string
	Description     string
	RegionId        string
	Size            int    // GiB
	OSType          string // linux | windows
	OSName          string
	Platform        string
	Architecture    string
	ImageFamily     string
	ImageOwnerAlias string // self | system | others | marketplace | community, seen from the caller
	OwnerId         string // the owning account
	Status          string
	Progress        string // "0%".."100%"
	IsPublic        bool
	SourceImageId   string `json:",omitempty"`
	SourceRegionId  string `json:",omitempty"`
	CreationTime    time.Time
	// ReadyTime is when an asynchronous copy or creation becomes Available.
	ReadyTime time.Time         `json:",omitzero"`
	Tags      map[string]string `json:",omitempty"`
}

type DescribeRegionsRequest struct{}

type RegionInfo struct {
	RegionId  string
	LocalName string
}

type DescribeRegionsResponse struct {
	RequestId string
	Regions   []RegionInfo
}

type DescribeImagesRequest struct {
	RegionId        string
	ImageIds        []string `json:",omitempty"`
	ImageName       string   `json:",omitempty"`
	ImageFamily     string   `json:",omitempty"`
	ImageOwnerAlias string   `json:",omitempty"`
	Status          string   `json:",omitempty"`
	// IncludeDeleted returns deleted images too (status Deleted), so a caller
	// can tell "gone" from "never existed".
	IncludeDeleted bool `json:",omitempty"`
	PageNumber     int  `json:",omitempty"`
	PageSize       int  `json:",omitempty"`
}

type DescribeImagesResponse struct {
	RequestId  string
	TotalCount int
	PageNumber int
	PageSize   int
	Images     []Image
}

type CopyImageRequest struct {
	RegionId               string // the source image's region
	ImageId                string
	DestinationRegionId    string
	DestinationImageName   string            `json:",omitempty"`
	DestinationDescription string            `json:",omitempty"`
	Tags                   map[string]string `json:",omitempty"`
	ClientToken            string
}

type CopyImageResponse struct {
	RequestId string
	ImageId   string
}

type CancelCopyImageRequest struct {
	RegionId string // the destination region
	ImageId  string
}

type CancelCopyImageResponse struct{ RequestId string }

type DeleteImageRequest struct {
	RegionId    string
	ImageId     string
	Force       bool   `json:",omitempty"`
	ClientToken string `json:",omitempty"`
}

type DeleteImageResponse struct{ RequestId string }

type ModifyImageSharePermissionRequest struct {
	RegionId      string
	ImageId       string
	AddAccount    []string `json:",omitempty"`
	RemoveAccount []string `json:",omitempty"`
	// IsPublic nil leaves publicity unchanged.
	IsPublic    *bool  `json:",omitempty"`
	ClientToken string `json:",omitempty"`
}

type ModifyImageSharePermissionResponse struct{ RequestId string }

type DescribeImageSharePermissionRequest struct {
	RegionId string
	ImageId  string
}

type DescribeImageSharePermissionResponse struct {
	RequestId string
	ImageId   string
	RegionId  string
	IsPublic  bool
	Accounts  []string
}
