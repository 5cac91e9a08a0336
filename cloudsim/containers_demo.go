package cloudsim

import (
	"context"
	"fmt"

	"github.com/imagefleet/imagefleet/cloud"
)

// BlueGreenDemo names what SetupBlueGreenDemo created: a service running a
// blue task set behind an application load balancer with two target groups,
// a production and a test listener.
type BlueGreenDemo struct {
	Cluster            string
	Service            string
	TaskDefinition     string // the blue task set's
	BlueTaskSet        string // its ID
	TargetGroups       [2]string
	ProductionListener string
	TestListener       string
	Subnets            []string
	SecurityGroups     []string
	ContainerName      string
	ContainerPort      int
}

// SetupBlueGreenDemo creates, through c, a service ready for a blue/green
// deployment: cluster, service (EXTERNAL controller, desired count 4), load
// balancer name+"-alb", target groups name+"-a" (blue) and name+"-b",
// listeners on ports 80 (production) and 8080 (test), both forwarding to the
// blue target group (weight 1) and the other one (weight 0), and a primary task set of task definition name+":1".
// Names are derived from service, which must be new in the cluster.
func SetupBlueGreenDemo(ctx context.Context, c *cloud.Client, cluster, service string) (*BlueGreenDemo, error) {
	ecs, elb := c.Containers(), c.ELB()
	d := &BlueGreenDemo{
		Cluster: cluster, Service: service, TaskDefinition: service + ":1",
		Subnets: []string{"subnet-0a1b2c3d"}, SecurityGroups: []string{"sg-0123abcd"},
		ContainerName: "web", ContainerPort: 8080,
	}
	if _, err := ecs.CreateCluster(ctx, &cloud.CreateClusterRequest{ClusterName: cluster}); err != nil {
		return nil, fmt.Errorf("create cluster: %w", err)
	}
	if _, err := ecs.CreateService(ctx, &cloud.CreateContainerServiceRequest{
		Cluster: cluster, ServiceName: service, DesiredCount: 4,
		DeploymentController: &cloud.DeploymentController{Type: cloud.DeploymentControllerExternal},
		SchedulingStrategy:   cloud.SchedulingReplica,
		Tags:                 []cloud.ContainerTag{{Key: "app", Value: service}},
	}); err != nil {
		return nil, fmt.Errorf("create service: %w", err)
	}
	lb, err := elb.CreateLoadBalancer(ctx, &cloud.CreateELBLoadBalancerRequest{Name: service + "-alb", Type: cloud.ELBTypeApplication, Subnets: d.Subnets})
	if err != nil {
		return nil, fmt.Errorf("create load balancer: %w", err)
	}
	for i, suffix := range []string{"-a", "-b"} {
		tg, err := elb.CreateTargetGroup(ctx, &cloud.CreateTargetGroupRequest{Name: service + suffix, Protocol: "HTTP", Port: d.ContainerPort, TargetType: "ip"})
		if err != nil {
			return nil, fmt.Errorf("create target group: %w", err)
		}
		d.TargetGroups[i] = tg.TargetGroup.TargetGroupArn
	}
	for _, port := range []int{80, 8080} {
		l, err := elb.CreateListener(ctx, &cloud.CreateELBListenerRequest{
			LoadBalancerArn: lb.LoadBalancer.LoadBalancerArn, Port: port, Protocol: "HTTP",
			// Both target groups are associated with the load balancer; blue
			// gets all traffic.
			DefaultActions: cloud.ForwardWeights(cloud.TargetGroupTuple{TargetGroupArn: d.TargetGroups[0], Weight: 1}, cloud.TargetGroupTuple{TargetGroupArn: d.TargetGroups[1], Weight: 0}),
		})
		if err != nil {
			return nil, fmt.Errorf("create listener: %w", err)
		}
		if port == 80 {
			d.ProductionListener = l.Listener.ListenerArn
		} else {
			d.TestListener = l.Listener.ListenerArn
		}
	}
	ts, err := ecs.CreateTaskSet(ctx, &cloud.CreateTaskSetRequest{
		Cluster: cluster, Service: service, TaskDefinition: d.TaskDefinition, LaunchType: cloud.LaunchTypeFargate,
		NetworkConfiguration: &cloud.NetworkConfiguration{AwsvpcConfiguration: &cloud.AwsVpcConfiguration{Subnets: d.Subnets, SecurityGroups: d.SecurityGroups, AssignPublicIp: "DISABLED"}},
		LoadBalancers:        []cloud.TaskSetLoadBalancer{{TargetGroupArn: d.TargetGroups[0], ContainerName: d.ContainerName, ContainerPort: d.ContainerPort}},
		Scale:                &cloud.TaskSetScale{Value: 100, Unit: cloud.ScaleUnitPercent},
		ExternalId:           "initial",
	})
	if err != nil {
		return nil, fmt.Errorf("create the first task set: %w", err)
	}
	d.BlueTaskSet = ts.TaskSet.Id
	if _, err := ecs.UpdateServicePrimaryTaskSet(ctx, &cloud.UpdateServicePrimaryTaskSetRequest{Cluster: cluster, Service: service, PrimaryTaskSet: ts.TaskSet.Id}); err != nil {
		return nil, fmt.Errorf("make the first task set primary: %w", err)
	}
	return d, nil
}
