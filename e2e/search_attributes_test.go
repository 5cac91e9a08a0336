package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// awaitClosed waits until the latest run of id has closed and returns its
// status. A workflow task that fails or times out meanwhile fails the test:
// it is the sign of a run that would never move again.
func awaitClosed(t *testing.T, c client.Client, id string) enums.WorkflowExecutionStatus {
	t.Helper()
	for {
		desc, err := c.DescribeWorkflowExecution(t.Context(), id, "")
		require.NoError(t, err)
		if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return st
		}
		it := c.GetWorkflowHistory(t.Context(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			if a := ev.GetWorkflowTaskFailedEventAttributes(); a != nil {
				t.Fatalf("workflow task of %s failed (%s): %s", id, a.GetCause(), a.GetFailure().GetMessage())
			}
			require.NotEqual(t, enums.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, ev.GetEventType(), "workflow task of %s timed out", id)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// syncBuffer is a log a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNamespaceWithoutSearchAttributes runs imagefleet on a namespace of
// the dev server without imagefleet's search attributes, as on a Temporal
// Cloud namespace nobody has prepared. A worker that may not register them
// says so at start, and a run started by a raw client (which sets none)
// completes without them, with a warning, instead of having every workflow
// task failed by the server (BadSearchAttributes) for ever. The starter
// refuses to start there with how to register them. A worker allowed to
// register them does, and the runs after it set them.
func TestNamespaceWithoutSearchAttributes(t *testing.T) {
	e := newEnv(t, 0.0005)
	ns := fmt.Sprintf("imagefleet-nosa-%d", time.Now().UnixNano())
	_, err := e.client.WorkflowService().RegisterNamespace(t.Context(), &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
	})
	require.NoError(t, err)
	// A new namespace takes a moment to be usable.
	for {
		if _, err := e.client.OperatorService().ListSearchAttributes(t.Context(), &operatorservice.ListSearchAttributesRequest{Namespace: ns}); err == nil {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	env := append(e.stack.Env(), "TEMPORAL_NAMESPACE="+ns, "IMAGEFLEET_METRICS_ADDR=off", "IMAGEFLEET_WORKER_STOP_TIMEOUT=3s")
	startWorker := func(extra ...string) (*exec.Cmd, *syncBuffer) {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "worker"))
		cmd.Env = append(append(os.Environ(), env...), extra...)
		log := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = log, log
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			cancel()
			_ = cmd.Wait()
			t.Logf("worker log:\n%s", log.String())
		})
		return cmd, log
	}
	opts := clientOptions(e.stack.TemporalAddress())
	opts.Namespace = ns
	c, err := client.Dial(opts)
	require.NoError(t, err)
	defer c.Close()

	// A worker that only checks: it says which attributes are missing.
	w1, log1 := startWorker("IMAGEFLEET_REGISTER_SEARCH_ATTRIBUTES=false")
	for !strings.Contains(log1.String(), "Started Worker") {
		time.Sleep(200 * time.Millisecond)
	}
	require.Contains(t, log1.String(), "the namespace lacks imagefleet's search attributes")
	require.Contains(t, log1.String(), model.SAState.GetName())

	// A raw client starts a distribution: it completes, without the attributes.
	spec := model.DistributeSpec{Package: "nosa", Version: "v1_0_0", Description: "published without search attributes",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: []string{"cn-shanghai"}}
	id := model.DistributeWorkflowID(spec.Package, spec.Version)
	_, err = c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: model.TaskQueue}, model.DistributeWorkflowType, spec)
	require.NoError(t, err)
	require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, awaitClosed(t, c, id))
	require.Contains(t, log1.String(), "this run does not set them")
	desc, err := c.DescribeWorkflowExecution(t.Context(), id, "")
	require.NoError(t, err)
	require.NotContains(t, desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields(), model.SAState.GetName())

	// The starter refuses before anything starts, and says how to fix it.
	before := len(e.ledger())
	cmd := exec.CommandContext(t.Context(), filepath.Join(binDir, "starter"), "distribute", "--package", "nosa", "--version", "v2_0_0",
		"--description", "refused: no search attributes", "--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", "cn-shanghai")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, string(out))
	require.Contains(t, string(out), "starter setup", "the refusal says how to register them")
	require.Contains(t, string(out), "nothing was started")
	_, err = c.DescribeWorkflowExecution(t.Context(), model.DistributeWorkflowID("nosa", "v2_0_0"), "")
	require.Error(t, err, "no run")
	require.Len(t, e.ledger(), before)

	// A worker allowed to register them does (a self-hosted cluster allows it).
	require.NoError(t, w1.Process.Kill())
	_, log2 := startWorker()
	for !strings.Contains(log2.String(), "Started Worker") {
		time.Sleep(200 * time.Millisecond)
	}
	require.Contains(t, log2.String(), "registered imagefleet's missing search attributes")
	resp, err := e.client.OperatorService().ListSearchAttributes(t.Context(), &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	require.NoError(t, err)
	for name, typ := range model.SearchAttributes {
		require.Equal(t, typ, resp.GetCustomAttributes()[name], name)
	}
}
