package workflows

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/imagefleet/imagefleet/internal/payload"
)

// newTestEnv is an SDK test environment with imagefleet's data converter
// (strict JSON), as the worker has.
func newTestEnv(s *testsuite.WorkflowTestSuite) *testsuite.TestWorkflowEnvironment {
	env := s.NewTestWorkflowEnvironment()
	env.SetDataConverter(payload.Converter)
	env.SetWorkerOptions(worker.Options{Interceptors: Interceptors()})
	return env
}

// executeAs runs workflowType under workflowID: every workflow refuses any
// ID but its canonical one.
func executeAs(env *testsuite.TestWorkflowEnvironment, workflowID, workflowType string, input any) {
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflowID})
	env.ExecuteWorkflow(workflowType, input)
}
