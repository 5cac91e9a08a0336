package cloud

import (
	"context"
	"time"
)

// ScalingSources is the part of Auto Scaling that decides what a group
// launches and when: scaling configurations (one of them the group's active
// instance configuration source, unless the group launches from a launch
// template, see LaunchTemplates), the group's source itself
// (ModifyScalingGroup), and scaling: ScaleWithAdjustment, simple scaling
// rules run with ExecuteScalingRule, and RemoveInstances. A scale-out
// creates instances from the active source with its image; a scale-in
// removes InService instances, oldest first, and releases them.
type ScalingSources interface {
	DescribeScalingConfigurations(ctx context.Context, req *DescribeScalingConfigurationsRequest) (*DescribeScalingConfigurationsResponse, error)
	CreateScalingConfiguration(ctx context.Context, req *CreateScalingConfigurationRequest) (*CreateScalingConfigurationResponse, error)
	ModifyScalingConfiguration(ctx context.Context, req *ModifyScalingConfigurationRequest) (*ModifyScalingConfigurationResponse, error)
	ModifyScalingGroup(ctx context.Context, req *ModifyScalingGroupRequest) (*ModifyScalingGroupResponse, error)
	ScaleWithAdjustment(ctx context.Context, req *ScaleWithAdjustmentRequest) (*ScaleWithAdjustmentResponse, error)
	CreateScalingRule(ctx context.Context, req *CreateScalingRuleRequest) (*CreateScalingRuleResponse, error)
	DescribeScalingRules(ctx context.Context, req *DescribeScalingRulesRequest) (*DescribeScalingRulesResponse, error)
	ExecuteScalingRule(ctx context.Context, req *ExecuteScalingRuleRequest) (*ExecuteScalingRuleResponse, error)
	RemoveInstances(ctx context.Context, req *RemoveInstancesRequest) (*RemoveInstancesResponse, error)
}

// Lifecycle states of a scaling configuration: the group's active one, or
// another of the group's.
const (
	ConfigurationActive   = "Active"
	ConfigurationInactive = "Inactive"
)

// Values of a group's LaunchTemplateVersion besides a version number.
const (
	LaunchTemplateDefault = "Default"
	LaunchTemplateLatest  = "Latest"
)

// Adjustment types of ScaleWithAdjustment and of simple scaling rules.
const (
	AdjustQuantity = "QuantityChangeInCapacity"
	AdjustPercent  = "PercentChangeInCapacity"
	AdjustTotal    = "TotalCapacity"
)

// ScalingRuleSimple is the only rule type the simulator keeps: a fixed
// adjustment run by ExecuteScalingRule.
const ScalingRuleSimple = "SimpleScalingRule"

// ScalingConfiguration is a template for a group's instances.
type ScalingConfiguration struct {
	ScalingConfigurationId   string
	ScalingConfigurationName string
	ScalingGroupId           string
	RegionId                 string
	LifecycleState           string // Active | Inactive
	ImageId                  string
	InstanceTypes            []string
	SystemDiskSize           int    `json:",omitempty"`
	SystemDiskCategory       string `json:",omitempty"`
	CreationTime             time.Time
}

type DescribeScalingConfigurationsRequest struct {
	RegionId                string
	ScalingGroupId          string   `json:",omitempty"`
	ScalingConfigurationIds []string `json:",omitempty"`
	PageNumber              int      `json:",omitempty"`
	PageSize                int      `json:",omitempty"`
}

type DescribeScalingConfigurationsResponse struct {
	RequestId             string
	TotalCount            int
	PageNumber            int
	PageSize              int
	ScalingConfigurations []ScalingConfiguration
}

type CreateScalingConfigurationRequest struct {
	RegionId                 string
	ScalingGroupId           string
	ImageId                  string
	InstanceTypes            []string
	ScalingConfigurationName string `json:",omitempty"`
	SystemDiskSize           int    `json:",omitempty"`
	SystemDiskCategory       string `json:",omitempty"`
	ClientToken              string `json:",omitempty"`
}

type CreateScalingConfigurationResponse struct {
	RequestId              string
	ScalingConfigurationId string
}

