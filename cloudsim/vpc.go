package cloudsim

import (
	"cmp"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/imagefleet/imagefleet/cloud"
)

// VPC: virtual private clouds and their vSwitches. A vSwitch in use by an
// instance, and a VPC with vSwitches, cannot be deleted, so that a caller
// releasing in the wrong order is told.

type vpcRecord struct {
	cloud.Vpc
	OwnerId string
}

type vSwitchRecord struct {
	cloud.VSwitch
	OwnerId string
}

func (r *vpcRecord) scope() (string, string)     { return r.OwnerId, r.RegionId }
func (r *vSwitchRecord) scope() (string, string) { return r.OwnerId, r.RegionId }

var (
	vpcs      = resource{"VPC", cloud.CodeVpcNotFound}
	vSwitches = resource{"vSwitch", cloud.CodeVSwitchNotFound}
)

func (s *Server) registerVPC() {
	registerMutation(s, "CreateVpc", s.createVpc)
	registerMutation(s, "DeleteVpc", s.deleteVpc)
	registerMutation(s, "CreateVSwitch", s.createVSwitch)
	registerMutation(s, "DeleteVSwitch", s.deleteVSwitch)
	registerQuery(s, "DescribeVSwitches", s.describeVSwitches)
	s.registerVPCRPC()
}

// VPCVersion is the VPC API's version on the RPC front.
const VPCVersion = "2016-04-28"

