package cloud

import (
	"cmp"
	"context"
	"time"

	"github.com/alibabacloud-go/tea/dara"
	vpc "github.com/alibabacloud-go/vpc-20160428/v6/client"
)

// VPC through its official SDK module, API version 2016-04-28: no
// hand-written HTTP. Idempotency is each action's own: ClientToken where the
// action takes one (CreateVpc, CreateVSwitch, DeleteVpc); DeleteVSwitch takes
// none, and a repeated delete answers InvalidVSwitchId.NotFound, which the
// activities take as done.

var _ VPC = (*Client)(nil)

// vpcClient is an SDK client for one call in region, sending through the
// client's HTTP client with ctx.
func (c *Client) vpcClient(ctx context.Context, region string) (*vpc.Client, error) {
	cfg, err := c.openapiConfig(region)
	if err != nil {
		return nil, err
	}
	v, err := vpc.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	v.HttpClient = sdkHTTP{ctx: ctx, http: c.http}
	v.DisableSDKError, v.Client.DisableSDKError = dara.Bool(true), dara.Bool(true) // typed errors (sdkError)
	return v, nil
}

// optional is nil for an empty string: a parameter left out.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return dara.String(s)
}

func (c *Client) CreateVpc(ctx context.Context, req *CreateVpcRequest) (*CreateVpcResponse, error) {
	v, err := c.vpcClient(ctx, req.RegionId)
	if err != nil {
		return nil, err
	}
	resp, err := v.CreateVpcWithOptions(&vpc.CreateVpcRequest{
		RegionId: dara.String(req.RegionId), VpcName: optional(req.VpcName),
		CidrBlock: optional(req.CidrBlock), ClientToken: optional(req.ClientToken),
	}, sdkRuntime())
	if err != nil {
		return nil, sdkError(err)
	}
	return &CreateVpcResponse{RequestId: dara.StringValue(resp.Body.RequestId), VpcId: dara.StringValue(resp.Body.VpcId)}, nil
}

func (c *Client) DeleteVpc(ctx context.Context, req *DeleteVpcRequest) (*DeleteVpcResponse, error) {
	v, err := c.vpcClient(ctx, req.RegionId)
	if err != nil {
		return nil, err
	}
	resp, err := v.DeleteVpcWithOptions(&vpc.DeleteVpcRequest{
		RegionId: dara.String(req.RegionId), VpcId: dara.String(req.VpcId), ClientToken: optional(req.ClientToken),
	}, sdkRuntime())
	if err != nil {
		return nil, sdkError(err)
	}
	return &DeleteVpcResponse{RequestId: dara.StringValue(resp.Body.RequestId)}, nil
}

func (c *Client) CreateVSwitch(ctx context.Context, req *CreateVSwitchRequest) (*CreateVSwitchResponse, error) {
	v, err := c.vpcClient(ctx, req.RegionId)
	if err != nil {
		return nil, err
	}
	// ZoneId and CidrBlock are required by the real action: the defaults
	// the interface documents are filled in here.
	resp, err := v.CreateVSwitchWithOptions(&vpc.CreateVSwitchRequest{
		RegionId: dara.String(req.RegionId), VpcId: dara.String(req.VpcId),
		ZoneId:      dara.String(cmp.Or(req.ZoneId, req.RegionId+"-a")),
		CidrBlock:   dara.String(cmp.Or(req.CidrBlock, "172.16.0.0/24")),
		VSwitchName: optional(req.VSwitchName), ClientToken: optional(req.ClientToken),
	}, sdkRuntime())
	if err != nil {
		return nil, sdkError(err)
	}
	return &CreateVSwitchResponse{RequestId: dara.StringValue(resp.Body.RequestId), VSwitchId: dara.StringValue(resp.Body.VSwitchId)}, nil
}

func (c *Client) DeleteVSwitch(ctx context.Context, req *DeleteVSwitchRequest) (*DeleteVSwitchResponse, error) {
	v, err := c.vpcClient(ctx, req.RegionId)
	if err != nil {
		return nil, err
	}
	resp, err := v.DeleteVSwitchWithOptions(&vpc.DeleteVSwitchRequest{
		RegionId: dara.String(req.RegionId), VSwitchId: dara.String(req.VSwitchId),
	}, sdkRuntime())
	if err != nil {
		return nil, sdkError(err)
	}
	return &DeleteVSwitchResponse{RequestId: dara.StringValue(resp.Body.RequestId)}, nil
}

// vSwitchPageSize is the largest page DescribeVSwitches answers.
const vSwitchPageSize = 50

// DescribeVSwitches reads every page.
func (c *Client) DescribeVSwitches(ctx context.Context, req *DescribeVSwitchesRequest) (*DescribeVSwitchesResponse, error) {
	v, err := c.vpcClient(ctx, req.RegionId)
	if err != nil {
		return nil, err
	}
	out := &DescribeVSwitchesResponse{VSwitches: []VSwitch{}}
	for page := int32(1); ; page++ {
		resp, err := v.DescribeVSwitchesWithOptions(&vpc.DescribeVSwitchesRequest{
			RegionId: dara.String(req.RegionId), VpcId: optional(req.VpcId), VSwitchId: optional(req.VSwitchId),
			PageNumber: dara.Int32(page), PageSize: dara.Int32(vSwitchPageSize),
		}, sdkRuntime())
		if err != nil {
			return nil, sdkError(err)
		}
		b := resp.Body
		out.RequestId = dara.StringValue(b.RequestId)
		var items []*vpc.DescribeVSwitchesResponseBodyVSwitchesVSwitch
		if b.VSwitches != nil {
			items = b.VSwitches.VSwitch
		}
		for _, sw := range items {
			created, _ := time.Parse(time.RFC3339, dara.StringValue(sw.CreationTime))
			out.VSwitches = append(out.VSwitches, VSwitch{
				VSwitchId: dara.StringValue(sw.VSwitchId), VSwitchName: dara.StringValue(sw.VSwitchName),
				VpcId: dara.StringValue(sw.VpcId), RegionId: req.RegionId, ZoneId: dara.StringValue(sw.ZoneId),
				CidrBlock: dara.StringValue(sw.CidrBlock), CreationTime: created,
			})
		}
		if len(items) < vSwitchPageSize || len(out.VSwitches) >= int(dara.Int32Value(b.TotalCount)) {
			return out, nil
		}
	}
}