// ModifyScalingConfigurationRequest changes the given fields of a
// configuration (an empty one is left as it is). Instances already in the
// group keep what they run; new ones are created from the new values.
// Setting the values it has changes nothing.
type ModifyScalingConfigurationRequest struct {
	RegionId                 string
	ScalingConfigurationId   string
	ImageId                  string   `json:",omitempty"`
	InstanceTypes            []string `json:",omitempty"`
	ScalingConfigurationName string   `json:",omitempty"`
}

type ModifyScalingConfigurationResponse struct{ RequestId string }

// ModifyScalingGroupRequest changes a group's source or size limits; empty
// (nil) fields are left as they are. ActiveScalingConfigurationId makes the
// group launch from that configuration of the group (and drops its launch
// template); LaunchTemplateId and LaunchTemplateVersion make it launch from
// a launch template.
type ModifyScalingGroupRequest struct {
	RegionId                     string
	ScalingGroupId               string
	ActiveScalingConfigurationId string `json:",omitempty"`
	LaunchTemplateId             string `json:",omitempty"`
	LaunchTemplateVersion        string `json:",omitempty"`
	MinSize                      *int   `json:",omitempty"`
	MaxSize                      *int   `json:",omitempty"`
}

type ModifyScalingGroupResponse struct{ RequestId string }

// ScaleWithAdjustmentRequest scales a group now: AdjustmentValue instances
// more or fewer (QuantityChangeInCapacity), a percentage of the group
// (PercentChangeInCapacity) or to a total (TotalCapacity).
type ScaleWithAdjustmentRequest struct {
	RegionId        string
	ScalingGroupId  string
	AdjustmentType  string
	AdjustmentValue int
	ClientToken     string `json:",omitempty"`
}

type ScaleWithAdjustmentResponse struct {
	RequestId         string
	ScalingActivityId string
	ActivityType      string // CapacityChange
}

// ScalingRule is a simple scaling rule of a group.
type ScalingRule struct {
	ScalingRuleId   string
	ScalingRuleName string
	ScalingRuleAri  string
	ScalingGroupId  string
	ScalingRuleType string
	AdjustmentType  string
	AdjustmentValue int
	Cooldown        int `json:",omitempty"`
}

type CreateScalingRuleRequest struct {
	RegionId        string
	ScalingGroupId  string
	ScalingRuleName string `json:",omitempty"`
	ScalingRuleType string `json:",omitempty"` // default SimpleScalingRule
	AdjustmentType  string
	AdjustmentValue int
	Cooldown        int    `json:",omitempty"`
	ClientToken     string `json:",omitempty"`
}

type CreateScalingRuleResponse struct {
	RequestId      string
	ScalingRuleId  string
	ScalingRuleAri string
}

type DescribeScalingRulesRequest struct {
	RegionId       string
	ScalingGroupId string   `json:",omitempty"`
	ScalingRuleIds []string `json:",omitempty"`
	PageNumber     int      `json:",omitempty"`
	PageSize       int      `json:",omitempty"`
}

type DescribeScalingRulesResponse struct {
	RequestId    string
	TotalCount   int
	PageNumber   int
	PageSize     int
	ScalingRules []ScalingRule
}

type ExecuteScalingRuleRequest struct {
	RegionId       string
	ScalingRuleAri string
	ClientToken    string `json:",omitempty"`
}

type ExecuteScalingRuleResponse struct {
	RequestId         string
	ScalingActivityId string
}

// RemoveInstancesRequest removes InService or Standby instances from a
// group; the group releases those it created.
type RemoveInstancesRequest struct {
	RegionId       string
	ScalingGroupId string
	InstanceIds    []string
	ClientToken    string `json:",omitempty"`
}

type RemoveInstancesResponse struct {
	RequestId         string
	ScalingActivityId string
}

// Error codes of the scaling calls.
const (
	CodeScalingConfigurationNotFound = "InvalidScalingConfigurationId.NotFound"
	CodeScalingRuleNotFound          = "InvalidScalingRuleAri.NotFound"
	CodeProcessSuspended             = "IncorrectScalingGroupStatus.ProcessSuspended"
	CodeCapacityExceeded             = "QuotaExceed.ScalingGroupCapacity"
)
