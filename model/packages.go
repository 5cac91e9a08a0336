package model

import (
	"fmt"
	"slices"
)

// Deployment packages of every type (Compute Nest's model): ECS image, file,
// container image and Helm chart. A version is created as a draft (usable
// only in its source region), then published: its content is delivered to
// the version's regions and locked. ECS image versions are published by
// DistributeImagePackage (distribution.go); the other types by
// PublishPackageVersion, contracted here.

// Package types (the cloud's ArtifactType strings).
const (
	PackageEcsImage  = "EcsImage"
	PackageFile      = "File"
	PackageAcrImage  = "AcrImage"
	PackageHelmChart = "HelmChart"
)

// PackageTypes lists every package type.
var PackageTypes = []string{PackageEcsImage, PackageFile, PackageAcrImage, PackageHelmChart}

// PublishWorkflowType publishes a draft version of a File, AcrImage or
// HelmChart package.
const PublishWorkflowType = "PublishPackageVersion"

// OperationPublish is the ImagefleetOperation value of PublishPackageVersion.
const OperationPublish = "publish"

// PublishWorkflowID is the workflow ID of a version's publication: one per
// version, so that a second publication while one runs is refused.
func PublishWorkflowID(pkg, version string) string {
	return "publish/" + pkg + "/" + version
}

// PublishPackageVersion's operator commands are the distribution's:
// CommandRetryRegion and CommandDropRegion (payload RegionCommand) for a
// region whose delivery failed, CommandCancel (payload CancelCommand; its
// deprecated alias CommandAbort is accepted too) before the release starts.
// Its query is QueryProgress, answering PublishProgress; its phases and
// region states are the distribution's; it ends with the distribution's
// error types (ErrTypeAborted, ErrTypeNoRegion).

// PublishSpec is the input of PublishPackageVersion. The version must exist
// as a draft (starter package version create); it is delivered to the
// regions it was created with.
type PublishSpec struct {
	Package string `json:"package"`
	Version string `json:"version"`
	// CopyAttempts is how often the cloud may refuse a region's delivery in
	// a row before the operator is asked (default 5). Transient errors (5xx,
	// throttling) are retried until StepDeadline and are not attempts.
	CopyAttempts int `json:"copyAttempts,omitempty"`
}

// Validate checks the spec without calling the cloud.
func (s PublishSpec) Validate() error {
	return invalidSpec(append(checkVersionNames(s.Package, s.Version), checkCopyAttempts(s.CopyAttempts)...))
}

// Attempts is CopyAttempts with its default applied.
func (s PublishSpec) Attempts() int { return copyAttempts(s.CopyAttempts) }

// CheckPackageType refuses an unknown package type.
func CheckPackageType(t string) error {
	if !slices.Contains(PackageTypes, t) {
		return fmt.Errorf("package type %s must be one of %s, %s, %s, %s", Quote(t), PackageEcsImage, PackageFile, PackageAcrImage, PackageHelmChart)
	}
	return nil
}

// PackageContent is what a version holds in its source region.
type PackageContent struct {
	Region string `json:"region"`
	// File: the object in the region's artifact bucket and its internal URL.
	Bucket    string `json:"bucket,omitempty"`
	ObjectKey string `json:"objectKey,omitempty"`
	URL       string `json:"url,omitempty"`
	// AcrImage, HelmChart: the tag in the tenant namespace.
	Namespace string `json:"namespace,omitempty"`
	RepoName  string `json:"repoName,omitempty"`
	Tag       string `json:"tag,omitempty"`
}

// DeliveryProgress is one region's part of a publication.
type DeliveryProgress struct {
	RegionStatus
	// Location is where the content is in the region: a file's internal
	// download URL, a container image's or chart's pull address.
	Location string `json:"location,omitempty"`
	// Endpoint says how the content is reached: "internal" for files,
	// "internet" for registry content (pulls work only over the internet).
	Endpoint string `json:"endpoint,omitempty"`
	Copied   bool   `json:"copied,omitempty"` // a copy was made that abort must delete
}

// PublishProgress is PublishPackageVersion's answer to QueryProgress.
type PublishProgress struct {
	Package     string             `json:"package"`
	Version     string             `json:"version"`
	Type        string             `json:"type,omitempty"`
	ArtifactID  string             `json:"artifactId,omitempty"`
	Phase       string             `json:"phase"` // the distribution's phases
	Content     *PackageContent    `json:"content,omitempty"`
	Regions     []DeliveryProgress `json:"regions"`
	WaitingFor  string             `json:"waitingFor,omitempty"`
	Permission  *Permission        `json:"permission,omitempty"`
	LastRefusal string             `json:"lastRefusal,omitempty"`
	Error       string             `json:"error,omitempty"` // why the run failed or was refused
}

// Region returns the progress entry of region, or nil.
func (p *PublishProgress) Region(region string) *DeliveryProgress {
	for i := range p.Regions {
		if p.Regions[i].Region == region {
			return &p.Regions[i]
		}
	}
	return nil
}

// PublishResult is the result of a successful publication.
type PublishResult struct {
	Package    string `json:"package"`
	Version    string `json:"version"`
	Type       string `json:"type"`
	ArtifactID string `json:"artifactId"`
	// Delivery maps each delivered region to the content's location there.
	Delivery map[string]string `json:"delivery"`
	// Endpoint: "internal" (files, downloaded inside the region) or
	// "internet" (registry content: pulls work only over the internet).
	Endpoint   string     `json:"endpoint"`
	Dropped    []string   `json:"dropped,omitempty"`
	Permission Permission `json:"permission"`
	// AlreadyPublished: an earlier run published the version; this one
	// answered with it and changed nothing.
	AlreadyPublished bool `json:"alreadyPublished,omitempty"`
}

// Endpoints of delivered content.
const (
	EndpointInternal = "internal"
	EndpointInternet = "internet"
)
