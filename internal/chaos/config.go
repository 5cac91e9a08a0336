// Package chaos runs imagefleet's chaos test: a mixed load of every
// operation on a stack of its own (internal/stack), with the cloud failing
// and throttling, a region going dark, and workers, the Temporal dev server
// and the simulated cloud killed at random (seeded, reproducible). An audit
// at the end proves from the cloud's ledger and state and from the workflow
// histories that every operation ended as it should, every side effect
// happened once and nothing was left behind.
package chaos

import (
	"io"
	"time"
)

// Config is one chaos run. Zero fields take the defaults of Defaults.
type Config struct {
	// Root is the module root (binaries are built from it).
	Root string
	// TemporalCLI is the temporal binary (.tools/temporal).
	TemporalCLI string
	// BinDir holds worker, starter and cloudsim; empty: built into DataDir/bin.
	BinDir string
	// DataDir holds the runs' state, logs and the audit JSON; it is wiped first.
	DataDir string
	// Seed makes the kill schedule and fault dice reproducible; 0 picks one.
	Seed int64

	// The load.
	Distributions int // distributions to three regions; one more is aborted
	Publications  int // publications of each of file, container image and Helm chart; one more is aborted
	Builds        int // image builds distributing their image
	Rollouts      int // rolling updates (at least 3: plain, failing instance tolerated, paused and resumed)
	BlueGreens    int // blue/green deployments; one more is aborted mid-shift
	GroupSize     int // instances per scaling group

	// The chaos.
	WorkerKills    int
	ServerRestarts int
	CloudRestarts  int
	Transient      float64       // probability of a 5xx on any call
	Throttle       float64       // probability of a 429 on any call
	Outage         time.Duration // how long a region stays dark (0: no outage)
	KillWindow     time.Duration // kills are spread over this time from the load's start
	Spread         time.Duration // operations start at random within this time

	// TimeScale compresses the cloud's operation times.
	TimeScale float64
	// Timeout bounds the wait for the load to end.
	Timeout time.Duration
	// Baseline also runs the same load without chaos first, to compare times.
	Baseline bool
	// Log receives progress lines; the stack's processes log to DataDir.
	Log io.Writer
}

// Defaults is a run that ends in a few minutes on a laptop.
var Defaults = Config{
	Distributions: 2, Publications: 1, Builds: 1, Rollouts: 3, BlueGreens: 1, GroupSize: 6,
	WorkerKills: 4, ServerRestarts: 1, CloudRestarts: 1,
	Transient: 0.05, Throttle: 0.05, Outage: 20 * time.Second, KillWindow: 45 * time.Second, Spread: 20 * time.Second,
	TimeScale: 0.002, Timeout: 10 * time.Minute,
}

func (c Config) withDefaults() Config {
	d := Defaults
	pick := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	pick(&c.Distributions, d.Distributions)
	pick(&c.Publications, d.Publications)
	pick(&c.Builds, d.Builds)
	pick(&c.Rollouts, d.Rollouts)
	pick(&c.BlueGreens, d.BlueGreens)
	pick(&c.GroupSize, d.GroupSize)
	if c.Rollouts < 3 {
		c.Rollouts = 3
	}
	if c.TimeScale == 0 {
		c.TimeScale = d.TimeScale
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.KillWindow == 0 {
		c.KillWindow = d.KillWindow
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}
