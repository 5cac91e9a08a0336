package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/telemetry"
	"github.com/imagefleet/imagefleet/model"
)

// TestMetricsAfterDistributionAndRollout scrapes the worker's /metrics after
// a distribution and a rolling update and finds the SDK's series and
// imagefleet's with the counts the two operations imply.
func TestMetricsAfterDistributionAndRollout(t *testing.T) {
	e := newEnv(t, 0.0005)
	regions := []string{"cn-shanghai", "cn-beijing", "eu-central-1"}
	out, code := e.starter("distribute", "--package", "e2e_metrics", "--version", "v1_0_0", "--description", "counted in the metrics",
		"--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", strings.Join(regions, ","))
	require.Equal(t, 0, code, out)
	out, code = e.starter("rollout", "start", cloudsim.GroupWeb, "--type", "image", "--image", cloudsim.ImageWebappV2,
		"--batches", "2", "--watch")
	require.Equal(t, 0, code, out)

	urls := e.stack.MetricsURLs()
	require.Len(t, urls, 1)
	snap, err := telemetry.Scrape(t.Context(), urls)
	require.NoError(t, err)
	var text strings.Builder
	require.NoError(t, snap.Print(&text))
	t.Log("\n" + text.String())

	// imagefleet's own series.
	for _, op := range []string{model.OperationDistribute, model.OperationRollout} {
		require.Equal(t, 1.0, snap.Sum("imagefleet_operations_started_total", map[string]string{"operation": op}), op)
		require.Equal(t, 1.0, snap.Sum("imagefleet_operations_ended_total", map[string]string{"operation": op, "state": model.StateSucceeded}), op)
		// Counted in the shared namespace, where other tests' runs may wait.
		require.Len(t, snap.Series("imagefleet_runs_waiting_for_operator", map[string]string{"operation": op}), 1, op)
	}
	copies := snap.Series("imagefleet_image_copy_duration_seconds", nil)
	require.Len(t, copies, len(regions))
	for _, c := range copies {
		require.Contains(t, regions, c.Labels["region"])
		require.Equal(t, 1.0, c.Value, c.Labels["region"])
		require.Positive(t, c.Sum)
	}
	image := map[string]string{"task_type": model.TaskImage}
	require.Equal(t, float64(len(webInstances())), snap.Sum("imagefleet_instances_changed_total", image))
	require.Zero(t, snap.Sum("imagefleet_instances_failed_total", image))
	require.Equal(t, float64(len(regions)), snap.Sum("imagefleet_cloud_requests_total", map[string]string{"action": "CopyImage", "outcome": "ok"}))
	require.Equal(t, float64(len(webInstances())), snap.Sum("imagefleet_cloud_requests_total", map[string]string{"action": "ReplaceSystemDisk", "outcome": "ok"}))
	require.Equal(t, float64(len(regions)), snap.Sum("imagefleet_cloud_request_duration_seconds", map[string]string{"action": "CopyImage", "outcome": "ok"}),
		"the latency histogram counts every call")
	require.Positive(t, snap.Sum("imagefleet_cloud_requests_total", map[string]string{"action": "DescribeImages", "outcome": "ok"}))
	for _, se := range snap.Series("imagefleet_cloud_requests_total", nil) {
		require.ElementsMatch(t, []string{"action", "outcome"}, keys(se.Labels), "bounded labels only")
	}

	// The SDK's own series, through the contrib OpenTelemetry handler.
	for _, wf := range []string{model.DistributeWorkflowType, model.RolloutWorkflowType} {
		require.Equal(t, 1.0, snap.Sum("temporal_workflow_completed_total", map[string]string{"workflow_type": wf, "task_queue": model.TaskQueue}), wf)
	}
	require.Equal(t, 2.0, snap.Sum("temporal_activity_execution_latency_seconds", map[string]string{"activity_type": "ApplyChangeChunk"}),
		"one chunk activity per batch of 5 instances")
	require.Equal(t, float64(len(regions)), snap.Sum("temporal_activity_execution_latency_seconds", map[string]string{"activity_type": "StartImageCopy"}))
	require.Positive(t, snap.Sum("temporal_request_total", nil))
	require.Positive(t, snap.Sum("temporal_workflow_task_execution_latency_seconds", nil))
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
