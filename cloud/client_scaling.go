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

func (c *Client) DescribeCustomEventAttribute(ctx context.Context, req *DescribeCustomEventAttributeRequest) (*DescribeCustomEventAttributeResponse, error) {
	return call[DescribeCustomEventAttributeResponse](ctx, c, "DescribeCustomEventAttribute", req)
}

var (
	_ ScalingSources  = (*Client)(nil)
	_ LaunchTemplates = (*Client)(nil)
)

func (c *Client) DescribeScalingConfigurations(ctx context.Context, req *DescribeScalingConfigurationsRequest) (*DescribeScalingConfigurationsResponse, error) {
	return call[DescribeScalingConfigurationsResponse](ctx, c, "DescribeScalingConfigurations", req)
}

func (c *Client) CreateScalingConfiguration(ctx context.Context, req *CreateScalingConfigurationRequest) (*CreateScalingConfigurationResponse, error) {
	return call[CreateScalingConfigurationResponse](ctx, c, "CreateScalingConfiguration", req)
}

func (c *Client) ModifyScalingConfiguration(ctx context.Context, req *ModifyScalingConfigurationRequest) (*ModifyScalingConfigurationResponse, error) {
	return call[ModifyScalingConfigurationResponse](ctx, c, "ModifyScalingConfiguration", req)
}

func (c *Client) ModifyScalingGroup(ctx context.Context, req *ModifyScalingGroupRequest) (*ModifyScalingGroupResponse, error) {
	return call[ModifyScalingGroupResponse](ctx, c, "ModifyScalingGroup", req)
}

func (c *Client) ScaleWithAdjustment(ctx context.Context, req *ScaleWithAdjustmentRequest) (*ScaleWithAdjustmentResponse, error) {
	return call[ScaleWithAdjustmentResponse](ctx, c, "ScaleWithAdjustment", req)
}

func (c *Client) CreateScalingRule(ctx context.Context, req *CreateScalingRuleRequest) (*CreateScalingRuleResponse, error) {
	return call[CreateScalingRuleResponse](ctx, c, "CreateScalingRule", req)
}

func (c *Client) DescribeScalingRules(ctx context.Context, req *DescribeScalingRulesRequest) (*DescribeScalingRulesResponse, error) {
	return call[DescribeScalingRulesResponse](ctx, c, "DescribeScalingRules", req)
}

func (c *Client) ExecuteScalingRule(ctx context.Context, req *ExecuteScalingRuleRequest) (*ExecuteScalingRuleResponse, error) {
	return call[ExecuteScalingRuleResponse](ctx, c, "ExecuteScalingRule", req)
}

func (c *Client) RemoveInstances(ctx context.Context, req *RemoveInstancesRequest) (*RemoveInstancesResponse, error) {
	return call[RemoveInstancesResponse](ctx, c, "RemoveInstances", req)
}

func (c *Client) DescribeLaunchTemplateVersions(ctx context.Context, req *DescribeLaunchTemplateVersionsRequest) (*DescribeLaunchTemplateVersionsResponse, error) {
	return call[DescribeLaunchTemplateVersionsResponse](ctx, c, "DescribeLaunchTemplateVersions", req)
}

func (c *Client) CreateLaunchTemplateVersion(ctx context.Context, req *CreateLaunchTemplateVersionRequest) (*CreateLaunchTemplateVersionResponse, error) {
	return call[CreateLaunchTemplateVersionResponse](ctx, c, "CreateLaunchTemplateVersion", req)
}

func (c *Client) ModifyLaunchTemplateDefaultVersion(ctx context.Context, req *ModifyLaunchTemplateDefaultVersionRequest) (*ModifyLaunchTemplateDefaultVersionResponse, error) {
	return call[ModifyLaunchTemplateDefaultVersionResponse](ctx, c, "ModifyLaunchTemplateDefaultVersion", req)
}
