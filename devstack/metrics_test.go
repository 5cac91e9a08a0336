package main

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/internal/telemetry"
)

// TestMetricsSaysWhichEndpointsDidNotAnswer: `devstack metrics
// --metrics-url a,b` prints what a answered, and fails naming b when b
// does not answer, rather than print a's figures as if they were all.
func TestMetricsSaysWhichEndpointsDidNotAnswer(t *testing.T) {
	m, err := telemetry.NewMetrics()
	require.NoError(t, err)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	require.NoError(t, printMetrics(t.Context(), 0, srv.URL))
	err = printMetrics(t.Context(), 0, srv.URL+",http://127.0.0.1:1/metrics")
	require.ErrorContains(t, err, "1 of 2 metrics endpoints did not answer and are not counted: http://127.0.0.1:1/metrics")
}
