package cloud

import (
	"cmp"
	"context"
	"slices"

	ecs "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/alibabacloud-go/tea/dara"
)

// ECS through its official SDK module, API version 2014-05-26. Migrated so
// far: the instance types a build chooses from. The other ECS actions are on
// the simulator's /api protocol still (docs/cloud-api.md).

// ecsClient is an SDK client for one call in region (see vpcClient).
func (c *Client) ecsClient(ctx context.Context, region string) (*ecs.Client, error) {
	cfg, err := c.openapiConfig(region)
	if err != nil {
		return nil, err
	}
	e, err := ecs.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	e.HttpClient = sdkHTTP{ctx: ctx, http: c.http}
	e.DisableSDKError, e.Client.DisableSDKError = dara.Bool(true), dara.Bool(true)
	return e, nil
}

// instanceTypesPage is the page size of DescribeInstanceTypes (at most 1600).
const instanceTypesPage = 100

// DescribeInstanceTypes answers the instance types with their stock in the
// region, as the real ECS splits them: DescribeInstanceTypes (the types,
// regionless, paged by NextToken) and DescribeAvailableResource
// (DestinationResource=InstanceType: which types a zone of the region has
// in stock). A type is WithStock if some zone has it Available.
func (c *Client) DescribeInstanceTypes(ctx context.Context, req *DescribeInstanceTypesRequest) (*DescribeInstanceTypesResponse, error) {
	e, err := c.ecsClient(ctx, req.RegionId)
	if err != nil {
		return nil, err
	}
	out := &DescribeInstanceTypesResponse{InstanceTypes: []InstanceType{}}
	var next *string
	for {
		resp, err := e.DescribeInstanceTypesWithOptions(&ecs.DescribeInstanceTypesRequest{
			MaxResults: dara.Int64(instanceTypesPage), NextToken: next,
		}, sdkRuntime())
		if err != nil {
			return nil, sdkError(err)
		}
		b := resp.Body
		out.RequestId = dara.StringValue(b.RequestId)
		if b.InstanceTypes != nil {
			for _, t := range b.InstanceTypes.InstanceType {
				out.InstanceTypes = append(out.InstanceTypes, InstanceType{
					InstanceTypeId: dara.StringValue(t.InstanceTypeId), InstanceTypeFamily: dara.StringValue(t.InstanceTypeFamily),
					CpuCoreCount: int(dara.Int32Value(t.CpuCoreCount)), MemorySize: float64(dara.Float32Value(t.MemorySize)),
					Status: StockSoldOut,
				})
			}
		}
		if dara.StringValue(b.NextToken) == "" {
			break
		}
		next = b.NextToken
	}
	stock, err := e.DescribeAvailableResourceWithOptions(&ecs.DescribeAvailableResourceRequest{
		RegionId: dara.String(req.RegionId), DestinationResource: dara.String("InstanceType"),
	}, sdkRuntime())
	if err != nil {
		return nil, sdkError(err)
	}
	available := map[string]bool{}
	if z := stock.Body.AvailableZones; z != nil {
		for _, zone := range z.AvailableZone {
			if zone.AvailableResources == nil {
				continue
			}
			for _, r := range zone.AvailableResources.AvailableResource {
				if dara.StringValue(r.Type) != "InstanceType" || r.SupportedResources == nil {
					continue
				}
				for _, s := range r.SupportedResources.SupportedResource {
					if dara.StringValue(s.Status) == "Available" {
						available[dara.StringValue(s.Value)] = true
					}
				}
			}
		}
	}
	for i := range out.InstanceTypes {
		if available[out.InstanceTypes[i].InstanceTypeId] {
			out.InstanceTypes[i].Status = StockWithStock
		}
	}
	// Smallest first, as the interface promises: vCPUs, then memory.
	slices.SortStableFunc(out.InstanceTypes, func(a, b InstanceType) int {
		return cmp.Or(cmp.Compare(a.CpuCoreCount, b.CpuCoreCount), cmp.Compare(a.MemorySize, b.MemorySize))
	})
	return out, nil
}
