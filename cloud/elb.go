package cloud

import (
	"context"
	"time"
)

// LoadBalancing is the part of an AWS-Elastic-Load-Balancing-like service
// (v2: application and network load balancers) that a blue/green deployment
// needs: target groups, listeners whose forward action splits traffic between
// target groups by weight (a production and a test listener), and the health
// of the targets, which are the tasks of the task sets attached to a target
// group (see ContainerService).
//
// As with the container service (see ContainerService, Naming), the calls go
// through their own client type, ELBClient (Client.ELB()), the actions carry
// AWS's target prefix on the wire (POST /api/AmazonELB.ModifyListener), and
// types that could clash with other providers' load balancers are prefixed
// with ELB. Field names are ELBv2's (PascalCase).
type LoadBalancing interface {
	CreateLoadBalancer(ctx context.Context, req *CreateELBLoadBalancerRequest) (*CreateELBLoadBalancerResponse, error)
	CreateTargetGroup(ctx context.Context, req *CreateTargetGroupRequest) (*CreateTargetGroupResponse, error)
	DescribeTargetGroups(ctx context.Context, req *DescribeTargetGroupsRequest) (*DescribeTargetGroupsResponse, error)
	CreateListener(ctx context.Context, req *CreateELBListenerRequest) (*CreateELBListenerResponse, error)
	DescribeListeners(ctx context.Context, req *DescribeListenersRequest) (*DescribeListenersResponse, error)
	// ModifyListener replaces the listener's default actions, e.g. the
	// weights of a forward action.
	ModifyListener(ctx context.Context, req *ModifyListenerRequest) (*ModifyListenerResponse, error)
	// DescribeTargetHealth answers the health of every task registered in
	// the target group.
	DescribeTargetHealth(ctx context.Context, req *DescribeTargetHealthRequest) (*DescribeTargetHealthResponse, error)
}

// Wire action names of the load balancing service.
const (
	ActionCreateLoadBalancer   = "AmazonELB.CreateLoadBalancer"
	ActionCreateTargetGroup    = "AmazonELB.CreateTargetGroup"
	ActionDescribeTargetGroups = "AmazonELB.DescribeTargetGroups"
	ActionCreateListener       = "AmazonELB.CreateListener"
	ActionDescribeListeners    = "AmazonELB.DescribeListeners"
	ActionModifyListener       = "AmazonELB.ModifyListener"
	ActionDescribeTargetHealth = "AmazonELB.DescribeTargetHealth"
)

// Error codes of the load balancing service (ELBv2's).
const (
	CodeELBValidation          = "ValidationError"
	CodeLoadBalancerNotFound   = "LoadBalancerNotFound"
	CodeTargetGroupNotFound    = "TargetGroupNotFound"
	CodeListenerNotFound       = "ListenerNotFound"
	CodeDuplicateLoadBalancer  = "DuplicateLoadBalancerName"
	CodeDuplicateTargetGroup   = "DuplicateTargetGroupName"
	CodeDuplicateListener      = "DuplicateListener"
	CodeTooManyTargetGroups    = "TooManyTargetGroups"
	CodeTargetGroupAssociation = "TargetGroupAssociationLimit"
)

// Load balancer types, target health states.
const (
	ELBTypeApplication = "application"
	ELBTypeNetwork     = "network"
	ELBTypeGateway     = "gateway"

	TargetHealthy   = "healthy"
	TargetUnhealthy = "unhealthy"
	TargetInitial   = "initial"
	TargetDraining  = "draining"

	ELBActionForward = "forward"
)

// Weight limits of a forward action (ELBv2's).
const (
	MaxTargetGroupWeight        = 999
	MaxTargetGroupsPerForward   = 5
	MaxTargetGroupNameLength    = 32
	MaxLoadBalancerNameLength   = 32
	MaxListenersPerLoadBalancer = 50
)

type ELBLoadBalancer struct {
	LoadBalancerArn  string
	LoadBalancerName string
	Type             string // application | network | gateway
	DNSName          string
	CreatedTime      time.Time
}

type TargetGroup struct {
	TargetGroupArn   string
	TargetGroupName  string
	Protocol         string
	Port             int
	TargetType       string   // ip
	LoadBalancerArns []string // the load balancers whose listeners forward to it
}

// TargetGroupTuple is one target group of a forward action with its weight.
// Traffic splits in proportion to the weights (0–999).
type TargetGroupTuple struct {
	TargetGroupArn string
	Weight         int
}

type ForwardConfig struct {
	TargetGroups []TargetGroupTuple
}

// ELBAction is a listener's action; the simulator serves forward only.
type ELBAction struct {
	Type          string // forward
	ForwardConfig *ForwardConfig
}

type ELBListener struct {
	ListenerArn     string
	LoadBalancerArn string
	Port            int
	Protocol        string
	DefaultActions  []ELBAction
}

