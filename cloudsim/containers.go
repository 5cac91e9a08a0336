package cloudsim

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/imagefleet/imagefleet/cloud"
)

// An Amazon-ECS-like container service with the EXTERNAL deployment
// controller: clusters, services and task sets (actions AmazonECS.*, see
// cloud.ContainerService). Task counts and stability are derived from stored
// timestamps when read, like image copies: a change of a task set's computed
// desired count settles TaskSetSettleTime (times the time scale) later.

// TaskSetSettleTime is how long a task set takes to reach STEADY_STATE after
// a change of its task count (before the time scale), and how long a deleted
// task set stays DRAINING.
const TaskSetSettleTime = time.Minute

// Container service limits (Amazon ECS's).
const (
	maxContainerTags        = 50
	maxContainerTagKey      = 128
	maxContainerTagValue    = 256
	maxContainerClientToken = 36
	maxSubnets              = 16
	maxSecurityGroups       = 5
	maxHealthCheckGrace     = math.MaxInt32
	containerARNRegion      = "us-east-1"
	defaultClusterName      = "default"
)

var containerNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

type containerClusterRecord struct {
	cloud.ContainerCluster
	Owner string
}

// containerServiceRecord is a stored service; its counts and primary task
// set fields are derived from its task sets when read.
type containerServiceRecord struct {
	cloud.ClusterService
	Owner string
}

// taskSetRecord is a stored task set. Counts and stability are derived (see
// view).
type taskSetRecord struct {
	cloud.TaskSet
	Owner string
	// ChangedAt is when its computed desired count last changed, StableAt
	// when that change settles; PrevRunning is how many tasks ran before it.
	ChangedAt   time.Time
	StableAt    time.Time
	PrevRunning int
	// Unhealthy marks a task set created under an unhealthy-tasks fault: its
	// tasks run but fail the load balancer's health checks.
	Unhealthy bool      `json:",omitempty"`
	DeletedAt time.Time `json:",omitzero"` // DRAINING since
}

func (s *Server) registerContainers() {
	registerMutation(s, cloud.ActionCreateCluster, s.createCluster)
	registerMutation(s, cloud.ActionCreateContainerService, s.createContainerService)
	registerQuery(s, cloud.ActionDescribeServices, s.describeServices)
	registerMutation(s, cloud.ActionUpdateService, s.updateService)
	registerMutation(s, cloud.ActionCreateTaskSet, s.createTaskSet)
	registerMutation(s, cloud.ActionUpdateTaskSet, s.updateTaskSet)
	registerMutation(s, cloud.ActionUpdateServicePrimaryTaskSet, s.updateServicePrimaryTaskSet)
	registerMutation(s, cloud.ActionDeleteTaskSet, s.deleteTaskSet)
	registerQuery(s, cloud.ActionDescribeTaskSets, s.describeTaskSets)
}

func (s *Server) taskSetSettle() time.Duration {
	return time.Duration(float64(TaskSetSettleTime) * s.cfg.TimeScale)
}

func ecsInvalid(format string, args ...any) error {
	return newError(http.StatusBadRequest, cloud.CodeECSInvalidParameter, format, args...)
}

func containerARN(account, resource string) string {
	return "arn:aws:ecs:" + containerARNRegion + ":" + account + ":" + resource
}

// cluster finds one of the caller's clusters by name or ARN (empty: default).
func (c *call) cluster(ref string) (*containerClusterRecord, error) {
	if ref == "" {
		ref = defaultClusterName
	}
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		arn = containerARN(c.account, "cluster/"+ref)
	}
	cl := c.st.Clusters[arn]
	if cl == nil || cl.Owner != c.account {
		return nil, newError(http.StatusBadRequest, cloud.CodeClusterNotFound, "cluster %s not found", ref)
	}
	return cl, nil
}

func serviceARN(account, cluster, name string) string {
	return containerARN(account, "service/"+cluster+"/"+name)
}

