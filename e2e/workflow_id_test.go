package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// TestControlCharacterWorkflowIDRefusedAtOnce starts a distribution through
// the temporal CLI under a workflow ID holding a control character. Like any
// other wrong ID it is refused by the run's first workflow task (the SDK
// puts the ID in a gRPC header, which cannot carry it: the worker could not
// complete the task, and the run stayed Running with timed-out tasks), and
// the starter's status and cancel answer for it, showing the ID quoted.
func TestControlCharacterWorkflowIDRefusedAtOnce(t *testing.T) {
	e := newEnv(t, 0.0005)
	before := len(e.ledger())
	id := "distribute/ctl\x01char/v1_0_0"
	input, err := json.Marshal(map[string]any{"package": "ctlchar", "version": "v1_0_0", "description": "an ID with a control character",
		"sourceRegion": cloudsim.SeedRegion, "sourceImage": cloudsim.ImageWebappV1, "regions": []string{"cn-shanghai"}})
	require.NoError(t, err)
	_, err = e.cli("workflow", "start", "--namespace", "default", "--task-queue", model.TaskQueue, "--type", model.DistributeWorkflowType,
		"--workflow-id", id, "--input", string(input))
	require.NoError(t, err)

	// Wait for the run to close; a workflow task that times out or fails
	// instead is the defect (the run would stay Running for ever).
	for {
		out, err := e.cli("workflow", "describe", "--namespace", "default", "--workflow-id", id, "-o", "json")
		require.NoError(t, err, out)
		var desc struct {
			WorkflowExecutionInfo struct{ Status string } `json:"workflowExecutionInfo"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &desc), out)
		if desc.WorkflowExecutionInfo.Status != "WORKFLOW_EXECUTION_STATUS_RUNNING" {
			require.Equal(t, "WORKFLOW_EXECUTION_STATUS_FAILED", desc.WorkflowExecutionInfo.Status)
			break
		}
		hist, err := e.cli("workflow", "show", "--namespace", "default", "--workflow-id", id, "-o", "json")
		require.NoError(t, err, hist)
		require.NotContains(t, hist, "EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT", "the worker could not complete the run's workflow task")
		require.NotContains(t, hist, "EVENT_TYPE_WORKFLOW_TASK_FAILED", "the worker could not complete the run's workflow task")
		time.Sleep(500 * time.Millisecond)
	}
	out, _ := e.cli("workflow", "result", "--namespace", "default", "--workflow-id", id, "--codec-endpoint", devServer.CodecEndpoint(), "-o", "json")
	require.Contains(t, out, `"type": "WrongWorkflowID"`)
	require.Contains(t, out, "this operation runs only as")

	quoted := strconv.Quote(id)
	out, code := e.starter("status", id)
	require.Equal(t, 1, code, "a run that failed")
	require.Contains(t, out, "Workflow:  "+quoted+" (Failed)")
	require.False(t, strings.Contains(out, "\x01"), "the control character is shown quoted, never raw")
	out, code = e.starter("cancel", id)
	require.Equal(t, 3, code, "refused: the run has ended")
	require.Contains(t, out, "no running workflow "+quoted)
	require.False(t, strings.Contains(out, "\x01"))

	require.Len(t, e.ledger(), before, "nothing reached the cloud")
}
