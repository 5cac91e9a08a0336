package cloud

import "context"

var (
	_ AutoScaling = (*Client)(nil)
	_ SLB         = (*Client)(nil)
	_ OOS         = (*Client)(nil)
	_ Events      = (*Client)(nil)
)

func (c *Client) DescribeScalingGroups(ctx context.Context, req *DescribeScalingGroupsRequest) (*DescribeScalingGroupsResponse, error) {
	return call[DescribeScalingGroupsResponse](ctx, c, "DescribeScalingGroups", req)
}

func (c *Client) DescribeScalingInstances(ctx context.Context, req *DescribeScalingInstancesRequest) (*DescribeScalingInstancesResponse, error) {
	return call[DescribeScalingInstancesResponse](ctx, c, "DescribeScalingInstances", req)
}

func (c *Client) DescribeScalingActivities(ctx context.Context, req *DescribeScalingActivitiesRequest) (*DescribeScalingActivitiesResponse, error) {
	return call[DescribeScalingActivitiesResponse](ctx, c, "DescribeScalingActivities", req)
}

func (c *Client) SuspendProcesses(ctx context.Context, req *SuspendProcessesRequest) (*SuspendProcessesResponse, error) {
	return call[SuspendProcessesResponse](ctx, c, "SuspendProcesses", req)
}

func (c *Client) ResumeProcesses(ctx context.Context, req *ResumeProcessesRequest) (*ResumeProcessesResponse, error) {
	return call[ResumeProcessesResponse](ctx, c, "ResumeProcesses", req)
}

func (c *Client) EnterStandby(ctx context.Context, req *EnterStandbyRequest) (*EnterStandbyResponse, error) {
	return call[EnterStandbyResponse](ctx, c, "EnterStandby", req)
}

func (c *Client) ExitStandby(ctx context.Context, req *ExitStandbyRequest) (*ExitStandbyResponse, error) {
	return call[ExitStandbyResponse](ctx, c, "ExitStandby", req)
}

func (c *Client) DescribeLoadBalancerAttribute(ctx context.Context, req *DescribeLoadBalancerAttributeRequest) (*DescribeLoadBalancerAttributeResponse, error) {
	return call[DescribeLoadBalancerAttributeResponse](ctx, c, "DescribeLoadBalancerAttribute", req)
}

func (c *Client) SetBackendServers(ctx context.Context, req *SetBackendServersRequest) (*SetBackendServersResponse, error) {
	return call[SetBackendServersResponse](ctx, c, "SetBackendServers", req)
}

func (c *Client) ListOOSPackages(ctx context.Context, req *ListOOSPackagesRequest) (*ListOOSPackagesResponse, error) {
	return call[ListOOSPackagesResponse](ctx, c, "ListOOSPackages", req)
}

func (c *Client) StartExecution(ctx context.Context, req *StartExecutionRequest) (*StartExecutionResponse, error) {
	return call[StartExecutionResponse](ctx, c, "StartExecution", req)
}

func (c *Client) ListExecutions(ctx context.Context, req *ListExecutionsRequest) (*ListExecutionsResponse, error) {
	return call[ListExecutionsResponse](ctx, c, "ListExecutions", req)
}

func (c *Client) PutCustomEvent(ctx context.Context, req *PutCustomEventRequest) (*PutCustomEventResponse, error) {
	return call[PutCustomEventResponse](ctx, c, "PutCustomEvent", req)
}
