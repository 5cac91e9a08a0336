package cloud

import (
	"context"
	"time"
)

// ComputeNest is the part of Alibaba Cloud Compute Nest imagefleet uses:
// deployment packages (the API calls them artifacts) and the services they are
// associated with.
type ComputeNest interface {
	// CreateArtifact creates a package (ArtifactId empty) or a new draft
	// version of an existing one. Package names are unique per account and
	// cannot change.
	CreateArtifact(ctx context.Context, req *CreateArtifactRequest) (*CreateArtifactResponse, error)
	GetArtifact(ctx context.Context, req *GetArtifactRequest) (*GetArtifactResponse, error)
	ListArtifacts(ctx context.Context, req *ListArtifactsRequest) (*ListArtifactsResponse, error)
	// ReleaseArtifact publishes a draft version with its region mapping and
	// permission, and locks it: releasing it again fails with CodeArtifactLocked.
	ReleaseArtifact(ctx context.Context, req *ReleaseArtifactRequest) (*ReleaseArtifactResponse, error)
	// StartArtifactRelease and CancelArtifactRelease hold and give up the
	// one publication of a version (locks.go).
	StartArtifactRelease(ctx context.Context, req *StartArtifactReleaseRequest) (*StartArtifactReleaseResponse, error)
	CancelArtifactRelease(ctx context.Context, req *CancelArtifactReleaseRequest) (*CancelArtifactReleaseResponse, error)
	DeleteArtifact(ctx context.Context, req *DeleteArtifactRequest) (*DeleteArtifactResponse, error)
	CreateService(ctx context.Context, req *CreateServiceRequest) (*CreateServiceResponse, error)
	ListServices(ctx context.Context, req *ListServicesRequest) (*ListServicesResponse, error)
	// UpdateService changes a service's visibility, whitelist or associated
	// packages. The permission of every published version of the packages
	// concerned is recomputed, and applied to what they delivered.
	UpdateService(ctx context.Context, req *UpdateNestServiceRequest) (*UpdateNestServiceResponse, error)
}

// Artifact types.
const (
	ArtifactEcsImage  = "EcsImage"
	ArtifactFile      = "File"
	ArtifactAcrImage  = "AcrImage"
	ArtifactHelmChart = "HelmChart"
)

// Artifact version statuses.
const (
	ArtifactDraft      = "Created"
	ArtifactDelivering = "Delivering"
	ArtifactAvailable  = "Available"
)

// Service and package visibility.
const (
	VisibilityPrivate   = "Private"
	VisibilityPublic    = "Public"
	VisibilityWhitelist = "Whitelist"
)

// ArtifactProperty is what a package version contains, in its source region
// (RegionId, where a draft can be tested). EcsImage: the source image.
// File: the uploaded object (Bucket, ObjectKey; Url is its internal download
// address). AcrImage and HelmChart: the pushed tag in the tenant namespace
// (Namespace, RepoName, Tag).
type ArtifactProperty struct {
	RegionId  string `json:",omitempty"`
	ImageId   string `json:",omitempty"`
	Bucket    string `json:",omitempty"`
	ObjectKey string `json:",omitempty"`
	Url       string `json:",omitempty"`
	Namespace string `json:",omitempty"`
	RepoName  string `json:",omitempty"`
	Tag       string `json:",omitempty"`
}

// Permission is who may use a package version's delivered content.
type Permission struct {
	Visibility string   // Private | Public | Whitelist
	AccountIds []string `json:",omitempty"` // the whitelist
}

// ArtifactVersion is one version of a package.
type ArtifactVersion struct {
	VersionName      string
	Description      string
	Status           string // Created (draft) | Delivering (a publication holds it) | Available (published, locked)
	ArtifactProperty ArtifactProperty
	SupportRegionIds []string
	// ImageDelivery maps each delivered region to its image ID.
	ImageDelivery map[string]string `json:",omitempty"`
	// Delivery maps each delivered region to where the content is there, for
	// the other types: File, the object's internal download URL; AcrImage and
	// HelmChart, the internet pull address.
	Delivery    map[string]string `json:",omitempty"`
	Permission  *Permission       `json:",omitempty"`
	CreateTime  time.Time
	ReleaseTime time.Time `json:",omitzero"`
	// Deprecated: the version is not offered to new deployments, and stays
	// usable (ModifyArtifactVersion); DeprecateTime is since when.
	Deprecated    bool      `json:",omitempty"`
	DeprecateTime time.Time `json:",omitzero"`
}

