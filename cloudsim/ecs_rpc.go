package cloudsim

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/imagefleet/imagefleet/cloud"
)

// ECS on the RPC front (API 2014-05-26, github.com/alibabacloud-go/
// ecs-20140526): so far the instance types a build picks from
// (DescribeInstanceTypes, regionless, and DescribeAvailableResource, their
// stock in a region's zones). The other ECS actions are on /api still.

// ECSVersion is the ECS API's version on the RPC front.
const ECSVersion = "2014-05-26"

// availableResourceRequest is the simulator's DescribeAvailableResource.
type availableResourceRequest struct {
	RegionId            string
	DestinationResource string
	ZoneId              string `json:",omitempty"`
	InstanceType        string `json:",omitempty"`
}

type availableResourceResponse struct {
	RequestId string
	Zones     []availableZone
}

type availableZone struct {
	ZoneId string
	// Stock of each instance type: WithStock or SoldOut (cloud.Stock*).
	Types []cloud.InstanceType
}

// zonesOf are the zones of region the simulator models: one.
func zonesOf(region string) []string { return []string{region + "-a"} }

func (s *Server) describeAvailableResource(c *call, req *availableResourceRequest) (*availableResourceResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	if req.DestinationResource != "InstanceType" {
		return nil, invalidParam("DestinationResource %q: the simulator models InstanceType only", req.DestinationResource)
	}
	resp := &availableResourceResponse{Zones: []availableZone{}}
	for _, z := range zonesOf(req.RegionId) {
		if req.ZoneId != "" && req.ZoneId != z {
			continue
		}
		zone := availableZone{ZoneId: z, Types: []cloud.InstanceType{}}
		for _, t := range instanceTypes {
			if req.InstanceType != "" && req.InstanceType != t.InstanceTypeId {
				continue
			}
			t.Status = cloud.StockWithStock
			if c.st.Build.SoldOut[stockKey(req.RegionId, t.InstanceTypeId)] {
				t.Status = cloud.StockSoldOut
			}
			zone.Types = append(zone.Types, t)
		}
		resp.Zones = append(resp.Zones, zone)
	}
	return resp, nil
}

func (s *Server) registerECSRPC() {
	registerQuery(s, "DescribeAvailableResource", s.describeAvailableResource)
	registerRPC(s, ECSVersion, "DescribeInstanceTypes", &rpcRoute{
		product: "Ecs", internal: "DescribeInstanceTypes",
		params: []string{"InstanceTypes.N", "InstanceTypeFamily", "MaxResults", "NextToken"},
		decode: func(p rpcParams) (any, error) { return &cloud.DescribeInstanceTypesRequest{}, nil },
		encode: func(_ *call, p rpcParams, out []byte) (any, error) {
			r, err := decodeOut[cloud.DescribeInstanceTypesResponse](out)
			if err != nil {
				return nil, err
			}
			only, err := p.list("InstanceTypes")
			if err != nil {
				return nil, err
			}
			var kept []map[string]any
			for _, t := range r.InstanceTypes {
				if (len(only) == 0 || slices.Contains(only, t.InstanceTypeId)) && (p.str("InstanceTypeFamily") == "" || p.str("InstanceTypeFamily") == t.InstanceTypeFamily) {
					kept = append(kept, map[string]any{
						"InstanceTypeId": t.InstanceTypeId, "InstanceTypeFamily": t.InstanceTypeFamily,
						"CpuCoreCount": t.CpuCoreCount, "MemorySize": t.MemorySize, "CpuArchitecture": "X86",
					})
				}
			}
			// NextToken is the offset of the next page, MaxResults its size.
			size, err := p.int("MaxResults", 250, 1, 1600)
			if err != nil {
				return nil, err
			}
			from := 0
			if tok := p.str("NextToken"); tok != "" {
				if from, err = strconv.Atoi(tok); err != nil || from < 0 || from > len(kept) {
					return nil, newError(http.StatusBadRequest, "InvalidNextToken", "The specified NextToken %q is not valid.", tok)
				}
			}
			page := kept[from:min(from+size, len(kept))]
			next := ""
			if from+size < len(kept) {
				next = strconv.Itoa(from + size)
			}
			return map[string]any{"RequestId": r.RequestId, "NextToken": next, "InstanceTypes": map[string]any{"InstanceType": append([]map[string]any{}, page...)}}, nil
		},
	})
	registerRPC(s, ECSVersion, "DescribeAvailableResource", &rpcRoute{
		product: "Ecs", internal: "DescribeAvailableResource",
		params: []string{"RegionId", "DestinationResource", "ZoneId", "InstanceType"},
		decode: func(p rpcParams) (any, error) {
			dest, err := p.required("DestinationResource")
			if err != nil {
				return nil, err
			}
			return &availableResourceRequest{RegionId: p.str("RegionId"), DestinationResource: dest, ZoneId: p.str("ZoneId"), InstanceType: p.str("InstanceType")}, nil
		},
		encode: func(_ *call, p rpcParams, out []byte) (any, error) {
			r, err := decodeOut[availableResourceResponse](out)
			if err != nil {
				return nil, err
			}
			zones := []map[string]any{}
			for _, z := range r.Zones {
				supported := []map[string]any{}
				for _, t := range z.Types {
					status, category := "Available", "WithStock"
					if t.Status == cloud.StockSoldOut {
						status, category = "SoldOut", "WithoutStock"
					}
					supported = append(supported, map[string]any{"Value": t.InstanceTypeId, "Status": status, "StatusCategory": category})
				}
				zones = append(zones, map[string]any{
					"RegionId": p.str("RegionId"), "ZoneId": z.ZoneId, "Status": "Available", "StatusCategory": "WithStock",
					"AvailableResources": map[string]any{"AvailableResource": []map[string]any{{
						"Type": "InstanceType", "SupportedResources": map[string]any{"SupportedResource": supported},
					}}},
				})
			}
			return map[string]any{"RequestId": r.RequestId, "AvailableZones": map[string]any{"AvailableZone": zones}}, nil
		},
	})
}
