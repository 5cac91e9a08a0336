package cloud

import (
	"context"
	"time"
)

// ECSInstances is the instance part of Alibaba Cloud's Elastic Compute
// Service API: creating, describing and releasing instances, and replacing an
// instance's system disk with another image.
type ECSInstances interface {
	DescribeInstances(ctx context.Context, req *DescribeInstancesRequest) (*DescribeInstancesResponse, error)
	// RunInstances creates instances and returns their IDs at once; they are
	// Pending and become Running after a while (see DescribeInstances).
	RunInstances(ctx context.Context, req *RunInstancesRequest) (*RunInstancesResponse, error)
	DeleteInstances(ctx context.Context, req *DeleteInstancesRequest) (*DeleteInstancesResponse, error)
	// ReplaceSystemDisk replaces the instance's system disk with a new one
	// made from ImageId. The instance restarts: it is Starting until the new
	// disk is ready, then Running on the new image.
	ReplaceSystemDisk(ctx context.Context, req *ReplaceSystemDiskRequest) (*ReplaceSystemDiskResponse, error)
}

// Instance statuses, as ECS names them.
const (
	InstancePending  = "Pending"  // being created
	InstanceStarting = "Starting" // restarting, e.g. after a system-disk replacement
	InstanceRunning  = "Running"
	InstanceStopped  = "Stopped"
)

// Operating-system types of images and instances.
const (
	OSLinux   = "linux"
	OSWindows = "windows"
)

// Instance is an ECS instance.
type Instance struct {
	InstanceId   string
	InstanceName string
	RegionId     string
	InstanceType string
	VSwitchId    string `json:",omitempty"`
	ImageId      string
	OSType       string // linux | windows, from the image
	OSName       string
	Status       string
	SystemDisk   SystemDisk
	CreationTime time.Time
	// ReadyTime is when the instance leaves Pending or Starting.
	ReadyTime time.Time         `json:",omitzero"`
	Tags      map[string]string `json:",omitempty"`
}

// SystemDisk is an instance's system disk.
type SystemDisk struct {
	DiskId   string `json:",omitempty"`
	Size     int    // GiB
	Category string `json:",omitempty"` // cloud_essd (default), cloud_ssd, cloud_efficiency
}

type DescribeInstancesRequest struct {
	RegionId string
	// InstanceIds limits the answer to these instances (at most
	// MaxDescribeInstanceIds).
	InstanceIds []string `json:",omitempty"`
	Status      string   `json:",omitempty"`
	ImageId     string   `json:",omitempty"`
	PageNumber  int      `json:",omitempty"`
	PageSize    int      `json:",omitempty"`
}

type DescribeInstancesResponse struct {
	RequestId  string
	TotalCount int
	PageNumber int
	PageSize   int
	Instances  []Instance
}

type RunInstancesRequest struct {
	RegionId     string
	ImageId      string
	InstanceType string // e.g. ecs.g7.large
	VSwitchId    string `json:",omitempty"`
	InstanceName string `json:",omitempty"`
	// SystemDisk.Size defaults to the larger of 40 GiB and the image's size.
	SystemDisk  SystemDisk        `json:",omitzero"`
	Amount      int               `json:",omitempty"` // default 1, at most 100
	Tags        map[string]string `json:",omitempty"`
	ClientToken string
}

type RunInstancesResponse struct {
	RequestId      string
	InstanceIdSets []string
}

type DeleteInstancesRequest struct {
	RegionId    string
	InstanceIds []string
	// Force releases Running (or Pending, Starting) instances; without it
	// only Stopped instances can be released.
	Force       bool   `json:",omitempty"`
	ClientToken string `json:",omitempty"`
}

type DeleteInstancesResponse struct{ RequestId string }

type ReplaceSystemDiskRequest struct {
	// RegionId is optional; when given it must be the instance's region.
	RegionId   string `json:",omitempty"`
	InstanceId string
	// ImageId must be an Available image of the instance's region.
	ImageId     string
	SystemDisk  SystemDisk `json:",omitzero"` // Size: default the current size
	ClientToken string
}

type ReplaceSystemDiskResponse struct {
	RequestId string
	DiskId    string // the new system disk
}

// MaxDescribeInstanceIds is how many instance IDs one DescribeInstances names.
const MaxDescribeInstanceIds = 100

// Error codes of instance actions.
const (
	CodeInstanceNotFound = "InvalidInstanceId.NotFound"
	CodeInstanceType     = "InvalidInstanceType.ValueUnauthorized"
	// CodeInstanceFault answers an operation on an instance that failed
	// there (in the simulator: an injected instance-fail fault). It is
	// permanent for that call; the same operation may succeed when repeated.
	CodeInstanceFault = "OperationFailed.InstanceFault"
)
