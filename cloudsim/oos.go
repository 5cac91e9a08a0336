package cloudsim

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// OOS package executions and the CloudMonitor event log.

// oosPackages is the package catalogue, the same in every region.
var oosPackages = []cloud.OOSPackage{
	{PackageName: "webapp-agent", Description: "monitoring agent of the web application", Versions: []string{"1.0.0", "1.1.0", "2.0.0"}},
	{PackageName: "log-collector", Description: "ships logs to the log service", Versions: []string{"3.2", "3.3"}},
}

// executionRecord is a stored execution; its status derives from EndDate.
type executionRecord struct {
	cloud.Execution
	OwnerId string
	Failed  bool // Status at EndDate
}

func (r *executionRecord) scope() (string, string) { return r.OwnerId, r.RegionId }

var oosExecutions = resource{"execution", cloud.CodeExecutionNotFound}

func (r *executionRecord) view(now time.Time) cloud.Execution {
	v := r.Execution
	v.Parameters.InstanceIds = slices.Clone(v.Parameters.InstanceIds)
	v.InstanceResults = slices.Clone(v.InstanceResults)
	switch {
	case now.Before(r.EndDate):
		v.Status, v.StatusMessage, v.Outputs, v.EndDate, v.InstanceResults = cloud.ExecutionRunning, "", "", time.Time{}, nil
	case r.Failed:
		v.Status = cloud.ExecutionFailed
	default:
		v.Status = cloud.ExecutionSuccess
	}
	return v
}

func (s *Server) registerOOS() {
	registerQuery(s, "ListOOSPackages", s.listOOSPackages)
	registerMutation(s, "StartExecution", s.startExecution)
	registerQuery(s, "ListExecutions", s.listExecutions)
	registerMutation(s, "PutCustomEvent", s.putCustomEvent)
	registerQuery(s, "DescribeCustomEventAttribute", s.describeCustomEventAttribute)
}

func (s *Server) listOOSPackages(c *call, req *cloud.ListOOSPackagesRequest) (*cloud.ListOOSPackagesResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	resp := &cloud.ListOOSPackagesResponse{Packages: []cloud.OOSPackage{}}
	for _, p := range oosPackages {
		if req.PackageName == "" || req.PackageName == p.PackageName {
			p.Versions = slices.Clone(p.Versions)
			resp.Packages = append(resp.Packages, p)
		}
	}
	return resp, nil
}

