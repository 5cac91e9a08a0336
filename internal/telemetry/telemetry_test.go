package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/internal/telemetry"
)

// TestCloudTransport: a cloud call made inside a span carries its trace to
// the cloud (which logs the trace ID) and is counted by action and outcome.
func TestCloudTransport(t *testing.T) {
	var mu sync.Mutex
	var logged []cloudsim.RequestLog
	env := cloudsimtest.Start(t, cloudsimtest.WithOnRequest(func(r cloudsim.RequestLog) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, r)
	}))
	m, err := telemetry.NewMetrics()
	require.NoError(t, err)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	c := cloud.NewClient(env.URL, cloudsim.DefaultAccount)
	c.SetTransport(telemetry.CloudTransport(nil, m, tp))

	ctx, parent := tp.Tracer("test").Start(context.Background(), "activity")
	_, err = c.DescribeRegions(ctx, &cloud.DescribeRegionsRequest{})
	require.NoError(t, err)
	_, err = c.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-hangzhou", ImageIds: []string{"m-nonexistent"}})
	require.NoError(t, err)
	_, err = c.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: "nowhere-1", ImageId: "m-x", DestinationRegionId: "cn-shanghai"})
	require.Error(t, err)
	parent.End()

	traceID := parent.SpanContext().TraceID().String()
	mu.Lock()
	require.Len(t, logged, 3)
	for _, r := range logged {
		require.Equal(t, traceID, r.TraceID, "cloud log of %s", r.Action)
	}
	mu.Unlock()
	var names []string
	for _, s := range spans.Ended() {
		if s.Name() != "activity" {
			require.Equal(t, traceID, s.SpanContext().TraceID().String())
			require.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID())
			names = append(names, s.Name())
		}
	}
	require.ElementsMatch(t, []string{"cloud DescribeRegions", "cloud DescribeImages", "cloud CopyImage"}, names)

	text := scrape(t, m)
	for _, want := range []string{
		`imagefleet_cloud_requests_total{action="DescribeRegions",outcome="ok"} 1`,
		`imagefleet_cloud_requests_total{action="DescribeImages",outcome="ok"} 1`,
		`imagefleet_cloud_requests_total{action="CopyImage",outcome="4xx"} 1`,
		`imagefleet_cloud_request_duration_seconds_count{action="CopyImage",outcome="4xx"} 1`,
		`imagefleet_cloud_request_duration_seconds_bucket{action="DescribeRegions",outcome="ok",le="0.005"}`,
	} {
		require.Contains(t, text, want)
	}
}

func TestCloudOutcomes(t *testing.T) {
	status := http.StatusTooManyRequests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
	defer srv.Close()
	m, err := telemetry.NewMetrics()
	require.NoError(t, err)
	rt := telemetry.CloudTransport(nil, m, sdktrace.NewTracerProvider())
	hc := &http.Client{Transport: rt, Timeout: 5 * time.Second}
	for _, s := range []int{429, 503, 404, 200} {
		status = s
		resp, err := hc.Post(srv.URL+"/api/DescribeImages", "application/json", nil)
		require.NoError(t, err)
		resp.Body.Close()
	}
	// Paths outside the API do not grow the label set.
	resp, err := hc.Get(srv.URL + "/api/m-123/../x?y")
	require.NoError(t, err)
	resp.Body.Close()
	text := scrape(t, m)
	for _, want := range []string{
		`imagefleet_cloud_requests_total{action="DescribeImages",outcome="throttled"} 1`,
		`imagefleet_cloud_requests_total{action="DescribeImages",outcome="5xx"} 1`,
		`imagefleet_cloud_requests_total{action="DescribeImages",outcome="4xx"} 1`,
		`imagefleet_cloud_requests_total{action="DescribeImages",outcome="ok"} 1`,
		`imagefleet_cloud_requests_total{action="other",outcome="ok"} 1`,
	} {
		require.Contains(t, text, want)
	}
}

