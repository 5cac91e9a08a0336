package cloud

import (
	"context"
	"time"
)

// ImageBuilder is Alibaba Cloud ECS Image Builder: image templates (image
// pipelines) and their build tasks (executions), with the ECS actions a build
// needs: instance types and their stock, images from families, creating an
// image from an instance, and the guest-OS check and repair.
//
// The build itself is run by imagefleet's ImageBuild workflow, which reports
// the execution's status through UpdateImagePipelineExecution (an action of
// the simulator only: in the real service the build engine is internal).
type ImageBuilder interface {
	CreateImagePipeline(ctx context.Context, req *CreateImagePipelineRequest) (*CreateImagePipelineResponse, error)
	DescribeImagePipelines(ctx context.Context, req *DescribeImagePipelinesRequest) (*DescribeImagePipelinesResponse, error)
	// DeleteImagePipeline refuses a template with a build running.
	DeleteImagePipeline(ctx context.Context, req *DeleteImagePipelineRequest) (*DeleteImagePipelineResponse, error)
	// StartImagePipelineExecution records a new build of a template; it is
	// refused (OperationConflict, naming the running build) while another
	// build of the same template has not finished.
	StartImagePipelineExecution(ctx context.Context, req *StartImagePipelineExecutionRequest) (*StartImagePipelineExecutionResponse, error)
	DescribeImagePipelineExecutions(ctx context.Context, req *DescribeImagePipelineExecutionsRequest) (*DescribeImagePipelineExecutionsResponse, error)
	// CancelImagePipelineExecution marks a build CANCELLING; it may be called
	// more than once. A finished build cannot be cancelled.
	CancelImagePipelineExecution(ctx context.Context, req *CancelImagePipelineExecutionRequest) (*CancelImagePipelineExecutionResponse, error)
	UpdateImagePipelineExecution(ctx context.Context, req *UpdateImagePipelineExecutionRequest) (*UpdateImagePipelineExecutionResponse, error)
	// DescribeImageComponents lists the system build and test components.
	DescribeImageComponents(ctx context.Context, req *DescribeImageComponentsRequest) (*DescribeImageComponentsResponse, error)

	DescribeInstanceTypes(ctx context.Context, req *DescribeInstanceTypesRequest) (*DescribeInstanceTypesResponse, error)
	// DescribeImageFromFamily answers the newest Available image of a family.
	DescribeImageFromFamily(ctx context.Context, req *DescribeImageFromFamilyRequest) (*DescribeImageFromFamilyResponse, error)
	// CreateImage starts making a custom image from an instance's system disk
	// and returns its ID at once; it is Creating and becomes Available later.
	CreateImage(ctx context.Context, req *CreateImageRequest) (*CreateImageResponse, error)
	// CheckGuestOS checks an instance's operating system (GUESTOS.* items).
	CheckGuestOS(ctx context.Context, req *CheckGuestOSRequest) (*CheckGuestOSResponse, error)
	// RepairGuestOS repairs the named abnormal items on an instance.
	RepairGuestOS(ctx context.Context, req *RepairGuestOSRequest) (*RepairGuestOSResponse, error)
}

// Source image types of a template.
const (
	BaseImageImage  = "IMAGE"
	BaseImageFamily = "IMAGE_FAMILY"
)

// Execution statuses, as Image Builder names them.
const (
	PipelineExecutionPreparing    = "PREPARING"
	PipelineExecutionRepairing    = "REPAIRING"
	PipelineExecutionBuilding     = "BUILDING"
	PipelineExecutionTesting      = "TESTING"
	PipelineExecutionDistributing = "DISTRIBUTING"
	PipelineExecutionReleasing    = "RELEASING"
	PipelineExecutionSuccess      = "SUCCESS"
	PipelineExecutionFailed       = "FAILED"
	PipelineExecutionCancelling   = "CANCELLING"
	PipelineExecutionCancelled    = "CANCELLED"
)

// PipelineExecutionFinished reports whether a build in status has ended.
func PipelineExecutionFinished(status string) bool {
	return status == PipelineExecutionSuccess || status == PipelineExecutionFailed || status == PipelineExecutionCancelled
}

// Guest-OS check items (Image Builder's image check).
const (
	GuestOSCloudInit      = "GUESTOS.CloudInit"
	GuestOSDhcp           = "GUESTOS.Dhcp"
	GuestOSVirtio         = "GUESTOS.Virtio"
	GuestOSOnlineResizeFS = "GUESTOS.OnlineResizeFS"
	GuestOSGrub           = "GUESTOS.Grub"
	GuestOSFstab          = "GUESTOS.Fstab"
	GuestOSUpdate         = "GUESTOS.Update"
	GuestOSHotfix         = "GUESTOS.Hotfix"
	GuestOSServer         = "GUESTOS.Server"
)

