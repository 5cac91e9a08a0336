package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/imagefleet/imagefleet/model"
)

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	require.Error(t, err)
	return exitFailed
}

// Exit code 3 means the workflow refused the command; a call that failed
// (server unreachable, timeout) is exit code 1, as for every other command.
func TestSendCommandExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func() *mocks.WorkflowUpdateHandle
		err    error
		want   int
	}{
		{name: "refused by the validator", want: exitRefused, handle: func() *mocks.WorkflowUpdateHandle {
			h := &mocks.WorkflowUpdateHandle{}
			h.On("Get", mock.Anything, mock.Anything).Return(temporal.NewApplicationError("region eu-west-1 is Copying", ""))
			return h
		}},
		{name: "no such workflow", err: serviceerror.NewNotFound("workflow not found"), want: exitRefused},
		{name: "server unavailable", err: serviceerror.NewUnavailable("connection refused"), want: exitFailed},
		{name: "timeout", err: context.DeadlineExceeded, want: exitFailed},
		{name: "accepted", want: 0, handle: func() *mocks.WorkflowUpdateHandle {
			h := &mocks.WorkflowUpdateHandle{}
			h.On("Get", mock.Anything, mock.Anything).Return(nil)
			return h
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &mocks.Client{}
			withWorker(c, time.Now())
			if tc.handle != nil {
				c.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(tc.handle(), nil)
			} else {
				c.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(nil, tc.err)
			}
			a := &app{temporal: c, namespace: "default"}
			err := a.sendCommand(context.Background(), "distribute/webapp/v1_0_0", "retry-region", struct{}{})
			if tc.want == 0 {
				require.NoError(t, err)
				return
			}
			require.Equal(t, tc.want, exitCode(t, err), "%v", err)
		})
	}
}

// withWorker makes c's task queue show a worker that polled at seen.
func withWorker(c *mocks.Client, seen time.Time) {
	c.On("DescribeTaskQueue", mock.Anything, model.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW).Return(&workflowservice.DescribeTaskQueueResponse{
		Pollers: []*taskqueuepb.PollerInfo{{LastAccessTime: timestamppb.New(seen), Identity: "worker"}},
	}, nil)
}

// item 13: with no worker running, a command is not sent (it would wait in
// the server and be applied whenever a worker came back).
func TestCommandNotSentWithoutAWorker(t *testing.T) {
	c := &mocks.Client{}
	withWorker(c, time.Now().Add(-time.Hour))
	a := &app{temporal: c, namespace: "default"}
	err := a.sendCommand(context.Background(), "bluegreen/demo/web", "promote", struct{}{})
	require.ErrorContains(t, err, "no worker has polled task queue imagefleet")
	require.Equal(t, exitFailed, exitCode(t, err))
	c.AssertNotCalled(t, "UpdateWorkflow", mock.Anything, mock.Anything)
}
