// Command chaos runs imagefleet's chaos test on a stack of its own: a mixed
// load of every operation, cloud faults, a region outage, and workers, the
// Temporal dev server and the simulated cloud killed at random (seeded),
// then an audit of end states, exactly-once side effects, leaks and
// histories. It exits 1 on any violation, naming it. See README ("Chaos").
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/imagefleet/imagefleet/internal/chaos"
	"github.com/imagefleet/imagefleet/internal/stack"
)

func main() {
	d := chaos.Defaults
	cfg := chaos.Config{Log: os.Stdout}
	flag.Int64Var(&cfg.Seed, "seed", 0, "seed of the kill schedule and faults (0: a new one, printed)")
	flag.StringVar(&cfg.DataDir, "data-dir", ".data/chaos", "folder of the run's state, logs and audit.json (wiped first)")
	flag.StringVar(&cfg.TemporalCLI, "temporal-cli", "", "the temporal binary (default .tools/temporal)")
	flag.IntVar(&cfg.Distributions, "distributions", d.Distributions, "distributions to three regions (plus one aborted)")
	flag.IntVar(&cfg.Publications, "publications", d.Publications, "publications of each of file, container image and Helm chart (plus one aborted)")
	flag.IntVar(&cfg.Builds, "builds", d.Builds, "image builds with distribution")
	flag.IntVar(&cfg.Rollouts, "rollouts", d.Rollouts, "rolling updates, at least 3 (plain, a failing instance tolerated, paused and resumed)")
	flag.IntVar(&cfg.BlueGreens, "bluegreens", d.BlueGreens, "blue/green deployments (plus one aborted mid-shift)")
	flag.IntVar(&cfg.GroupSize, "group-size", d.GroupSize, "instances per scaling group")
	flag.IntVar(&cfg.WorkerKills, "worker-kills", d.WorkerKills, "SIGKILLs of one of the 2 workers")
	flag.IntVar(&cfg.ServerRestarts, "server-restarts", d.ServerRestarts, "kills and restarts of the Temporal dev server")
	flag.IntVar(&cfg.CloudRestarts, "cloud-restarts", d.CloudRestarts, "kills and restarts of the simulated cloud")
	flag.Float64Var(&cfg.Transient, "transient", d.Transient, "probability of a 5xx answer to any cloud call")
	flag.Float64Var(&cfg.Throttle, "throttle", d.Throttle, "probability of a 429 answer to any cloud call")
	flag.DurationVar(&cfg.Outage, "outage", d.Outage, "how long region eu-west-1 is dark (0: no outage)")
	flag.DurationVar(&cfg.KillWindow, "kill-window", d.KillWindow, "kills happen at random within this time from the load's start")
	flag.DurationVar(&cfg.Spread, "spread", d.Spread, "operations start at random within this time")
	flag.Float64Var(&cfg.TimeScale, "time-scale", d.TimeScale, "the cloud's time scale")
	flag.DurationVar(&cfg.Timeout, "timeout", d.Timeout, "how long to wait for the load to end")
	flag.BoolVar(&cfg.Baseline, "baseline", false, "first run the same load without chaos, to compare times")
	flag.Parse()

	root, err := stack.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	cfg.Root = root
	if cfg.TemporalCLI == "" {
		cfg.TemporalCLI = os.Getenv("IMAGEFLEET_TEMPORAL_CLI")
	}
	if cfg.TemporalCLI == "" {
		cfg.TemporalCLI = filepath.Join(root, ".tools", "temporal")
	}
	if !filepath.IsAbs(cfg.DataDir) {
		cfg.DataDir = filepath.Join(root, cfg.DataDir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := chaos.Run(ctx, cfg)
	if rep != nil {
		fmt.Printf("\naudit: %s\nrerun: go tool task chaos -- %s\n", filepath.Join(cfg.DataDir, "audit.json"), strings.Join(rerunArgs(rep.Seed), " "))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

// rerunArgs are the flags given, with the seed made explicit.
func rerunArgs(seed int64) []string {
	args := []string{fmt.Sprintf("--seed=%d", seed)}
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "seed" {
			args = append(args, fmt.Sprintf("--%s=%s", f.Name, f.Value))
		}
	})
	return args
}
