package e2e

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/internal/telemetry"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows"
)

// TestTraceSpansStarterToCloudRequest runs a distribution with the tracing
// the worker and starter set up (config.Telemetry), recording spans in
// memory, and follows one trace from the starter's command span through
// StartWorkflow, the workflow run, an activity, to the cloud's HTTP request,
// whose traceparent the cloud logged.
func TestTraceSpansStarterToCloudRequest(t *testing.T) {
	var mu sync.Mutex
	cloudTraces := map[string][]string{} // action → trace IDs the cloud logged
	cloudEnv := cloudsimtest.Start(t, cloudsimtest.WithOnRequest(func(r cloudsim.RequestLog) {
		mu.Lock()
		defer mu.Unlock()
		cloudTraces[r.Action] = append(cloudTraces[r.Action], r.TraceID)
	}))
	t.Setenv(config.EnvCloudEndpoint, cloudEnv.URL)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	tel := &config.Telemetry{Metrics: telemetry.Disabled(), Tracing: telemetry.TracingWith(tp)}

	// The worker, as worker/main.go wires it.
	opts := clientOptions(devServer.TemporalAddress()) // encrypting, as config.TemporalOptions does
	require.NoError(t, tel.Apply(&opts))
	wc, err := client.Dial(opts)
	require.NoError(t, err)
	defer wc.Close()
	w := worker.New(wc, model.TaskQueue, worker.Options{})
	workflows.Register(w)
	activities.Register(w, tel.Cloud(), activities.Options{PollInterval: 100 * time.Millisecond})
	require.NoError(t, w.Start())
	defer w.Stop()

	// The starter, as starter/ wires it: a command span around the start.
	sopts := clientOptions(devServer.TemporalAddress())
	require.NoError(t, tel.Apply(&sopts))
	sc, err := client.Dial(sopts)
	require.NoError(t, err)
	defer sc.Close()
	ctx, command := tp.Tracer("imagefleet-starter").Start(t.Context(), "starter distribute")
	spec := model.DistributeSpec{Package: "e2e_trace", Version: "v1_0_0", Description: "traced from the starter to the cloud",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: []string{"cn-shanghai"}}
	run, err := sc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: model.DistributeWorkflowID(spec.Package, spec.Version), TaskQueue: model.TaskQueue},
		model.DistributeWorkflowType, spec)
	require.NoError(t, err)
	command.End()
	require.NoError(t, run.Get(t.Context(), nil))
	w.Stop()

	traceID := command.SpanContext().TraceID()
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	var cloudCopy sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.SpanContext().TraceID() != traceID {
			continue
		}
		byID[s.SpanContext().SpanID()] = s
		if s.Name() == "cloud CopyImage" {
			cloudCopy = s
		}
	}
	require.NotNil(t, cloudCopy, "the CopyImage request has a span in the starter's trace")
	var chain []string
	for s := cloudCopy; s != nil; {
		chain = append([]string{s.Name()}, chain...)
		parent, ok := byID[s.Parent().SpanID()]
		if !ok {
			break
		}
		s = parent
	}
	require.Equal(t, []string{
		"starter distribute",
		"StartWorkflow:" + model.DistributeWorkflowType,
		"RunWorkflow:" + model.DistributeWorkflowType,
		"StartActivity:StartImageCopy",
		"RunActivity:StartImageCopy",
		"cloud CopyImage",
	}, chain)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{traceID.String()}, cloudTraces["CopyImage"], "the cloud logged the request's trace ID")
}