// service finds a service of cluster by name or ARN.
func (c *call) service(cl *containerClusterRecord, ref string) (*containerServiceRecord, error) {
	if ref == "" {
		return nil, ecsInvalid("service is required")
	}
	arn := ref
	if !strings.HasPrefix(ref, "arn:") {
		arn = serviceARN(c.account, cl.ClusterName, ref)
	}
	svc := c.st.ContainerServices[arn]
	if svc == nil || svc.Owner != c.account || svc.ClusterArn != cl.ClusterArn {
		return nil, newError(http.StatusBadRequest, cloud.CodeContainerServiceMissing, "service %s not found in cluster %s", ref, cl.ClusterName)
	}
	return svc, nil
}

// externalService finds a service whose task sets the caller may manage.
func (c *call) externalService(clusterRef, serviceRef string) (*containerServiceRecord, error) {
	cl, err := c.cluster(clusterRef)
	if err != nil {
		return nil, err
	}
	svc, err := c.service(cl, serviceRef)
	if err != nil {
		return nil, err
	}
	if svc.DeploymentController.Type != cloud.DeploymentControllerExternal {
		return nil, newError(http.StatusBadRequest, cloud.CodeECSInvalidParameter, "service %s uses the %s deployment controller: task sets need EXTERNAL", svc.ServiceName, svc.DeploymentController.Type)
	}
	return svc, nil
}

// taskSets are the service's live task sets (draining ones until they are
// gone), primary first, then oldest first.
func (c *call) taskSets(svc *containerServiceRecord) []*taskSetRecord {
	var out []*taskSetRecord
	for _, ts := range c.st.TaskSets {
		if ts.ServiceArn == svc.ServiceArn && !c.gone(ts) {
			out = append(out, ts)
		}
	}
	slices.SortFunc(out, func(a, b *taskSetRecord) int {
		if pa, pb := a.Status == cloud.TaskSetPrimary, b.Status == cloud.TaskSetPrimary; pa != pb {
			if pa {
				return -1
			}
			return 1
		}
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Id, b.Id))
	})
	return out
}

// gone reports whether a deleted task set has finished draining.
func (c *call) gone(ts *taskSetRecord) bool {
	return !ts.DeletedAt.IsZero() && !c.now.Before(ts.DeletedAt.Add(c.srv.taskSetSettle()))
}

// taskSet finds a live task set of svc by ID or ARN.
func (c *call) taskSet(svc *containerServiceRecord, ref string) (*taskSetRecord, error) {
	if ref == "" {
		return nil, ecsInvalid("taskSet is required")
	}
	for _, ts := range c.taskSets(svc) {
		if (ts.Id == ref || ts.TaskSetArn == ref) && ts.DeletedAt.IsZero() {
			return ts, nil
		}
	}
	return nil, newError(http.StatusBadRequest, cloud.CodeTaskSetNotFound, "task set %s not found in service %s", ref, svc.ServiceName)
}

// serviceTaskSet finds a live task set of an external service.
func (c *call) serviceTaskSet(cluster, service, ref string) (*containerServiceRecord, *taskSetRecord, error) {
	svc, err := c.externalService(cluster, service)
	if err != nil {
		return nil, nil, err
	}
	ts, err := c.taskSet(svc, ref)
	return svc, ts, err
}

// computedCount is ceil(desired × scale / 100).
func computedCount(desired int, scale float64) int {
	return int(math.Ceil(float64(desired) * scale / 100))
}

// view is the task set as the API answers it at now.
func (c *call) viewTaskSet(svc *containerServiceRecord, ts *taskSetRecord) cloud.TaskSet {
	out := ts.TaskSet
	out.LoadBalancers = slices.Clone(ts.LoadBalancers)
	out.CapacityProviderStrategy = slices.Clone(ts.CapacityProviderStrategy)
	out.NetworkConfiguration = cloneNetwork(ts.NetworkConfiguration)
	out.ComputedDesiredCount = computedCount(svc.DesiredCount, ts.Scale.Value)
	if !ts.DeletedAt.IsZero() {
		out.Status = cloud.TaskSetDraining
	}
	if c.now.Before(ts.StableAt) {
		out.StabilityStatus, out.StabilityStatusAt = cloud.StabilityStabilizing, ts.ChangedAt
		out.RunningCount = min(ts.PrevRunning, out.ComputedDesiredCount)
		out.PendingCount = out.ComputedDesiredCount - out.RunningCount
	} else {
		out.StabilityStatus, out.StabilityStatusAt = cloud.StabilitySteady, ts.StableAt
		out.RunningCount = out.ComputedDesiredCount
	}
	return out
}

