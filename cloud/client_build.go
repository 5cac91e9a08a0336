package cloud

import (
	"context"
	"net/http"
)

var _ ImageBuilder = (*Client)(nil)

func (c *Client) CreateImagePipeline(ctx context.Context, req *CreateImagePipelineRequest) (*CreateImagePipelineResponse, error) {
	return call[CreateImagePipelineResponse](ctx, c, "CreateImagePipeline", req)
}

func (c *Client) DescribeImagePipelines(ctx context.Context, req *DescribeImagePipelinesRequest) (*DescribeImagePipelinesResponse, error) {
	return call[DescribeImagePipelinesResponse](ctx, c, "DescribeImagePipelines", req)
}

func (c *Client) DeleteImagePipeline(ctx context.Context, req *DeleteImagePipelineRequest) (*DeleteImagePipelineResponse, error) {
	return call[DeleteImagePipelineResponse](ctx, c, "DeleteImagePipeline", req)
}

func (c *Client) StartImagePipelineExecution(ctx context.Context, req *StartImagePipelineExecutionRequest) (*StartImagePipelineExecutionResponse, error) {
	return call[StartImagePipelineExecutionResponse](ctx, c, "StartImagePipelineExecution", req)
}

func (c *Client) DescribeImagePipelineExecutions(ctx context.Context, req *DescribeImagePipelineExecutionsRequest) (*DescribeImagePipelineExecutionsResponse, error) {
	return call[DescribeImagePipelineExecutionsResponse](ctx, c, "DescribeImagePipelineExecutions", req)
}

func (c *Client) CancelImagePipelineExecution(ctx context.Context, req *CancelImagePipelineExecutionRequest) (*CancelImagePipelineExecutionResponse, error) {
	return call[CancelImagePipelineExecutionResponse](ctx, c, "CancelImagePipelineExecution", req)
}

func (c *Client) UpdateImagePipelineExecution(ctx context.Context, req *UpdateImagePipelineExecutionRequest) (*UpdateImagePipelineExecutionResponse, error) {
	return call[UpdateImagePipelineExecutionResponse](ctx, c, "UpdateImagePipelineExecution", req)
}

func (c *Client) DescribeImageComponents(ctx context.Context, req *DescribeImageComponentsRequest) (*DescribeImageComponentsResponse, error) {
	return call[DescribeImageComponentsResponse](ctx, c, "DescribeImageComponents", req)
}

func (c *Client) DescribeImageFromFamily(ctx context.Context, req *DescribeImageFromFamilyRequest) (*DescribeImageFromFamilyResponse, error) {
	return call[DescribeImageFromFamilyResponse](ctx, c, "DescribeImageFromFamily", req)
}

func (c *Client) CreateImage(ctx context.Context, req *CreateImageRequest) (*CreateImageResponse, error) {
	return call[CreateImageResponse](ctx, c, "CreateImage", req)
}

func (c *Client) CheckGuestOS(ctx context.Context, req *CheckGuestOSRequest) (*CheckGuestOSResponse, error) {
	return call[CheckGuestOSResponse](ctx, c, "CheckGuestOS", req)
}

func (c *Client) RepairGuestOS(ctx context.Context, req *RepairGuestOSRequest) (*RepairGuestOSResponse, error) {
	return call[RepairGuestOSResponse](ctx, c, "RepairGuestOS", req)
}

// StockRule marks an instance type sold out (or in stock again) in a region.
type StockRule struct {
	RegionId     string
	InstanceType string
	SoldOut      bool
}

// SetStock changes an instance type's stock (simulator admin API).
func (a *Admin) SetStock(ctx context.Context, r StockRule) error {
	return a.c.do(ctx, http.MethodPost, "/admin/stock", r, nil)
}

// GuestOSProblems are the guest-OS check items an image fails.
type GuestOSProblems struct {
	RegionId string
	ImageId  string
	Items    []string
}

// SetGuestOSProblems sets the check items an image fails; instances started
// from it fail them until repaired, and images made from such an instance
// inherit what was not repaired (simulator admin API).
func (a *Admin) SetGuestOSProblems(ctx context.Context, p GuestOSProblems) error {
	return a.c.do(ctx, http.MethodPost, "/admin/guestos-problems", p, nil)
}
