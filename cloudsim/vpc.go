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
			return (len(req.VSwitchIds) == 0 || slices.Contains(req.VSwitchIds, r.VSwitchId)) && (req.VpcId == "" || req.VpcId == r.VpcId)
		},
		func(r *vSwitchRecord) cloud.VSwitch { return r.VSwitch },
		func(a, b cloud.VSwitch) int { return cmp.Compare(a.VSwitchId, b.VSwitchId) })
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeVSwitchesResponse{VSwitches: found}, nil
}
