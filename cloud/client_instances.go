package cloud

import "context"

var (
	_ ECSInstances   = (*Client)(nil)
	_ CloudAssistant = (*Client)(nil)
)

func (c *Client) DescribeInstances(ctx context.Context, req *DescribeInstancesRequest) (*DescribeInstancesResponse, error) {
	return call[DescribeInstancesResponse](ctx, c, "DescribeInstances", req)
}

func (c *Client) RunInstances(ctx context.Context, req *RunInstancesRequest) (*RunInstancesResponse, error) {
	return call[RunInstancesResponse](ctx, c, "RunInstances", req)
}

func (c *Client) DeleteInstances(ctx context.Context, req *DeleteInstancesRequest) (*DeleteInstancesResponse, error) {
	return call[DeleteInstancesResponse](ctx, c, "DeleteInstances", req)
}

func (c *Client) ReplaceSystemDisk(ctx context.Context, req *ReplaceSystemDiskRequest) (*ReplaceSystemDiskResponse, error) {
	return call[ReplaceSystemDiskResponse](ctx, c, "ReplaceSystemDisk", req)
}

func (c *Client) RunCommand(ctx context.Context, req *RunCommandRequest) (*RunCommandResponse, error) {
	return call[RunCommandResponse](ctx, c, "RunCommand", req)
}

func (c *Client) DescribeInvocationResults(ctx context.Context, req *DescribeInvocationResultsRequest) (*DescribeInvocationResultsResponse, error) {
	return call[DescribeInvocationResultsResponse](ctx, c, "DescribeInvocationResults", req)
}
