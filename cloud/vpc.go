package cloud

import (
	"context"
	"time"
)

// VPC is the part of Alibaba Cloud's Virtual Private Cloud API that image
// builds use: a temporary VPC and vSwitch for the intermediate instances.
type VPC interface {
	CreateVpc(ctx context.Context, req *CreateVpcRequest) (*CreateVpcResponse, error)
	// DeleteVpc refuses a VPC that still has vSwitches (DependencyViolation).
	DeleteVpc(ctx context.Context, req *DeleteVpcRequest) (*DeleteVpcResponse, error)
	CreateVSwitch(ctx context.Context, req *CreateVSwitchRequest) (*CreateVSwitchResponse, error)
	// DeleteVSwitch refuses a vSwitch that instances still use
	// (DependencyViolation).
	DeleteVSwitch(ctx context.Context, req *DeleteVSwitchRequest) (*DeleteVSwitchResponse, error)
	DescribeVSwitches(ctx context.Context, req *DescribeVSwitchesRequest) (*DescribeVSwitchesResponse, error)
}

// Error codes of VPC actions.
const (
	CodeVpcNotFound         = "InvalidVpcId.NotFound"
	CodeVSwitchNotFound     = "InvalidVSwitchId.NotFound"
	CodeDependencyViolation = "DependencyViolation"
)

// Vpc is a virtual private cloud.
type Vpc struct {
	VpcId        string
	VpcName      string `json:",omitempty"`
	RegionId     string
	CidrBlock    string
	CreationTime time.Time
}

// VSwitch is a subnet of a VPC in one zone.
type VSwitch struct {
	VSwitchId    string
	VSwitchName  string `json:",omitempty"`
	VpcId        string
	RegionId     string
	ZoneId       string
	CidrBlock    string
	CreationTime time.Time
}

type CreateVpcRequest struct {
	RegionId    string
	VpcName     string `json:",omitempty"`
	CidrBlock   string `json:",omitempty"` // default 172.16.0.0/12
	ClientToken string
}

type CreateVpcResponse struct {
	RequestId string
	VpcId     string
}

type DeleteVpcRequest struct {
	RegionId    string
	VpcId       string
	ClientToken string `json:",omitempty"`
}

type DeleteVpcResponse struct{ RequestId string }

type CreateVSwitchRequest struct {
	RegionId    string
	VpcId       string
	ZoneId      string `json:",omitempty"` // default the region's first zone, <region>-a
	CidrBlock   string `json:",omitempty"` // default 172.16.0.0/24
	VSwitchName string `json:",omitempty"`
	ClientToken string
}

type CreateVSwitchResponse struct {
	RequestId string
	VSwitchId string
}

// DeleteVSwitchRequest has no ClientToken: the real action takes none. A
// repeated delete finds no vSwitch (InvalidVSwitchId.NotFound), which the
// caller takes as done.
type DeleteVSwitchRequest struct {
	RegionId  string
	VSwitchId string
}

type DeleteVSwitchResponse struct{ RequestId string }

type DescribeVSwitchesRequest struct {
	RegionId  string
	VSwitchId string `json:",omitempty"` // one vSwitch, as the real action takes
	VpcId     string `json:",omitempty"`
}

type DescribeVSwitchesResponse struct {
	RequestId string
	VSwitches []VSwitch
}
