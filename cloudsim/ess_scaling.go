package cloudsim

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// What a scaling group launches and when: its instance configuration source
// (an active scaling configuration, or an ECS launch template at the
// group's version setting), and scaling (ScaleWithAdjustment, simple
// scaling rules, RemoveInstances). A scale-out creates instances from the
// source with its image: they are Pending in the group while they boot, and
// the scaling activity is InProgress until the last has booted. A scale-in
// removes InService instances, oldest first, and releases them.

// scalingConfigurationRecord is a stored scaling configuration; its
// LifecycleState derives from its group when read.
type scalingConfigurationRecord struct {
	cloud.ScalingConfiguration
	OwnerId string
}

// scalingRuleRecord is a simple scaling rule of a group.
type scalingRuleRecord struct {
	cloud.ScalingRule
	RegionId string
	OwnerId  string
}

func (r *scalingConfigurationRecord) scope() (string, string) { return r.OwnerId, r.RegionId }
func (r *scalingRuleRecord) scope() (string, string)          { return r.OwnerId, r.RegionId }

var (
	scalingConfigurations = resource{"scaling configuration", cloud.CodeScalingConfigurationNotFound}
	scalingRules          = resource{"scaling rule", cloud.CodeScalingRuleNotFound}
)

// Limits of the scaling calls.
const (
	maxConfigurationTypes = 10 // InstanceTypes of a configuration
	maxRemoveInstances    = 20 // InstanceIds of one RemoveInstances
	defaultLBWeight       = 50 // a launched instance's weight, unless the group says
)

func (s *Server) registerScalingSources() {
	registerQuery(s, "DescribeScalingConfigurations", s.describeScalingConfigurations)
	registerMutation(s, "CreateScalingConfiguration", s.createScalingConfiguration)
	registerMutation(s, "ModifyScalingConfiguration", s.modifyScalingConfiguration)
	registerMutation(s, "ModifyScalingGroup", s.modifyScalingGroup)
	s.registerLaunchTemplates() // ECS launch templates (ecs_templates.go)
	registerMutation(s, "ScaleWithAdjustment", s.scaleWithAdjustment)
	registerMutation(s, "CreateScalingRule", s.createScalingRule)
	registerQuery(s, "DescribeScalingRules", s.describeScalingRules)
	registerMutation(s, "ExecuteScalingRule", s.executeScalingRule)
	registerMutation(s, "RemoveInstances", s.removeInstances)
}

// launchData is what g launches now: the data of the launch template
// version its setting resolves to, or of its active configuration.
func launchData(st *state, g *scalingGroupRecord) (cloud.LaunchTemplateData, error) {
	if g.LaunchTemplateId != "" {
		lt := st.LaunchTemplates[g.LaunchTemplateId]
		if lt == nil {
			return cloud.LaunchTemplateData{}, newError(http.StatusNotFound, cloud.CodeLaunchTemplateNotFound, "launch template %s of scaling group %s does not exist", g.LaunchTemplateId, g.ScalingGroupId)
		}
		v, err := lt.version(g.LaunchTemplateVersion)
		if err != nil {
			return cloud.LaunchTemplateData{}, err
		}
		return v.LaunchTemplateData, nil
	}
	sc := st.ScalingConfigurations[g.ActiveScalingConfigurationId]
	if sc == nil {
		if g.ImageId != "" { // a group saved before it had a source
			return cloud.LaunchTemplateData{ImageId: g.ImageId, InstanceType: "ecs.g7.large"}, nil
		}
		return cloud.LaunchTemplateData{}, newError(http.StatusNotFound, cloud.CodeScalingConfigurationNotFound, "scaling group %s has no active scaling configuration", g.ScalingGroupId)
	}
	return cloud.LaunchTemplateData{
		ImageId: sc.ImageId, InstanceType: sc.InstanceTypes[0], SystemDiskSize: sc.SystemDiskSize, SystemDiskCategory: sc.SystemDiskCategory,
	}, nil
}

