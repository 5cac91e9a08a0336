package cloudops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/imagefleet/imagefleet/cloud"
)

// InspectInput names the service and load balancer parts of a deployment.
type InspectInput struct {
	Cluster            string
	Service            string
	TargetGroups       []string // the two target groups blue and green alternate between
	ProductionListener string
	TestListener       string
	// ExternalID identifies this deployment's green task set: one left by an
	// earlier attempt of the same deployment is reported, not refused.
	ExternalID string
}

// ServiceSnapshot is what a deployment needs to know before it starts and to
// roll back: the blue task set and the listeners as they were.
type ServiceSnapshot struct {
	ServiceArn   string
	DesiredCount int
	// Blue is the primary task set; nil on a service's first deployment.
	Blue             *cloud.TaskSet
	BlueTargetGroup  string
	GreenTargetGroup string
	// ExistingGreen is a task set of this deployment (same external ID)
	// created by an earlier attempt.
	ExistingGreen     *cloud.TaskSet
	ProductionActions []cloud.ELBAction
	TestActions       []cloud.ELBAction
}

// InspectService checks that the service can take a blue/green deployment
// and returns its snapshot. A problem of the service that no retry fixes is
// a *RefusedError; cloud errors are wrapped.
func InspectService(ctx context.Context, ecs cloud.ContainerService, elb cloud.LoadBalancing, in InspectInput) (*ServiceSnapshot, error) {
	resp, err := ecs.DescribeServices(ctx, &cloud.DescribeServicesRequest{Cluster: in.Cluster, Services: []string{in.Service}})
	if err != nil {
		return nil, fmt.Errorf("describe service %s/%s: %w", in.Cluster, in.Service, err)
	}
	if len(resp.Services) == 0 {
		return nil, refused("service %s does not exist in cluster %s", in.Service, in.Cluster)
	}
	svc := resp.Services[0]
	if svc.DeploymentController.Type != cloud.DeploymentControllerExternal {
		return nil, refused("service %s uses the %s deployment controller: a blue/green deployment through task sets needs EXTERNAL", in.Service, svc.DeploymentController.Type)
	}
	snap := &ServiceSnapshot{ServiceArn: svc.ServiceArn, DesiredCount: svc.DesiredCount}
	var others []string
	for i := range svc.TaskSets {
		ts := svc.TaskSets[i]
		switch {
		case ts.Status == cloud.TaskSetPrimary:
			snap.Blue = &ts
		case ts.Status == cloud.TaskSetDraining:
		case in.ExternalID != "" && ts.ExternalId == in.ExternalID:
			snap.ExistingGreen = &ts
		default:
			others = append(others, fmt.Sprintf("%s (external ID %q, scale %v%%)", ts.Id, ts.ExternalId, ts.Scale.Value))
		}
	}
	if len(others) > 0 {
		return nil, refused("service %s has task sets besides its primary: %s; another deployment runs or left them behind", in.Service, strings.Join(others, ", "))
	}
	if len(in.TargetGroups) != 2 {
		return nil, refused("two target groups are needed, got %d", len(in.TargetGroups))
	}
	snap.GreenTargetGroup = in.TargetGroups[0]
	if snap.Blue != nil {
		if len(snap.Blue.LoadBalancers) != 1 {
			return nil, refused("the primary task set %s has %d target groups: blue/green needs exactly one", snap.Blue.Id, len(snap.Blue.LoadBalancers))
		}
		snap.BlueTargetGroup = snap.Blue.LoadBalancers[0].TargetGroupArn
		i := slices.Index(in.TargetGroups, snap.BlueTargetGroup)
		if i < 0 {
			return nil, refused("the primary task set %s uses target group %s, which is not one of the deployment's two", snap.Blue.Id, snap.BlueTargetGroup)
		}
		snap.GreenTargetGroup = in.TargetGroups[1-i]
	}
	ls, err := elb.DescribeListeners(ctx, &cloud.DescribeListenersRequest{ListenerArns: []string{in.ProductionListener, in.TestListener}})
	if err != nil {
		return nil, fmt.Errorf("describe listeners: %w", err)
	}
	for _, l := range ls.Listeners {
		switch l.ListenerArn {
		case in.ProductionListener:
			snap.ProductionActions = l.DefaultActions
		case in.TestListener:
			snap.TestActions = l.DefaultActions
		}
	}
	prod := (&cloud.ELBListener{DefaultActions: snap.ProductionActions}).Weights()
	if snap.Blue == nil && prod[snap.GreenTargetGroup] > 0 {
		// No primary task set: green goes on the target group production
		// does not use, so that no user reaches it before it is tested.
		snap.GreenTargetGroup = in.TargetGroups[1]
	}
	if prod[snap.GreenTargetGroup] > 0 {
		return nil, refused("the production listener already sends traffic to target group %s, which the new task set is to use", snap.GreenTargetGroup)
	}
	return snap, nil
}
