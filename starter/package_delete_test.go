package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/mocks"

	"github.com/imagefleet/imagefleet/cloud"
)

// deletingCloud answers DeleteArtifact with status and body, and counts the
// calls.
func deletingCloud(t *testing.T, status int, body string) (*cloud.Client, *int) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/api/DeleteArtifact", r.URL.Path)
		calls++
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return cloud.NewClient(srv.URL, "1000000000000001"), &calls
}

const heldByAPublication = `{"Code":"Artifact.VersionReleasing","Message":"version v1_0 is being released by another publication"}`

// The cloud keeps the promise that no version is deleted under the run that
// publishes it (its refusal is atomic); the starter asks it at once, with no
// check of its own first, and turns its refusal into invalid input that
// names the run.
func TestVersionDeleteReliesOnTheCloudsRefusal(t *testing.T) {
	art := &cloud.Artifact{ArtifactId: "artifact-1", Name: "webapp", Versions: []cloud.ArtifactVersion{{VersionName: "v1_0"}}}

	t.Run("deleted: nothing asked of Temporal", func(t *testing.T) {
		cc, calls := deletingCloud(t, http.StatusOK, `{"RequestId":"r1"}`)
		a := &app{cloud: cc, temporal: &mocks.Client{}} // any call to it fails the test
		require.NoError(t, a.deleteArtifact(context.Background(), art, "v1_0"))
		require.Equal(t, 1, *calls)
	})
	t.Run("held by a running distribution", func(t *testing.T) {
		cc, _ := deletingCloud(t, http.StatusConflict, heldByAPublication)
		c := &mocks.Client{}
		c.On("DescribeWorkflowExecution", mock.Anything, "distribute/webapp/v1_0", "").Return(&workflowservice.DescribeWorkflowExecutionResponse{
			WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{Status: enums.WORKFLOW_EXECUTION_STATUS_RUNNING,
				Execution: &commonpb.WorkflowExecution{WorkflowId: "distribute/webapp/v1_0", RunId: "r1"}},
		}, nil)
		a := &app{cloud: cc, temporal: c, namespace: "default"}
		err := a.deleteArtifact(context.Background(), art, "v1_0")
		require.Equal(t, exitInvalid, exitCode(t, err))
		require.ErrorContains(t, err, "is being published by workflow distribute/webapp/v1_0")
	})
	t.Run("held by another client's publication", func(t *testing.T) {
		cc, _ := deletingCloud(t, http.StatusConflict, heldByAPublication)
		c := &mocks.Client{}
		c.On("DescribeWorkflowExecution", mock.Anything, mock.Anything, "").Return(nil, serviceerror.NewNotFound("none"))
		a := &app{cloud: cc, temporal: c, namespace: "default"}
		err := a.deleteArtifact(context.Background(), art, "")
		require.Equal(t, exitInvalid, exitCode(t, err))
		require.ErrorContains(t, err, "a publication holds the version")
	})
}
