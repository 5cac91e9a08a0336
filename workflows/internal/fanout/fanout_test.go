package fanout

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

func TestEachRespectsLimit(t *testing.T) {
	running, most, done := 0, 0, 0
	wf := func(ctx workflow.Context, limit int) (int, error) {
		Each(ctx, []int{1, 2, 3, 4, 5, 6, 7}, limit, func(ctx workflow.Context, item int) {
			running++
			most = max(most, running)
			_ = workflow.Sleep(ctx, time.Duration(item)*time.Minute)
			running--
			done++
		})
		return done, nil
	}
	for _, tc := range []struct{ limit, want int }{{0, 7}, {3, 3}, {1, 1}} {
		running, most, done = 0, 0, 0
		var suite testsuite.WorkflowTestSuite
		env := suite.NewTestWorkflowEnvironment()
		env.RegisterWorkflow(wf)
		env.ExecuteWorkflow(wf, tc.limit)
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, 7, done, "every item ran")
		require.Equal(t, tc.want, most, "limit %d", tc.limit)
	}
}
