package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// The operator commands of a deployment: promote at a gate, promote-full,
// cancel (and its old name abort) in every phase, a Temporal cancellation.

func TestBlueGreenManualGate(t *testing.T) {
	env := newBlueGreenEnv(t)
	w := func(n int) *int { return &n }
	strategy := model.ShiftStrategy{Type: model.StrategySteps, Steps: []model.ShiftStep{
		{SetWeight: w(20)}, {Pause: &model.PauseStep{}}, {SetWeight: w(60)}, {Pause: &model.PauseStep{Duration: "5m"}},
	}}
	// Green takes 10 minutes to start: a promote before the gate is refused.
	env.OnActivity(deployments.AwaitGreenStable, mock.Anything, mock.Anything).After(10*time.Minute).Return(&model.TaskSetProgress{
		ID: greenID, Arn: "arn:" + greenID, Desired: 4, Running: 4, Stability: cloud.StabilitySteady}, nil)
	var early *updateOutcome
	env.RegisterDelayedCallback(func() {
		early = env.command(model.CommandPromote, model.PromoteCommand{})
	}, 5*time.Minute)
	env.RegisterDelayedCallback(func() {
		p := env.progress(t)
		require.Equal(t, 1, p.Step)
		require.Contains(t, p.WaitingFor, model.CommandPromote)
		require.Equal(t, model.Weights{Blue: 80, Green: 20}, p.Weights)
		// The gate holds for days until promote.
		env.RegisterDelayedCallback(func() {
			require.Equal(t, 1, env.progress(t).Step)
			promote := env.command(model.CommandPromote, model.PromoteCommand{})
			again := env.command(model.CommandPromote, model.PromoteCommand{})
			env.RegisterDelayedCallback(func() {
				promote.requireAccepted(t)
				again.requireRejected(t, "not paused")
				require.Equal(t, model.Weights{Blue: 40, Green: 60}, env.progress(t).Weights)
			}, time.Second)
		}, 72*time.Hour)
	}, time.Hour)
	env.execute(blueGreenSpec(strategy))
	early.requireRejected(t, "not paused")
	env.requireDeployed(t, 20, 60, 100)
}

func TestBlueGreenPromoteFullSkipsRemainingSteps(t *testing.T) {
	env := newBlueGreenEnv(t)
	var full *updateOutcome
	env.RegisterDelayedCallback(func() {
		full = env.command(model.CommandPromote, model.PromoteCommand{Full: true})
	}, 10*time.Minute)
	env.RegisterDelayedCallback(func() {
		full.requireAccepted(t)
		require.Equal(t, model.BGPhaseTerminationWait, env.progress(t).Phase)
		again := env.command(model.CommandPromoteFull, model.PromoteCommand{})
		env.RegisterDelayedCallback(func() { again.requireRejected(t, "promote-full") }, time.Second)
	}, 11*time.Minute)
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyLinear, Percent: 10, Interval: "1h"}))
	result := env.requireDeployed(t, 10, 100)
	require.True(t, result.Promoted)
}

func TestBlueGreenPromoteFullBySignal(t *testing.T) {
	env := newBlueGreenEnv(t)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(model.CommandPromoteFull, model.PromoteCommand{})
	}, 10*time.Minute)
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyCanary, Percent: 5, Interval: "24h"}))
	env.requireDeployed(t, 5, 100)
}

