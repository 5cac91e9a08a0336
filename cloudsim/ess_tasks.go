package cloudsim

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/imagefleet/imagefleet/cloud"
)

// Auto Scaling's rolling update tasks: one task at a time per scaling group,
// whoever creates it (a workflow under any ID, the console, a script).

type rollingUpdateTaskRecord struct {
	cloud.RollingUpdateTask
	OwnerId string
}

func (s *Server) registerRollingUpdateTasks() {
	registerMutation(s, "CreateRollingUpdateTask", s.createRollingUpdateTask)
	registerMutation(s, "FinishRollingUpdateTask", s.finishRollingUpdateTask)
	registerQuery(s, "DescribeRollingUpdateTasks", s.describeRollingUpdateTasks)
}

// runningTask returns the group's running task, or nil.
func (c *call) runningTask(groupID string) *rollingUpdateTaskRecord {
	for _, t := range c.st.RollingUpdateTasks {
		if t.ScalingGroupId == groupID && t.Status == cloud.RollingUpdateRunning {
			return t
		}
	}
	return nil
}

func (s *Server) createRollingUpdateTask(c *call, req *cloud.CreateRollingUpdateTaskRequest) (*cloud.CreateRollingUpdateTaskResponse, error) {
	g, err := c.ownScalingGroup(req.RegionId, req.ScalingGroupId)
	if err != nil {
		return nil, err
	}
	if t := c.runningTask(g.ScalingGroupId); t != nil {
		return nil, newError(http.StatusConflict, cloud.CodeRollingUpdateRunning,
			"scaling group %s has rolling update task %s running (%s): only one task runs at a time; cancel it or wait for it", g.ScalingGroupId, t.TaskId, t.Description)
	}
	var id string
	for id == "" || c.st.RollingUpdateTasks[id] != nil {
		id = randomID("rut-", 20, lowerAlnum)
	}
	c.st.RollingUpdateTasks[id] = &rollingUpdateTaskRecord{OwnerId: c.account, RollingUpdateTask: cloud.RollingUpdateTask{
		TaskId: id, RegionId: g.RegionId, ScalingGroupId: g.ScalingGroupId, Description: req.Description,
		Status: cloud.RollingUpdateRunning, CreationTime: c.now,
	}}
	c.touch(c.st.RollingUpdateTasks, id)
	c.record(g.RegionId, "RollingUpdateTask", id, "rolling update task of scaling group "+g.ScalingGroupId+" started")
	return &cloud.CreateRollingUpdateTaskResponse{TaskId: id}, nil
}

func (s *Server) finishRollingUpdateTask(c *call, req *cloud.FinishRollingUpdateTaskRequest) (*cloud.FinishRollingUpdateTaskResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	t := c.st.RollingUpdateTasks[req.TaskId]
	if t == nil || t.OwnerId != c.account || t.RegionId != req.RegionId {
		return nil, newError(http.StatusNotFound, cloud.CodeResourceNotFound, "rolling update task %q does not exist in region %s", req.TaskId, req.RegionId)
	}
	if t.Status != cloud.RollingUpdateRunning {
		return &cloud.FinishRollingUpdateTaskResponse{}, nil // finished already: no side effect
	}
	t.Status, t.Result, t.EndTime = cloud.RollingUpdateFinished, req.Result, c.now
	c.touch(c.st.RollingUpdateTasks, t.TaskId)
	c.record(t.RegionId, "RollingUpdateTask", t.TaskId, "rolling update task of scaling group "+t.ScalingGroupId+" finished: "+cmp.Or(req.Result, "done"))
	return &cloud.FinishRollingUpdateTaskResponse{}, nil
}

func (s *Server) describeRollingUpdateTasks(c *call, req *cloud.DescribeRollingUpdateTasksRequest) (*cloud.DescribeRollingUpdateTasksResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	resp := &cloud.DescribeRollingUpdateTasksResponse{Tasks: []cloud.RollingUpdateTask{}}
	for _, t := range c.st.RollingUpdateTasks {
		if t.OwnerId == c.account && t.RegionId == req.RegionId && (req.ScalingGroupId == "" || t.ScalingGroupId == req.ScalingGroupId) {
			resp.Tasks = append(resp.Tasks, t.RollingUpdateTask)
		}
	}
	slices.SortFunc(resp.Tasks, func(a, b cloud.RollingUpdateTask) int {
		return cmp.Or(a.CreationTime.Compare(b.CreationTime), cmp.Compare(a.TaskId, b.TaskId))
	})
	return resp, nil
}