// registerVPCRPC serves VPC on the RPC front, with the parameters and
// answers of VPC API 2016-04-28 (github.com/alibabacloud-go/vpc-20160428).
func (s *Server) registerVPCRPC() {
	route := func(action string, params []string, decode func(rpcParams) (any, error), encode func(*call, rpcParams, []byte) (any, error)) {
		registerRPC(s, VPCVersion, action, &rpcRoute{product: "Vpc", internal: action, params: params, decode: decode, encode: encode})
	}
	requestOnly := func(_ *call, _ rpcParams, out []byte) (any, error) {
		r, err := decodeOut[struct{ RequestId string }](out)
		if err != nil {
			return nil, err
		}
		return map[string]any{"RequestId": r.RequestId}, nil
	}
	route("CreateVpc", []string{"RegionId", "CidrBlock", "VpcName", "ClientToken"},
		func(p rpcParams) (any, error) {
			return &cloud.CreateVpcRequest{RegionId: p.str("RegionId"), VpcName: p.str("VpcName"), CidrBlock: p.str("CidrBlock"), ClientToken: p.str("ClientToken")}, nil
		},
		func(c *call, _ rpcParams, out []byte) (any, error) {
			r, err := decodeOut[cloud.CreateVpcResponse](out)
			if err != nil {
				return nil, err
			}
			// The VPC's router and system route table are named after it:
			// stable for a replayed token.
			suffix := strings.TrimPrefix(r.VpcId, "vpc-")
			return map[string]any{"RequestId": r.RequestId, "VpcId": r.VpcId, "VRouterId": "vrt-" + suffix, "RouteTableId": "vtb-" + suffix, "ResourceGroupId": defaultResourceGroup(c.account)}, nil
		})
	route("DeleteVpc", []string{"RegionId", "VpcId", "ClientToken"},
		func(p rpcParams) (any, error) {
			id, err := p.required("VpcId")
			if err != nil {
				return nil, err
			}
			return &cloud.DeleteVpcRequest{RegionId: p.str("RegionId"), VpcId: id, ClientToken: p.str("ClientToken")}, nil
		}, requestOnly)
	route("CreateVSwitch", []string{"RegionId", "VpcId", "ZoneId", "CidrBlock", "VSwitchName", "ClientToken"},
		func(p rpcParams) (any, error) {
			req := &cloud.CreateVSwitchRequest{RegionId: p.str("RegionId"), VSwitchName: p.str("VSwitchName"), ClientToken: p.str("ClientToken")}
			for _, f := range []struct {
				name string
				to   *string
			}{{"VpcId", &req.VpcId}, {"ZoneId", &req.ZoneId}, {"CidrBlock", &req.CidrBlock}} {
				v, err := p.required(f.name)
				if err != nil {
					return nil, err
				}
				*f.to = v
			}
			return req, nil
		},
		func(_ *call, _ rpcParams, out []byte) (any, error) {
			r, err := decodeOut[cloud.CreateVSwitchResponse](out)
			if err != nil {
				return nil, err
			}
			return map[string]any{"RequestId": r.RequestId, "VSwitchId": r.VSwitchId}, nil
		})
	// DeleteVSwitch has no ClientToken: deleting is idempotent by its own
	// semantics (a second call finds no vSwitch).
	route("DeleteVSwitch", []string{"RegionId", "VSwitchId"},
		func(p rpcParams) (any, error) {
			id, err := p.required("VSwitchId")
			if err != nil {
				return nil, err
			}
			return &cloud.DeleteVSwitchRequest{RegionId: p.str("RegionId"), VSwitchId: id}, nil
		}, requestOnly)
	route("DescribeVSwitches", []string{"RegionId", "VpcId", "VSwitchId", "PageNumber", "PageSize"},
		func(p rpcParams) (any, error) {
			return &cloud.DescribeVSwitchesRequest{RegionId: p.str("RegionId"), VpcId: p.str("VpcId"), VSwitchId: p.str("VSwitchId")}, nil
		},
		func(c *call, p rpcParams, out []byte) (any, error) {
			r, err := decodeOut[cloud.DescribeVSwitchesResponse](out)
			if err != nil {
				return nil, err
			}
			items, number, size, err := rpcPage(p, r.VSwitches, 10, 50)
			if err != nil {
				return nil, err
			}
			owner, _ := strconv.ParseInt(c.account, 10, 64)
			list := make([]map[string]any, len(items))
			for i, sw := range items {
				list[i] = map[string]any{
					"VSwitchId": sw.VSwitchId, "VSwitchName": sw.VSwitchName, "VpcId": sw.VpcId, "ZoneId": sw.ZoneId,
					"CidrBlock": sw.CidrBlock, "Status": "Available", "IsDefault": false, "OwnerId": owner,
					"CreationTime": sw.CreationTime.UTC().Format("2006-01-02T15:04:05Z"), "Description": "",
					"AvailableIpAddressCount": availableIPs(sw.CidrBlock), "ResourceGroupId": defaultResourceGroup(c.account),
				}
			}
			return map[string]any{"RequestId": r.RequestId, "TotalCount": len(r.VSwitches), "PageNumber": number, "PageSize": size,
				"VSwitches": map[string]any{"VSwitch": list}}, nil
		})
}

// defaultResourceGroup is the ID of account's default resource group.
func defaultResourceGroup(account string) string { return "rg-acfm" + account }

// availableIPs is how many addresses a vSwitch of cidr offers (the real
// service keeps 4 of each block), 0 if cidr does not parse.
func availableIPs(cidr string) int64 {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || p.Addr().BitLen()-p.Bits() >= 62 {
		return 0
	}
	return max(int64(1)<<(p.Addr().BitLen()-p.Bits())-4, 0)
}

func (c *call) ownVpc(region, id string) (*vpcRecord, error) {
	return findOwned(c, c.st.Build.Vpcs, vpcs, region, "", id)
}

func (c *call) ownVSwitch(region, id string) (*vSwitchRecord, error) {
	return findOwned(c, c.st.Build.VSwitches, vSwitches, region, "", id)
}

func (s *Server) createVpc(c *call, req *cloud.CreateVpcRequest) (*cloud.CreateVpcResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	id := newID(c.st.Build.Vpcs, "vpc-", 20, lowerAlnum)
	c.st.Build.Vpcs[id] = &vpcRecord{OwnerId: c.account, Vpc: cloud.Vpc{
		VpcId: id, VpcName: req.VpcName, RegionId: req.RegionId,
		CidrBlock: cmp.Or(req.CidrBlock, "172.16.0.0/12"), CreationTime: c.now,
	}}
	c.touch(c.st.Build.Vpcs, id)
	c.record(req.RegionId, "Vpc", id, "created "+cmp.Or(req.VpcName, id))
	return &cloud.CreateVpcResponse{VpcId: id}, nil
}

