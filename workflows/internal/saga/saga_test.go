package saga

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// TestCompensateAfterCancel checks that compensations run in reverse order,
// go on past a failure, and still run when the workflow was cancelled.
func TestCompensateAfterCancel(t *testing.T) {
	var ran []string
	wf := func(ctx workflow.Context) error {
		var s Saga
		for _, name := range []string{"vpc", "vswitch", "instance"} {
			s.Add(name, func(ctx workflow.Context) error {
				// A timer on a cancelled context would fail at once: this
				// one must be on the disconnected context to run.
				if err := workflow.Sleep(ctx, time.Second); err != nil {
					return err
				}
				ran = append(ran, name)
				if name == "vswitch" {
					return errors.New("vswitch busy")
				}
				return nil
			})
		}
		_ = workflow.Sleep(ctx, time.Hour) // cancelled here
		err := s.Compensate(ctx)
		require.ErrorContains(t, err, "vswitch busy")
		require.Zero(t, s.Len())
		require.NoError(t, s.Compensate(ctx), "compensations run once")
		return ctx.Err()
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(wf)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)

	env.ExecuteWorkflow(wf)

	require.True(t, env.IsWorkflowCompleted())
	require.Equal(t, []string{"instance", "vswitch", "vpc"}, ran)
}

// TestTransfer checks that transferred compensations leave the saga (they
// are another owner's now) and that the rest still run.
func TestTransfer(t *testing.T) {
	var ran []string
	wf := func(ctx workflow.Context) ([]string, error) {
		var s Saga
		for _, name := range []string{"task", "processes", "standby"} {
			s.Add(name, func(workflow.Context) error { ran = append(ran, name); return nil })
		}
		moved := s.Transfer("task", "processes", "unknown")
		var names []string
		for _, c := range moved {
			names = append(names, c.Name)
		}
		return names, s.Compensate(ctx)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.ExecuteWorkflow(wf)
	require.NoError(t, env.GetWorkflowError())
	var moved []string
	require.NoError(t, env.GetWorkflowResult(&moved))
	require.Equal(t, []string{"task", "processes"}, moved, "in the order they were added")
	require.Equal(t, []string{"standby"}, ran)
}
