package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A copy is asked about rarely while its own progress says it has long to
// go, and every tick near its end.
func TestCopyPace(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var p copyPace
	require.Zero(t, p.rest(t0, "10%"), "no rate from one answer")
	require.Zero(t, p.rest(t0.Add(time.Second), "10%"), "no progress seen yet")
	// 10 points in 20 s: 80 points left take 160 s; half of it, capped.
	require.Equal(t, maxPaceRest, p.rest(t0.Add(20*time.Second), "20%"))
	// 80 points in 160 s: 10 points left take 20 s; half of it.
	require.Equal(t, 10*time.Second, p.rest(t0.Add(160*time.Second), "90%"))
	// 89 points in 178 s: 1 point takes 2 s; half of it.
	require.Equal(t, time.Second, p.rest(t0.Add(178*time.Second), "99%"))
	require.Zero(t, p.rest(t0.Add(179*time.Second), "100%"))
	require.Zero(t, p.rest(t0.Add(179*time.Second), ""), "no progress reported: every tick")
}