func (s *Server) deleteVpc(c *call, req *cloud.DeleteVpcRequest) (*cloud.DeleteVpcResponse, error) {
	r, err := c.ownVpc(req.RegionId, req.VpcId)
	if err != nil {
		return nil, err
	}
	for _, sw := range c.st.Build.VSwitches {
		if sw.VpcId == r.VpcId {
			return nil, newError(http.StatusBadRequest, cloud.CodeDependencyViolation, "VPC %s still has vSwitch %s: delete its vSwitches first", r.VpcId, sw.VSwitchId)
		}
	}
	delete(c.st.Build.Vpcs, r.VpcId)
	c.touch(c.st.Build.Vpcs, r.VpcId)
	c.record(r.RegionId, "Vpc", r.VpcId, "deleted")
	return &cloud.DeleteVpcResponse{}, nil
}

func (s *Server) createVSwitch(c *call, req *cloud.CreateVSwitchRequest) (*cloud.CreateVSwitchResponse, error) {
	vpc, err := c.ownVpc(req.RegionId, req.VpcId)
	if err != nil {
		return nil, err
	}
	id := newID(c.st.Build.VSwitches, "vsw-", 20, lowerAlnum)
	c.st.Build.VSwitches[id] = &vSwitchRecord{OwnerId: c.account, VSwitch: cloud.VSwitch{
		VSwitchId: id, VSwitchName: req.VSwitchName, VpcId: vpc.VpcId, RegionId: req.RegionId,
		ZoneId: cmp.Or(req.ZoneId, req.RegionId+"-a"), CidrBlock: cmp.Or(req.CidrBlock, "172.16.0.0/24"), CreationTime: c.now,
	}}
	c.touch(c.st.Build.VSwitches, id)
	c.record(req.RegionId, "VSwitch", id, "created in "+vpc.VpcId)
	return &cloud.CreateVSwitchResponse{VSwitchId: id}, nil
}

func (s *Server) deleteVSwitch(c *call, req *cloud.DeleteVSwitchRequest) (*cloud.DeleteVSwitchResponse, error) {
	r, err := c.ownVSwitch(req.RegionId, req.VSwitchId)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, inst := range c.st.Instances {
		if inst.VSwitchId == r.VSwitchId {
			users = append(users, inst.InstanceId)
		}
	}
	if len(users) > 0 {
		slices.Sort(users)
		return nil, newError(http.StatusBadRequest, cloud.CodeDependencyViolation, "vSwitch %s is used by instances %v: release them first", r.VSwitchId, users)
	}
	delete(c.st.Build.VSwitches, r.VSwitchId)
	c.touch(c.st.Build.VSwitches, r.VSwitchId)
	c.record(r.RegionId, "VSwitch", r.VSwitchId, fmt.Sprintf("deleted from %s", r.VpcId))
	return &cloud.DeleteVSwitchResponse{}, nil
}

func (s *Server) describeVSwitches(c *call, req *cloud.DescribeVSwitchesRequest) (*cloud.DescribeVSwitchesResponse, error) {
	found, err := listOwned(c, c.st.Build.VSwitches, req.RegionId,
		func(r *vSwitchRecord) bool {
			return (req.VSwitchId == "" || req.VSwitchId == r.VSwitchId) && (req.VpcId == "" || req.VpcId == r.VpcId)
		},
		func(r *vSwitchRecord) cloud.VSwitch { return r.VSwitch },
		func(a, b cloud.VSwitch) int { return cmp.Compare(a.VSwitchId, b.VSwitchId) })
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeVSwitchesResponse{VSwitches: found}, nil
}
