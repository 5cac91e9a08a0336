package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// MetricRunsWaiting is the number of runs that wait for an operator now.
const MetricRunsWaiting = "imagefleet_runs_waiting_for_operator"

// ObserveWaitingRuns registers the gauge of runs waiting for an operator,
// by operation. count asks Temporal's visibility at scrape time, so the
// figure is the namespace's, whichever worker ran the runs (every worker
// reports the same value: aggregate with max, not sum).
func (m *Metrics) ObserveWaitingRuns(operations []string, count func(ctx context.Context, operation string) (int64, error)) error {
	_, err := m.meter.Int64ObservableGauge(MetricRunsWaiting,
		metric.WithDescription("Runs waiting for an operator decision now, by operation (from Temporal visibility)"),
		metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			for _, op := range operations {
				n, err := count(ctx, op)
				if err != nil {
					return nil // no figure rather than a wrong one; the scrape goes on
				}
				o.Observe(n, metric.WithAttributes(attribute.String("operation", op)))
			}
			return nil
		}))
	return err
}