func cloneNetwork(n *cloud.NetworkConfiguration) *cloud.NetworkConfiguration {
	if n == nil {
		return nil
	}
	out := *n
	if n.AwsvpcConfiguration != nil {
		v := *n.AwsvpcConfiguration
		v.Subnets, v.SecurityGroups = slices.Clone(v.Subnets), slices.Clone(v.SecurityGroups)
		out.AwsvpcConfiguration = &v
	}
	return &out
}

// resettle notes a change of the task set's computed desired count from
// before: it runs what it ran and settles later. An unchanged count keeps
// its stability.
func (c *call) resettle(ts *taskSetRecord, running, before, after int) {
	if before == after && !c.now.Before(ts.StableAt) {
		return
	}
	ts.PrevRunning, ts.ChangedAt, ts.StableAt = running, c.now, c.now.Add(c.srv.taskSetSettle())
	c.touch(c.st.TaskSets, ts.TaskSetArn)
}

// viewService is the service as DescribeServices answers it: counts summed
// over its task sets, the primary task set's fields, its task sets.
func (c *call) viewService(svc *containerServiceRecord) cloud.ClusterService {
	out := svc.ClusterService
	out.Tags = slices.Clone(svc.Tags)
	out.TaskSets = []cloud.TaskSet{}
	for _, ts := range c.taskSets(svc) {
		v := c.viewTaskSet(svc, ts)
		out.TaskSets = append(out.TaskSets, v)
		if v.Status == cloud.TaskSetDraining {
			continue
		}
		out.RunningCount += v.RunningCount
		out.PendingCount += v.PendingCount
		if v.Status == cloud.TaskSetPrimary {
			out.TaskDefinition, out.LaunchType, out.PlatformVersion = v.TaskDefinition, v.LaunchType, v.PlatformVersion
			out.NetworkConfiguration, out.LoadBalancers = v.NetworkConfiguration, v.LoadBalancers
		}
	}
	return out
}

// purgeDrained removes the service's task sets that have finished draining.
func (c *call) purgeDrained(svc *containerServiceRecord) {
	for arn, ts := range c.st.TaskSets {
		if ts.ServiceArn == svc.ServiceArn && c.gone(ts) {
			delete(c.st.TaskSets, arn)
			c.touch(c.st.TaskSets, arn)
		}
	}
}

func (s *Server) createCluster(c *call, req *cloud.CreateClusterRequest) (*cloud.CreateClusterResponse, error) {
	name := cmp.Or(req.ClusterName, defaultClusterName)
	if !containerNameRE.MatchString(name) {
		return nil, ecsInvalid("clusterName %q must be up to 255 letters, digits, hyphens and underscores", name)
	}
	arn := containerARN(c.account, "cluster/"+name)
	if cl := c.st.Clusters[arn]; cl != nil {
		return &cloud.CreateClusterResponse{Cluster: cl.ContainerCluster}, nil // as ECS: creating it again answers it
	}
	cl := &containerClusterRecord{Owner: c.account, ContainerCluster: cloud.ContainerCluster{ClusterArn: arn, ClusterName: name, Status: "ACTIVE"}}
	c.st.Clusters[arn] = cl
	c.touch(c.st.Clusters, arn)
	c.record("", "Cluster", arn, "cluster "+name+" created")
	return &cloud.CreateClusterResponse{Cluster: cl.ContainerCluster}, nil
}