// addGroupSource gives a group made by AddScalingGroup its source.
func addGroupSource(st *state, g *scalingGroupRecord, spec ScalingGroupSpec, img *imageRecord, now time.Time) error {
	data := cloud.LaunchTemplateData{ImageId: img.ImageId, InstanceType: spec.InstanceType}
	if spec.LaunchTemplateId == "" {
		id := "asc-" + strings.TrimPrefix(spec.ScalingGroupId, "asg-")
		if st.ScalingConfigurations[id] != nil {
			return invalidParam("scaling configuration %s exists", id)
		}
		st.ScalingConfigurations[id] = &scalingConfigurationRecord{OwnerId: spec.Account, ScalingConfiguration: cloud.ScalingConfiguration{
			ScalingConfigurationId: id, ScalingConfigurationName: g.ScalingGroupName, ScalingGroupId: g.ScalingGroupId, RegionId: g.RegionId,
			ImageId: data.ImageId, InstanceTypes: []string{data.InstanceType}, CreationTime: now,
		}}
		g.ActiveScalingConfigurationId = id
		return nil
	}
	if !strings.HasPrefix(spec.LaunchTemplateId, "lt-") {
		return invalidParam("LaunchTemplateId %q must start with lt-", spec.LaunchTemplateId)
	}
	if st.LaunchTemplates[spec.LaunchTemplateId] != nil {
		return invalidParam("launch template %s exists", spec.LaunchTemplateId)
	}
	lt := &launchTemplateRecord{
		LaunchTemplateId: spec.LaunchTemplateId, LaunchTemplateName: g.ScalingGroupName, RegionId: g.RegionId, OwnerId: spec.Account,
		DefaultVersionNumber: 1, LatestVersionNumber: 1,
		Versions: map[string]*cloud.LaunchTemplateVersionSet{"1": {
			LaunchTemplateId: spec.LaunchTemplateId, LaunchTemplateName: g.ScalingGroupName, VersionNumber: 1,
			VersionDescription: "created with the group", CreateTime: now, LaunchTemplateData: data,
		}},
	}
	g.LaunchTemplateId, g.LaunchTemplateVersion = lt.LaunchTemplateId, cmp.Or(spec.LaunchTemplateVersion, cloud.LaunchTemplateDefault)
	if _, err := lt.version(g.LaunchTemplateVersion); err != nil {
		return err
	}
	st.LaunchTemplates[lt.LaunchTemplateId] = lt
	return nil
}

// giveGroupsASource gives a group of a state saved before groups had
// sources a scaling configuration with the image it showed, so that it
// launches and its image can be updated as any other's.
func giveGroupsASource(st *state) {
	for _, g := range st.ScalingGroups {
		if g.LaunchTemplateId != "" || st.ScalingConfigurations[g.ActiveScalingConfigurationId] != nil || g.ImageId == "" {
			continue
		}
		id := cmp.Or(g.ActiveScalingConfigurationId, "asc-"+strings.TrimPrefix(g.ScalingGroupId, "asg-"))
		instanceType := "ecs.g7.large"
		for _, m := range slices.Sorted(maps.Keys(g.Members)) {
			if r := st.Instances[m]; r != nil {
				instanceType = r.InstanceType
				break
			}
		}
		st.ScalingConfigurations[id] = &scalingConfigurationRecord{OwnerId: g.OwnerId, ScalingConfiguration: cloud.ScalingConfiguration{
			ScalingConfigurationId: id, ScalingConfigurationName: g.ScalingGroupName, ScalingGroupId: g.ScalingGroupId, RegionId: g.RegionId,
			ImageId: g.ImageId, InstanceTypes: []string{instanceType}, CreationTime: g.CreationTime,
		}}
		g.ActiveScalingConfigurationId = id
	}
}

// describeSource names g's source for the ledger.
func describeSource(g *scalingGroupRecord) string {
	if g.LaunchTemplateId != "" {
		return "launch template " + g.LaunchTemplateId + " version " + g.LaunchTemplateVersion
	}
	return "scaling configuration " + g.ActiveScalingConfigurationId
}

// Scaling configurations.

func (c *call) ownConfiguration(region, id string) (*scalingConfigurationRecord, error) {
	return findOwned(c, c.st.ScalingConfigurations, scalingConfigurations, region, "ScalingConfigurationId", id)
}