// TestSDKHandlerNames: timers become _seconds histograms, counters _total,
// names already ending in _total keep one suffix.
func TestSDKHandlerNames(t *testing.T) {
	m, err := telemetry.NewMetrics()
	require.NoError(t, err)
	h := m.SDKHandler().WithTags(map[string]string{"operation": "distribute"})
	h.Counter("imagefleet_operations_started_total").Inc(1)
	h.Counter("temporal_request").Inc(2)
	h.Timer("imagefleet_image_copy_duration").Record(90 * time.Second)
	text := scrape(t, m)
	require.Contains(t, text, `imagefleet_operations_started_total{operation="distribute"} 1`)
	require.NotContains(t, text, `_total_total`)
	require.Contains(t, text, `temporal_request_total{operation="distribute"} 2`)
	require.Contains(t, text, `imagefleet_image_copy_duration_seconds_bucket{operation="distribute",le="120"} 1`)
	require.Contains(t, text, `imagefleet_image_copy_duration_seconds_bucket{operation="distribute",le="60"} 0`)
}

func scrape(t *testing.T, m *telemetry.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

// TestSnapshotMergesWorkers: `task metrics` adds up the workers' counters
// and histograms and prints them readably.
func TestSnapshotMergesWorkers(t *testing.T) {
	var urls []string
	for i := range 2 {
		m, err := telemetry.NewMetrics()
		require.NoError(t, err)
		h := m.SDKHandler()
		h.WithTags(map[string]string{"operation": "distribute"}).Counter("imagefleet_operations_started_total").Inc(int64(i + 1))
		h.WithTags(map[string]string{"region": "eu-west-1"}).Timer("imagefleet_image_copy_duration").Record(time.Duration(i+1) * time.Minute)
		srv := httptest.NewServer(m.Handler())
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	snap, err := telemetry.Scrape(t.Context(), append(urls, "http://127.0.0.1:1/metrics"))
	require.NoError(t, err, "a worker that does not answer is skipped")
	require.Len(t, snap.Sources, 2)
	require.Len(t, snap.Skipped, 1, "and said to be")
	require.Contains(t, snap.Skipped[0], "http://127.0.0.1:1/metrics")
	require.Equal(t, 3.0, snap.Sum("imagefleet_operations_started_total", map[string]string{"operation": "distribute"}))
	copies := snap.Series("imagefleet_image_copy_duration_seconds", nil)
	require.Len(t, copies, 1)
	require.Equal(t, 2.0, copies[0].Value)
	require.Equal(t, 180.0, copies[0].Sum)
	var out strings.Builder
	require.NoError(t, snap.Print(&out))
	require.Regexp(t, `distribute +3 +0`, out.String())
	require.Regexp(t, `eu-west-1 +2 +1m30s`, out.String())
	require.Contains(t, out.String(), "NOT COUNTED (did not answer): http://127.0.0.1:1/metrics")
	require.LessOrEqual(t, copies[0].Quantile(0.95), 120.0, "no quantile above the longest copy, 2 minutes")

	_, err = telemetry.Scrape(t.Context(), []string{"http://127.0.0.1:1/metrics"})
	require.Error(t, err)
}

// TestQuantileWithinObservations: a histogram's quantiles are estimated
// within its buckets, but never above the largest observation it can hold.
func TestQuantileWithinObservations(t *testing.T) {
	m, err := telemetry.NewMetrics()
	require.NoError(t, err)
	h := m.SDKHandler()
	one := h.WithTags(map[string]string{"region": "one"}).Timer("imagefleet_image_copy_duration")
	one.Record(3 * time.Second)
	many := h.WithTags(map[string]string{"region": "many"}).Timer("imagefleet_image_copy_duration")
	for _, d := range []time.Duration{1100 * time.Millisecond, 1200 * time.Millisecond, 1300 * time.Millisecond, 7 * time.Second} {
		many.Record(d)
	}
	snap, err := telemetry.Parse(strings.NewReader(scrape(t, m)))
	require.NoError(t, err)
	se := snap.Series("imagefleet_image_copy_duration_seconds", map[string]string{"region": "one"})
	require.Len(t, se, 1)
	for _, q := range []float64{0.5, 0.95, 0.99} {
		require.InDelta(t, 3.0, se[0].Quantile(q), 1e-9, "one observation is every quantile (q=%v)", q)
	}
	se = snap.Series("imagefleet_image_copy_duration_seconds", map[string]string{"region": "many"})
	require.Len(t, se, 1)
	// The largest is in (5 s, 10 s] and at most 10.6 s less the least the
	// three others in (1 s, 5 s] hold: 7.6 s (the buckets alone said 9.8 s).
	require.InDelta(t, 7.6, se[0].Quantile(0.99), 1e-9)
	require.Less(t, se[0].Quantile(0.5), 5.0, "still an estimate from the buckets")
}
