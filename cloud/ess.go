package cloud

import (
	"context"
	"time"
)

// AutoScaling is the part of Alibaba Cloud Auto Scaling (ESS) a rolling
// update needs: scaling groups and their instances, the group's scaling
// processes (which can be suspended and resumed), its scaling activities,
// and moving instances into and out of Standby.
//
// As in ESS, an instance in Standby receives no traffic: on EnterStandby the
// group sets its weight to 0 on every load balancer attached to the group,
// and ExitStandby restores the weight it had.
type AutoScaling interface {
	DescribeScalingGroups(ctx context.Context, req *DescribeScalingGroupsRequest) (*DescribeScalingGroupsResponse, error)
	DescribeScalingInstances(ctx context.Context, req *DescribeScalingInstancesRequest) (*DescribeScalingInstancesResponse, error)
	DescribeScalingActivities(ctx context.Context, req *DescribeScalingActivitiesRequest) (*DescribeScalingActivitiesResponse, error)
	SuspendProcesses(ctx context.Context, req *SuspendProcessesRequest) (*SuspendProcessesResponse, error)
	ResumeProcesses(ctx context.Context, req *ResumeProcessesRequest) (*ResumeProcessesResponse, error)
	EnterStandby(ctx context.Context, req *EnterStandbyRequest) (*EnterStandbyResponse, error)
	ExitStandby(ctx context.Context, req *ExitStandbyRequest) (*ExitStandbyResponse, error)
	ScalingSources
}

// Lifecycle states of an instance in a scaling group.
const (
	LifecycleInService = "InService"
	LifecycleStandby   = "Standby"
	LifecyclePending   = "Pending"
	LifecycleRemoving  = "Removing"
	LifecycleProtected = "Protected"
)

// Scaling processes, as ESS names them.
const (
	ProcessScaleIn           = "ScaleIn"
	ProcessScaleOut          = "ScaleOut"
	ProcessHealthCheck       = "HealthCheck"
	ProcessAlarmNotification = "AlarmNotification"
	ProcessScheduledAction   = "ScheduledAction"
)

// ScalingProcesses are every scaling process, in ESS's order.
var ScalingProcesses = []string{ProcessScaleIn, ProcessScaleOut, ProcessHealthCheck, ProcessAlarmNotification, ProcessScheduledAction}

// Scaling activity statuses.
const (
	ActivityInProgress = "InProgress"
	ActivitySuccessful = "Successful"
	ActivityFailed     = "Failed"
)

// MaxStandbyInstances is how many instances one EnterStandby or ExitStandby
// call may name.
const MaxStandbyInstances = 20

// ScalingGroup is an Auto Scaling group.
type ScalingGroup struct {
	ScalingGroupId   string
	ScalingGroupName string
	RegionId         string
	LifecycleState   string // Active
	MinSize          int
	MaxSize          int
	// The group's instance configuration source, what new instances are
	// created from: the active scaling configuration, or a launch template
	// and the version the group uses (Default, Latest or a number). One of
	// the two is set.
	ActiveScalingConfigurationId string `json:",omitempty"`
	LaunchTemplateId             string `json:",omitempty"`
	LaunchTemplateVersion        string `json:",omitempty"`
	// ImageId is the image of that source (of the version the group's
	// setting resolves to): the image a scale-out boots. The simulator
	// shows it for convenience; the real API has it only in the source.
	ImageId         string
	LoadBalancerIds []string `json:",omitempty"`
	// SuspendedProcesses are the scaling processes currently suspended.
	SuspendedProcesses []string
	TotalCapacity      int // instances in the group, whatever their state
	InServiceCapacity  int
	StandbyCapacity    int
	PendingCapacity    int // instances of a scale-out still booting
	CreationTime       time.Time
}

// ScalingInstance is an instance's membership in a scaling group.
type ScalingInstance struct {
	InstanceId     string
	ScalingGroupId string
	LifecycleState string
	HealthStatus   string // Healthy | Unhealthy
	CreationTime   time.Time
}

// ScalingActivity is a scale-out, scale-in or rebalance of a group.
type ScalingActivity struct {
	ScalingActivityId string
	ScalingGroupId    string
	StatusCode        string // InProgress | Successful | Failed
	Description       string
	StartTime         time.Time
	EndTime           time.Time `json:",omitzero"`
}

type DescribeScalingGroupsRequest struct {
	RegionId        string
	ScalingGroupIds []string `json:",omitempty"`
	PageNumber      int      `json:",omitempty"`
	PageSize        int      `json:",omitempty"`
}

type DescribeScalingGroupsResponse struct {
	RequestId     string
	TotalCount    int
	ScalingGroups []ScalingGroup
}

type DescribeScalingInstancesRequest struct {
	RegionId       string
	ScalingGroupId string
	InstanceIds    []string `json:",omitempty"`
	LifecycleState string   `json:",omitempty"`
	PageNumber     int      `json:",omitempty"`
	PageSize       int      `json:",omitempty"` // at most 100
}

type DescribeScalingInstancesResponse struct {
	RequestId        string
	TotalCount       int
	PageNumber       int
	PageSize         int
	ScalingInstances []ScalingInstance
}

type DescribeScalingActivitiesRequest struct {
	RegionId       string
	ScalingGroupId string
	StatusCode     string `json:",omitempty"`
}

type DescribeScalingActivitiesResponse struct {
	RequestId         string
	ScalingActivities []ScalingActivity
}

type SuspendProcessesRequest struct {
	RegionId       string
	ScalingGroupId string
	// Processes to suspend; suspending a suspended process changes nothing.
	Processes   []string
	ClientToken string `json:",omitempty"`
}

type SuspendProcessesResponse struct{ RequestId string }

type ResumeProcessesRequest struct {
	RegionId       string
	ScalingGroupId string
	// Processes to resume; resuming a running process changes nothing.
	Processes   []string
	ClientToken string `json:",omitempty"`
}

type ResumeProcessesResponse struct{ RequestId string }

type EnterStandbyRequest struct {
	RegionId       string
	ScalingGroupId string
	// InstanceIds: 1–MaxStandbyInstances InService (or already Standby) instances.
	InstanceIds []string
	ClientToken string `json:",omitempty"`
}

type EnterStandbyResponse struct{ RequestId string }

type ExitStandbyRequest struct {
	RegionId       string
	ScalingGroupId string
	// InstanceIds: 1–MaxStandbyInstances Standby (or already InService) instances.
	InstanceIds []string
	ClientToken string `json:",omitempty"`
}

type ExitStandbyResponse struct{ RequestId string }

// Error codes of Auto Scaling actions.
const (
	CodeScalingGroupNotFound = "InvalidScalingGroupId.NotFound"
	CodeLifecycleState       = "IncorrectLifecycleState"
	CodeScalingActivity      = "ScalingActivityInProgress"
)