// Weights maps each target group of the listener's forward action to its
// weight.
func (l *ELBListener) Weights() map[string]int {
	w := map[string]int{}
	for _, a := range l.DefaultActions {
		if a.ForwardConfig == nil {
			continue
		}
		for _, tg := range a.ForwardConfig.TargetGroups {
			w[tg.TargetGroupArn] += tg.Weight
		}
	}
	return w
}

// TargetHealthDescription is one task registered in a target group.
type TargetHealthDescription struct {
	TargetId    string // the task's IP address
	TaskSetArn  string // the task set the task belongs to (simulator extension)
	State       string // initial | healthy | unhealthy | draining
	Reason      string `json:",omitempty"`
	Description string `json:",omitempty"`
}

type CreateELBLoadBalancerRequest struct {
	Name    string
	Type    string // default application
	Subnets []string
}

type CreateELBLoadBalancerResponse struct {
	RequestId    string
	LoadBalancer ELBLoadBalancer
}

type CreateTargetGroupRequest struct {
	Name       string
	Protocol   string // HTTP | HTTPS | TCP | ...
	Port       int
	TargetType string // ip (the only one tasks in awsvpc mode use)
}

type CreateTargetGroupResponse struct {
	RequestId   string
	TargetGroup TargetGroup
}

type DescribeTargetGroupsRequest struct {
	TargetGroupArns []string `json:",omitempty"` // empty: all
}

type DescribeTargetGroupsResponse struct {
	RequestId    string
	TargetGroups []TargetGroup
}

type CreateELBListenerRequest struct {
	LoadBalancerArn string
	Port            int
	Protocol        string
	DefaultActions  []ELBAction
}

type CreateELBListenerResponse struct {
	RequestId string
	Listener  ELBListener
}

type DescribeListenersRequest struct {
	ListenerArns    []string `json:",omitempty"`
	LoadBalancerArn string   `json:",omitempty"`
}

type DescribeListenersResponse struct {
	RequestId string
	Listeners []ELBListener
}

type ModifyListenerRequest struct {
	ListenerArn    string
	DefaultActions []ELBAction
}

type ModifyListenerResponse struct {
	RequestId string
	Listener  ELBListener
}

type DescribeTargetHealthRequest struct {
	TargetGroupArn string
}

type DescribeTargetHealthResponse struct {
	RequestId                string
	TargetHealthDescriptions []TargetHealthDescription
}

// ForwardWeights builds the default actions of a listener that forwards to
// target groups by weight, in the order given.
func ForwardWeights(groups ...TargetGroupTuple) []ELBAction {
	return []ELBAction{{Type: ELBActionForward, ForwardConfig: &ForwardConfig{TargetGroups: groups}}}
}

// ELBClient implements LoadBalancing over the simulated cloud's wire
// protocol. Get one from Client.ELB.
type ELBClient struct{ c *Client }

var _ LoadBalancing = (*ELBClient)(nil)

// ELB returns the load balancing client on the same endpoint and account.
func (c *Client) ELB() *ELBClient { return &ELBClient{c: c} }

func (x *ELBClient) CreateLoadBalancer(ctx context.Context, req *CreateELBLoadBalancerRequest) (*CreateELBLoadBalancerResponse, error) {
	return call[CreateELBLoadBalancerResponse](ctx, x.c, ActionCreateLoadBalancer, req)
}

func (x *ELBClient) CreateTargetGroup(ctx context.Context, req *CreateTargetGroupRequest) (*CreateTargetGroupResponse, error) {
	return call[CreateTargetGroupResponse](ctx, x.c, ActionCreateTargetGroup, req)
}

func (x *ELBClient) DescribeTargetGroups(ctx context.Context, req *DescribeTargetGroupsRequest) (*DescribeTargetGroupsResponse, error) {
	return call[DescribeTargetGroupsResponse](ctx, x.c, ActionDescribeTargetGroups, req)
}

func (x *ELBClient) CreateListener(ctx context.Context, req *CreateELBListenerRequest) (*CreateELBListenerResponse, error) {
	return call[CreateELBListenerResponse](ctx, x.c, ActionCreateListener, req)
}

func (x *ELBClient) DescribeListeners(ctx context.Context, req *DescribeListenersRequest) (*DescribeListenersResponse, error) {
	return call[DescribeListenersResponse](ctx, x.c, ActionDescribeListeners, req)
}

func (x *ELBClient) ModifyListener(ctx context.Context, req *ModifyListenerRequest) (*ModifyListenerResponse, error) {
	return call[ModifyListenerResponse](ctx, x.c, ActionModifyListener, req)
}

func (x *ELBClient) DescribeTargetHealth(ctx context.Context, req *DescribeTargetHealthRequest) (*DescribeTargetHealthResponse, error) {
	return call[DescribeTargetHealthResponse](ctx, x.c, ActionDescribeTargetHealth, req)
}
