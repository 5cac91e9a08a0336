package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The build's state machine, rule by rule: what each command may do in
// each phase is read from these queries.
func TestBuildStatusRules(t *testing.T) {
	t.Run("a retry is possible only while a failed step waits", func(t *testing.T) {
		var s buildStatus
		s.retry()
		require.False(t, s.retryRequested(), "nothing waits")
		s.wait()
		require.True(t, s.waiting())
		require.False(t, s.waitOver())
		s.retry()
		require.True(t, s.retryRequested())
		require.False(t, s.waiting())
		require.True(t, s.waitOver())
		require.True(t, s.stopWaiting(), "the step runs again")
		require.Equal(t, buildRunning, s.phase)
	})
	t.Run("a wait that times out ends without a retry", func(t *testing.T) {
		var s buildStatus
		s.wait()
		require.False(t, s.stopWaiting())
		require.Equal(t, buildRunning, s.phase)
	})
	t.Run("cancel ends a wait and stays to the end", func(t *testing.T) {
		var s buildStatus
		s.wait()
		require.True(t, s.cancel())
		require.True(t, s.waitOver())
		require.False(t, s.cancel(), "a second cancel changes nothing")
		s.retry()
		require.False(t, s.retryRequested(), "no retry after cancel")
		require.False(t, s.stopWaiting())
		s.end()
		require.True(t, s.cancelled(), "cancelled to the end")
		require.False(t, s.ended())
	})
	t.Run("nothing to cancel after the end", func(t *testing.T) {
		var s buildStatus
		s.end()
		require.True(t, s.ended())
		require.False(t, s.cancel())
		require.False(t, s.cancelled())
		s.wait()
		require.False(t, s.waiting())
	})
}
