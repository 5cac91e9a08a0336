package e2e

import (
	"context"
	"fmt"
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
	"github.com/imagefleet/imagefleet/internal/stack"
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
	id   string // the run's workflow ID (other tests' runs may share the namespace)
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
	if info.WorkflowExecution.ID == in.s.id && !workflow.IsReplaying(ctx) && in.s.sent.CompareAndSwap(false, true) {
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
	regions := []string{"cn-shanghai", "cn-beijing", "eu-central-1"}
	spec := model.DistributeSpec{Package: "e2e_once", Version: "v1_0_0", Description: "counted once although its final task ran twice",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: regions}
	id := model.DistributeWorkflowID(spec.Package, spec.Version)
	late := &signalDuringFinalTask{c: c, id: id}
	w := worker.New(c, model.TaskQueue, worker.Options{
		Interceptors:             append(workflows.Interceptors(), late),
		DeadlockDetectionTimeout: time.Minute, // the signal is sent from inside the task
	})
	workflows.Register(w)
	activities.Register(w, e.cloudC, activities.Options{PollInterval: 50 * time.Millisecond})
	require.NoError(t, w.Start())
	defer w.Stop()

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

// TestMetricsCountedOnceAcrossAFailover: a 6-region distribution on two
// workers, polled with `progress` every half second; the worker that
// completed the run's last workflow task is killed (SIGKILL) mid-run and
// the other finishes it. The two workers' metrics (the dead one's as
// scraped just before the kill) count the run once: one start, one end,
// six copies.
func TestMetricsCountedOnceAcrossAFailover(t *testing.T) {
	e := newEnv(t, 0.002)
	workers := []*stack.Process{e.stack.Processes("worker")[0], e.startWorker()}
	regions := []string{"cn-shanghai", "cn-beijing", "eu-central-1", "eu-west-1", "ap-southeast-1", "us-east-1"}
	spec := model.DistributeSpec{Package: "e2e_failover", Version: "v1_0_0", Description: "counted once across a failover",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: regions}
	id := model.DistributeWorkflowID(spec.Package, spec.Version)
	run, err := e.client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: model.TaskQueue}, model.DistributeWorkflowType, spec)
	require.NoError(t, err)

	// Queried every half second, as an operator's dashboard would.
	stopQueries := make(chan struct{})
	queried := make(chan struct{})
	go func() {
		defer close(queried)
		for {
			select {
			case <-stopQueries:
				return
			case <-time.After(500 * time.Millisecond):
				if v, err := e.client.QueryWorkflow(context.Background(), id, "", model.QueryProgress); err == nil {
					var p model.DistributionProgress
					_ = v.Get(&p)
				}
			}
		}
	}()
	defer func() { close(stopQueries); <-queried }()

	// Some copies done, not all: then kill the worker that completed the
	// last workflow task.
	for {
		available := 0
		for _, r := range e.progress(id).Regions {
			if r.State == model.RegionAvailable {
				available++
			}
		}
		if available >= 2 {
			require.Less(t, available, len(regions), "the copies must outlast the wait (a slower cloud: raise the time scale)")
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var identity string
	it := e.client.GetWorkflowHistory(t.Context(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowTaskCompletedEventAttributes(); a != nil {
			identity = a.GetIdentity()
		}
	}
	victim, survivor := workers[0], workers[1]
	if strings.HasPrefix(identity, fmt.Sprintf("%d@", survivor.Pid())) {
		victim, survivor = survivor, victim
	}
	require.True(t, strings.HasPrefix(identity, fmt.Sprintf("%d@", victim.Pid())), "the last task was completed by %s", identity)
	before, err := telemetry.Scrape(t.Context(), []string{"http://" + victim.MetricsAddr + "/metrics"})
	require.NoError(t, err)
	require.NoError(t, victim.Kill())

	var result model.DistributionResult
	require.NoError(t, run.Get(t.Context(), &result))
	require.Len(t, result.ImageIDs, len(regions))
	after, err := telemetry.Scrape(t.Context(), []string{"http://" + survivor.MetricsAddr + "/metrics"})
	require.NoError(t, err)

	total := func(name string, match map[string]string) float64 {
		return before.Sum(name, match) + after.Sum(name, match)
	}
	op := map[string]string{"operation": model.OperationDistribute}
	require.Equal(t, 1.0, total("imagefleet_operations_started_total", op))
	require.Equal(t, 1.0, total("imagefleet_operations_ended_total", map[string]string{"operation": model.OperationDistribute, "state": model.StateSucceeded}))
	for _, r := range regions {
		require.Equal(t, 1.0, total("imagefleet_image_copy_duration_seconds", map[string]string{"region": r}), "one copy into %s", r)
	}
}
