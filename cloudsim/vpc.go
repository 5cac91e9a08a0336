package cloudsim

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

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

func (s *Server) registerVPC() {
	registerMutation(s, "CreateVpc", s.createVpc)
	registerMutation(s, "DeleteVpc", s.deleteVpc)
	registerMutation(s, "CreateVSwitch", s.createVSwitch)
	registerMutation(s, "DeleteVSwitch", s.deleteVSwitch)
	registerQuery(s, "DescribeVSwitches", s.describeVSwitches)
}

func (c *call) ownVpc(region, id string) (*vpcRecord, error) {
	r := c.st.Build.Vpcs[id]
	if id == "" || r == nil || r.OwnerId != c.account || r.RegionId != region {
		return nil, newError(http.StatusNotFound, cloud.CodeVpcNotFound, "VPC %q does not exist in region %s", id, region)
	}
	return r, nil
}

func (c *call) ownVSwitch(region, id string) (*vSwitchRecord, error) {
	r := c.st.Build.VSwitches[id]
	if id == "" || r == nil || r.OwnerId != c.account || r.RegionId != region {
		return nil, newError(http.StatusNotFound, cloud.CodeVSwitchNotFound, "vSwitch %q does not exist in region %s", id, region)
	}
	return r, nil
}

func (s *Server) createVpc(c *call, req *cloud.CreateVpcRequest) (*cloud.CreateVpcResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	var id string
	for id == "" || c.st.Build.Vpcs[id] != nil {
		id = randomID("vpc-", 20, lowerAlnum)
	}
	c.st.Build.Vpcs[id] = &vpcRecord{OwnerId: c.account, Vpc: cloud.Vpc{
		VpcId: id, VpcName: req.VpcName, RegionId: req.RegionId,
		CidrBlock: cmp.Or(req.CidrBlock, "172.16.0.0/12"), CreationTime: c.now,
	}}
	c.touch(c.st.Build.Vpcs, id)
	c.record(req.RegionId, "Vpc", id, "created "+cmp.Or(req.VpcName, id))
	return &cloud.CreateVpcResponse{VpcId: id}, nil
}

func (s *Server) deleteVpc(c *call, req *cloud.DeleteVpcRequest) (*cloud.DeleteVpcResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
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
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	vpc, err := c.ownVpc(req.RegionId, req.VpcId)
	if err != nil {
		return nil, err
	}
	var id string
	for id == "" || c.st.Build.VSwitches[id] != nil {
		id = randomID("vsw-", 20, lowerAlnum)
	}
	c.st.Build.VSwitches[id] = &vSwitchRecord{OwnerId: c.account, VSwitch: cloud.VSwitch{
		VSwitchId: id, VSwitchName: req.VSwitchName, VpcId: vpc.VpcId, RegionId: req.RegionId,
		ZoneId: cmp.Or(req.ZoneId, req.RegionId+"-a"), CidrBlock: cmp.Or(req.CidrBlock, "172.16.0.0/24"), CreationTime: c.now,
	}}
	c.touch(c.st.Build.VSwitches, id)
	c.record(req.RegionId, "VSwitch", id, "created in "+vpc.VpcId)
	return &cloud.CreateVSwitchResponse{VSwitchId: id}, nil
}

func (s *Server) deleteVSwitch(c *call, req *cloud.DeleteVSwitchRequest) (*cloud.DeleteVSwitchResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
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
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	resp := &cloud.DescribeVSwitchesResponse{VSwitches: []cloud.VSwitch{}}
	for _, r := range c.st.Build.VSwitches {
		if r.OwnerId != c.account || r.RegionId != req.RegionId ||
			(len(req.VSwitchIds) > 0 && !slices.Contains(req.VSwitchIds, r.VSwitchId)) ||
			(req.VpcId != "" && req.VpcId != r.VpcId) {
			continue
		}
		resp.VSwitches = append(resp.VSwitches, r.VSwitch)
	}
	slices.SortFunc(resp.VSwitches, func(a, b cloud.VSwitch) int { return cmp.Compare(a.VSwitchId, b.VSwitchId) })
	return resp, nil
}
