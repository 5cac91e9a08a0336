package cloud

import (
	"context"
	"time"
)

// ContainerService is the part of an Amazon-ECS-like container service that a
// blue/green deployment through task sets needs: clusters, services whose
// deployment controller is EXTERNAL, and the task sets of such a service.
// Calls, fields and rules mirror Amazon ECS's external deployments (see the
// seed document "external deployments"): UpdateService changes only the
// desired count and the health-check grace period, UpdateTaskSet only a task
// set's scale, UpdateServicePrimaryTaskSet which task set is primary, and
// DescribeServices answers the primary task set's fields.
//
// # Naming
//
// Compute Nest already owns the action name CreateService on the wire, and
// *Client its Go method CreateService. The container service therefore has:
//
//   - its own client type, ContainersClient, reached through
//     Client.Containers(), whose methods keep AWS's plain names
//     (CreateService, CreateTaskSet, ...);
//   - action names with AWS's target prefix on the wire, e.g.
//     POST /api/AmazonECS.CreateService, mirroring the X-Amz-Target header
//     (AmazonEC2ContainerServiceV20141113.CreateService) by which AWS's JSON
//     protocol names an action;
//   - request, response and resource types named for the container service
//     where Compute Nest's would clash (CreateContainerServiceRequest,
//     ContainerService is this interface, ClusterService the resource);
//   - AWS's camelCase JSON field names.
type ContainerService interface {
	CreateCluster(ctx context.Context, req *CreateClusterRequest) (*CreateClusterResponse, error)
	// CreateService creates a service with the EXTERNAL deployment
	// controller; its tasks come from the task sets created in it.
	CreateService(ctx context.Context, req *CreateContainerServiceRequest) (*CreateContainerServiceResponse, error)
	// DescribeServices answers the services with the fields of their primary
	// task set; unknown names come back in Failures (reason MISSING).
	DescribeServices(ctx context.Context, req *DescribeServicesRequest) (*DescribeServicesResponse, error)
	// UpdateService changes the desired count and the health-check grace
	// period only; anything else needs a new task set.
	UpdateService(ctx context.Context, req *UpdateServiceRequest) (*UpdateServiceResponse, error)
	CreateTaskSet(ctx context.Context, req *CreateTaskSetRequest) (*CreateTaskSetResponse, error)
	// UpdateTaskSet changes a task set's scale only.
	UpdateTaskSet(ctx context.Context, req *UpdateTaskSetRequest) (*UpdateTaskSetResponse, error)
	UpdateServicePrimaryTaskSet(ctx context.Context, req *UpdateServicePrimaryTaskSetRequest) (*UpdateServicePrimaryTaskSetResponse, error)
	// DeleteTaskSet refuses a task set that still has a scale above 0 unless
	// Force is set, and refuses the primary task set.
	DeleteTaskSet(ctx context.Context, req *DeleteTaskSetRequest) (*DeleteTaskSetResponse, error)
	DescribeTaskSets(ctx context.Context, req *DescribeTaskSetsRequest) (*DescribeTaskSetsResponse, error)
}

// Wire action names of the container service (see ContainerService, Naming).
const (
	ActionCreateCluster               = "AmazonECS.CreateCluster"
	ActionCreateContainerService      = "AmazonECS.CreateService"
	ActionDescribeServices            = "AmazonECS.DescribeServices"
	ActionUpdateService               = "AmazonECS.UpdateService"
	ActionCreateTaskSet               = "AmazonECS.CreateTaskSet"
	ActionUpdateTaskSet               = "AmazonECS.UpdateTaskSet"
	ActionUpdateServicePrimaryTaskSet = "AmazonECS.UpdateServicePrimaryTaskSet"
	ActionDeleteTaskSet               = "AmazonECS.DeleteTaskSet"
	ActionDescribeTaskSets            = "AmazonECS.DescribeTaskSets"
)

// Error codes of the container service (AWS's exception names).
const (
	CodeECSClientException      = "ClientException"
	CodeECSInvalidParameter     = "InvalidParameterException"
	CodeClusterNotFound         = "ClusterNotFoundException"
	CodeContainerServiceMissing = "ServiceNotFoundException"
	CodeServiceNotActive        = "ServiceNotActiveException"
	CodeTaskSetNotFound         = "TaskSetNotFoundException"
	CodeUnsupportedFeature      = "UnsupportedFeatureException"
)