func (s *Server) createContainerService(c *call, req *cloud.CreateContainerServiceRequest) (*cloud.CreateContainerServiceResponse, error) {
	cl, err := c.cluster(req.Cluster)
	if err != nil {
		return nil, err
	}
	var errs []string
	if !containerNameRE.MatchString(req.ServiceName) {
		errs = append(errs, fmt.Sprintf("serviceName %q must be 1–255 letters (upper or lower case), digits, hyphens and underscores", req.ServiceName))
	}
	if req.DesiredCount < 0 {
		errs = append(errs, "desiredCount must not be negative")
	}
	if req.HealthCheckGracePeriodSeconds < 0 {
		errs = append(errs, fmt.Sprintf("healthCheckGracePeriodSeconds must be 0–%d", maxHealthCheckGrace))
	}
	if len(req.ClientToken) > maxContainerClientToken {
		errs = append(errs, fmt.Sprintf("clientToken must be at most %d characters", maxContainerClientToken))
	}
	errs = append(errs, checkContainerTags(req.Tags)...)
	if len(errs) > 0 {
		return nil, ecsInvalid("%s", strings.Join(errs, "; "))
	}
	controller := cloud.DeploymentControllerECS
	if req.DeploymentController != nil {
		controller = req.DeploymentController.Type
	}
	if controller != cloud.DeploymentControllerExternal {
		return nil, newError(http.StatusBadRequest, cloud.CodeUnsupportedFeature, "deploymentController %s: the simulated container service serves only the %s deployment controller", controller, cloud.DeploymentControllerExternal)
	}
	strategy := cmp.Or(req.SchedulingStrategy, cloud.SchedulingReplica)
	switch strategy {
	case cloud.SchedulingReplica:
	case cloud.SchedulingDaemon:
		return nil, ecsInvalid("a service with the %s deployment controller supports only the %s scheduling strategy, not %s", cloud.DeploymentControllerExternal, cloud.SchedulingReplica, cloud.SchedulingDaemon)
	default:
		return nil, ecsInvalid("schedulingStrategy %q must be %s or %s", strategy, cloud.SchedulingReplica, cloud.SchedulingDaemon)
	}
	arn := serviceARN(c.account, cl.ClusterName, req.ServiceName)
	if old := c.st.ContainerServices[arn]; old != nil {
		return nil, ecsInvalid("creation of service was not idempotent: service %s already exists in cluster %s", req.ServiceName, cl.ClusterName)
	}
	svc := &containerServiceRecord{Owner: c.account, ClusterService: cloud.ClusterService{
		ServiceArn:                    arn,
		ServiceName:                   req.ServiceName,
		ClusterArn:                    cl.ClusterArn,
		Status:                        "ACTIVE",
		DesiredCount:                  req.DesiredCount,
		DeploymentController:          cloud.DeploymentController{Type: controller},
		SchedulingStrategy:            strategy,
		HealthCheckGracePeriodSeconds: req.HealthCheckGracePeriodSeconds,
		Tags:                          slices.Clone(req.Tags),
		CreatedAt:                     c.now,
	}}
	if req.DeploymentConfiguration != nil {
		svc.DeploymentConfiguration = *req.DeploymentConfiguration
	}
	c.st.ContainerServices[arn] = svc
	c.touch(c.st.ContainerServices, arn)
	c.record("", "ContainerService", arn, fmt.Sprintf("service %s created in cluster %s, desired count %d, %s", svc.ServiceName, cl.ClusterName, svc.DesiredCount, controller))
	return &cloud.CreateContainerServiceResponse{Service: c.viewService(svc)}, nil
}

func checkContainerTags(tags []cloud.ContainerTag) []string {
	var errs []string
	if len(tags) > maxContainerTags {
		errs = append(errs, fmt.Sprintf("at most %d tags, got %d", maxContainerTags, len(tags)))
	}
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > maxContainerTagKey {
			errs = append(errs, fmt.Sprintf("tag key %q must be 1–%d characters", t.Key, maxContainerTagKey))
		}
		if n := utf8.RuneCountInString(t.Value); n > maxContainerTagValue {
			errs = append(errs, fmt.Sprintf("the value of tag %q must be 0–%d characters, got %d", t.Key, maxContainerTagValue, n))
		}
	}
	return errs
}