func (s *Server) startExecution(c *call, req *cloud.StartExecutionRequest) (*cloud.StartExecutionResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	if req.TemplateName != cloud.TemplateConfigureOOSPackage {
		return nil, invalidParam("TemplateName %q: the simulator runs only %s", req.TemplateName, cloud.TemplateConfigureOOSPackage)
	}
	p := req.Parameters
	if p.Action != cloud.PackageInstall && p.Action != cloud.PackageUninstall {
		return nil, invalidParam("Parameters.Action %q must be install or uninstall", p.Action)
	}
	i := slices.IndexFunc(oosPackages, func(o cloud.OOSPackage) bool { return o.PackageName == p.PackageName })
	if i < 0 || (p.Action == cloud.PackageInstall && !slices.Contains(oosPackages[i].Versions, p.PackageVersion)) {
		return nil, newError(http.StatusNotFound, cloud.CodePackageNotFound, "OOS package %s version %s does not exist", p.PackageName, p.PackageVersion)
	}
	if err := instanceIDs(p.InstanceIds); err != nil {
		return nil, err
	}
	var out []string
	var results []cloud.ExecutionInstanceResult
	failed := false
	for _, id := range p.InstanceIds {
		r, err := c.ownInstance(req.RegionId, id)
		if err != nil {
			return nil, err
		}
		if st := r.status(c.now); st != cloud.InstanceRunning {
			return nil, incorrectInstanceStatus("instance %s is %s: packages are configured only on Running instances", id, st)
		}
		installed := c.st.OOSInstalled[id]
		if f, hit := c.instanceFault(r.RegionId, id); hit {
			failed = true
			line := fmt.Sprintf("%s: %s %s %s failed (injected fault %s)", id, p.Action, p.PackageName, p.PackageVersion, f.ID)
			out = append(out, line)
			results = append(results, cloud.ExecutionInstanceResult{InstanceId: id, Status: cloud.ExecutionFailed, Output: line})
			continue
		}
		if installed == nil {
			installed = map[string]string{}
			c.st.OOSInstalled[id] = installed
		}
		c.touch(c.st.OOSInstalled, id)
		was := cmp.Or(installed[p.PackageName], "none")
		if p.Action == cloud.PackageInstall {
			installed[p.PackageName] = p.PackageVersion
		} else {
			delete(installed, p.PackageName)
		}
		line := fmt.Sprintf("%s: %s %s %s (was %s)", id, p.Action, p.PackageName, p.PackageVersion, was)
		out = append(out, line)
		results = append(results, cloud.ExecutionInstanceResult{InstanceId: id, Status: cloud.ExecutionSuccess, Output: line})
		c.record(r.RegionId, "Instance", id, fmt.Sprintf("OOS package %s %s %s (was %s)", p.Action, p.PackageName, p.PackageVersion, was))
	}
	exec := &executionRecord{OwnerId: c.account, Failed: failed, Execution: cloud.Execution{
		ExecutionId:     c.newExecutionID(),
		TemplateName:    req.TemplateName,
		RegionId:        req.RegionId,
		Parameters:      p,
		Outputs:         strings.Join(out, "\n") + "\n",
		InstanceResults: results,
		StartDate:       c.now,
		EndDate:         c.now.Add(s.scaled(5 * time.Second)),
	}}
	if failed {
		exec.StatusMessage = "the package could not be configured on some instances"
	}
	c.st.OOSExecutions[exec.ExecutionId] = exec
	c.touch(c.st.OOSExecutions, exec.ExecutionId)
	return &cloud.StartExecutionResponse{Execution: exec.view(c.now)}, nil
}

func (c *call) newExecutionID() string { return newID(c.st.OOSExecutions, "exec-", 20, lowerAlnum) }

func (s *Server) listExecutions(c *call, req *cloud.ListExecutionsRequest) (*cloud.ListExecutionsResponse, error) {
	r, err := findOwned(c, c.st.OOSExecutions, oosExecutions, req.RegionId, "ExecutionId", req.ExecutionId)
	if err != nil {
		return nil, err
	}
	return &cloud.ListExecutionsResponse{Executions: []cloud.Execution{r.view(c.now)}}, nil
}

var eventLevels = []string{cloud.EventCritical, cloud.EventWarn, cloud.EventInfo}

func (s *Server) putCustomEvent(c *call, req *cloud.PutCustomEventRequest) (*cloud.PutCustomEventResponse, error) {
	if len(req.EventInfo) == 0 || len(req.EventInfo) > 100 {
		return nil, invalidParam("EventInfo must hold 1–100 events, got %d", len(req.EventInfo))
	}
	for i, e := range req.EventInfo {
		switch {
		case e.EventName == "":
			return nil, invalidParam("EventInfo[%d].EventName is required", i)
		case !slices.Contains(eventLevels, e.Level):
			return nil, invalidParam("EventInfo[%d].Level %q must be one of %s", i, e.Level, strings.Join(eventLevels, ", "))
		case e.RegionId != "":
			if err := checkRegion(fmt.Sprintf("EventInfo[%d].RegionId", i), e.RegionId); err != nil {
				return nil, err
			}
		}
	}
	resp := &cloud.PutCustomEventResponse{}
	for _, e := range req.EventInfo {
		e.EventId, e.Time = randomID("evt-", 16, lowerAlnum), c.now
		c.st.Events = append(c.st.Events, e)
		resp.EventIds = append(resp.EventIds, e.EventId)
		c.record(e.RegionId, "Event", e.EventId, e.EventName+" "+e.GroupId+" "+e.InstanceId)
	}
	return resp, nil
}

