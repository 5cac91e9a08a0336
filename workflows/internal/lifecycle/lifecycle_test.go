package lifecycle

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
)

type run struct {
	Refusal  string
	Commands bool
}

// startWorkflow runs Start with a spec that is valid or not and ends.
func startWorkflow(ctx workflow.Context, wantID string, valid bool) (string, error) {
	var st details.State
	var r run
	err := Start(ctx, &st, Setup{
		Queries:          []Query{{Name: "progress", Handler: func() (run, error) { return r, nil }}},
		WorkflowID:       wantID,
		SearchAttributes: []temporal.SearchAttributeUpdate{model.SAOperation.ValueSet(model.OperationRollout)},
		Validate: func() error {
			if !valid {
				return errors.New("batches must be 1 to 100")
			}
			return nil
		},
		Refused:  func(err error) { r.Refusal = err.Error() },
		Commands: func(workflow.Context) error { r.Commands = true; return nil },
	})
	return st.Current(), err
}

func TestStart(t *testing.T) {
	for _, tc := range []struct {
		name, id       string
		valid          bool
		errType, state string
		commands       bool
	}{
		{name: "starts", id: "wf", valid: true, state: model.StateRunning, commands: true},
		{name: "wrong workflow ID", id: "other", valid: true, errType: ErrTypeWrongWorkflowID},
		{name: "invalid spec", id: "wf", errType: ErrTypeInvalidSpec, state: model.StateFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestWorkflowEnvironment()
			env.RegisterWorkflowWithOptions(startWorkflow, workflow.RegisterOptions{Name: "start"})
			env.SetStartWorkflowOptions(startOptions("wf"))
			env.ExecuteWorkflow("start", tc.id, tc.valid)
			v, err := env.QueryWorkflow("progress")
			require.NoError(t, err, "the query answers for a refused run too")
			var r run
			require.NoError(t, v.Get(&r))
			require.Equal(t, tc.commands, r.Commands)
			if tc.errType != "" {
				require.True(t, IsType(env.GetWorkflowError(), tc.errType), env.GetWorkflowError())
				require.NotEmpty(t, r.Refusal)
				return
			}
			require.NoError(t, env.GetWorkflowError())
			var state string
			require.NoError(t, env.GetWorkflowResult(&state))
			require.Equal(t, tc.state, state)
		})
	}
}

func TestEndState(t *testing.T) {
	require.Equal(t, model.StateSucceeded, EndState(nil, false))
	require.Equal(t, model.StateAborted, EndState(errors.New("x"), true))
	require.Equal(t, model.StateAborted, EndState(temporal.NewCanceledError(), false))
	require.Equal(t, model.StateFailed, EndState(errors.New("x"), false))
	require.Equal(t, "inner", RootMessage(temporal.NewApplicationError("inner", "T")))
}

func startOptions(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id}
}
