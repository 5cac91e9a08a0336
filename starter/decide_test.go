package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/imagefleet/imagefleet/model"
)

// acceptingClient accepts every update and records it.
func acceptingClient(t *testing.T) (*mocks.Client, *[]client.UpdateWorkflowOptions) {
	c := &mocks.Client{}
	c.On("Close").Return().Maybe()
	withWorker(c, time.Now())
	h := &mocks.WorkflowUpdateHandle{}
	h.On("Get", mock.Anything, mock.Anything).Return(nil)
	var sent []client.UpdateWorkflowOptions
	c.On("UpdateWorkflow", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		sent = append(sent, args.Get(1).(client.UpdateWorkflowOptions))
	}).Return(h, nil)
	return c, &sent
}

// Every decision command sends its operator command to the run's ID and
// prints the same accepted line.
func TestDecideCommands(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		id   string
		cmd  string
		want string
	}{
		{"retry-region", []string{"retry-region", "distribute/webapp/v1", "eu-west-1"}, "distribute/webapp/v1", model.CommandRetryRegion, "retry-region eu-west-1: accepted\n"},
		{"cancel", []string{"cancel", "publish/tools/v1", "--reason", "wrong file"}, "publish/tools/v1", model.CommandCancel, "cancel: accepted; the copies made are being deleted\n"},
		{"abort, deprecated", []string{"abort", "publish/tools/v1"}, "publish/tools/v1", model.CommandCancel, "abort: accepted; the copies made are being deleted\n"},
		{"rollout skip", []string{"rollout", "skip", "asg-web", "i-1"}, "rollout/asg-web", model.CommandSkip, "skip i-1: accepted\n"},
		{"rollout set-threshold", []string{"rollout", "set-threshold", "asg-web", "2"}, "rollout/asg-web", model.CommandSetThreshold, "set-threshold: accepted\n"},
		{"build cancel", []string{"build", "cancel", "ip-1", "--region", "eu-west-1"}, "build/eu-west-1/ip-1", model.CommandCancelBuild, "cancel: accepted; the build's resources are being released\n"},
		{"bluegreen abort, deprecated", []string{"bluegreen", "abort", "demo", "web"}, "bluegreen/demo/web", model.CommandCancel, "abort: accepted; rolling back\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sent := acceptingClient(t)
			root := rootCommand(&app{temporal: c, namespace: "default"})
			var out, errOut bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&errOut)
			root.SetArgs(tc.args)
			require.NoError(t, root.ExecuteContext(context.Background()))
			require.True(t, strings.HasSuffix(out.String(), tc.want), "%q", out.String()) // after cobra's deprecation notice, if any
			require.Len(t, *sent, 1)
			require.Equal(t, tc.id, (*sent)[0].WorkflowID)
			require.Equal(t, tc.cmd, (*sent)[0].UpdateName)
		})
	}
}

// A payload that cannot be built is invalid input: nothing is sent.
func TestDecideRefusesBadInputBeforeSending(t *testing.T) {
	c, sent := acceptingClient(t)
	root := rootCommand(&app{temporal: c, namespace: "default"})
	root.SetArgs([]string{"rollout", "set-threshold", "asg-web", "many"})
	root.SetOut(&bytes.Buffer{})
	err := root.ExecuteContext(context.Background())
	require.Equal(t, exitInvalid, exitCode(t, err))
	require.Empty(t, *sent)
}
