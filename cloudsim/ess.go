package cloudsim

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// Auto Scaling (ESS) scaling groups and Server Load Balancer (SLB) backend
// weights. Scaling groups are not created through the API: the seed and the
// admin API (POST /admin/scaling-groups, Server.AddScalingGroup) make them,
// with running instances.

// scalingGroupRecord is a stored scaling group; capacities derive from
// Members when read.
type scalingGroupRecord struct {
	cloud.ScalingGroup
	OwnerId    string
	Members    map[string]*scalingMember // by InstanceId
	Activities []cloud.ScalingActivity   `json:",omitempty"`
	// LoadBalancerWeight is the weight a launched instance gets on the
	// group's load balancers (0: the default, 50).
	LoadBalancerWeight int `json:",omitempty"`
}

// scalingMember is an instance's membership in a group.
type scalingMember struct {
	LifecycleState string
	CreationTime   time.Time
	// ReadyTime is when an instance of a scale-out has booted: until then
	// it is Pending, whatever LifecycleState says (InService, the state it
	// enters).
	ReadyTime time.Time `json:",omitzero"`
	// SavedWeights are the instance's weights on the group's load balancers
	// before it entered Standby, restored by ExitStandby.
	SavedWeights map[string]int `json:",omitempty"`
	// Unhealthy fails the instance's health check (set through
	// POST /admin/instance-health).
	Unhealthy bool `json:",omitempty"`
}

// slbRecord is a load balancer with the weights of its backend servers.
type slbRecord struct {
	LoadBalancerId   string
	LoadBalancerName string
	RegionId         string
	OwnerId          string
	Weights          map[string]int // by instance ID
}

func (g *scalingGroupRecord) scope() (string, string) { return g.OwnerId, g.RegionId }
func (lb *slbRecord) scope() (string, string)         { return lb.OwnerId, lb.RegionId }

var (
	scalingGroups = resource{"scaling group", cloud.CodeScalingGroupNotFound}
	loadBalancers = resource{"load balancer", cloud.CodeSLBNotFound}
)

// state is the member's lifecycle state at now: Pending while it boots.
func (m *scalingMember) state(now time.Time) string {
	if m.LifecycleState == cloud.LifecycleInService && now.Before(m.ReadyTime) {
		return cloud.LifecyclePending
	}
	return m.LifecycleState
}

// view is the group as DescribeScalingGroups shows it at now, with the
// image of its instance configuration source (st holds the source).
func (g *scalingGroupRecord) view(st *state, now time.Time) cloud.ScalingGroup {
	v := g.ScalingGroup
	v.LoadBalancerIds = slices.Clone(g.LoadBalancerIds)
	v.SuspendedProcesses = slices.Clone(g.SuspendedProcesses)
	if v.SuspendedProcesses == nil {
		v.SuspendedProcesses = []string{}
	}
	if data, err := launchData(st, g); err == nil {
		v.ImageId = data.ImageId
	}
	v.TotalCapacity, v.InServiceCapacity, v.StandbyCapacity, v.PendingCapacity = len(g.Members), 0, 0, 0
	for _, m := range g.Members {
		switch m.state(now) {
		case cloud.LifecycleInService:
			v.InServiceCapacity++
		case cloud.LifecycleStandby:
			v.StandbyCapacity++
		case cloud.LifecyclePending:
			v.PendingCapacity++
		}
	}
	return v
}

func (s *Server) registerAutoScaling() {
	s.registerRollingUpdateTasks() // one task per group (ess_tasks.go)
	registerQuery(s, "DescribeScalingGroups", s.describeScalingGroups)
	registerQuery(s, "DescribeScalingInstances", s.describeScalingInstances)
	registerQuery(s, "DescribeScalingActivities", s.describeScalingActivities)
	registerMutation(s, "SuspendProcesses", s.suspendProcesses)
	registerMutation(s, "ResumeProcesses", s.resumeProcesses)
	registerMutation(s, "EnterStandby", s.enterStandby)
	registerMutation(s, "ExitStandby", s.exitStandby)
	registerQuery(s, "DescribeLoadBalancerAttribute", s.describeLoadBalancerAttribute)
	registerMutation(s, "SetBackendServers", s.setBackendServers)
	s.registerScalingSources() // configurations, templates, scaling (ess_scaling.go)
}

