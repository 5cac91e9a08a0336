package cloud

import "context"

// SLB is the part of Alibaba Cloud Server Load Balancer that shows and sets
// the weights of a load balancer's backend servers (ECS instances). A server
// of weight 0 receives no traffic.
type SLB interface {
	DescribeLoadBalancerAttribute(ctx context.Context, req *DescribeLoadBalancerAttributeRequest) (*DescribeLoadBalancerAttributeResponse, error)
	SetBackendServers(ctx context.Context, req *SetBackendServersRequest) (*SetBackendServersResponse, error)
}

// SLBBackendServer is an instance behind a load balancer, with its weight
// (0–100).
type SLBBackendServer struct {
	ServerId string
	Weight   int
}

type DescribeLoadBalancerAttributeRequest struct {
	RegionId       string
	LoadBalancerId string
}

type DescribeLoadBalancerAttributeResponse struct {
	RequestId        string
	LoadBalancerId   string
	LoadBalancerName string
	RegionId         string
	BackendServers   []SLBBackendServer
}

type SetBackendServersRequest struct {
	RegionId       string
	LoadBalancerId string
	// BackendServers sets the weight of servers already attached.
	BackendServers []SLBBackendServer
	ClientToken    string `json:",omitempty"`
}

type SetBackendServersResponse struct {
	RequestId      string
	LoadBalancerId string
	BackendServers []SLBBackendServer
}

// CodeSLBNotFound answers an unknown SLB load balancer.
const CodeSLBNotFound = "InvalidLoadBalancerId.NotFound"
