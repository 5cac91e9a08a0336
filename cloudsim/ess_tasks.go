package cloudsim

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// Auto Scaling's rolling update tasks: one task at a time per scaling group,
// whoever creates it (a workflow under any ID, the console, a script).

type rollingUpdateTaskRecord struct {
	cloud.RollingUpdateTask
	OwnerId string
}

func (t *rollingUpdateTaskRecord) scope() (string, string) { return t.OwnerId, t.RegionId }

var rollingUpdateTasks = resource{"rolling update task", cloud.CodeResourceNotFound}

func (s *Server) registerRollingUpdateTasks() {
	registerMutation(s, "CreateRollingUpdateTask", s.createRollingUpdateTask)
	registerMutation(s, "FinishRollingUpdateTask", s.finishRollingUpdateTask)
	registerQuery(s, "DescribeRollingUpdateTasks", s.describeRollingUpdateTasks)
}

// holder describes a task for a refusal: its description (an imagefleet
// workflow names itself there) and when it started.
func (t *rollingUpdateTaskRecord) holder() string {
	desc := "no description"
	if t.Description != "" {
		desc = "description " + strconv.Quote(t.Description)
	}
	return desc + ", running since " + t.CreationTime.UTC().Format(time.RFC3339)
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
			"scaling group %s is held by rolling update task %s (%s): only one task runs at a time; finish or cancel it, or wait for it", g.ScalingGroupId, t.TaskId, t.holder())
	}
	id := newID(c.st.RollingUpdateTasks, "rut-", 20, lowerAlnum)
	c.st.RollingUpdateTasks[id] = &rollingUpdateTaskRecord{OwnerId: c.account, RollingUpdateTask: cloud.RollingUpdateTask{
		TaskId: id, RegionId: g.RegionId, ScalingGroupId: g.ScalingGroupId, Description: req.Description,
		Status: cloud.RollingUpdateRunning, CreationTime: c.now,
	}}
	c.touch(c.st.RollingUpdateTasks, id)
	c.record(g.RegionId, "RollingUpdateTask", id, "rolling update task of scaling group "+g.ScalingGroupId+" started")
	return &cloud.CreateRollingUpdateTaskResponse{TaskId: id}, nil
}

func (s *Server) finishRollingUpdateTask(c *call, req *cloud.FinishRollingUpdateTaskRequest) (*cloud.FinishRollingUpdateTaskResponse, error) {
	t, err := findOwned(c, c.st.RollingUpdateTasks, rollingUpdateTasks, req.RegionId, "", req.TaskId)
	if err != nil {
		return nil, err
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
	found, err := listOwned(c, c.st.RollingUpdateTasks, req.RegionId,
		func(t *rollingUpdateTaskRecord) bool {
			return req.ScalingGroupId == "" || t.ScalingGroupId == req.ScalingGroupId
		},
		func(t *rollingUpdateTaskRecord) cloud.RollingUpdateTask { return t.RollingUpdateTask },
		func(a, b cloud.RollingUpdateTask) int {
			return cmp.Or(a.CreationTime.Compare(b.CreationTime), cmp.Compare(a.TaskId, b.TaskId))
		})
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeRollingUpdateTasksResponse{Tasks: found}, nil
}