func (s *Server) describeServices(c *call, req *cloud.DescribeServicesRequest) (*cloud.DescribeServicesResponse, error) {
	cl, err := c.cluster(req.Cluster)
	if err != nil {
		return nil, err
	}
	if len(req.Services) == 0 || len(req.Services) > 10 {
		return nil, ecsInvalid("services must name 1–10 services")
	}
	resp := &cloud.DescribeServicesResponse{Services: []cloud.ClusterService{}, Failures: []cloud.DescribeFailure{}}
	for _, ref := range req.Services {
		svc, err := c.service(cl, ref)
		if err != nil {
			arn := ref
			if !strings.HasPrefix(ref, "arn:") {
				arn = serviceARN(c.account, cl.ClusterName, ref)
			}
			resp.Failures = append(resp.Failures, cloud.DescribeFailure{Arn: arn, Reason: "MISSING"})
			continue
		}
		resp.Services = append(resp.Services, c.viewService(svc))
	}
	return resp, nil
}

func (s *Server) updateService(c *call, req *cloud.UpdateServiceRequest) (*cloud.UpdateServiceResponse, error) {
	cl, err := c.cluster(req.Cluster)
	if err != nil {
		return nil, err
	}
	svc, err := c.service(cl, req.Service)
	if err != nil {
		return nil, err
	}
	switch {
	case req.DesiredCount == nil && req.HealthCheckGracePeriodSeconds == nil:
		return nil, ecsInvalid("nothing to update: with the %s deployment controller UpdateService changes desiredCount and healthCheckGracePeriodSeconds only; create a task set for anything else", cloud.DeploymentControllerExternal)
	case req.DesiredCount != nil && *req.DesiredCount < 0:
		return nil, ecsInvalid("desiredCount must not be negative")
	case req.HealthCheckGracePeriodSeconds != nil && *req.HealthCheckGracePeriodSeconds < 0:
		return nil, ecsInvalid("healthCheckGracePeriodSeconds must be 0–%d", maxHealthCheckGrace)
	}
	c.purgeDrained(svc)
	var changes []string
	if req.DesiredCount != nil && *req.DesiredCount != svc.DesiredCount {
		for _, ts := range c.taskSets(svc) {
			if ts.DeletedAt.IsZero() {
				v := c.viewTaskSet(svc, ts)
				c.resettle(ts, v.RunningCount, v.ComputedDesiredCount, computedCount(*req.DesiredCount, ts.Scale.Value))
				ts.UpdatedAt = c.now
				c.touch(c.st.TaskSets, ts.TaskSetArn)
			}
		}
		changes = append(changes, fmt.Sprintf("desired count %d → %d", svc.DesiredCount, *req.DesiredCount))
		svc.DesiredCount = *req.DesiredCount
	}
	if req.HealthCheckGracePeriodSeconds != nil && *req.HealthCheckGracePeriodSeconds != svc.HealthCheckGracePeriodSeconds {
		changes = append(changes, fmt.Sprintf("health-check grace period %ds → %ds", svc.HealthCheckGracePeriodSeconds, *req.HealthCheckGracePeriodSeconds))
		svc.HealthCheckGracePeriodSeconds = *req.HealthCheckGracePeriodSeconds
	}
	if len(changes) > 0 {
		c.touch(c.st.ContainerServices, svc.ServiceArn)
		c.record("", "ContainerService", svc.ServiceArn, "service "+svc.ServiceName+": "+strings.Join(changes, ", "))
	}
	return &cloud.UpdateServiceResponse{Service: c.viewService(svc)}, nil
}

func checkScale(s cloud.TaskSetScale) error {
	if s.Unit != cloud.ScaleUnitPercent {
		return ecsInvalid("scale.unit %q must be %s", s.Unit, cloud.ScaleUnitPercent)
	}
	if math.IsNaN(s.Value) || s.Value < 0 || s.Value > 100 {
		return ecsInvalid("scale.value %v must be a percentage from 0 to 100", s.Value)
	}
	return nil
}