// ownScalingGroup finds one of the caller's groups in region.
func (c *call) ownScalingGroup(region, id string) (*scalingGroupRecord, error) {
	return findOwned(c, c.st.ScalingGroups, scalingGroups, region, "ScalingGroupId", id)
}

func (s *Server) describeScalingGroups(c *call, req *cloud.DescribeScalingGroupsRequest) (*cloud.DescribeScalingGroupsResponse, error) {
	found, err := listOwned(c, c.st.ScalingGroups, req.RegionId,
		func(g *scalingGroupRecord) bool {
			return len(req.ScalingGroupIds) == 0 || slices.Contains(req.ScalingGroupIds, g.ScalingGroupId)
		},
		func(g *scalingGroupRecord) cloud.ScalingGroup { return g.view(c.st, c.now) },
		func(a, b cloud.ScalingGroup) int { return cmp.Compare(a.ScalingGroupId, b.ScalingGroupId) })
	if err != nil {
		return nil, err
	}
	pg, err := pageOf(req.PageNumber, req.PageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeScalingGroupsResponse{TotalCount: len(found), ScalingGroups: pageItems(pg, found)}, nil
}

func (s *Server) describeScalingInstances(c *call, req *cloud.DescribeScalingInstancesRequest) (*cloud.DescribeScalingInstancesResponse, error) {
	g, err := c.ownScalingGroup(req.RegionId, req.ScalingGroupId)
	if err != nil {
		return nil, err
	}
	pg, err := pageOf(req.PageNumber, req.PageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	var found []cloud.ScalingInstance
	for id, m := range g.Members {
		state := m.state(c.now)
		if (len(req.InstanceIds) > 0 && !slices.Contains(req.InstanceIds, id)) ||
			(req.LifecycleState != "" && req.LifecycleState != state) {
			continue
		}
		// An instance is Healthy while its ECS instance runs (a stopped or
		// stopping one fails the group's health check).
		health := "Healthy"
		if r := c.st.Instances[id]; m.Unhealthy || r != nil && r.status(c.now) != cloud.InstanceRunning {
			health = "Unhealthy"
		}
		found = append(found, cloud.ScalingInstance{
			InstanceId: id, ScalingGroupId: g.ScalingGroupId, LifecycleState: state,
			HealthStatus: health, CreationTime: m.CreationTime,
		})
	}
	slices.SortFunc(found, func(a, b cloud.ScalingInstance) int {
		return cmp.Or(a.CreationTime.Compare(b.CreationTime), cmp.Compare(a.InstanceId, b.InstanceId))
	})
	return &cloud.DescribeScalingInstancesResponse{TotalCount: len(found), PageNumber: pg.number, PageSize: pg.size, ScalingInstances: pageItems(pg, found)}, nil
}

func (s *Server) describeScalingActivities(c *call, req *cloud.DescribeScalingActivitiesRequest) (*cloud.DescribeScalingActivitiesResponse, error) {
	g, err := c.ownScalingGroup(req.RegionId, req.ScalingGroupId)
	if err != nil {
		return nil, err
	}
	resp := &cloud.DescribeScalingActivitiesResponse{ScalingActivities: []cloud.ScalingActivity{}}
	for _, a := range g.Activities {
		a = activityView(a, c.now)
		if req.StatusCode == "" || req.StatusCode == a.StatusCode {
			resp.ScalingActivities = append(resp.ScalingActivities, a)
		}
	}
	return resp, nil
}

func checkProcesses(ps []string) error {
	if len(ps) == 0 {
		return invalidParam("Processes needs at least one of %s", strings.Join(cloud.ScalingProcesses, ", "))
	}
	for _, p := range ps {
		if !slices.Contains(cloud.ScalingProcesses, p) {
			return invalidParam("process %q must be one of %s", p, strings.Join(cloud.ScalingProcesses, ", "))
		}
	}
	return nil
}

func (s *Server) suspendProcesses(c *call, req *cloud.SuspendProcessesRequest) (*cloud.SuspendProcessesResponse, error) {
	return &cloud.SuspendProcessesResponse{}, c.changeProcesses(req.RegionId, req.ScalingGroupId, req.Processes, true)
}

func (s *Server) resumeProcesses(c *call, req *cloud.ResumeProcessesRequest) (*cloud.ResumeProcessesResponse, error) {
	return &cloud.ResumeProcessesResponse{}, c.changeProcesses(req.RegionId, req.ScalingGroupId, req.Processes, false)
}

// changeProcesses suspends or resumes a group's scaling processes; those
// already so are left alone (no side effect when none changes).
func (c *call) changeProcesses(region, groupID string, processes []string, suspend bool) error {
	g, err := c.ownScalingGroup(region, groupID)
	if err != nil {
		return err
	}
	if err := checkProcesses(processes); err != nil {
		return err
	}
	var changed []string
	verb := "suspended "
	if suspend {
		for _, p := range processes {
			if !slices.Contains(g.SuspendedProcesses, p) && !slices.Contains(changed, p) {
				changed = append(changed, p)
			}
		}
		g.SuspendedProcesses = append(g.SuspendedProcesses, changed...)
	} else {
		verb = "resumed "
		g.SuspendedProcesses = slices.DeleteFunc(g.SuspendedProcesses, func(p string) bool {
			if slices.Contains(processes, p) {
				changed = append(changed, p)
				return true
			}
			return false
		})
	}
	if len(changed) > 0 {
		c.touch(c.st.ScalingGroups, g.ScalingGroupId)
		c.record(g.RegionId, "ScalingGroup", g.ScalingGroupId, verb+strings.Join(changed, ","))
	}
	return nil
}

// standbyMembers checks the instances of a standby call: 1–20, members of g.
func standbyMembers(g *scalingGroupRecord, ids []string) ([]*scalingMember, error) {
	if len(ids) == 0 || len(ids) > cloud.MaxStandbyInstances {
		return nil, invalidParam("InstanceIds must name 1–%d instances, got %d", cloud.MaxStandbyInstances, len(ids))
	}
	out := make([]*scalingMember, len(ids))
	for i, id := range ids {
		m := g.Members[id]
		if m == nil {
			return nil, instanceNotFound("instance %s is not in scaling group %s", id, g.ScalingGroupId)
		}
		if slices.Index(ids, id) != i {
			return nil, invalidParam("InstanceIds names %s twice", id)
		}
		out[i] = m
	}
	return out, nil
}

func (s *Server) enterStandby(c *call, req *cloud.EnterStandbyRequest) (*cloud.EnterStandbyResponse, error) {
	return &cloud.EnterStandbyResponse{}, c.moveStandby(req.RegionId, req.ScalingGroupId, req.InstanceIds, true)
}

func (s *Server) exitStandby(c *call, req *cloud.ExitStandbyRequest) (*cloud.ExitStandbyResponse, error) {
	return &cloud.ExitStandbyResponse{}, c.moveStandby(req.RegionId, req.ScalingGroupId, req.InstanceIds, false)
}

// moveStandby moves instances of a group into Standby (enter) or back
// InService. Entering saves each one's weights on the group's load
// balancers and sets them to 0; leaving restores them. An instance already
// there is left alone; one in any other state refuses the whole call.
func (c *call) moveStandby(region, groupID string, ids []string, enter bool) error {
	g, err := c.ownScalingGroup(region, groupID)
	if err != nil {
		return err
	}
	members, err := standbyMembers(g, ids)
	if err != nil {
		return err
	}
	from, to, rule := cloud.LifecycleInService, cloud.LifecycleStandby, "only an InService instance can enter Standby"
	if !enter {
		from, to, rule = to, from, "only a Standby instance can return to service"
	}
	for i, m := range members {
		if st := m.state(c.now); st != from && st != to {
			return newError(http.StatusBadRequest, cloud.CodeLifecycleState, "instance %s is %s: %s", ids[i], st, rule)
		}
	}
	for i, m := range members {
		id := ids[i]
		if m.LifecycleState == to {
			continue // already there: nothing to do
		}
		saved := m.SavedWeights
		if enter {
			saved = map[string]int{}
		}
		for _, lbID := range g.LoadBalancerIds {
			lb := c.st.SLBs[lbID]
			if lb == nil {
				continue
			}
			w, onLB := lb.Weights[id]
			restored, wasSaved := saved[lbID]
			switch {
			case !onLB:
				continue
			case enter:
				saved[lbID], lb.Weights[id] = w, 0
			case wasSaved:
				lb.Weights[id] = restored
			default:
				continue
			}
			c.touchEntry(c.st.SLBs, lbID, lb.Weights, id)
		}
		if enter {
			c.record(g.RegionId, "ScalingInstance", id, fmt.Sprintf("Standby in %s, weights %v → 0", g.ScalingGroupId, saved))
			m.LifecycleState, m.SavedWeights = to, saved
		} else {
			c.record(g.RegionId, "ScalingInstance", id, fmt.Sprintf("InService in %s, weights restored to %v", g.ScalingGroupId, saved))
			m.LifecycleState, m.SavedWeights = to, nil
		}
		c.touchEntry(c.st.ScalingGroups, g.ScalingGroupId, g.Members, id)
	}
	return nil
}

// checkReleasableFromGroups refuses to release a member of a scaling group.
func (c *call) checkReleasableFromGroups(r *instanceRecord) error {
	for _, g := range c.st.ScalingGroups {
		if g.Members[r.InstanceId] != nil {
			return incorrectInstanceStatus("instance %s belongs to scaling group %s: remove it from the group first", r.InstanceId, g.ScalingGroupId)
		}
	}
	return nil
}

func (c *call) ownLoadBalancer(region, id string) (*slbRecord, error) {
	return findOwned(c, c.st.SLBs, loadBalancers, region, "", id)
}

func (lb *slbRecord) servers() []cloud.SLBBackendServer {
	out := []cloud.SLBBackendServer{}
	for _, id := range slices.Sorted(maps.Keys(lb.Weights)) {
		out = append(out, cloud.SLBBackendServer{ServerId: id, Weight: lb.Weights[id]})
	}
	return out
}

func (s *Server) describeLoadBalancerAttribute(c *call, req *cloud.DescribeLoadBalancerAttributeRequest) (*cloud.DescribeLoadBalancerAttributeResponse, error) {
	lb, err := c.ownLoadBalancer(req.RegionId, req.LoadBalancerId)
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeLoadBalancerAttributeResponse{
		LoadBalancerId: lb.LoadBalancerId, LoadBalancerName: lb.LoadBalancerName, RegionId: lb.RegionId, BackendServers: lb.servers(),
	}, nil
}

func (s *Server) setBackendServers(c *call, req *cloud.SetBackendServersRequest) (*cloud.SetBackendServersResponse, error) {
	lb, err := c.ownLoadBalancer(req.RegionId, req.LoadBalancerId)
	if err != nil {
		return nil, err
	}
	if len(req.BackendServers) == 0 || len(req.BackendServers) > 20 {
		return nil, invalidParam("BackendServers must name 1–20 servers, got %d", len(req.BackendServers))
	}
	for _, b := range req.BackendServers {
		if _, ok := lb.Weights[b.ServerId]; !ok {
			return nil, invalidParam("server %s is not a backend of %s", b.ServerId, lb.LoadBalancerId)
		}
		if b.Weight < 0 || b.Weight > 100 {
			return nil, invalidParam("weight %d of %s must be 0–100", b.Weight, b.ServerId)
		}
	}
	for _, b := range req.BackendServers {
		if lb.Weights[b.ServerId] != b.Weight {
			c.record(lb.RegionId, "LoadBalancer", lb.LoadBalancerId, fmt.Sprintf("weight of %s %d → %d", b.ServerId, lb.Weights[b.ServerId], b.Weight))
			lb.Weights[b.ServerId] = b.Weight
			c.touchEntry(c.st.SLBs, lb.LoadBalancerId, lb.Weights, b.ServerId)
		}
	}
	return &cloud.SetBackendServersResponse{LoadBalancerId: lb.LoadBalancerId, BackendServers: lb.servers()}, nil
}

// ScalingGroupSpec describes a scaling group for AddScalingGroup.
type ScalingGroupSpec struct {
	ScalingGroupId   string
	ScalingGroupName string `json:",omitempty"`
	RegionId         string
	Account          string `json:",omitempty"` // default DefaultAccount
	ImageId          string
	InstanceType     string `json:",omitempty"` // default ecs.g7.large
	// Size is the number of InService instances, all Running.
	Size int
	// LoadBalancerId, if set, is a load balancer created for the group with
	// every instance at Weight (default 100).
	LoadBalancerId string `json:",omitempty"`
	Weight         int    `json:",omitempty"`
	// The instance configuration source: a launch template LaunchTemplateId
	// made for the group (version 1, the default, with ImageId and
	// InstanceType) used at LaunchTemplateVersion (default Default), or, when
	// LaunchTemplateId is empty, a scaling configuration
	// asc-<group ID without asg->, active.
	LaunchTemplateId      string   `json:",omitempty"`
	LaunchTemplateVersion string   `json:",omitempty"`
	SuspendedProcesses    []string `json:",omitempty"`
	// ActivityInProgress adds a scaling activity that never ends.
	ActivityInProgress bool `json:",omitempty"`
}

// MaxScalingGroupSize is the largest group the admin API creates (Auto
// Scaling's limit of instances per group).
const MaxScalingGroupSize = 10000

// AddScalingGroup creates a scaling group with Size running instances (and
// its load balancer), as the seed does. It is not an API call and adds no
// ledger entries.
func (s *Server) AddScalingGroup(spec ScalingGroupSpec) (cloud.ScalingGroup, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return cloud.ScalingGroup{}, unavailable("the simulator is shut down")
	}
	g, err := addScalingGroup(s.st, spec, s.now())
	if err != nil {
		s.rollback()
		return cloud.ScalingGroup{}, err
	}
	if err := s.save(); err != nil {
		s.rollback()
		return cloud.ScalingGroup{}, internalError("saving state: %v", err)
	}
	return g.view(s.st, s.now()), nil
}

func addScalingGroup(st *state, spec ScalingGroupSpec, now time.Time) (*scalingGroupRecord, error) {
	spec.Account = cmp.Or(spec.Account, DefaultAccount)
	spec.InstanceType = cmp.Or(spec.InstanceType, "ecs.g7.large")
	spec.Weight = cmp.Or(spec.Weight, 100)
	switch {
	case !strings.HasPrefix(spec.ScalingGroupId, "asg-"):
		return nil, invalidParam("ScalingGroupId %q must start with asg-", spec.ScalingGroupId)
	case st.ScalingGroups[spec.ScalingGroupId] != nil:
		return nil, invalidParam("scaling group %s exists", spec.ScalingGroupId)
	case spec.Size < 0 || spec.Size > MaxScalingGroupSize:
		return nil, invalidParam("Size must be 0–%d", MaxScalingGroupSize)
	case spec.LoadBalancerId != "" && st.SLBs[spec.LoadBalancerId] != nil:
		return nil, invalidParam("load balancer %s exists", spec.LoadBalancerId)
	}
	if err := checkRegion("RegionId", spec.RegionId); err != nil {
		return nil, err
	}
	if len(spec.SuspendedProcesses) > 0 {
		if err := checkProcesses(spec.SuspendedProcesses); err != nil {
			return nil, err
		}
	}
	img := st.Images[imageKey(spec.RegionId, spec.ImageId)]
	if img == nil || img.Deleted {
		return nil, invalidParam("image %s does not exist in %s", spec.ImageId, spec.RegionId)
	}
	g := &scalingGroupRecord{OwnerId: spec.Account, Members: map[string]*scalingMember{}, ScalingGroup: cloud.ScalingGroup{
		ScalingGroupId:     spec.ScalingGroupId,
		ScalingGroupName:   cmp.Or(spec.ScalingGroupName, spec.ScalingGroupId),
		RegionId:           spec.RegionId,
		LifecycleState:     "Active",
		MinSize:            0,
		MaxSize:            max(spec.Size*2, 10),
		ImageId:            spec.ImageId,
		SuspendedProcesses: slices.Clone(spec.SuspendedProcesses),
		CreationTime:       now,
	}, LoadBalancerWeight: spec.Weight}
	if err := addGroupSource(st, g, spec, img, now); err != nil {
		return nil, err
	}
	var lb *slbRecord
	if spec.LoadBalancerId != "" {
		lb = &slbRecord{LoadBalancerId: spec.LoadBalancerId, LoadBalancerName: spec.LoadBalancerId, RegionId: spec.RegionId, OwnerId: spec.Account, Weights: map[string]int{}}
		st.SLBs[lb.LoadBalancerId] = lb
		g.LoadBalancerIds = []string{lb.LoadBalancerId}
	}
	prefix := "i-" + strings.ReplaceAll(strings.TrimPrefix(spec.ScalingGroupId, "asg-"), "-", "")
	for n := 1; n <= spec.Size; n++ {
		id := fmt.Sprintf("%s%04d", prefix, n)
		if st.Instances[id] != nil {
			return nil, invalidParam("instance %s exists", id)
		}
		created := now.Add(time.Duration(n-spec.Size) * time.Second) // distinct, in order
		st.Instances[id] = &instanceRecord{OwnerId: spec.Account, Instance: cloud.Instance{
			InstanceId: id, InstanceName: fmt.Sprintf("%s-%d", g.ScalingGroupName, n), RegionId: spec.RegionId,
			InstanceType: spec.InstanceType, ImageId: img.ImageId, OSType: cmp.Or(img.OSType, cloud.OSLinux), OSName: img.OSName,
			SystemDisk:   cloud.SystemDisk{DiskId: fmt.Sprintf("d-%s%04d", strings.TrimPrefix(prefix, "i-"), n), Size: max(40, img.Size), Category: "cloud_essd"},
			CreationTime: created, ReadyTime: created,
		}}
		g.Members[id] = &scalingMember{LifecycleState: cloud.LifecycleInService, CreationTime: created}
		if lb != nil {
			lb.Weights[id] = spec.Weight
		}
	}
	if spec.ActivityInProgress {
		g.Activities = append(g.Activities, cloud.ScalingActivity{
			ScalingActivityId: "asa-" + strings.TrimPrefix(spec.ScalingGroupId, "asg-"), ScalingGroupId: g.ScalingGroupId,
			StatusCode: cloud.ActivityInProgress, Description: "Add \"1\" ECS instance", StartTime: now,
		})
	}
	st.ScalingGroups[g.ScalingGroupId] = g
	return g, nil
}

// Seeded scaling groups, in SeedRegion.
const (
	GroupWeb  = "asg-web-hz"  // 10 linux instances of m-webapp-v1 behind lb-web-hz (weight 100); launches from launch template lt-web-hz (Default version)
	GroupWin  = "asg-win-hz"  // 4 windows instances of m-winsvc-v1 behind lb-win-hz (weight 50); HealthCheck suspended; scaling configuration asc-win-hz
	GroupBusy = "asg-busy-hz" // 3 linux instances; a scaling activity is in progress; scaling configuration asc-busy-hz
	LBWeb     = "lb-web-hz"
	LBWin     = "lb-win-hz"
	// LaunchTemplateWeb is GroupWeb's launch template.
	LaunchTemplateWeb = "lt-web-hz"
)

func seedScaling(st *state, now time.Time) {
	for _, spec := range []ScalingGroupSpec{
		{ScalingGroupId: GroupWeb, ScalingGroupName: "web", RegionId: SeedRegion, ImageId: ImageWebappV1, Size: 10, LoadBalancerId: LBWeb, Weight: 100,
			LaunchTemplateId: LaunchTemplateWeb},
		{ScalingGroupId: GroupWin, ScalingGroupName: "winsvc", RegionId: SeedRegion, ImageId: ImageWinsvcV1, Size: 4, LoadBalancerId: LBWin, Weight: 50,
			SuspendedProcesses: []string{cloud.ProcessHealthCheck}},
		{ScalingGroupId: GroupBusy, ScalingGroupName: "busy", RegionId: SeedRegion, ImageId: ImageWebappV1, Size: 3, ActivityInProgress: true},
	} {
		if _, err := addScalingGroup(st, spec, now); err != nil {
			panic("cloudsim: seeding scaling groups: " + err.Error())
		}
	}
}
