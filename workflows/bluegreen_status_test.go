package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/model"
)

// The blue/green state machine, rule by rule.
func TestBlueGreenStatusRules(t *testing.T) {
	t.Run("promote ends a pause once", func(t *testing.T) {
		var s blueGreenStatus
		s.enter(model.BGPhaseShifting)
		s.promote(false)
		require.False(t, s.promoted(), "no pause to end")
		s.beginPause()
		require.True(t, s.paused())
		s.promote(false)
		require.True(t, s.promoted())
		require.True(t, s.paused(), "still in the pause until it ends")
		s.endPause()
		require.False(t, s.paused())
		require.False(t, s.promoted())
		s.beginPause()
		require.False(t, s.promoted(), "a new pause needs its own promote")
	})
	t.Run("promote-full is one-way and ends a pause", func(t *testing.T) {
		var s blueGreenStatus
		s.enter(model.BGPhaseShifting)
		s.beginPause()
		s.promote(true)
		require.True(t, s.full)
		require.True(t, s.promoted())
		s.endPause()
		s.promote(false)
		require.True(t, s.full)
	})
	t.Run("promote-full applies only until all traffic is shifted", func(t *testing.T) {
		var s blueGreenStatus
		for _, phase := range []string{model.BGPhaseValidating, model.BGPhaseCreatingGreen, model.BGPhaseTesting, model.BGPhaseShifting} {
			s.enter(phase)
			require.True(t, s.shifting(), phase)
		}
		for _, phase := range []string{model.BGPhaseSwitchPrimary, model.BGPhaseTerminationWait, model.BGPhaseRemovingBlue, model.BGPhaseRollingBack} {
			s.enter(phase)
			require.False(t, s.shifting(), phase)
		}
	})
	t.Run("over: rolling back, rolled back, failed or succeeded", func(t *testing.T) {
		var s blueGreenStatus
		for _, phase := range []string{model.BGPhaseRollingBack, model.BGPhaseRolledBack, model.BGPhaseAborted, model.BGPhaseFailed, model.BGPhaseSucceeded} {
			s.enter(phase)
			require.True(t, s.over(), phase)
		}
		s.enter(model.BGPhaseTerminationWait)
		require.False(t, s.over())
		require.False(t, s.rollingBack())
		s.enter(model.BGPhaseRollingBack)
		require.True(t, s.rollingBack())
	})
	t.Run("cancel and commit are one-way", func(t *testing.T) {
		var s blueGreenStatus
		s.cancel()
		s.commit()
		s.enter(model.BGPhaseRemovingBlue)
		require.True(t, s.cancelled)
		require.True(t, s.committed)
	})
}

// The validators read the status: what refuses cancel and promote.
func TestBlueGreenCommandRules(t *testing.T) {
	d := &blueGreen{logger: nopLogger}
	d.enter(model.BGPhaseShifting)
	require.ErrorContains(t, d.validatePromote(false), "not paused")
	require.NoError(t, d.validatePromote(true))
	d.status.beginPause()
	require.NoError(t, d.validatePromote(false))
	d.commands().promote.Apply(model.PromoteCommand{})
	require.ErrorContains(t, d.validatePromote(false), "already accepted")
	require.NoError(t, d.validateCancel())
	d.commands().cancel.Apply(model.CancelCommand{Reason: "r"})
	require.ErrorContains(t, d.validateCancel(), "already being cancelled")
	require.ErrorContains(t, d.validatePromote(true), "being cancelled")

	d = &blueGreen{logger: nopLogger}
	d.enter(model.BGPhaseTerminationWait)
	require.ErrorContains(t, d.validatePromote(true), "promote-full no longer applies")
	d.status.commit()
	require.ErrorContains(t, d.validateCancel(), "deploy the previous task definition")
	d.enter(model.BGPhaseRollingBack)
	d.status.committed = false
	require.ErrorContains(t, d.validateCancel(), "already rolling back")
}
