package activities

import (
	"context"

	"github.com/imagefleet/imagefleet/cloud"
)

// RolloutTasks hold a scaling group for a rolling update with Auto
// Scaling's rolling update task: the cloud refuses a second task on a group
// that has one running, whoever asks.
type RolloutTasks struct {
	ESS cloud.RollingUpdateTasks
}

// StartTaskInput names the group and the task's idempotency token.
type StartTaskInput struct {
	Region      string
	Group       string
	Description string
	ClientToken string
}

// StartRollingUpdateTask creates the group's rolling update task and
// returns its ID. A group with another task running is refused for good
// (OperationDenied.RollingUpdateTaskRunning): nothing was changed.
func (a *RolloutTasks) StartRollingUpdateTask(ctx context.Context, in StartTaskInput) (string, error) {
	resp, err := a.ESS.CreateRollingUpdateTask(ctx, &cloud.CreateRollingUpdateTaskRequest{
		RegionId: in.Region, ScalingGroupId: in.Group, Description: in.Description, ClientToken: in.ClientToken,
	})
	if err != nil {
		return "", fromCloud(err)
	}
	return resp.TaskId, nil
}

// FinishTaskInput ends a task.
type FinishTaskInput struct {
	Region string
	TaskID string
	Result string
}

// FinishRollingUpdateTask ends the task, freeing the group. A task ended
// already is fine.
func (a *RolloutTasks) FinishRollingUpdateTask(ctx context.Context, in FinishTaskInput) error {
	_, err := a.ESS.FinishRollingUpdateTask(ctx, &cloud.FinishRollingUpdateTaskRequest{RegionId: in.Region, TaskId: in.TaskID, Result: in.Result})
	return fromCloud(err)
}
