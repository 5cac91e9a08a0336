package cloud

import (
	"context"
	"time"
)

// LaunchTemplates are ECS launch templates: numbered, immutable versions of
// instance settings, one of them the default. A scaling group may launch
// from a template at its Default version, its Latest version or a fixed
// version number (ScalingGroup.LaunchTemplateVersion).
type LaunchTemplates interface {
	DescribeLaunchTemplateVersions(ctx context.Context, req *DescribeLaunchTemplateVersionsRequest) (*DescribeLaunchTemplateVersionsResponse, error)
	// CreateLaunchTemplateVersion adds a version with exactly the given
	// settings (nothing is inherited from other versions) and returns its
	// number. It takes no client token: a caller that must not create two
	// marks the version (VersionDescription) and looks for it first.
	CreateLaunchTemplateVersion(ctx context.Context, req *CreateLaunchTemplateVersionRequest) (*CreateLaunchTemplateVersionResponse, error)
	ModifyLaunchTemplateDefaultVersion(ctx context.Context, req *ModifyLaunchTemplateDefaultVersionRequest) (*ModifyLaunchTemplateDefaultVersionResponse, error)
}

// MaxLaunchTemplateVersions is how many versions a template may have.
const MaxLaunchTemplateVersions = 30

// LaunchTemplateData is the instance settings of a version.
type LaunchTemplateData struct {
	ImageId            string
	InstanceType       string
	SystemDiskSize     int    `json:",omitempty"`
	SystemDiskCategory string `json:",omitempty"`
	InstanceName       string `json:",omitempty"`
	VSwitchId          string `json:",omitempty"`
}

// LaunchTemplateVersionSet is one version of a template.
type LaunchTemplateVersionSet struct {
	LaunchTemplateId   string
	LaunchTemplateName string
	VersionNumber      int64
	DefaultVersion     bool
	VersionDescription string `json:",omitempty"`
	CreateTime         time.Time
	LaunchTemplateData LaunchTemplateData
}

// DescribeLaunchTemplateVersionsRequest lists versions of a template, by
// number (LaunchTemplateVersion), or the default one (DefaultVersion), in
// version order.
type DescribeLaunchTemplateVersionsRequest struct {
	RegionId              string
	LaunchTemplateId      string
	LaunchTemplateVersion []string `json:",omitempty"`
	DefaultVersion        bool     `json:",omitempty"`
	PageNumber            int      `json:",omitempty"`
	PageSize              int      `json:",omitempty"`
}

type DescribeLaunchTemplateVersionsResponse struct {
	RequestId                 string
	TotalCount                int
	PageNumber                int
	PageSize                  int
	LaunchTemplateVersionSets []LaunchTemplateVersionSet
}

type CreateLaunchTemplateVersionRequest struct {
	RegionId           string
	LaunchTemplateId   string
	VersionDescription string `json:",omitempty"`
	ImageId            string
	InstanceType       string
	SystemDiskSize     int    `json:",omitempty"`
	SystemDiskCategory string `json:",omitempty"`
	InstanceName       string `json:",omitempty"`
	VSwitchId          string `json:",omitempty"`
}

type CreateLaunchTemplateVersionResponse struct {
	RequestId                   string
	LaunchTemplateId            string
	LaunchTemplateVersionNumber int64
}

type ModifyLaunchTemplateDefaultVersionRequest struct {
	RegionId             string
	LaunchTemplateId     string
	DefaultVersionNumber int64
}

type ModifyLaunchTemplateDefaultVersionResponse struct {
	RequestId        string
	LaunchTemplateId string
}

// Error codes of launch templates.
const (
	CodeLaunchTemplateNotFound        = "InvalidLaunchTemplate.NotFound"
	CodeLaunchTemplateVersionNotFound = "InvalidLaunchTemplateVersion.NotFound"
	CodeLaunchTemplateVersionLimit    = "QuotaExceed.LaunchTemplateVersion"
)
