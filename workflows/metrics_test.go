package workflows

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/internal/telemetry"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
)

// metricsSuite is a test suite recording into Prometheus metrics, and a
// function that scrapes them.
func metricsSuite(t *testing.T) (*testsuite.WorkflowTestSuite, func() *telemetry.Snapshot) {
	m, err := telemetry.NewMetrics()
	require.NoError(t, err)
	var s testsuite.WorkflowTestSuite
	s.SetMetricsHandler(m.SDKHandler())
	return &s, func() *telemetry.Snapshot {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		snap, err := telemetry.Parse(rec.Body)
		require.NoError(t, err)
		return snap
	}
}

func TestDistributionMetrics(t *testing.T) {
	s, scrape := metricsSuite(t)
	env := &distributionEnv{TestWorkflowEnvironment: s.NewTestWorkflowEnvironment()}
	env.RegisterActivityWithOptions(metrics.Record, activity.RegisterOptions{Name: metrics.RecordActivity})
	env.RegisterWorkflowWithOptions(DistributeImagePackage, workflow.RegisterOptions{Name: model.DistributeWorkflowType})
	env.RegisterActivity(&activities.Images{})
	env.RegisterActivity(&activities.Packages{})
	var fixed atomic.Bool
	env.failRegion("eu-west-1", &fixed)
	env.RegisterDelayedCallback(func() {
		fixed.Store(true)
		env.command(model.CommandRetryRegion, model.RegionCommand{Region: "eu-west-1"})
	}, 10*time.Minute)
	env.execute(validSpec())
	require.NoError(t, env.GetWorkflowError())

	snap := scrape()
	op := map[string]string{"operation": model.OperationDistribute}
	require.Equal(t, 1.0, snap.Sum("imagefleet_operations_started_total", op))
	require.Equal(t, 1.0, snap.Sum("imagefleet_operations_ended_total", map[string]string{"operation": model.OperationDistribute, "state": model.StateSucceeded}))
	require.Equal(t, 1.0, snap.Sum("imagefleet_operator_waits_total", op))
	waits := snap.Series("imagefleet_operator_wait_duration_seconds", op)
	require.Len(t, waits, 1)
	require.Equal(t, 1.0, waits[0].Value)
	require.InDelta(t, 10*60, waits[0].Sum, 60, "the wait lasted until the operator's retry, 10 minutes in")
	copies := snap.Series("imagefleet_image_copy_duration_seconds", nil)
	require.Len(t, copies, 3, "one series per destination region")
	for _, c := range copies {
		require.Equal(t, 1.0, c.Value, "one finished copy into %s (the failed one is not counted)", c.Labels["region"])
	}
}

func TestRolloutInstanceMetrics(t *testing.T) {
	s, scrape := metricsSuite(t)
	env := newRolloutEnv(t, 4)
	env.TestWorkflowEnvironment = s.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(metrics.Record, activity.RegisterOptions{Name: metrics.RecordActivity})
	env.RegisterWorkflowWithOptions(RollingUpdate, workflow.RegisterOptions{Name: model.RolloutWorkflowType})
	env.RegisterWorkflowWithOptions(RollingUpdateBatch, workflow.RegisterOptions{Name: model.RolloutBatchWorkflowType})
	env.RegisterActivity(&activities.Rollouts{})
	env.fails["i-02"] = 1
	spec := rolloutSpec(2, model.PauseNone)
	spec.ErrorThreshold = 1
	env.execute(spec)
	require.Equal(t, model.RolloutSucceeded, env.result().Status)

	snap := scrape()
	tt := map[string]string{"task_type": model.TaskImage}
	require.Equal(t, 3.0, snap.Sum("imagefleet_instances_changed_total", tt))
	require.Equal(t, 1.0, snap.Sum("imagefleet_instances_failed_total", tt))
	require.Equal(t, 1.0, snap.Sum("imagefleet_operations_started_total", map[string]string{"operation": model.OperationRollout}))
	require.Equal(t, 1.0, snap.Sum("imagefleet_operations_ended_total", map[string]string{"operation": model.OperationRollout, "state": model.StateSucceeded}))
	require.Zero(t, snap.Sum("imagefleet_operator_waits_total", nil))
	for _, se := range snap.Series("imagefleet_instances_changed_total", nil) {
		for k := range se.Labels {
			require.NotContains(t, []string{"instance", "instance_id", "image"}, k, fmt.Sprint(se.Labels))
		}
	}
}