func (c *call) configurationView(sc *scalingConfigurationRecord) cloud.ScalingConfiguration {
	v := sc.ScalingConfiguration
	v.InstanceTypes = slices.Clone(sc.InstanceTypes)
	v.LifecycleState = cloud.ConfigurationInactive
	if g := c.st.ScalingGroups[sc.ScalingGroupId]; g != nil && g.LaunchTemplateId == "" && g.ActiveScalingConfigurationId == sc.ScalingConfigurationId {
		v.LifecycleState = cloud.ConfigurationActive
	}
	return v
}

func (s *Server) describeScalingConfigurations(c *call, req *cloud.DescribeScalingConfigurationsRequest) (*cloud.DescribeScalingConfigurationsResponse, error) {
	if req.ScalingGroupId != "" {
		if _, err := c.ownScalingGroup(req.RegionId, req.ScalingGroupId); err != nil {
			return nil, err
		}
	}
	found, err := listOwned(c, c.st.ScalingConfigurations, req.RegionId,
		func(sc *scalingConfigurationRecord) bool {
			return (req.ScalingGroupId == "" || sc.ScalingGroupId == req.ScalingGroupId) &&
				(len(req.ScalingConfigurationIds) == 0 || slices.Contains(req.ScalingConfigurationIds, sc.ScalingConfigurationId))
		},
		c.configurationView,
		func(a, b cloud.ScalingConfiguration) int {
			return cmp.Or(a.CreationTime.Compare(b.CreationTime), cmp.Compare(a.ScalingConfigurationId, b.ScalingConfigurationId))
		})
	if err != nil {
		return nil, err
	}
	pg, err := pageOf(req.PageNumber, req.PageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeScalingConfigurationsResponse{TotalCount: len(found), PageNumber: pg.number, PageSize: pg.size, ScalingConfigurations: pageItems(pg, found)}, nil
}

func checkInstanceTypes(types []string) error {
	if len(types) == 0 || len(types) > maxConfigurationTypes {
		return invalidParam("InstanceTypes must name 1–%d instance types, got %d", maxConfigurationTypes, len(types))
	}
	for _, t := range types {
		if !instanceTypeRE.MatchString(t) {
			return newError(http.StatusBadRequest, cloud.CodeInstanceType, "InstanceType %q is not an instance type (e.g. ecs.g7.large)", t)
		}
	}
	return nil
}

func (s *Server) createScalingConfiguration(c *call, req *cloud.CreateScalingConfigurationRequest) (*cloud.CreateScalingConfigurationResponse, error) {
	g, err := c.ownScalingGroup(req.RegionId, req.ScalingGroupId)
	if err != nil {
		return nil, err
	}
	if err := checkInstanceTypes(req.InstanceTypes); err != nil {
		return nil, err
	}
	img, err := c.usableImage(g.RegionId, req.ImageId)
	if err != nil {
		return nil, err
	}
	if req.SystemDiskSize != 0 || req.SystemDiskCategory != "" {
		if _, err := checkSystemDisk(cloud.SystemDisk{Size: req.SystemDiskSize, Category: req.SystemDiskCategory}, img, defaultSystemDiskGiB); err != nil {
			return nil, err
		}
	}
	id := newID(c.st.ScalingConfigurations, "asc-", 20, lowerAlnum)
	c.st.ScalingConfigurations[id] = &scalingConfigurationRecord{OwnerId: c.account, ScalingConfiguration: cloud.ScalingConfiguration{
		ScalingConfigurationId: id, ScalingConfigurationName: cmp.Or(req.ScalingConfigurationName, id), ScalingGroupId: g.ScalingGroupId,
		RegionId: g.RegionId, ImageId: img.ImageId, InstanceTypes: slices.Clone(req.InstanceTypes),
		SystemDiskSize: req.SystemDiskSize, SystemDiskCategory: req.SystemDiskCategory, CreationTime: c.now,
	}}
	c.touch(c.st.ScalingConfigurations, id)
	c.record(g.RegionId, "ScalingConfiguration", id, fmt.Sprintf("created for %s: image %s, %s", g.ScalingGroupId, img.ImageId, strings.Join(req.InstanceTypes, ",")))
	return &cloud.CreateScalingConfigurationResponse{ScalingConfigurationId: id}, nil
}

// modifyScalingConfiguration changes the given fields; values it has
// already change nothing (no ledger entry).
func (s *Server) modifyScalingConfiguration(c *call, req *cloud.ModifyScalingConfigurationRequest) (*cloud.ModifyScalingConfigurationResponse, error) {
	sc, err := c.ownConfiguration(req.RegionId, req.ScalingConfigurationId)
	if err != nil {
		return nil, err
	}
	var changes []string
	image := sc.ImageId
	if req.ImageId != "" {
		img, err := c.usableImage(sc.RegionId, req.ImageId)
		if err != nil {
			return nil, err
		}
		if img.ImageId != sc.ImageId {
			changes = append(changes, fmt.Sprintf("image %s → %s", sc.ImageId, img.ImageId))
			image = img.ImageId
		}
	}
	types := sc.InstanceTypes
	if req.InstanceTypes != nil {
		if err := checkInstanceTypes(req.InstanceTypes); err != nil {
			return nil, err
		}
		if !slices.Equal(req.InstanceTypes, sc.InstanceTypes) {
			changes = append(changes, fmt.Sprintf("instance types %s → %s", strings.Join(sc.InstanceTypes, ","), strings.Join(req.InstanceTypes, ",")))
			types = slices.Clone(req.InstanceTypes)
		}
	}
	name := cmp.Or(req.ScalingConfigurationName, sc.ScalingConfigurationName)
	if name != sc.ScalingConfigurationName {
		changes = append(changes, fmt.Sprintf("name %q → %q", sc.ScalingConfigurationName, name))
	}
	if len(changes) == 0 {
		return &cloud.ModifyScalingConfigurationResponse{}, nil
	}
	sc.ImageId, sc.InstanceTypes, sc.ScalingConfigurationName = image, types, name
	c.touch(c.st.ScalingConfigurations, sc.ScalingConfigurationId)
	c.record(sc.RegionId, "ScalingConfiguration", sc.ScalingConfigurationId, strings.Join(changes, ", "))
	return &cloud.ModifyScalingConfigurationResponse{}, nil
}

// modifyScalingGroup changes the group's source or size limits; values it
// has already change nothing.
func (s *Server) modifyScalingGroup(c *call, req *cloud.ModifyScalingGroupRequest) (*cloud.ModifyScalingGroupResponse, error) {
	g, err := c.ownScalingGroup(req.RegionId, req.ScalingGroupId)
	if err != nil {
		return nil, err
	}
	before := describeSource(g)
	config, ltID, ltVersion := g.ActiveScalingConfigurationId, g.LaunchTemplateId, g.LaunchTemplateVersion
	switch {
	case req.ActiveScalingConfigurationId != "" && (req.LaunchTemplateId != "" || req.LaunchTemplateVersion != ""):
		return nil, invalidParam("give ActiveScalingConfigurationId or a launch template, not both")
	case req.ActiveScalingConfigurationId != "":
		sc, err := c.ownConfiguration(g.RegionId, req.ActiveScalingConfigurationId)
		if err != nil {
			return nil, err
		}
		if sc.ScalingGroupId != g.ScalingGroupId {
			return nil, invalidParam("scaling configuration %s belongs to scaling group %s, not %s", sc.ScalingConfigurationId, sc.ScalingGroupId, g.ScalingGroupId)
		}
		config, ltID, ltVersion = sc.ScalingConfigurationId, "", ""
	case req.LaunchTemplateId != "" || req.LaunchTemplateVersion != "":
		ltID = cmp.Or(req.LaunchTemplateId, g.LaunchTemplateId)
		if ltID == "" {
			return nil, invalidParam("scaling group %s launches from a scaling configuration: give LaunchTemplateId with LaunchTemplateVersion", g.ScalingGroupId)
		}
		lt, err := findOwned(c, c.st.LaunchTemplates, launchTemplates, g.RegionId, "LaunchTemplateId", ltID)
		if err != nil {
			return nil, err
		}
		ltVersion = cmp.Or(req.LaunchTemplateVersion, cloud.LaunchTemplateDefault)
		if _, err := lt.version(ltVersion); err != nil {
			return nil, err
		}
		config = ""
	}
	minSize, maxSize := g.MinSize, g.MaxSize
	if req.MinSize != nil {
		minSize = *req.MinSize
	}
	if req.MaxSize != nil {
		maxSize = *req.MaxSize
	}
	if minSize < 0 || minSize > maxSize || maxSize > MaxScalingGroupSize {
		return nil, invalidParam("MinSize %d and MaxSize %d must satisfy 0 ≤ MinSize ≤ MaxSize ≤ %d", minSize, maxSize, MaxScalingGroupSize)
	}
	var changes []string
	g.ActiveScalingConfigurationId, g.LaunchTemplateId, g.LaunchTemplateVersion = config, ltID, ltVersion
	if after := describeSource(g); after != before {
		changes = append(changes, "launches from "+after+" (was "+before+")")
	}
	if minSize != g.MinSize || maxSize != g.MaxSize {
		changes = append(changes, fmt.Sprintf("size %d–%d → %d–%d", g.MinSize, g.MaxSize, minSize, maxSize))
		g.MinSize, g.MaxSize = minSize, maxSize
	}
	if len(changes) > 0 {
		c.touch(c.st.ScalingGroups, g.ScalingGroupId)
		c.record(g.RegionId, "ScalingGroup", g.ScalingGroupId, strings.Join(changes, "; "))
	}
	return &cloud.ModifyScalingGroupResponse{}, nil
}

// Scaling.

// activityView is a scaling activity at now: InProgress until its EndTime.
func activityView(a cloud.ScalingActivity, now time.Time) cloud.ScalingActivity {
	if a.StatusCode == cloud.ActivitySuccessful && now.Before(a.EndTime) {
		a.StatusCode, a.EndTime = cloud.ActivityInProgress, time.Time{}
	}
	return a
}

// adjustment is how many instances a scaling of g by typ and value adds
// (negative: removes).
func adjustment(g *scalingGroupRecord, typ string, value int) (int, error) {
	total := len(g.Members)
	switch typ {
	case cloud.AdjustQuantity:
		return value, nil
	case cloud.AdjustPercent:
		d := (total*abs(value) + 99) / 100 // rounded away from zero
		if value < 0 {
			d = -d
		}
		return d, nil
	case cloud.AdjustTotal:
		if value < 0 {
			return 0, invalidParam("AdjustmentValue of TotalCapacity must not be negative, got %d", value)
		}
		return value - total, nil
	default:
		return 0, invalidParam("AdjustmentType %q must be %s, %s or %s", typ, cloud.AdjustQuantity, cloud.AdjustPercent, cloud.AdjustTotal)
	}
}

func abs(n int) int { return max(n, -n) }

// activityInProgress refuses a change of g's instances while a scaling
// activity is in progress.
func (c *call) activityInProgress(g *scalingGroupRecord) error {
	for _, a := range g.Activities {
		if a = activityView(a, c.now); a.StatusCode == cloud.ActivityInProgress {
			return newError(http.StatusConflict, cloud.CodeScalingActivity, "scaling group %s has scaling activity %s in progress (%s)", g.ScalingGroupId, a.ScalingActivityId, a.Description)
		}
	}
	return nil
}

// checkScaling refuses a scaling of g by delta: another activity in
// progress, its process suspended, or beyond the group's size limits.
func (c *call) checkScaling(g *scalingGroupRecord, delta int) error {
	if err := c.activityInProgress(g); err != nil {
		return err
	}
	process := cloud.ProcessScaleOut
	if delta < 0 {
		process = cloud.ProcessScaleIn
	}
	if slices.Contains(g.SuspendedProcesses, process) {
		return newError(http.StatusForbidden, cloud.CodeProcessSuspended, "scaling group %s has its %s process suspended", g.ScalingGroupId, process)
	}
	switch total := len(g.Members) + delta; {
	case delta == 0:
		return invalidParam("the adjustment leaves scaling group %s at %d instances: nothing to do", g.ScalingGroupId, len(g.Members))
	case total > g.MaxSize:
		return newError(http.StatusBadRequest, cloud.CodeCapacityExceeded, "scaling group %s would have %d instances, more than its MaxSize %d", g.ScalingGroupId, total, g.MaxSize)
	case total < g.MinSize:
		return newError(http.StatusBadRequest, cloud.CodeCapacityExceeded, "scaling group %s would have %d instances, fewer than its MinSize %d", g.ScalingGroupId, total, g.MinSize)
	}
	return nil
}

// scale adds (delta > 0) or removes instances of g, after checkScaling, and
// returns the ID of the scaling activity; cause says what asked for it.
func (c *call) scale(g *scalingGroupRecord, delta int, cause string) (string, error) {
	if err := c.checkScaling(g, delta); err != nil {
		return "", err
	}
	if delta > 0 {
		return c.scaleOut(g, delta, cause)
	}
	var victims []string
	for _, id := range slices.Sorted(maps.Keys(g.Members)) {
		if g.Members[id].state(c.now) == cloud.LifecycleInService {
			victims = append(victims, id)
		}
	}
	slices.SortStableFunc(victims, func(a, b string) int { return g.Members[a].CreationTime.Compare(g.Members[b].CreationTime) })
	if len(victims) < -delta {
		return "", newError(http.StatusBadRequest, cloud.CodeLifecycleState, "scaling group %s has %d InService instances, fewer than the %d to remove", g.ScalingGroupId, len(victims), -delta)
	}
	return c.removeMembers(g, victims[:-delta], cause)
}

// scaleOut launches n instances of g from its source.
func (c *call) scaleOut(g *scalingGroupRecord, n int, cause string) (string, error) {
	data, err := launchData(c.st, g)
	if err != nil {
		return "", err
	}
	if data.InstanceType == "" {
		return "", invalidParam("%s has no InstanceType to launch", describeSource(g))
	}
	if err := c.checkStock(g.RegionId, data.InstanceType); err != nil {
		return "", err
	}
	img, err := c.bootImage(g.RegionId, data.ImageId)
	if err != nil {
		return "", err
	}
	disk, err := checkSystemDisk(cloud.SystemDisk{Size: data.SystemDiskSize, Category: data.SystemDiskCategory}, img, defaultSystemDiskGiB)
	if err != nil {
		return "", err
	}
	dur := c.srv.BootDuration(img.Size)
	weight := cmp.Or(g.LoadBalancerWeight, defaultLBWeight)
	source := describeSource(g)
	for range n {
		r := c.newInstance(g.RegionId, data.InstanceType, data.VSwitchId, img, disk, dur)
		r.InstanceName = cmp.Or(data.InstanceName, g.ScalingGroupName)
		g.Members[r.InstanceId] = &scalingMember{LifecycleState: cloud.LifecycleInService, CreationTime: c.now, ReadyTime: r.ReadyTime}
		c.touchEntry(c.st.ScalingGroups, g.ScalingGroupId, g.Members, r.InstanceId)
		for _, lbID := range g.LoadBalancerIds {
			if lb := c.st.SLBs[lbID]; lb != nil {
				lb.Weights[r.InstanceId] = weight
				c.touchEntry(c.st.SLBs, lbID, lb.Weights, r.InstanceId)
			}
		}
		c.record(g.RegionId, "Instance", r.InstanceId, fmt.Sprintf("launched in %s from %s: image %s, %s, InService in %s", g.ScalingGroupId, source, img.ImageId, data.InstanceType, dur.Round(time.Millisecond)))
	}
	return c.addActivity(g, fmt.Sprintf("Add %q ECS instance(s) (%s)", strconv.Itoa(n), cause), c.now.Add(dur)), nil
}

// removeMembers removes instances from g and releases them.
func (c *call) removeMembers(g *scalingGroupRecord, ids []string, cause string) (string, error) {
	for _, id := range ids {
		delete(g.Members, id)
		c.touchEntry(c.st.ScalingGroups, g.ScalingGroupId, g.Members, id)
		for _, lbID := range g.LoadBalancerIds {
			if lb := c.st.SLBs[lbID]; lb != nil {
				if _, ok := lb.Weights[id]; ok {
					delete(lb.Weights, id)
					c.touchEntry(c.st.SLBs, lbID, lb.Weights, id)
				}
			}
		}
		if c.st.Instances[id] != nil {
			delete(c.st.Instances, id)
			c.touch(c.st.Instances, id)
		}
		c.record(g.RegionId, "Instance", id, "removed from "+g.ScalingGroupId+" and released")
	}
	return c.addActivity(g, fmt.Sprintf("Remove %q ECS instance(s) (%s)", strconv.Itoa(len(ids)), cause), c.now), nil
}

// addActivity records a scaling activity of g that ends at end.
func (c *call) addActivity(g *scalingGroupRecord, description string, end time.Time) string {
	id := randomID("asa-", 20, lowerAlnum)
	g.Activities = append(g.Activities, cloud.ScalingActivity{
		ScalingActivityId: id, ScalingGroupId: g.ScalingGroupId, StatusCode: cloud.ActivitySuccessful,
		Description: description, StartTime: c.now, EndTime: end,
	})
	c.touch(c.st.ScalingGroups, g.ScalingGroupId)
	return id
}

func (s *Server) scaleWithAdjustment(c *call, req *cloud.ScaleWithAdjustmentRequest) (*cloud.ScaleWithAdjustmentResponse, error) {
	g, err := c.ownScalingGroup(req.RegionId, req.ScalingGroupId)
	if err != nil {
		return nil, err
	}
	delta, err := adjustment(g, req.AdjustmentType, req.AdjustmentValue)
	if err != nil {
		return nil, err
	}
	id, err := c.scale(g, delta, fmt.Sprintf("ScaleWithAdjustment %s %d", req.AdjustmentType, req.AdjustmentValue))
	if err != nil {
		return nil, err
	}
	return &cloud.ScaleWithAdjustmentResponse{ScalingActivityId: id, ActivityType: "CapacityChange"}, nil
}

func ruleAri(region, account, id string) string {
	return "ari:acs:ess:" + region + ":" + account + ":scalingrule/" + id
}

func (s *Server) createScalingRule(c *call, req *cloud.CreateScalingRuleRequest) (*cloud.CreateScalingRuleResponse, error) {
	g, err := c.ownScalingGroup(req.RegionId, req.ScalingGroupId)
	if err != nil {
		return nil, err
	}
	if typ := cmp.Or(req.ScalingRuleType, cloud.ScalingRuleSimple); typ != cloud.ScalingRuleSimple {
		return nil, invalidParam("ScalingRuleType %q is not served by the simulator (only %s)", typ, cloud.ScalingRuleSimple)
	}
	if _, err := adjustment(g, req.AdjustmentType, req.AdjustmentValue); err != nil {
		return nil, err
	}
	if req.Cooldown < 0 || req.Cooldown > 86400 {
		return nil, invalidParam("Cooldown must be 0–86400 seconds, got %d", req.Cooldown)
	}
	id := newID(c.st.ScalingRules, "asr-", 20, lowerAlnum)
	r := &scalingRuleRecord{RegionId: g.RegionId, OwnerId: c.account, ScalingRule: cloud.ScalingRule{
		ScalingRuleId: id, ScalingRuleName: cmp.Or(req.ScalingRuleName, id), ScalingRuleAri: ruleAri(g.RegionId, c.account, id),
		ScalingGroupId: g.ScalingGroupId, ScalingRuleType: cloud.ScalingRuleSimple, AdjustmentType: req.AdjustmentType,
		AdjustmentValue: req.AdjustmentValue, Cooldown: req.Cooldown,
	}}
	c.st.ScalingRules[id] = r
	c.touch(c.st.ScalingRules, id)
	c.record(g.RegionId, "ScalingRule", id, fmt.Sprintf("created for %s: %s %d", g.ScalingGroupId, req.AdjustmentType, req.AdjustmentValue))
	return &cloud.CreateScalingRuleResponse{ScalingRuleId: id, ScalingRuleAri: r.ScalingRuleAri}, nil
}

func (s *Server) describeScalingRules(c *call, req *cloud.DescribeScalingRulesRequest) (*cloud.DescribeScalingRulesResponse, error) {
	found, err := listOwned(c, c.st.ScalingRules, req.RegionId,
		func(r *scalingRuleRecord) bool {
			return (req.ScalingGroupId == "" || r.ScalingGroupId == req.ScalingGroupId) &&
				(len(req.ScalingRuleIds) == 0 || slices.Contains(req.ScalingRuleIds, r.ScalingRuleId))
		},
		func(r *scalingRuleRecord) cloud.ScalingRule { return r.ScalingRule },
		func(a, b cloud.ScalingRule) int { return cmp.Compare(a.ScalingRuleId, b.ScalingRuleId) })
	if err != nil {
		return nil, err
	}
	pg, err := pageOf(req.PageNumber, req.PageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeScalingRulesResponse{TotalCount: len(found), PageNumber: pg.number, PageSize: pg.size, ScalingRules: pageItems(pg, found)}, nil
}

func (s *Server) executeScalingRule(c *call, req *cloud.ExecuteScalingRuleRequest) (*cloud.ExecuteScalingRuleResponse, error) {
	if req.ScalingRuleAri == "" {
		return nil, invalidParam("ScalingRuleAri is required")
	}
	_, id, _ := strings.Cut(req.ScalingRuleAri, ":scalingrule/")
	r := c.st.ScalingRules[id]
	if r == nil || r.OwnerId != c.account || r.ScalingRuleAri != req.ScalingRuleAri {
		return nil, newError(http.StatusNotFound, cloud.CodeScalingRuleNotFound, "scaling rule %q does not exist", req.ScalingRuleAri)
	}
	g, err := c.ownScalingGroup(r.RegionId, r.ScalingGroupId)
	if err != nil {
		return nil, err
	}
	delta, err := adjustment(g, r.AdjustmentType, r.AdjustmentValue)
	if err != nil {
		return nil, err
	}
	act, err := c.scale(g, delta, "scaling rule "+r.ScalingRuleName)
	if err != nil {
		return nil, err
	}
	return &cloud.ExecuteScalingRuleResponse{ScalingActivityId: act}, nil
}

func (s *Server) removeInstances(c *call, req *cloud.RemoveInstancesRequest) (*cloud.RemoveInstancesResponse, error) {
	g, err := c.ownScalingGroup(req.RegionId, req.ScalingGroupId)
	if err != nil {
		return nil, err
	}
	if err := c.activityInProgress(g); err != nil {
		return nil, err
	}
	if len(req.InstanceIds) == 0 || len(req.InstanceIds) > maxRemoveInstances {
		return nil, invalidParam("InstanceIds must name 1–%d instances, got %d", maxRemoveInstances, len(req.InstanceIds))
	}
	for i, id := range req.InstanceIds {
		m := g.Members[id]
		if m == nil {
			return nil, instanceNotFound("instance %s is not in scaling group %s", id, g.ScalingGroupId)
		}
		if slices.Index(req.InstanceIds, id) != i {
			return nil, invalidParam("InstanceIds names %s twice", id)
		}
		if st := m.state(c.now); st != cloud.LifecycleInService && st != cloud.LifecycleStandby {
			return nil, newError(http.StatusBadRequest, cloud.CodeLifecycleState, "instance %s is %s: only an InService or Standby instance can be removed", id, st)
		}
	}
	if total := len(g.Members) - len(req.InstanceIds); total < g.MinSize {
		return nil, newError(http.StatusBadRequest, cloud.CodeCapacityExceeded, "scaling group %s would have %d instances, fewer than its MinSize %d", g.ScalingGroupId, total, g.MinSize)
	}
	act, err := c.removeMembers(g, slices.Clone(req.InstanceIds), "RemoveInstances")
	if err != nil {
		return nil, err
	}
	return &cloud.RemoveInstancesResponse{ScalingActivityId: act}, nil
}
