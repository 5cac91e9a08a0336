package workflows

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/internal/payload"
)

func openFile(t *testing.T, name string) io.Reader {
	f, err := os.Open(name)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// TestReplayRecordedHistories replays every history recorded under testdata
// (by the end-to-end tests, `go tool task record-histories`) against the
// current workflow code, so that a change that is not deterministic fails
// here rather than in production. A deliberate change of a workflow's
// commands needs workflow.GetVersion, not a re-recording.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			// The worker's data converter (strict JSON) and the recorded
			// workflow ID: the workflows refuse any but their canonical ID.
			replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: payload.Converter, Interceptors: Interceptors()})
			require.NoError(t, err)
			Register(replayer)
			history, err := client.HistoryFromJSON(openFile(t, file), client.HistoryJSONOptions{})
			require.NoError(t, err)
			started := history.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
			require.NoError(t, replayer.ReplayWorkflowHistoryWithOptions(nil, history, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: started.GetWorkflowId(), RunID: started.GetOriginalExecutionRunId()},
			}))
		})
	}
}