func (s *Server) createTaskSet(c *call, req *cloud.CreateTaskSetRequest) (*cloud.CreateTaskSetResponse, error) {
	svc, err := c.externalService(req.Cluster, req.Service)
	if err != nil {
		return nil, err
	}
	scale := cloud.TaskSetScale{Value: 100, Unit: cloud.ScaleUnitPercent}
	if req.Scale != nil {
		scale = *req.Scale
	}
	if err := checkScale(scale); err != nil {
		return nil, err
	}
	var errs []string
	if req.TaskDefinition == "" {
		errs = append(errs, "taskDefinition is required")
	}
	if len(req.ClientToken) > maxContainerClientToken {
		errs = append(errs, fmt.Sprintf("clientToken must be at most %d characters", maxContainerClientToken))
	}
	if len(req.ExternalId) > 255 {
		errs = append(errs, "externalId must be at most 255 characters")
	}
	launchType := req.LaunchType
	switch {
	case launchType != "" && len(req.CapacityProviderStrategy) > 0:
		errs = append(errs, "launchType and capacityProviderStrategy exclude each other: omit one")
	case launchType == "" && len(req.CapacityProviderStrategy) == 0:
		launchType = cloud.LaunchTypeEC2
	}
	if launchType != "" && !slices.Contains([]string{cloud.LaunchTypeEC2, cloud.LaunchTypeFargate, cloud.LaunchTypeExternal}, launchType) {
		errs = append(errs, fmt.Sprintf("launchType %q must be EC2, FARGATE or EXTERNAL", launchType))
	}
	if req.PlatformVersion != "" && launchType != cloud.LaunchTypeFargate {
		errs = append(errs, "platformVersion applies only to the FARGATE launch type")
	}
	for _, p := range req.CapacityProviderStrategy {
		if p.CapacityProvider == "" || p.Weight < 0 || p.Weight > 1000 || p.Base < 0 || p.Base > 100000 {
			errs = append(errs, fmt.Sprintf("capacity provider %q: a name, weight 0–1000 and base 0–100000 are required", p.CapacityProvider))
		}
	}
	if n := req.NetworkConfiguration; n != nil {
		switch v := n.AwsvpcConfiguration; {
		case v == nil:
			errs = append(errs, "networkConfiguration needs awsvpcConfiguration")
		case len(v.Subnets) == 0 || len(v.Subnets) > maxSubnets:
			errs = append(errs, fmt.Sprintf("awsvpcConfiguration.subnets needs 1–%d subnets", maxSubnets))
		case len(v.SecurityGroups) > maxSecurityGroups:
			errs = append(errs, fmt.Sprintf("awsvpcConfiguration.securityGroups allows at most %d groups", maxSecurityGroups))
		case v.AssignPublicIp != "" && v.AssignPublicIp != "ENABLED" && v.AssignPublicIp != "DISABLED":
			errs = append(errs, "awsvpcConfiguration.assignPublicIp must be ENABLED or DISABLED")
		}
	} else if launchType == cloud.LaunchTypeFargate {
		errs = append(errs, "the FARGATE launch type needs networkConfiguration (awsvpc network mode)")
	}
	if len(errs) > 0 {
		return nil, ecsInvalid("%s", strings.Join(errs, "; "))
	}
	if err := c.checkTaskSetLoadBalancers(req.LoadBalancers); err != nil {
		return nil, err
	}
	if other := c.deploymentInProgress(svc); other != nil { // locks.go
		return nil, newError(http.StatusBadRequest, cloud.CodeDeploymentInProgress,
			"service %s has a deployment in progress: task set %s (external ID %q, %s, created %s) is not primary yet or not removed; a task set under the same external ID is refused too; finish or cancel that deployment first",
			svc.ServiceName, other.Id, other.ExternalId, other.TaskDefinition, other.CreatedAt.UTC().Format(time.RFC3339))
	}
	c.purgeDrained(svc)
	id := c.newTaskSetID()
	cl := c.st.Clusters[svc.ClusterArn]
	ts := &taskSetRecord{Owner: c.account, ChangedAt: c.now, StableAt: c.now.Add(s.taskSetSettle()), TaskSet: cloud.TaskSet{
		Id:                       id,
		TaskSetArn:               containerARN(c.account, "task-set/"+cl.ClusterName+"/"+svc.ServiceName+"/"+id),
		ServiceArn:               svc.ServiceArn,
		ClusterArn:               svc.ClusterArn,
		ExternalId:               req.ExternalId,
		Status:                   cloud.TaskSetActive,
		TaskDefinition:           req.TaskDefinition,
		LaunchType:               launchType,
		CapacityProviderStrategy: slices.Clone(req.CapacityProviderStrategy),
		PlatformVersion:          req.PlatformVersion,
		NetworkConfiguration:     cloneNetwork(req.NetworkConfiguration),
		LoadBalancers:            slices.Clone(req.LoadBalancers),
		Scale:                    scale,
		CreatedAt:                c.now,
		UpdatedAt:                c.now,
	}}
	ts.Unhealthy = c.faultFired(cloud.FaultUnhealthyTasks)
	c.st.TaskSets[ts.TaskSetArn] = ts
	c.touch(c.st.TaskSets, ts.TaskSetArn)
	detail := fmt.Sprintf("task set %s of service %s: %s at %v%%, external ID %q", id, svc.ServiceName, ts.TaskDefinition, scale.Value, ts.ExternalId)
	if ts.Unhealthy {
		detail += " (unhealthy-tasks fault: its tasks fail health checks)"
	}
	c.record("", "TaskSet", ts.TaskSetArn, detail)
	return &cloud.CreateTaskSetResponse{TaskSet: c.viewTaskSet(svc, ts)}, nil
}

