package e2e

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/payload"
	"github.com/imagefleet/imagefleet/internal/telemetry"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows"
)

// signalDuringFinalTask sends a signal to a distribution while the worker
// executes the workflow task that completes it (once the workflow function
// has returned, before the task's completion reaches the server): the
// server then rejects the completion (UnhandledCommand) and the task runs
// again, as happens when any client signals a run at its very end.
type signalDuringFinalTask struct {
	interceptor.WorkerInterceptorBase
	c    client.Client
	sent atomic.Bool
}

func (s *signalDuringFinalTask) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &signalDuringFinalTaskInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, s: s}
}

type signalDuringFinalTaskInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	s *signalDuringFinalTask
}

func (in *signalDuringFinalTaskInbound) ExecuteWorkflow(ctx workflow.Context, input *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := in.Next.ExecuteWorkflow(ctx, input)
	info := workflow.GetInfo(ctx)
	if info.WorkflowType.Name == model.DistributeWorkflowType && !workflow.IsReplaying(ctx) && in.s.sent.CompareAndSwap(false, true) {
		// A test's side effect inside workflow code: it happens once.
		if serr := in.s.c.SignalWorkflow(context.Background(), info.WorkflowExecution.ID, "", "e2e-late-signal", nil); serr != nil {
			panic(serr)
		}
	}
	return res, err
}

// TestMetricsCountedOnceWhenTheFinalTaskIsRejected: a distribution whose
// final workflow task is rejected (a signal arrived meanwhile) and runs
// again is counted once: one start, one end, one copy per region.
func TestMetricsCountedOnceWhenTheFinalTaskIsRejected(t *testing.T) {
	e := newEnv(t, 0.0005)
	// This test's worker runs in the test process, with the interceptor.
	for _, p := range e.stack.Processes("worker") {
		require.NoError(t, p.Stop())
	}
	m, err := telemetry.NewMetrics()
	require.NoError(t, err)
	opts := client.Options{HostPort: e.stack.TemporalAddress(), MetricsHandler: m.SDKHandler(), DataConverter: payload.Converter}
	codec.Apply(&opts, testCodec)
	c, err := client.Dial(opts)
	require.NoError(t, err)
	defer c.Close()
	late := &signalDuringFinalTask{c: c}
	w := worker.New(c, model.TaskQueue, worker.Options{
		Interceptors:             append(workflows.Interceptors(), late),
		DeadlockDetectionTimeout: time.Minute, // the signal is sent from inside the task
	})
	workflows.Register(w)
	activities.Register(w, e.cloudC, activities.Options{PollInterval: 50 * time.Millisecond})
	require.NoError(t, w.Start())
	defer w.Stop()

	regions := []string{"cn-shanghai", "cn-beijing", "eu-central-1"}
	spec := model.DistributeSpec{Package: "e2e_once", Version: "v1_0_0", Description: "counted once although its final task ran twice",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: regions}
	id := model.DistributeWorkflowID(spec.Package, spec.Version)
	run, err := c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: model.TaskQueue}, model.DistributeWorkflowType, spec)
	require.NoError(t, err)
	require.NoError(t, run.Get(t.Context(), nil))
	require.True(t, late.sent.Load())

	// The final task was rejected and ran again.
	rejected := false
	it := c.GetWorkflowHistory(t.Context(), id, run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowTaskFailedEventAttributes(); a != nil && a.GetCause() == enums.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND {
			rejected = true
		}
	}
	require.True(t, rejected, "the signal made the server reject the final task's completion")
	recordHistory(t, c, id, "distribute_metrics_final_task_rejected.json")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	snap, err := telemetry.Parse(strings.NewReader(rec.Body.String()))
	require.NoError(t, err)
	op := map[string]string{"operation": model.OperationDistribute}
	require.Equal(t, 1.0, snap.Sum("imagefleet_operations_started_total", op))
	require.Equal(t, 1.0, snap.Sum("imagefleet_operations_ended_total", map[string]string{"operation": model.OperationDistribute, "state": model.StateSucceeded}),
		"one run ended once, however often its final task ran")
	require.Equal(t, float64(len(regions)), snap.Sum("imagefleet_image_copy_duration_seconds", nil), "one copy per region")
}
