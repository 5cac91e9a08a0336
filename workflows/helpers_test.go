package workflows

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/imagefleet/imagefleet/internal/payload"
	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
)

// newTestEnv is an SDK test environment with imagefleet's data converter
// (strict JSON), as the worker has.
func newTestEnv(s *testsuite.WorkflowTestSuite) *testsuite.TestWorkflowEnvironment {
	env := s.NewTestWorkflowEnvironment()
	env.SetDataConverter(payload.Converter)
	env.SetWorkerOptions(worker.Options{Interceptors: Interceptors()})
	env.RegisterActivityWithOptions(metrics.Record, activity.RegisterOptions{Name: metrics.RecordActivity})
	return env
}

// executeAs runs workflowType under workflowID: every workflow refuses any
// ID but its canonical one.
func executeAs(env *testsuite.TestWorkflowEnvironment, workflowID, workflowType string, input any) {
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflowID})
	env.ExecuteWorkflow(workflowType, input)
}

// updateOutcome is what became of an update: rejected (with the
// validator's reason) or accepted.
type updateOutcome struct {
	decided  bool
	rejected error
}

// sendCommand sends an operator command as an update. The test environment
// validates it when the workflow next runs, so check the outcome in a later
// callback.
func sendCommand(env *testsuite.TestWorkflowEnvironment, name string, payload any) *updateOutcome {
	outcome := &updateOutcome{}
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { outcome.decided, outcome.rejected = true, err },
		OnAccept:   func() { outcome.decided = true },
		OnComplete: func(any, error) {},
	}, payload)
	return outcome
}

func (o *updateOutcome) requireAccepted(t *testing.T) {
	t.Helper()
	require.True(t, o.decided, "update not decided yet")
	require.NoError(t, o.rejected)
}

func (o *updateOutcome) requireRejected(t *testing.T, reason string) {
	t.Helper()
	require.True(t, o.decided, "update not decided yet")
	require.ErrorContains(t, o.rejected, reason)
}

// queryProgress asks the run's query (model.QueryProgress and the like) and
// decodes its answer as a T.
func queryProgress[T any](t *testing.T, env *testsuite.TestWorkflowEnvironment, query string) T {
	t.Helper()
	v, err := env.QueryWorkflow(query)
	require.NoError(t, err)
	var p T
	require.NoError(t, v.Get(&p))
	return p
}

// guard serializes what mocked activities, each on its own goroutine,
// record for a test.
type guard struct{ mu sync.Mutex }

func (g *guard) locked(f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f()
}