// Deployment controllers, scheduling strategies, launch types.
const (
	DeploymentControllerECS      = "ECS"
	DeploymentControllerExternal = "EXTERNAL"

	SchedulingReplica = "REPLICA"
	SchedulingDaemon  = "DAEMON"

	LaunchTypeEC2      = "EC2"
	LaunchTypeFargate  = "FARGATE"
	LaunchTypeExternal = "EXTERNAL"
)

// Task set statuses and stability statuses.
const (
	TaskSetPrimary  = "PRIMARY"
	TaskSetActive   = "ACTIVE"
	TaskSetDraining = "DRAINING"

	StabilitySteady      = "STEADY_STATE"
	StabilityStabilizing = "STABILIZING"

	ScaleUnitPercent = "PERCENT"
)

// ContainerCluster is a container cluster.
type ContainerCluster struct {
	ClusterArn  string `json:"clusterArn"`
	ClusterName string `json:"clusterName"`
	Status      string `json:"status"` // ACTIVE
}

// ContainerTag is a key/value label of a service (up to 50; key 1–128, value 0–256
// characters).
type ContainerTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// DeploymentController names who deploys a service's tasks.
type DeploymentController struct {
	Type string `json:"type"` // ECS | EXTERNAL (the simulator serves EXTERNAL)
}

// DeploymentConfiguration bounds the running tasks during a deployment.
type DeploymentConfiguration struct {
	MaximumPercent        int `json:"maximumPercent,omitempty"`
	MinimumHealthyPercent int `json:"minimumHealthyPercent,omitempty"`
}

// TaskSetLoadBalancer attaches a container of a task set to a target group. With an
// Application Load Balancer a task set may have one target group only; a
// classic load balancer (LoadBalancerName) is not supported.
type TaskSetLoadBalancer struct {
	TargetGroupArn   string `json:"targetGroupArn,omitempty"`
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	ContainerName    string `json:"containerName"`
	ContainerPort    int    `json:"containerPort"`
}

// NetworkConfiguration is the awsvpc network of a task set's tasks.
type NetworkConfiguration struct {
	AwsvpcConfiguration *AwsVpcConfiguration `json:"awsvpcConfiguration,omitempty"`
}

// AwsVpcConfiguration places tasks in subnets with security groups.
type AwsVpcConfiguration struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	AssignPublicIp string   `json:"assignPublicIp,omitempty"` // ENABLED | DISABLED
}

// CapacityProviderStrategyItem is one capacity provider of a task set; it
// excludes a launch type.
type CapacityProviderStrategyItem struct {
	CapacityProvider string `json:"capacityProvider"`
	Weight           int    `json:"weight,omitempty"`
	Base             int    `json:"base,omitempty"`
}

// TaskSetScale is a task set's share of the service's desired count.
type TaskSetScale struct {
	Value float64 `json:"value"` // 0–100
	Unit  string  `json:"unit"`  // PERCENT
}