// GuestOSItems are the check items per operating-system type.
var GuestOSItems = map[string][]string{
	OSLinux:   {GuestOSCloudInit, GuestOSDhcp, GuestOSVirtio, GuestOSOnlineResizeFS, GuestOSGrub, GuestOSFstab},
	OSWindows: {GuestOSVirtio, GuestOSUpdate, GuestOSHotfix, GuestOSServer},
}

// Check results of one item.
const (
	CheckNormal   = "Normal"
	CheckAbnormal = "Abnormal"
	CheckRepaired = "Repaired"
)

// Error codes of Image Builder actions.
const (
	CodePipelineNotFound          = "InvalidImagePipelineId.NotFound"
	CodePipelineNameExists        = "InvalidImagePipelineName.AlreadyExists"
	CodePipelineExecutionNotFound = "InvalidExecutionId.NotFound"
	CodePipelineExecutionFinished = "IncorrectExecutionStatus"
	CodeComponentNotFound         = "InvalidComponentName.NotFound"
	CodeNoStock                   = "OperationDenied.NoStock"
	CodeImageFamilyNotFound       = "InvalidImageFamily.NotFound"
	CodeBaseImageUnsupported      = "InvalidBaseImage.NotSupported"
)

// Limits of a template.
const (
	MaxPipelineRegions   = 20
	MaxPipelineAccounts  = 20
	MinPipelineDiskGiB   = 20
	MaxPipelineDiskGiB   = 500
	DefaultPipelineDisk  = 40
	MaxPipelineComponent = 100
)

// Component is one step of a template's build or test content: either a
// system component by name (see DescribeImageComponents) or an inline
// command run through Cloud Assistant.
type Component struct {
	// ComponentName names a system component (acs:...).
	ComponentName string `json:",omitempty"`
	// Name labels an inline command; Content is its script and Type its
	// Cloud Assistant command type (default RunShellScript).
	Name    string `json:",omitempty"`
	Type    string `json:",omitempty"`
	Content string `json:",omitempty"`
	// RequiresInternet marks a command that downloads something: it fails
	// on an instance without public bandwidth.
	RequiresInternet bool `json:",omitempty"`
}

// ImageComponent is a system component shipped with the service.
type ImageComponent struct {
	ComponentName    string
	ComponentType    string // Build | Test
	Description      string
	SystemType       string // linux | windows
	Type             string // Cloud Assistant command type
	Content          string
	RequiresInternet bool
}

// Component types.
const (
	ComponentBuild = "Build"
	ComponentTest  = "Test"
)

// ImagePipeline is an image template.
type ImagePipeline struct {
	ImagePipelineId string
	Name            string
	Description     string            `json:",omitempty"`
	Tags            map[string]string `json:",omitempty"`
	RegionId        string
	// BaseImageType is IMAGE or IMAGE_FAMILY; BaseImage the image ID or the
	// family name.
	BaseImageType string
	BaseImage     string
	BuildContent  []Component `json:",omitempty"`
	// RepairMode: repair what the guest-OS check finds (default on).
	RepairMode bool
	// TestMode: test the new image with TestContent (default on).
	TestMode    bool
	TestContent []Component `json:",omitempty"`
	// Intermediate instances.
	VSwitchId               string `json:",omitempty"`
	InstanceType            string `json:",omitempty"`
	SystemDiskSize          int
	InternetMaxBandwidthOut int
	DeleteInstanceOnFailure bool
	// Distribution: ImageName is the name prefix (<prefix>_<executionId>).
	ImageName    string   `json:",omitempty"`
	ToRegionIds  []string `json:",omitempty"`
	AddAccounts  []string `json:",omitempty"`
	CreationTime time.Time
}

// ImagePipelineExecution is one build of a template.
type ImagePipelineExecution struct {
	ExecutionId     string
	ImagePipelineId string
	RegionId        string
	Status          string
	// Step is the build step being run, as the build engine reports it.
	Step         string `json:",omitempty"`
	Message      string `json:",omitempty"`
	ImageId      string `json:",omitempty"`
	CreationTime time.Time
	ModifiedTime time.Time
}