// TestMetricsDocumented: README lists every imagefleet metric under its
// exported name, and the Grafana dashboard queries only those.
func TestMetricsDocumented(t *testing.T) {
	exported := func(name string) string { // timers are exported in seconds
		if strings.HasSuffix(name, "_duration") {
			return name + "_seconds"
		}
		return name
	}
	var names []string
	for _, n := range []string{metrics.OperationsStarted, metrics.OperationsEnded, metrics.OperatorWaits, metrics.OperatorWaitDuration,
		metrics.InstancesChanged, metrics.InstancesFailed, metrics.ImageCopyDuration,
		telemetry.MetricCloudRequests, telemetry.MetricCloudRequestDuration, telemetry.MetricRunsWaiting} {
		names = append(names, exported(n))
	}
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	documented := regexp.MustCompile("(?m)^\\| `(imagefleet_[a-z_]+)`").FindAllStringSubmatch(string(readme), -1)
	var listed []string
	for _, m := range documented {
		listed = append(listed, m[1])
	}
	require.ElementsMatch(t, names, listed, "README's metrics table")

	dashboard, err := os.ReadFile("../deploy/grafana/imagefleet.json")
	require.NoError(t, err)
	for _, m := range regexp.MustCompile(`imagefleet_[a-z_]+`).FindAllString(string(dashboard), -1) {
		m = strings.TrimSuffix(m, "_bucket")
		require.Contains(t, names, m, "the dashboard queries a metric that does not exist")
	}
}

// TestMetricsCountedAtCommit: workflow code records no metric itself (a
// workflow task whose completion the server rejects, or whose worker dies,
// executes again and would count again); every event of the run reaches
// the RecordMetrics activity, which a task schedules only once the server
// accepted it, in a few sends per run.
func TestMetricsCountedAtCommit(t *testing.T) {
	s, scrape := metricsSuite(t)
	env := &distributionEnv{TestWorkflowEnvironment: s.NewTestWorkflowEnvironment()}
	env.RegisterWorkflowWithOptions(DistributeImagePackage, workflow.RegisterOptions{Name: model.DistributeWorkflowType})
	env.RegisterActivity(&activities.Images{})
	env.RegisterActivity(&activities.Packages{})
	env.RegisterActivityWithOptions(metrics.Record, activity.RegisterOptions{Name: metrics.RecordActivity})
	var sends [][]metrics.Event
	env.OnActivity(metrics.RecordActivity, mock.Anything, mock.Anything).Return(func(_ context.Context, events []metrics.Event) error {
		sends = append(sends, events)
		return nil
	})
	var fixed atomic.Bool
	env.failRegion("eu-west-1", &fixed)
	env.RegisterDelayedCallback(func() {
		fixed.Store(true)
		env.command(model.CommandRetryRegion, model.RegionCommand{Region: "eu-west-1"})
	}, 10*time.Minute)
	env.execute(validSpec())
	require.NoError(t, env.GetWorkflowError())

	snap := scrape()
	for _, name := range []string{metrics.OperationsStarted, metrics.OperationsEnded, metrics.OperatorWaits} {
		require.Zero(t, snap.Sum(name, nil), "%s is not recorded by workflow code", name)
	}
	require.Empty(t, snap.Series(metrics.ImageCopyDuration+"_seconds", nil), "copies are not recorded by workflow code")

	counts, observed := map[string]int64{}, map[string]int{}
	for _, events := range sends {
		for _, e := range events {
			require.Contains(t, []string{"", model.OperationDistribute}, e.Operation)
			if e.Count != 0 {
				counts[e.Metric+"/"+e.State] += e.Count
			}
			if len(e.Durations) > 0 {
				observed[e.Metric] += len(e.Durations)
			}
		}
	}
	require.Equal(t, map[string]int64{
		metrics.OperationsStarted + "/":                      1,
		metrics.OperatorWaits + "/":                          1,
		metrics.OperationsEnded + "/" + model.StateSucceeded: 1,
	}, counts)
	require.Equal(t, map[string]int{metrics.ImageCopyDuration: 3, metrics.OperatorWaitDuration: 1}, observed)
	require.LessOrEqual(t, len(sends), 4, "a few sends per run: started, waiting, (5 minutes on), ended")
}
