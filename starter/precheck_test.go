package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// unavailableCloud answers every call with 503 ServiceUnavailable.
func unavailableCloud(t *testing.T) *cloud.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"Code":"ServiceUnavailable","Message":"try again later"}`))
	}))
	t.Cleanup(srv.Close)
	return cloud.NewClient(srv.URL, "1000000000000001")
}

// A cloud that cannot answer the pre-start checks is a failed call (exit 1),
// not invalid input (exit 2): the same input may pass a moment later.
func TestPrecheckOnAnUnavailableCloudIsNotInvalidInput(t *testing.T) {
	t.Run("distribute", func(t *testing.T) {
		a := &app{cloud: unavailableCloud(t)}
		_, err := a.startRun(context.Background(), nil, a.distributionPlan(model.DistributeSpec{
			Package: "webapp", Version: "v1_0_0", Description: "web tier image",
			SourceRegion: "cn-hangzhou", SourceImage: "m-webapp-v1", Regions: []string{"cn-shanghai"},
		}))
		require.Equal(t, exitFailed, exitCode(t, err), "%v", err)
	})
	t.Run("rollout", func(t *testing.T) {
		c := &mocks.Client{}
		c.On("DescribeWorkflowExecution", mock.Anything, mock.Anything, mock.Anything).Return(nil, serviceerror.NewNotFound("none"))
		a := &app{cloud: unavailableCloud(t), temporal: c, namespace: "default"}
		_, err := a.startRun(context.Background(), nil, a.rolloutPlan(model.RolloutSpec{
			ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: model.TaskImage,
			Image: &model.ImageChange{ImageID: "m-webapp-v2"}, Batches: 1,
		}, "", ""))
		require.Equal(t, exitFailed, exitCode(t, err), "%v", err)
	})
}

// `rollout rollback` of a group without any task is invalid input (exit 2);
// a server that cannot answer is a failed call (exit 1).
func TestRolloutRollbackLookupExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"no task", serviceerror.NewNotFound("workflow not found"), exitInvalid},
		{"server unavailable", serviceerror.NewUnavailable("connection refused"), exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &mocks.Client{}
			c.On("DescribeWorkflowExecution", mock.Anything, "rollout/asg-web-hz", "").Return(nil, tc.err)
			a := &app{temporal: c, namespace: "default"}
			cmd := rolloutRollbackCommand(a)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			cmd.SetArgs([]string{"asg-web-hz"})
			err := cmd.ExecuteContext(context.Background())
			require.Equal(t, tc.want, exitCode(t, err), "%v", err)
		})
	}
}
