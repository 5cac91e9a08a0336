package telemetry

import (
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Metric names of the cloud calls (the histogram is exported as
// imagefleet_cloud_request_duration_seconds).
const (
	MetricCloudRequests        = "imagefleet_cloud_requests_total"
	MetricCloudRequestDuration = "imagefleet_cloud_request_duration"
)

// Outcomes of a cloud call, the values of the outcome label.
const (
	OutcomeOK        = "ok"
	OutcomeThrottled = "throttled"
	Outcome4xx       = "4xx"
	Outcome5xx       = "5xx" // a 5xx answer, or no answer at all (connection refused, timeout)
)

// CloudTransport wraps base (http.DefaultTransport if nil) for the cloud
// client: every request carries the W3C traceparent of the caller's span (an
// activity's, through the SDK's tracing interceptor) in a client span of its
// own, and is counted by action and outcome with its latency.
func CloudTransport(base http.RoundTripper, m *Metrics, tp trace.TracerProvider) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	meter := m.Meter()
	requests, _ := meter.Int64Counter(MetricCloudRequests,
		metric.WithDescription("Cloud API calls by action and outcome (ok, throttled, 4xx, 5xx)"))
	latency, _ := meter.Float64Histogram(MetricCloudRequestDuration, metric.WithUnit("s"),
		metric.WithDescription("Latency of cloud API calls by action and outcome"))
	measured := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := base.RoundTrip(req)
		attrs := metric.WithAttributeSet(attribute.NewSet(
			attribute.String("action", requestAction(req)),
			attribute.String("outcome", outcome(resp, err)),
		))
		requests.Add(req.Context(), 1, attrs)
		latency.Record(req.Context(), time.Since(start).Seconds(), attrs)
		return resp, err
	})
	return otelhttp.NewTransport(measured,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return "cloud " + requestAction(r)
		}),
	)
}

// requestAction is the label of a request: the action of an OpenAPI RPC
// call to / (the x-acs-action header the official SDK signs, set by it in
// lower case), else cloudAction of its path.
func requestAction(r *http.Request) string {
	if r.URL.Path == "/" || r.URL.Path == "" {
		a := r.Header.Get("x-acs-action")
		if v := r.Header["x-acs-action"]; len(v) > 0 {
			a = v[0]
		}
		if a != "" && len(a) <= 64 && strings.IndexFunc(a, notLetter) < 0 {
			return a
		}
	}
	return cloudAction(r.URL.Path)
}

// cloudAction is the label of a request path: the API action of
// /api/<Action>, "admin" for the admin API. Anything else is "other", so
// the label's values stay bounded whatever the path.
func cloudAction(path string) string {
	switch {
	case strings.HasPrefix(path, "/api/"):
		action := strings.TrimPrefix(path, "/api/")
		if action != "" && len(action) <= 64 && strings.IndexFunc(action, notLetter) < 0 {
			return action
		}
	case strings.HasPrefix(path, "/admin/"):
		return "admin"
	}
	return "other"
}

func notLetter(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

func outcome(resp *http.Response, err error) string {
	switch {
	case err != nil:
		return Outcome5xx
	case resp.StatusCode == http.StatusTooManyRequests:
		return OutcomeThrottled
	case resp.StatusCode >= 500:
		return Outcome5xx
	case resp.StatusCode >= 400:
		return Outcome4xx
	default:
		return OutcomeOK
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
