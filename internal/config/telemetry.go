package config

import (
	"context"
	"errors"

	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/telemetry"
)

// Metrics settings of the worker.
const (
	EnvMetricsAddr = "IMAGEFLEET_METRICS_ADDR"
	// DefaultMetricsAddr is where a worker serves /metrics unless told
	// otherwise; "off" (or an empty --metrics-addr) serves nothing.
	DefaultMetricsAddr = "127.0.0.1:9464"
)

// MetricsAddr is the address from IMAGEFLEET_METRICS_ADDR, or the default.
func MetricsAddr() string { return env(EnvMetricsAddr, DefaultMetricsAddr) }

// Telemetry is one process's metrics and tracing, set once on its Temporal
// client (and so on its workers) and on its cloud client. A nil Telemetry
// sets nothing up.
type Telemetry struct {
	Metrics *telemetry.Metrics
	Tracing *telemetry.Tracing
}

// NewTelemetry sets up tracing for service (OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set) and, if withMetrics, metrics for
// Prometheus. A short-lived process such as the starter has no use for
// metrics nobody scrapes.
func NewTelemetry(ctx context.Context, service string, withMetrics bool) (*Telemetry, error) {
	tracing, err := telemetry.NewTracing(ctx, service)
	if err != nil {
		return nil, err
	}
	m := telemetry.Disabled()
	if withMetrics {
		if m, err = telemetry.NewMetrics(); err != nil {
			return nil, err
		}
	}
	return &Telemetry{Metrics: m, Tracing: tracing}, nil
}

// Apply sets the SDK's metrics handler and tracing interceptor on opts.
func (t *Telemetry) Apply(opts *client.Options) error {
	if t == nil {
		return nil
	}
	ti, err := t.Tracing.Interceptor()
	if err != nil {
		return err
	}
	opts.MetricsHandler = t.Metrics.SDKHandler()
	opts.Interceptors = append(opts.Interceptors, ti)
	return nil
}

// Cloud is Cloud() with requests that carry the caller's trace and are
// counted in the metrics.
func (t *Telemetry) Cloud() *cloud.Client {
	c := Cloud()
	if t == nil {
		return c
	}
	c.SetTransport(telemetry.CloudTransport(nil, t.Metrics, t.Tracing.Provider()))
	return c
}

// Shutdown flushes the spans not yet exported and stops the metrics.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return errors.Join(t.Tracing.Shutdown(ctx), t.Metrics.Shutdown(ctx))
}
