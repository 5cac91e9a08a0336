package telemetry

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// OTLP endpoint variables (the OpenTelemetry standard ones): with either
// set, spans are exported over OTLP/HTTP; the exporter reads the rest of its
// settings (headers, TLS, timeout) from the standard OTEL_EXPORTER_OTLP_*
// variables.
const (
	EnvOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
)

// Tracing is a process's tracer provider.
type Tracing struct {
	provider trace.TracerProvider
	shutdown func(context.Context) error
}

// NewTracing returns the tracing of service (e.g. "imagefleet-worker"). It
// exports over OTLP when an endpoint is configured; otherwise spans are
// still created, so that trace context reaches the workflow, its activities
// and the cloud (whose log shows each request's trace ID), but go nowhere.
func NewTracing(ctx context.Context, service string) (*Tracing, error) {
	res := resource.NewSchemaless(semconv.ServiceName(service))
	if os.Getenv(EnvOTLPEndpoint) == "" && os.Getenv(EnvOTLPTracesEndpoint) == "" {
		tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res))
		return &Tracing{provider: tp, shutdown: tp.Shutdown}, nil
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exporter))
	return &Tracing{provider: tp, shutdown: tp.Shutdown}, nil
}

// TracingWith uses provider, e.g. one recording into memory in a test.
func TracingWith(provider trace.TracerProvider) *Tracing {
	return &Tracing{provider: provider, shutdown: func(context.Context) error { return nil }}
}

// Provider is the tracer provider.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Interceptor is the Temporal SDK's tracing interceptor for
// client.Options.Interceptors. Workers created from the client use it too:
// the starter's StartWorkflow span is the parent of the workflow's
// RunWorkflow span, which is the parent of its activities' spans.
func (t *Tracing) Interceptor() (interceptor.Interceptor, error) {
	return temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: t.provider.Tracer("imagefleet")})
}

// Shutdown flushes and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }
