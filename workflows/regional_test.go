package workflows

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// regionalCase is a distribution or a publication with one region whose
// delivery keeps failing, so that the run waits for the operator.
type regionalCase struct {
	env *testsuite.TestWorkflowEnvironment
	// run runs the workflow to its end.
	run func()
	// shown is the run's phase and what it waits for, from its query.
	shown func(t *testing.T) (phase, waitingFor string)
	// undone checks that what the run made was deleted.
	undone func(t *testing.T)
}

var regionalCases = map[string]func(t *testing.T) regionalCase{
	"distribution": func(t *testing.T) regionalCase {
		env := newDistributionEnv(t)
		env.failRegion("eu-west-1", nil)
		return regionalCase{
			env: env.TestWorkflowEnvironment,
			run: func() { env.execute(validSpec()) },
			shown: func(t *testing.T) (string, string) {
				p := env.progress(t)
				return p.Phase, p.WaitingFor
			},
			undone: func(t *testing.T) { require.Len(t, env.deleted, 3, "every copy it made is deleted") },
		}
	},
	"publication": func(t *testing.T) regionalCase {
		env := newPublishEnv(t)
		env.failFileCopy("eu-west-1")
		return regionalCase{
			env: env.TestWorkflowEnvironment,
			run: func() { env.execute(fileVersion()) },
			shown: func(t *testing.T) (string, string) {
				p := env.progress(t)
				return p.Phase, p.WaitingFor
			},
			undone: func(t *testing.T) {
				require.Equal(t, []string{"cn-shanghai"}, env.deleted, "the copy made is deleted")
				p := env.progress(t)
				require.Equal(t, model.RegionDeleted, p.Region("cn-shanghai").State)
			},
		}
	},
}

// cancel stops a distribution and a publication under its name and under
// its deprecated alias abort, sent as an update or as a signal.
func TestRegionalCancelUnderEitherNameBySignalOrUpdate(t *testing.T) {
	for op, newCase := range regionalCases {
		//lint:ignore SA1019 the deprecated name is still accepted: this is where it is kept working
		for _, name := range []string{model.CommandCancel, model.CommandAbort} {
			for _, asSignal := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s %s signal=%v", op, name, asSignal), func(t *testing.T) {
					c := newCase(t)
					var sent *updateOutcome
					c.env.RegisterDelayedCallback(func() {
						_, waitingFor := c.shown(t)
						require.Contains(t, waitingFor, "drop-region or cancel", "the operator is offered cancel")
						if asSignal {
							c.env.SignalWorkflow(name, model.CancelCommand{Reason: "wrong content"})
						} else {
							sent = sendCommand(c.env, name, model.CancelCommand{Reason: "wrong content"})
						}
					}, time.Minute)

					c.run()

					if sent != nil {
						sent.requireAccepted(t)
					}
					require.True(t, lifecycle.IsType(c.env.GetWorkflowError(), ErrTypeAborted), c.env.GetWorkflowError())
					require.ErrorContains(t, c.env.GetWorkflowError(), "wrong content")
					c.undone(t)
					phase, waitingFor := c.shown(t)
					require.Equal(t, model.PhaseAborted, phase)
					require.Empty(t, waitingFor, "an ended run waits for nothing")
				})
			}
		}
	}
}

// recordStates records every value the run gives the ImagefleetState
// search attribute, in order.
func recordStates(env *testsuite.TestWorkflowEnvironment) *[]string {
	var states []string
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if state, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(model.SAState); ok {
			states = append(states, state)
		}
	}).Return(nil)
	return &states
}

// The state search attribute follows the run: waiting for the operator
// while a region has failed, then Running again after the decision, and the
// end state; a cancelled run compensates before it ends Aborted.
func TestRegionalStateFollowsTheRun(t *testing.T) {
	decisions := map[string]struct {
		command string
		payload any
		want    []string
	}{
		"drop": {model.CommandDropRegion, model.RegionCommand{Region: "eu-west-1"},
			[]string{model.StateRunning, model.StateWaitingForOperator, model.StateRunning, model.StateSucceeded}},
		"cancel": {model.CommandCancel, model.CancelCommand{Reason: "wrong content"},
			[]string{model.StateRunning, model.StateWaitingForOperator, model.StateCompensating, model.StateAborted}},
	}
	for op, newCase := range regionalCases {
		for name, d := range decisions {
			t.Run(op+" "+name, func(t *testing.T) {
				c := newCase(t)
				states := recordStates(c.env)
				c.env.RegisterDelayedCallback(func() { c.env.SignalWorkflow(d.command, d.payload) }, time.Minute)

				c.run()

				require.Equal(t, d.want, *states)
			})
		}
	}
}