// faultFired reports whether a fault rule of kind fired for this call.
func (c *call) faultFired(kind string) bool {
	return slices.ContainsFunc(c.faults, func(f string) bool { return strings.HasSuffix(f, ":"+kind) })
}

// checkTaskSetLoadBalancers enforces the external deployment rules: target
// groups (no classic load balancers) of application or network load
// balancers, one target group per task set with an application load balancer.
func (c *call) checkTaskSetLoadBalancers(lbs []cloud.TaskSetLoadBalancer) error {
	application := false
	for _, lb := range lbs {
		if lb.LoadBalancerName != "" {
			return ecsInvalid("loadBalancerName %s: a classic load balancer is not supported with the %s deployment controller; give targetGroupArn and omit loadBalancerName", lb.LoadBalancerName, cloud.DeploymentControllerExternal)
		}
		if lb.TargetGroupArn == "" {
			return ecsInvalid("loadBalancers: targetGroupArn is required")
		}
		if lb.ContainerName == "" || lb.ContainerPort < 1 || lb.ContainerPort > 65535 {
			return ecsInvalid("loadBalancers: containerName and containerPort 1–65535 are required")
		}
		tg := c.st.TargetGroups[lb.TargetGroupArn]
		if tg == nil || tg.Owner != c.account {
			return ecsInvalid("target group %s does not exist", lb.TargetGroupArn)
		}
		lbArns := c.targetGroupLoadBalancers(tg.TargetGroupArn)
		if len(lbArns) == 0 {
			return ecsInvalid("target group %s is not associated with a load balancer: forward to it from a listener first", tg.TargetGroupName)
		}
		for _, lbArn := range lbArns {
			switch t := c.st.LoadBalancers[lbArn].Type; t {
			case cloud.ELBTypeApplication:
				application = true
			case cloud.ELBTypeNetwork:
			default:
				return ecsInvalid("target group %s belongs to a %s load balancer: only application and network load balancers are supported", tg.TargetGroupName, t)
			}
		}
	}
	if application && len(lbs) > 1 {
		return ecsInvalid("with an application load balancer a task set may have only one target group, got %d", len(lbs))
	}
	return nil
}

func (c *call) newTaskSetID() string {
	for {
		id := randomID("ecs-svc/", 19, "0123456789")
		if !slices.ContainsFunc(mapsValues(c.st.TaskSets), func(ts *taskSetRecord) bool { return ts.Id == id }) {
			return id
		}
	}
}

func mapsValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func (s *Server) updateTaskSet(c *call, req *cloud.UpdateTaskSetRequest) (*cloud.UpdateTaskSetResponse, error) {
	svc, err := c.externalService(req.Cluster, req.Service)
	if err != nil {
		return nil, err
	}
	if err := checkScale(req.Scale); err != nil {
		return nil, err
	}
	ts, err := c.taskSet(svc, req.TaskSet)
	if err != nil {
		return nil, err
	}
	if ts.Scale != req.Scale {
		v := c.viewTaskSet(svc, ts)
		c.resettle(ts, v.RunningCount, v.ComputedDesiredCount, computedCount(svc.DesiredCount, req.Scale.Value))
		c.record("", "TaskSet", ts.TaskSetArn, fmt.Sprintf("task set %s of service %s scaled %v%% → %v%%", ts.Id, svc.ServiceName, ts.Scale.Value, req.Scale.Value))
		ts.Scale, ts.UpdatedAt = req.Scale, c.now
		c.touch(c.st.TaskSets, ts.TaskSetArn)
	}
	return &cloud.UpdateTaskSetResponse{TaskSet: c.viewTaskSet(svc, ts)}, nil
}

