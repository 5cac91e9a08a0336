// Package telemetry wires imagefleet's metrics and traces, in small pieces
// that internal/config composes once per process:
//
//   - Metrics: an OpenTelemetry meter provider exported for Prometheus; the
//     Temporal SDK's metrics handler (client.Options.MetricsHandler) and
//     imagefleet's own instruments both record into it, and Serve exposes it
//     on /metrics.
//   - Tracing: an OpenTelemetry tracer provider (OTLP when
//     OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
//     set, otherwise spans are only propagated) and the SDK's tracing
//     interceptor (client.Options.Interceptors), so one trace runs from the
//     starter through the workflow and its activities.
//   - CloudTransport: the cloud client's HTTP transport, which sends the
//     W3C traceparent header and counts cloud calls by action and outcome.
package telemetry