// TaskSet is one set of tasks of a service, all from one task definition.
type TaskSet struct {
	Id                       string                         `json:"id"`
	TaskSetArn               string                         `json:"taskSetArn"`
	ServiceArn               string                         `json:"serviceArn"`
	ClusterArn               string                         `json:"clusterArn"`
	ExternalId               string                         `json:"externalId,omitempty"`
	Status                   string                         `json:"status"` // PRIMARY | ACTIVE | DRAINING
	TaskDefinition           string                         `json:"taskDefinition"`
	LaunchType               string                         `json:"launchType,omitempty"`
	CapacityProviderStrategy []CapacityProviderStrategyItem `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                         `json:"platformVersion,omitempty"`
	NetworkConfiguration     *NetworkConfiguration          `json:"networkConfiguration,omitempty"`
	LoadBalancers            []TaskSetLoadBalancer          `json:"loadBalancers,omitempty"`
	Scale                    TaskSetScale                   `json:"scale"`
	// ComputedDesiredCount is ceil(service desiredCount × scale / 100).
	ComputedDesiredCount int       `json:"computedDesiredCount"`
	RunningCount         int       `json:"runningCount"`
	PendingCount         int       `json:"pendingCount"`
	StabilityStatus      string    `json:"stabilityStatus"` // STEADY_STATE | STABILIZING
	StabilityStatusAt    time.Time `json:"stabilityStatusAt"`
	CreatedAt            time.Time `json:"createdAt"`
	UpdatedAt            time.Time `json:"updatedAt"`
}

// ClusterService is a service of a cluster as DescribeServices answers it:
// the task definition, launch type, network and load balancers are those of
// its primary task set (empty while it has none).
type ClusterService struct {
	ServiceArn                    string                  `json:"serviceArn"`
	ServiceName                   string                  `json:"serviceName"`
	ClusterArn                    string                  `json:"clusterArn"`
	Status                        string                  `json:"status"` // ACTIVE
	DesiredCount                  int                     `json:"desiredCount"`
	RunningCount                  int                     `json:"runningCount"`
	PendingCount                  int                     `json:"pendingCount"`
	DeploymentController          DeploymentController    `json:"deploymentController"`
	DeploymentConfiguration       DeploymentConfiguration `json:"deploymentConfiguration"`
	SchedulingStrategy            string                  `json:"schedulingStrategy"`
	HealthCheckGracePeriodSeconds int                     `json:"healthCheckGracePeriodSeconds"`
	Tags                          []ContainerTag          `json:"tags,omitempty"`
	CreatedAt                     time.Time               `json:"createdAt"`

	// From the primary task set.
	TaskDefinition       string                `json:"taskDefinition,omitempty"`
	LaunchType           string                `json:"launchType,omitempty"`
	PlatformVersion      string                `json:"platformVersion,omitempty"`
	NetworkConfiguration *NetworkConfiguration `json:"networkConfiguration,omitempty"`
	LoadBalancers        []TaskSetLoadBalancer `json:"loadBalancers,omitempty"`

	// TaskSets are the service's task sets, the primary first.
	TaskSets []TaskSet `json:"taskSets"`
}

// Primary returns the service's primary task set, or nil.
func (s *ClusterService) Primary() *TaskSet {
	for i := range s.TaskSets {
		if s.TaskSets[i].Status == TaskSetPrimary {
			return &s.TaskSets[i]
		}
	}
	return nil
}

// DescribeFailure names a resource a describe call did not find.
type DescribeFailure struct {
	Arn    string `json:"arn"`
	Reason string `json:"reason"` // MISSING
}

type CreateClusterRequest struct {
	ClusterName string `json:"clusterName"`
}

type CreateClusterResponse struct {
	RequestId string           `json:"requestId"`
	Cluster   ContainerCluster `json:"cluster"`
}

type CreateContainerServiceRequest struct {
	Cluster                       string                   `json:"cluster"`
	ServiceName                   string                   `json:"serviceName"`
	DesiredCount                  int                      `json:"desiredCount"`
	DeploymentController          *DeploymentController    `json:"deploymentController,omitempty"`
	DeploymentConfiguration       *DeploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	SchedulingStrategy            string                   `json:"schedulingStrategy,omitempty"`
	HealthCheckGracePeriodSeconds int                      `json:"healthCheckGracePeriodSeconds,omitempty"`
	Tags                          []ContainerTag           `json:"tags,omitempty"`
	ClientToken                   string                   `json:"clientToken,omitempty"`
}

type CreateContainerServiceResponse struct {
	RequestId string         `json:"requestId"`
	Service   ClusterService `json:"service"`
}

type DescribeServicesRequest struct {
	Cluster  string   `json:"cluster"`
	Services []string `json:"services"` // names or ARNs
}

type DescribeServicesResponse struct {
	RequestId string            `json:"requestId"`
	Services  []ClusterService  `json:"services"`
	Failures  []DescribeFailure `json:"failures"`
}

type UpdateServiceRequest struct {
	Cluster                       string `json:"cluster"`
	Service                       string `json:"service"`
	DesiredCount                  *int   `json:"desiredCount,omitempty"`
	HealthCheckGracePeriodSeconds *int   `json:"healthCheckGracePeriodSeconds,omitempty"`
}

type UpdateServiceResponse struct {
	RequestId string         `json:"requestId"`
	Service   ClusterService `json:"service"`
}

type CreateTaskSetRequest struct {
	Cluster                  string                         `json:"cluster"`
	Service                  string                         `json:"service"`
	ExternalId               string                         `json:"externalId,omitempty"`
	TaskDefinition           string                         `json:"taskDefinition"`
	NetworkConfiguration     *NetworkConfiguration          `json:"networkConfiguration,omitempty"`
	LoadBalancers            []TaskSetLoadBalancer          `json:"loadBalancers,omitempty"`
	LaunchType               string                         `json:"launchType,omitempty"`
	CapacityProviderStrategy []CapacityProviderStrategyItem `json:"capacityProviderStrategy,omitempty"`
	PlatformVersion          string                         `json:"platformVersion,omitempty"`
	Scale                    *TaskSetScale                  `json:"scale,omitempty"` // default 100 %
	ClientToken              string                         `json:"clientToken,omitempty"`
}

type CreateTaskSetResponse struct {
	RequestId string  `json:"requestId"`
	TaskSet   TaskSet `json:"taskSet"`
}

type UpdateTaskSetRequest struct {
	Cluster string       `json:"cluster"`
	Service string       `json:"service"`
	TaskSet string       `json:"taskSet"` // ID or ARN
	Scale   TaskSetScale `json:"scale"`
}

type UpdateTaskSetResponse struct {
	RequestId string  `json:"requestId"`
	TaskSet   TaskSet `json:"taskSet"`
}

type UpdateServicePrimaryTaskSetRequest struct {
	Cluster        string `json:"cluster"`
	Service        string `json:"service"`
	PrimaryTaskSet string `json:"primaryTaskSet"` // ID or ARN
}

type UpdateServicePrimaryTaskSetResponse struct {
	RequestId string  `json:"requestId"`
	TaskSet   TaskSet `json:"taskSet"`
}

type DeleteTaskSetRequest struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	TaskSet string `json:"taskSet"` // ID or ARN
	Force   bool   `json:"force,omitempty"`
}

type DeleteTaskSetResponse struct {
	RequestId string  `json:"requestId"`
	TaskSet   TaskSet `json:"taskSet"` // DRAINING
}

type DescribeTaskSetsRequest struct {
	Cluster  string   `json:"cluster"`
	Service  string   `json:"service"`
	TaskSets []string `json:"taskSets,omitempty"` // IDs or ARNs; empty: all
}

type DescribeTaskSetsResponse struct {
	RequestId string            `json:"requestId"`
	TaskSets  []TaskSet         `json:"taskSets"`
	Failures  []DescribeFailure `json:"failures"`
}

// ContainersClient implements ContainerService over the simulated cloud's
// wire protocol. Get one from Client.Containers.
type ContainersClient struct{ c *Client }

var _ ContainerService = (*ContainersClient)(nil)

// Containers returns the container service client on the same endpoint and
// account. It is a separate type because the container service's method
// names (CreateService) clash with Compute Nest's on Client.
func (c *Client) Containers() *ContainersClient { return &ContainersClient{c: c} }

func (x *ContainersClient) CreateCluster(ctx context.Context, req *CreateClusterRequest) (*CreateClusterResponse, error) {
	return call[CreateClusterResponse](ctx, x.c, ActionCreateCluster, req)
}

func (x *ContainersClient) CreateService(ctx context.Context, req *CreateContainerServiceRequest) (*CreateContainerServiceResponse, error) {
	return call[CreateContainerServiceResponse](ctx, x.c, ActionCreateContainerService, req)
}

func (x *ContainersClient) DescribeServices(ctx context.Context, req *DescribeServicesRequest) (*DescribeServicesResponse, error) {
	return call[DescribeServicesResponse](ctx, x.c, ActionDescribeServices, req)
}

func (x *ContainersClient) UpdateService(ctx context.Context, req *UpdateServiceRequest) (*UpdateServiceResponse, error) {
	return call[UpdateServiceResponse](ctx, x.c, ActionUpdateService, req)
}

func (x *ContainersClient) CreateTaskSet(ctx context.Context, req *CreateTaskSetRequest) (*CreateTaskSetResponse, error) {
	return call[CreateTaskSetResponse](ctx, x.c, ActionCreateTaskSet, req)
}

func (x *ContainersClient) UpdateTaskSet(ctx context.Context, req *UpdateTaskSetRequest) (*UpdateTaskSetResponse, error) {
	return call[UpdateTaskSetResponse](ctx, x.c, ActionUpdateTaskSet, req)
}

func (x *ContainersClient) UpdateServicePrimaryTaskSet(ctx context.Context, req *UpdateServicePrimaryTaskSetRequest) (*UpdateServicePrimaryTaskSetResponse, error) {
	return call[UpdateServicePrimaryTaskSetResponse](ctx, x.c, ActionUpdateServicePrimaryTaskSet, req)
}

func (x *ContainersClient) DeleteTaskSet(ctx context.Context, req *DeleteTaskSetRequest) (*DeleteTaskSetResponse, error) {
	return call[DeleteTaskSetResponse](ctx, x.c, ActionDeleteTaskSet, req)
}

func (x *ContainersClient) DescribeTaskSets(ctx context.Context, req *DescribeTaskSetsRequest) (*DescribeTaskSetsResponse, error) {
	return call[DescribeTaskSetsResponse](ctx, x.c, ActionDescribeTaskSets, req)
}
