package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Metrics is a process's metrics: a meter provider whose instruments are
// exported in the Prometheus text format. Disabled() returns metrics that
// record and serve nothing.
type Metrics struct {
	meter    metric.Meter
	provider *sdkmetric.MeterProvider // nil when disabled
	registry *prometheus.Registry
}

// Histogram buckets in seconds: cloud calls and Temporal requests take
// milliseconds to seconds; image copies and operator waits minutes to hours.
var (
	requestBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	longBuckets    = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400}
)

// NewMetrics returns metrics exported for Prometheus, with the Go runtime's
// and the process's collectors next to them.
func NewMetrics() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		// Prometheus names: counters end in _total, timers in _seconds.
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo(),
		otelprom.WithoutTargetInfo(),
	)
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	// Buckets by instrument: the cloud's request latency in seconds, the
	// other imagefleet durations (copies, operator waits) in minutes to
	// hours, every other histogram (the SDK's latencies) like requests.
	cloudView := sdkmetric.NewView(
		sdkmetric.Instrument{Name: MetricCloudRequestDuration},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: requestBuckets}},
	)
	long := sdkmetric.NewView(
		sdkmetric.Instrument{Name: "imagefleet_*_duration"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: longBuckets}},
	)
	short := sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: requestBuckets}},
	)
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(firstMatch(cloudView, long, short)))
	return &Metrics{meter: provider.Meter("imagefleet"), provider: provider, registry: reg}, nil
}

// firstMatch combines views so that only the first one matching an
// instrument applies (the SDK would otherwise export one stream per match).
func firstMatch(views ...sdkmetric.View) sdkmetric.View {
	return func(i sdkmetric.Instrument) (sdkmetric.Stream, bool) {
		for _, v := range views {
			if s, ok := v(i); ok {
				return s, true
			}
		}
		return sdkmetric.Stream{}, false
	}
}

// Disabled returns metrics that record nothing.
func Disabled() *Metrics {
	return &Metrics{meter: noop.NewMeterProvider().Meter("imagefleet")}
}

// Enabled reports whether the metrics are recorded and can be served.
func (m *Metrics) Enabled() bool { return m.provider != nil }

// Meter is the meter imagefleet's own instruments are created from.
func (m *Metrics) Meter() metric.Meter { return m.meter }

// SDKHandler is the metrics handler for client.Options.MetricsHandler: the
// SDK's own metrics, and those workflows and activities record through
// workflow.GetMetricsHandler and activity.GetMetricsHandler.
func (m *Metrics) SDKHandler() client.MetricsHandler {
	if !m.Enabled() {
		return client.MetricsNopHandler
	}
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: m.provider.Meter("temporal-sdk-go"),
		// Counters as Prometheus counters (_total), not gauges.
		UseMonotonicCounters: true,
		OnError:              func(error) {}, // an instrument that cannot be created records nothing rather than panicking
	})
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	if !m.Enabled() {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Serve listens on addr and serves /metrics until ctx ends. The listener is
// opened before Serve returns, so a port already in use is reported at once.
func (m *Metrics) Serve(ctx context.Context, addr string) (net.Addr, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics listener on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		done <- err
	}()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	return ln.Addr(), done, nil
}

// Shutdown releases the meter provider.
func (m *Metrics) Shutdown(ctx context.Context) error {
	if !m.Enabled() {
		return nil
	}
	return m.provider.Shutdown(ctx)
}
