package main

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"
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
