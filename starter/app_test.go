package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc"
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

// pollService answers PollWorkflowExecutionUpdate as the server would
// for an update the run has not answered; nothing else is called.
type pollService struct {
	workflowservice.WorkflowServiceClient
	resp  *workflowservice.PollWorkflowExecutionUpdateResponse
	err   error
	asked []*workflowservice.PollWorkflowExecutionUpdateRequest
}

func (p *pollService) PollWorkflowExecutionUpdate(_ context.Context, req *workflowservice.PollWorkflowExecutionUpdateRequest, _ ...grpc.CallOption) (*workflowservice.PollWorkflowExecutionUpdateResponse, error) {
	p.asked = append(p.asked, req)
	return p.resp, p.err
}

// issue 18 item 6: an operator command is answered truthfully. Exit code 3:
// the run refused it; 0: applied; 5: the run did not answer in time but
// the server holds it, so it may still be applied (never "failed"); 1: the
// server does not hold it, so it will not be applied.
func TestSendCommandExitCodes(t *testing.T) {
	timeout := client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded)
	stage := func(s enums.UpdateWorkflowExecutionLifecycleStage, o *updatepb.Outcome) *workflowservice.PollWorkflowExecutionUpdateResponse {
		return &workflowservice.PollWorkflowExecutionUpdateResponse{Stage: s, Outcome: o}
	}
	for _, tc := range []struct {
		name     string
		handle   func() *mocks.WorkflowUpdateHandle
		err      error
		poll     *workflowservice.PollWorkflowExecutionUpdateResponse
		pollErr  error
		want     int
		contains string
	}{
		{name: "refused by the validator", want: exitRefused, handle: func() *mocks.WorkflowUpdateHandle {
			h := &mocks.WorkflowUpdateHandle{}
			h.On("Get", mock.Anything, mock.Anything).Return(temporal.NewApplicationError("region eu-west-1 is Copying", ""))
			return h
		}},
		{name: "no such workflow", err: serviceerror.NewNotFound("workflow not found"), want: exitRefused},
		{name: "not answered, the server does not hold it", err: timeout, pollErr: serviceerror.NewNotFound("update not found"),
			want: exitFailed, contains: "it will not be applied"},
		{name: "server unavailable, then not held", err: serviceerror.NewUnavailable("connection refused"), pollErr: serviceerror.NewNotFound("update not found"),
			want: exitFailed, contains: "it will not be applied"},
		{name: "not answered, the server holds it", err: timeout, poll: stage(enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED, nil),
			want: exitPending, contains: "pending, not applied yet"},
		{name: "not answered, the server cannot be asked", err: timeout, pollErr: serviceerror.NewUnavailable("connection refused"),
			want: exitPending, contains: "may have arrived"},
		{name: "answered while asked: applied", err: timeout, poll: stage(enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
			&updatepb.Outcome{Value: &updatepb.Outcome_Success{}})},
		{name: "answered while asked: refused", err: timeout, poll: stage(enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
			&updatepb.Outcome{Value: &updatepb.Outcome_Failure{Failure: &failurepb.Failure{Message: "not paused"}}}), want: exitRefused, contains: "not paused"},
		{name: "accepted", want: 0, handle: func() *mocks.WorkflowUpdateHandle {
			h := &mocks.WorkflowUpdateHandle{}
			h.On("Get", mock.Anything, mock.Anything).Return(nil)
			return h
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &mocks.Client{}
			withWorker(c, time.Now())
			var sent client.UpdateWorkflowOptions
			record := func(args mock.Arguments) { sent = args.Get(1).(client.UpdateWorkflowOptions) }
			if tc.handle != nil {
				c.On("UpdateWorkflow", mock.Anything, mock.Anything).Run(record).Return(tc.handle(), nil)
			} else {
				c.On("UpdateWorkflow", mock.Anything, mock.Anything).Run(record).Return(nil, tc.err)
			}
			svc := &pollService{resp: tc.poll, err: tc.pollErr}
			c.On("WorkflowService").Return(svc).Maybe()
			a := &app{temporal: c, namespace: "default"}
			err := a.sendCommand(context.Background(), "distribute/webapp/v1_0_0", "retry-region", struct{}{})
			if tc.want == 0 {
				require.NoError(t, err)
			} else {
				require.Equal(t, tc.want, exitCode(t, err), "%v", err)
				require.ErrorContains(t, err, tc.contains)
			}
			if tc.poll != nil || tc.pollErr != nil {
				require.Len(t, svc.asked, 1, "the server is asked what became of the command")
				require.Equal(t, sent.UpdateID, svc.asked[0].GetUpdateRef().GetUpdateId())
				require.Equal(t, "distribute/webapp/v1_0_0", svc.asked[0].GetUpdateRef().GetWorkflowExecution().GetWorkflowId())
				require.NotEmpty(t, sent.UpdateID)
			}
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
