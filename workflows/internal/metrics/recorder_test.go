package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/internal/telemetry"
)

func TestQueueMergesSeries(t *testing.T) {
	var r Recorder
	r.queue(Event{Metric: InstancesChanged, TaskType: "ImageUpdate", Count: 1})
	r.queue(Event{Metric: InstancesFailed, TaskType: "ImageUpdate", Count: 1})
	r.queue(Event{Metric: InstancesChanged, TaskType: "ImageUpdate", Count: 1})
	r.queue(Event{Metric: ImageCopyDuration, Region: "eu-west-1", Durations: []time.Duration{time.Second}})
	r.queue(Event{Metric: ImageCopyDuration, Region: "eu-west-1", Durations: []time.Duration{2 * time.Second}})
	r.queue(Event{Metric: ImageCopyDuration, Region: "cn-beijing", Durations: []time.Duration{3 * time.Second}})
	require.Equal(t, []Event{
		{Metric: InstancesChanged, TaskType: "ImageUpdate", Count: 2},
		{Metric: InstancesFailed, TaskType: "ImageUpdate", Count: 1},
		{Metric: ImageCopyDuration, Region: "eu-west-1", Durations: []time.Duration{time.Second, 2 * time.Second}},
		{Metric: ImageCopyDuration, Region: "cn-beijing", Durations: []time.Duration{3 * time.Second}},
	}, r.pending, "one event per series, in the order first seen")
}

func TestRecordActivity(t *testing.T) {
	m, err := telemetry.NewMetrics()
	require.NoError(t, err)
	var s testsuite.WorkflowTestSuite
	s.SetMetricsHandler(m.SDKHandler())
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(Record)
	_, err = env.ExecuteActivity(Record, []Event{
		{Metric: OperationsEnded, Operation: "distribute", State: "Succeeded", Count: 1},
		{Metric: ImageCopyDuration, Region: "eu-west-1", Durations: []time.Duration{time.Second, 3 * time.Second}},
	})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	snap, err := telemetry.Parse(rec.Body)
	require.NoError(t, err)
	require.Equal(t, 1.0, snap.Sum(OperationsEnded, map[string]string{LabelOperation: "distribute", LabelState: "Succeeded"}))
	copies := snap.Series(ImageCopyDuration+"_seconds", map[string]string{LabelRegion: "eu-west-1"})
	require.Len(t, copies, 1)
	require.Equal(t, 2.0, copies[0].Value)
	require.InDelta(t, 4.0, copies[0].Sum, 1e-9)
}
