package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// MetricPayloadDecodeBlocked counts the payloads a worker could not decrypt
// (no keys, not the key a history was written with), by reason: each one
// blocked a workflow task, which the server retries until a worker with
// the key takes it. Alert on any increase.
const MetricPayloadDecodeBlocked = "imagefleet_payload_decode_blocked_total"

// PayloadDecodeBlocked returns the function that counts one blocked decode
// with its reason (codec.Reason*) and the key the payload names.
func (m *Metrics) PayloadDecodeBlocked() (func(reason, keyID string), error) {
	c, err := m.meter.Int64Counter(MetricPayloadDecodeBlocked,
		metric.WithDescription("Payloads this worker could not decrypt; each blocked a workflow task (retried) until a worker with the key takes it"))
	if err != nil {
		return nil, err
	}
	return func(reason, keyID string) {
		c.Add(context.Background(), 1, metric.WithAttributes(attribute.String("reason", reason), attribute.String("key_id", keyID)))
	}, nil
}