func (s *Server) updateServicePrimaryTaskSet(c *call, req *cloud.UpdateServicePrimaryTaskSetRequest) (*cloud.UpdateServicePrimaryTaskSetResponse, error) {
	svc, ts, err := c.serviceTaskSet(req.Cluster, req.Service, req.PrimaryTaskSet)
	if err != nil {
		return nil, err
	}
	if ts.Status != cloud.TaskSetPrimary {
		old := ""
		for _, other := range c.taskSets(svc) {
			if other.Status == cloud.TaskSetPrimary {
				other.Status, other.UpdatedAt, old = cloud.TaskSetActive, c.now, other.Id
				c.touch(c.st.TaskSets, other.TaskSetArn)
			}
		}
		ts.Status, ts.UpdatedAt = cloud.TaskSetPrimary, c.now
		c.touch(c.st.TaskSets, ts.TaskSetArn)
		c.record("", "TaskSet", ts.TaskSetArn, fmt.Sprintf("task set %s is the primary of service %s (was %q)", ts.Id, svc.ServiceName, old))
	}
	return &cloud.UpdateServicePrimaryTaskSetResponse{TaskSet: c.viewTaskSet(svc, ts)}, nil
}

func (s *Server) deleteTaskSet(c *call, req *cloud.DeleteTaskSetRequest) (*cloud.DeleteTaskSetResponse, error) {
	svc, ts, err := c.serviceTaskSet(req.Cluster, req.Service, req.TaskSet)
	if err != nil {
		return nil, err
	}
	if ts.Status == cloud.TaskSetPrimary {
		return nil, newError(http.StatusBadRequest, cloud.CodeECSClientException, "task set %s is the primary task set of service %s: make another one primary first", ts.Id, svc.ServiceName)
	}
	if ts.Scale.Value > 0 && !req.Force {
		return nil, newError(http.StatusBadRequest, cloud.CodeECSInvalidParameter, "task set %s still has a scale of %v%%: scale it to 0 first or delete with force", ts.Id, ts.Scale.Value)
	}
	ts.DeletedAt, ts.UpdatedAt = c.now, c.now
	c.touch(c.st.TaskSets, ts.TaskSetArn)
	c.record("", "TaskSet", ts.TaskSetArn, fmt.Sprintf("task set %s of service %s deleted (draining)", ts.Id, svc.ServiceName))
	return &cloud.DeleteTaskSetResponse{TaskSet: c.viewTaskSet(svc, ts)}, nil
}

func (s *Server) describeTaskSets(c *call, req *cloud.DescribeTaskSetsRequest) (*cloud.DescribeTaskSetsResponse, error) {
	svc, err := c.externalService(req.Cluster, req.Service)
	if err != nil {
		return nil, err
	}
	resp := &cloud.DescribeTaskSetsResponse{TaskSets: []cloud.TaskSet{}, Failures: []cloud.DescribeFailure{}}
	all := c.taskSets(svc)
	if len(req.TaskSets) == 0 {
		for _, ts := range all {
			resp.TaskSets = append(resp.TaskSets, c.viewTaskSet(svc, ts))
		}
		return resp, nil
	}
	for _, ref := range req.TaskSets {
		i := slices.IndexFunc(all, func(ts *taskSetRecord) bool { return ts.Id == ref || ts.TaskSetArn == ref })
		if i < 0 {
			resp.Failures = append(resp.Failures, cloud.DescribeFailure{Arn: ref, Reason: "MISSING"})
			continue
		}
		resp.TaskSets = append(resp.TaskSets, c.viewTaskSet(svc, all[i]))
	}
	return resp, nil
}
