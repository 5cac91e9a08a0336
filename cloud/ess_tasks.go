package cloud

import (
	"context"
	"time"
)

// RollingUpdateTasks are Auto Scaling's rolling update tasks: one task at a
// time per scaling group. CreateRollingUpdateTask is refused with
// CodeRollingUpdateRunning while another task of the group runs; the same
// ClientToken again returns the same task, so a retried create is safe.
type RollingUpdateTasks interface {
	CreateRollingUpdateTask(ctx context.Context, req *CreateRollingUpdateTaskRequest) (*CreateRollingUpdateTaskResponse, error)
	FinishRollingUpdateTask(ctx context.Context, req *FinishRollingUpdateTaskRequest) (*FinishRollingUpdateTaskResponse, error)
	DescribeRollingUpdateTasks(ctx context.Context, req *DescribeRollingUpdateTasksRequest) (*DescribeRollingUpdateTasksResponse, error)
}

// CodeRollingUpdateRunning: the scaling group has a rolling update task
// running; only one runs at a time.
const CodeRollingUpdateRunning = "OperationDenied.RollingUpdateTaskRunning"

// Rolling update task statuses.
const (
	RollingUpdateRunning  = "Running"
	RollingUpdateFinished = "Finished"
)

type CreateRollingUpdateTaskRequest struct {
	RegionId       string
	ScalingGroupId string
	Description    string `json:",omitempty"`
	ClientToken    string `json:",omitempty"`
}

type CreateRollingUpdateTaskResponse struct {
	RequestId string
	TaskId    string
}

type FinishRollingUpdateTaskRequest struct {
	RegionId string
	TaskId   string
	// Result is how the task ended (Succeeded, Failed, Cancelled…), kept
	// for DescribeRollingUpdateTasks.
	Result string `json:",omitempty"`
}

type FinishRollingUpdateTaskResponse struct{ RequestId string }

type DescribeRollingUpdateTasksRequest struct {
	RegionId       string
	ScalingGroupId string
}

type DescribeRollingUpdateTasksResponse struct {
	RequestId string
	Tasks     []RollingUpdateTask
}

// RollingUpdateTask is one rolling update task of a scaling group.
type RollingUpdateTask struct {
	TaskId         string
	RegionId       string
	ScalingGroupId string
	Description    string `json:",omitempty"`
	Status         string // Running | Finished
	Result         string `json:",omitempty"`
	CreationTime   time.Time
	EndTime        time.Time `json:",omitzero"`
}

var _ RollingUpdateTasks = (*Client)(nil)

func (c *Client) CreateRollingUpdateTask(ctx context.Context, req *CreateRollingUpdateTaskRequest) (*CreateRollingUpdateTaskResponse, error) {
	return call[CreateRollingUpdateTaskResponse](ctx, c, "CreateRollingUpdateTask", req)
}

func (c *Client) FinishRollingUpdateTask(ctx context.Context, req *FinishRollingUpdateTaskRequest) (*FinishRollingUpdateTaskResponse, error) {
	return call[FinishRollingUpdateTaskResponse](ctx, c, "FinishRollingUpdateTask", req)
}

func (c *Client) DescribeRollingUpdateTasks(ctx context.Context, req *DescribeRollingUpdateTasksRequest) (*DescribeRollingUpdateTasksResponse, error) {
	return call[DescribeRollingUpdateTasksResponse](ctx, c, "DescribeRollingUpdateTasks", req)
}
