package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/mocks"

	"github.com/imagefleet/imagefleet/model"
)

// A run that was cancelled or timed out did not complete: `starter status`
// exits 1 for it, as the watching commands do (run.Get fails for it).
func TestStatusOfARunThatDidNotComplete(t *testing.T) {
	for _, st := range []enums.WorkflowExecutionStatus{
		enums.WORKFLOW_EXECUTION_STATUS_CANCELED, enums.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
		enums.WORKFLOW_EXECUTION_STATUS_FAILED, enums.WORKFLOW_EXECUTION_STATUS_TERMINATED,
	} {
		t.Run(st.String(), func(t *testing.T) {
			c := &mocks.Client{}
			c.On("DescribeWorkflowExecution", mock.Anything, "distribute/webapp/v1_0_0", "").Return(&workflowservice.DescribeWorkflowExecutionResponse{
				WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: st, Execution: &commonpb.WorkflowExecution{WorkflowId: "distribute/webapp/v1_0_0", RunId: "r1"}},
			}, nil)
			v := &mocks.Value{}
			v.On("Get", mock.Anything).Run(func(args mock.Arguments) {
				*args.Get(0).(*model.DistributionProgress) = model.DistributionProgress{Package: "webapp", Version: "v1_0_0", Phase: model.PhaseAborted}
			}).Return(nil)
			c.On("QueryWorkflow", mock.Anything, "distribute/webapp/v1_0_0", "", model.QueryProgress).Return(v, nil)
			a := &app{temporal: c, namespace: "default"}
			cmd := statusCommand(a)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			cmd.SetArgs([]string{"distribute/webapp/v1_0_0"})
			err := cmd.ExecuteContext(context.Background())
			require.Equal(t, exitFailed, exitCode(t, err), "%v", err)
		})
	}
	require.False(t, endedUnsuccessfully(enums.WORKFLOW_EXECUTION_STATUS_COMPLETED))
	require.False(t, endedUnsuccessfully(enums.WORKFLOW_EXECUTION_STATUS_RUNNING))
	require.False(t, endedUnsuccessfully(enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW))
}

// `starter status` of a failed run prints the error it ended with (issue
// 18, "Smaller").
func TestStatusOfAFailedRunPrintsItsError(t *testing.T) {
	c := &mocks.Client{}
	c.On("DescribeWorkflowExecution", mock.Anything, "distribute/webapp/v1_0_0", "").Return(&workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: enums.WORKFLOW_EXECUTION_STATUS_FAILED, Execution: &commonpb.WorkflowExecution{WorkflowId: "distribute/webapp/v1_0_0", RunId: "r1"}},
	}, nil)
	v := &mocks.Value{}
	v.On("Get", mock.Anything).Run(func(args mock.Arguments) {
		*args.Get(0).(*model.DistributionProgress) = model.DistributionProgress{Package: "webapp", Version: "v1_0_0", Phase: model.PhaseFailed,
			Error: "every region was dropped: nothing to publish"}
	}).Return(nil)
	c.On("QueryWorkflow", mock.Anything, "distribute/webapp/v1_0_0", "", model.QueryProgress).Return(v, nil)
	a := &app{temporal: c, namespace: "default"}
	cmd := statusCommand(a)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs([]string{"distribute/webapp/v1_0_0"})
	err := cmd.ExecuteContext(context.Background())
	require.Equal(t, exitFailed, exitCode(t, err), "%v", err)
	require.Contains(t, out.String(), "Error:     every region was dropped: nothing to publish")
}