// describeCustomEventAttribute answers the newest matching events (at most
// PageSize, 100 by default), oldest first, with how many matched in all.
func (s *Server) describeCustomEventAttribute(c *call, req *cloud.DescribeCustomEventAttributeRequest) (*cloud.DescribeCustomEventAttributeResponse, error) {
	if req.PageSize < 0 || req.PageSize > 100 {
		return nil, invalidParam("PageSize must be 1–100, got %d", req.PageSize)
	}
	if req.Level != "" && !slices.Contains(eventLevels, req.Level) {
		return nil, invalidParam("Level %q must be one of %s", req.Level, strings.Join(eventLevels, ", "))
	}
	size := req.PageSize
	if size == 0 {
		size = 100
	}
	resp := &cloud.DescribeCustomEventAttributeResponse{Events: []cloud.Event{}}
	for _, e := range c.st.Events {
		if (req.GroupId == "" || e.GroupId == req.GroupId) && (req.Level == "" || e.Level == req.Level) && !e.Time.Before(req.StartTime) {
			resp.TotalCount++
			resp.Events = append(resp.Events, e)
		}
	}
	if len(resp.Events) > size {
		resp.Events = resp.Events[len(resp.Events)-size:]
	}
	return resp, nil
}

// Events returns the event log, oldest first, filtered by name and group
// when they are not empty.
func (s *Server) Events(name, group string) []cloud.Event {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []cloud.Event{}
	for _, e := range s.st.Events {
		if (name == "" || e.EventName == name) && (group == "" || e.GroupId == group) {
			out = append(out, e)
		}
	}
	return out
}

// adminEvents is GET /admin/events?name=&group=.
func (s *Server) adminEvents(r *http.Request) (any, error) {
	q := r.URL.Query()
	return s.Events(q.Get("name"), q.Get("group")), nil
}

// SetInstanceHealth makes instances of a scaling group fail (or pass again)
// their health check.
func (s *Server) SetInstanceHealth(h cloud.InstanceHealth) error {
	s.mu.RLock()
	g := s.st.ScalingGroups[h.ScalingGroupId]
	var missing []string
	if g != nil {
		for _, id := range h.InstanceIds {
			if g.Members[id] == nil {
				missing = append(missing, id)
			}
		}
	}
	s.mu.RUnlock()
	switch {
	case g == nil:
		return invalidParam("scaling group %q does not exist", h.ScalingGroupId)
	case len(h.InstanceIds) == 0:
		return invalidParam("InstanceIds is required")
	case len(missing) > 0:
		return invalidParam("instances %s are not in group %s", strings.Join(missing, ", "), h.ScalingGroupId)
	}
	return s.adminChange(func(st *state) {
		for _, id := range h.InstanceIds {
			if m := st.ScalingGroups[h.ScalingGroupId].Members[id]; m != nil {
				m.Unhealthy = h.Unhealthy
			}
		}
	})
}

// adminSetInstanceHealth is POST /admin/instance-health with a cloud.InstanceHealth.
func (s *Server) adminSetInstanceHealth(r *http.Request) (any, error) {
	var h cloud.InstanceHealth
	body, err := readAdminBody(r)
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(body, &h); err != nil {
		return nil, invalidParam("malformed instance health: %v", err)
	}
	return h, s.SetInstanceHealth(h)
}

// adminAddScalingGroup is POST /admin/scaling-groups with a ScalingGroupSpec.
func (s *Server) adminAddScalingGroup(r *http.Request) (any, error) {
	var spec ScalingGroupSpec
	body, err := readAdminBody(r)
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(body, &spec); err != nil {
		return nil, invalidParam("malformed scaling group: %v", err)
	}
	return s.AddScalingGroup(spec)
}

func readAdminBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return nil, invalidParam("reading the request body: %v", err)
	}
	return body, nil
}