// TestBlueGreenAbortAtEveryStep aborts in every phase that allows it and
// checks that everything is back as before.
func TestBlueGreenAbortAtEveryStep(t *testing.T) {
	w := func(n int) *int { return &n }
	steps := model.ShiftStrategy{Type: model.StrategySteps, Steps: []model.ShiftStep{
		{SetWeight: w(10)}, {Pause: &model.PauseStep{Duration: "1h"}}, {SetWeight: w(50)}, {Pause: &model.PauseStep{}},
	}}
	for _, tc := range []struct {
		name    string
		at      time.Duration
		slow    func(env *blueGreenEnv) // makes the phase last
		phase   string
		weights model.Weights
	}{
		{"while green starts", 5 * time.Minute, func(env *blueGreenEnv) {
			env.OnActivity(deployments.AwaitGreenStable, mock.Anything, mock.Anything).After(10*time.Minute).Return(nil, nil).Once()
		}, model.BGPhaseCreatingGreen, model.Weights{Blue: 100}},
		{"while green is tested", 5 * time.Minute, func(env *blueGreenEnv) {
			env.OnActivity(deployments.CheckTargetHealth, mock.Anything, mock.Anything).After(10*time.Minute).Return(&activities.HealthReport{}, nil).Once()
		}, model.BGPhaseTesting, model.Weights{Blue: 100}},
		{"during a timed pause", 30 * time.Minute, nil, model.BGPhaseShifting, model.Weights{Blue: 90, Green: 10}},
		{"at the manual gate", 3 * time.Hour, nil, model.BGPhaseShifting, model.Weights{Blue: 50, Green: 50}},
		{"during the termination wait", 3 * time.Hour, func(env *blueGreenEnv) {
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(model.CommandPromote, model.PromoteCommand{}) }, 2*time.Hour)
		}, model.BGPhaseTerminationWait, model.Weights{Green: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newBlueGreenEnv(t)
			if tc.slow != nil {
				tc.slow(env)
			}
			spec := blueGreenSpec(steps)
			spec.TerminationWait = "2h"
			spec.HealthCheckInterval = "10m"
			env.RegisterDelayedCallback(func() {
				p := env.progress(t)
				require.Equal(t, tc.phase, p.Phase)
				require.Equal(t, tc.weights, p.Weights)
				abort := env.command(model.CommandCancel, model.CancelCommand{Reason: "bad release"})
				env.RegisterDelayedCallback(func() { abort.requireAccepted(t) }, time.Second)
			}, tc.at)
			env.execute(spec)
			p := env.requireRolledBack(t, ErrTypeAborted)
			require.Equal(t, "bad release", p.AbortReason)
			require.Equal(t, model.Weights{Blue: 100}, p.Weights)
		})
	}
}

func TestBlueGreenCancelRollsBack(t *testing.T) {
	env := newBlueGreenEnv(t)
	env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Minute)
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyCanary, Percent: 10, Interval: "1h"}))
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), env.GetWorkflowError())
	prod, _, primary, removed := env.cloud.snapshot()
	require.Equal(t, map[string]int{tgBlue: 1}, prod)
	require.Equal(t, blueID, primary)
	require.Equal(t, []string{greenID}, removed)
}

// item 12: promote-full skips the shifting steps, not the termination wait,
// the last window in which abort still rolls back.
func TestBlueGreenPromoteFullKeepsTheTerminationWait(t *testing.T) {
	env := newBlueGreenEnv(t)
	spec := blueGreenSpec(model.ShiftStrategy{Type: model.StrategyLinear, Percent: 10, Interval: "1h"})
	spec.TerminationWait = "2h"
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(model.CommandPromoteFull, model.PromoteCommand{}) }, 10*time.Minute)
	env.RegisterDelayedCallback(func() {
		p := env.progress(t)
		require.Equal(t, model.BGPhaseTerminationWait, p.Phase)
		require.Equal(t, model.Weights{Green: 100}, p.Weights)
		abort := env.command(model.CommandCancel, model.CancelCommand{Reason: "errors after the full shift"})
		env.RegisterDelayedCallback(func() { abort.requireAccepted(t) }, time.Second)
	}, time.Hour)
	env.execute(spec)
	p := env.requireRolledBack(t, ErrTypeAborted)
	require.Equal(t, model.Weights{Blue: 100}, p.Weights)
}

// TestBlueGreenCancelUnderBothNames: cancel stops a deployment, and abort,
// its deprecated old name, still does the same; the gate names cancel.
func TestBlueGreenCancelUnderBothNames(t *testing.T) {
	//lint:ignore SA1019 the deprecated name is still accepted: this is where it is kept working
	for _, names := range [][2]string{{model.CommandCancel, model.CommandAbort}, {model.CommandAbort, model.CommandCancel}} {
		t.Run(names[0], func(t *testing.T) {
			env := newBlueGreenEnv(t)
			var first, again *updateOutcome
			env.RegisterDelayedCallback(func() {
				p := env.progress(t)
				require.Equal(t, model.BGPhaseShifting, p.Phase)
				require.Contains(t, p.WaitingFor, model.CommandCancel)
				//lint:ignore SA1019 the deprecated name is still accepted: this is where it is kept working
				require.NotContains(t, p.WaitingFor, model.CommandAbort)
				first = env.command(names[0], model.CancelCommand{Reason: "sent as " + names[0]})
				again = env.command(names[1], model.CancelCommand{})
			}, time.Hour)
			env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategySteps, Steps: []model.ShiftStep{{Pause: &model.PauseStep{}}}}))
			p := env.requireRolledBack(t, ErrTypeAborted)
			require.Equal(t, "sent as "+names[0], p.AbortReason)
			first.requireAccepted(t)
			again.requireRejected(t, "already being cancelled")
		})
	}
}
