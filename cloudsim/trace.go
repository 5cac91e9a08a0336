package cloudsim

import (
	"net/http"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// traceID is the trace ID of the W3C traceparent header a caller sent (the
// worker's cloud client sends its activity's), so that the cloud's request
// log can be joined with the caller's trace. Empty without a valid header.
func traceID(r *http.Request) string {
	ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}