// Artifact is a deployment package with its versions.
type Artifact struct {
	ArtifactId   string
	ArtifactType string
	Name         string
	OwnerId      string
	Tags         map[string]string `json:",omitempty"`
	Versions     []ArtifactVersion
}

type CreateArtifactRequest struct {
	ArtifactId       string `json:",omitempty"` // empty: create the package
	ArtifactType     string
	Name             string
	VersionName      string
	Description      string
	ArtifactProperty ArtifactProperty
	SupportRegionIds []string
	Tags             map[string]string `json:",omitempty"`
	ClientToken      string            `json:",omitempty"`
}

type CreateArtifactResponse struct {
	RequestId   string
	ArtifactId  string
	VersionName string
	Status      string
}

// GetArtifactRequest finds a package by ID or by name.
type GetArtifactRequest struct {
	ArtifactId string `json:",omitempty"`
	Name       string `json:",omitempty"`
}

type GetArtifactResponse struct {
	RequestId string
	Artifact  Artifact
}

type ListArtifactsRequest struct {
	Name string `json:",omitempty"`
}

type ListArtifactsResponse struct {
	RequestId string
	Artifacts []Artifact
}

type ReleaseArtifactRequest struct {
	ArtifactId    string
	VersionName   string
	ImageDelivery map[string]string `json:",omitempty"` // EcsImage
	Delivery      map[string]string `json:",omitempty"` // File, AcrImage, HelmChart
	Permission    Permission
	// ReleaseToken is the publication's (StartArtifactRelease): required
	// when the version is Delivering.
	ReleaseToken string `json:",omitempty"`
	ClientToken  string `json:",omitempty"`
}

type ReleaseArtifactResponse struct {
	RequestId string
	Status    string
}

// DeleteArtifactRequest deletes a version, or the whole package, with what
// it delivered. A version a publication holds (Delivering, see
// StartArtifactReleaseRequest) is refused with CodeArtifactReleasing unless
// ReleaseToken is the holder's; a package is refused while any of its
// versions is held.
type DeleteArtifactRequest struct {
	ArtifactId   string
	VersionName  string `json:",omitempty"` // empty: the whole package
	ReleaseToken string `json:",omitempty"` // the holding publication's, if it deletes its own version
}

type DeleteArtifactResponse struct{ RequestId string }

// Service is a Compute Nest service; packages are associated with services.
type Service struct {
	ServiceId   string
	Name        string
	Visibility  string   // Public | Private
	Whitelist   []string `json:",omitempty"` // accounts allowed to use a private service
	ArtifactIds []string `json:",omitempty"` // associated packages
	OwnerId     string
}

type CreateServiceRequest struct {
	Name        string
	Visibility  string
	Whitelist   []string `json:",omitempty"`
	ArtifactIds []string `json:",omitempty"`
	ClientToken string   `json:",omitempty"`
}

type CreateServiceResponse struct {
	RequestId string
	ServiceId string
}

type ListServicesRequest struct {
	ArtifactId string `json:",omitempty"` // only services associated with this package
}

type ListServicesResponse struct {
	RequestId string
	Services  []Service
}

// UpdateNestServiceRequest changes a service; nil fields stay as they are.
// (Named for Compute Nest: UpdateServiceRequest is the container service's.)
type UpdateNestServiceRequest struct {
	ServiceId   string
	Visibility  string    `json:",omitempty"`
	Whitelist   *[]string `json:",omitempty"`
	ArtifactIds *[]string `json:",omitempty"`
	ClientToken string    `json:",omitempty"`
}

type UpdateNestServiceResponse struct {
	RequestId string
	Service   Service
}