// CreateImagePipelineRequest creates a template. Booleans that default to
// true are pointers: nil means the default.
type CreateImagePipelineRequest struct {
	RegionId                string
	Name                    string
	Description             string            `json:",omitempty"`
	Tags                    map[string]string `json:",omitempty"`
	BaseImageType           string
	BaseImage               string
	BuildContent            []Component `json:",omitempty"`
	RepairMode              *bool       `json:",omitempty"`
	TestMode                *bool       `json:",omitempty"`
	TestContent             []Component `json:",omitempty"`
	VSwitchId               string      `json:",omitempty"`
	InstanceType            string      `json:",omitempty"`
	SystemDiskSize          int         `json:",omitempty"`
	InternetMaxBandwidthOut int         `json:",omitempty"`
	DeleteInstanceOnFailure *bool       `json:",omitempty"`
	ImageName               string      `json:",omitempty"`
	ToRegionIds             []string    `json:",omitempty"`
	AddAccounts             []string    `json:",omitempty"`
	ClientToken             string
}

type CreateImagePipelineResponse struct {
	RequestId       string
	ImagePipelineId string
}

type DescribeImagePipelinesRequest struct {
	RegionId         string
	ImagePipelineIds []string `json:",omitempty"`
	Name             string   `json:",omitempty"`
}

type DescribeImagePipelinesResponse struct {
	RequestId      string
	ImagePipelines []ImagePipeline
}

type DeleteImagePipelineRequest struct {
	RegionId        string
	ImagePipelineId string
	ClientToken     string `json:",omitempty"`
}

type DeleteImagePipelineResponse struct{ RequestId string }

type StartImagePipelineExecutionRequest struct {
	RegionId        string
	ImagePipelineId string
	ClientToken     string
}

type StartImagePipelineExecutionResponse struct {
	RequestId   string
	ExecutionId string
}

type DescribeImagePipelineExecutionsRequest struct {
	RegionId        string
	ImagePipelineId string `json:",omitempty"`
	ExecutionId     string `json:",omitempty"`
	Status          string `json:",omitempty"`
}

type DescribeImagePipelineExecutionsResponse struct {
	RequestId               string
	ImagePipelineExecutions []ImagePipelineExecution // newest first
}

type CancelImagePipelineExecutionRequest struct {
	RegionId    string
	ExecutionId string
	ClientToken string `json:",omitempty"`
}

type CancelImagePipelineExecutionResponse struct{ RequestId string }

type UpdateImagePipelineExecutionRequest struct {
	RegionId    string
	ExecutionId string
	Status      string `json:",omitempty"` // unchanged when empty
	Step        string `json:",omitempty"`
	Message     string `json:",omitempty"`
	ImageId     string `json:",omitempty"`
	ClientToken string `json:",omitempty"`
}

type UpdateImagePipelineExecutionResponse struct{ RequestId string }

type DescribeImageComponentsRequest struct {
	RegionId       string
	ComponentNames []string `json:",omitempty"`
}

type DescribeImageComponentsResponse struct {
	RequestId       string
	ImageComponents []ImageComponent
}

// InstanceType is an instance type with its stock in the asked region.
type InstanceType struct {
	InstanceTypeId     string
	InstanceTypeFamily string
	CpuCoreCount       int
	MemorySize         float64 // GiB
	// Status is the stock in the region: WithStock or SoldOut.
	Status string
}

// Stock statuses of an instance type.
const (
	StockWithStock = "WithStock"
	StockSoldOut   = "SoldOut"
)

type DescribeInstanceTypesRequest struct {
	RegionId string
}

type DescribeInstanceTypesResponse struct {
	RequestId string
	// InstanceTypes are sorted smallest first (vCPUs, then memory).
	InstanceTypes []InstanceType
}

type DescribeImageFromFamilyRequest struct {
	RegionId    string
	ImageFamily string
}

type DescribeImageFromFamilyResponse struct {
	RequestId string
	Image     Image
}

type CreateImageRequest struct {
	RegionId    string
	InstanceId  string
	ImageName   string            `json:",omitempty"`
	Description string            `json:",omitempty"`
	ImageFamily string            `json:",omitempty"`
	Tags        map[string]string `json:",omitempty"`
	ClientToken string
}

type CreateImageResponse struct {
	RequestId string
	ImageId   string
}

type CheckGuestOSRequest struct {
	RegionId   string
	InstanceId string
}

// GuestOSCheckItem is the result of one check item.
type GuestOSCheckItem struct {
	Item   string
	Result string // Normal | Abnormal
	Detail string `json:",omitempty"`
}

type CheckGuestOSResponse struct {
	RequestId string
	OSType    string
	Items     []GuestOSCheckItem
}

type RepairGuestOSRequest struct {
	RegionId    string
	InstanceId  string
	Items       []string
	ClientToken string `json:",omitempty"`
}

type RepairGuestOSResponse struct {
	RequestId string
	Repaired  []string
}
