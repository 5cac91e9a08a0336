// Command chaos runs imagefleet's chaos test on a stack of its own: a mixed
// load of every operation, cloud faults, a region outage, and workers, the
// Temporal dev server and the simulated cloud killed at random (seeded),
// then an audit of end states, exactly-once side effects, leaks and
// histories. It exits 1 on any violation, naming it, and 2 on bad flags or
// settings (nothing started). See README ("Chaos").
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/imagefleet/imagefleet/internal/chaos"
	"github.com/imagefleet/imagefleet/internal/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var runErr error
	cmd := command(func(cfg chaos.Config, given []string) error {
		cfg.Log = os.Stdout
		rep, err := chaos.Run(ctx, cfg)
		if rep != nil {
			fmt.Printf("\naudit: %s\nrerun: go tool task chaos -- %s\n", filepath.Join(cfg.DataDir, "audit.json"), strings.Join(rerunArgs(rep.Seed, given), " "))
		}
		runErr = err
		return nil
	})
	// Exit codes: 2 for bad flags or settings (nothing started), 1 for a
	// run that failed or found a violation, 0 otherwise (--help included).
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v (see chaos --help)\n", err)
		os.Exit(2)
	}
	if runErr != nil {
		fmt.Fprintln(os.Stderr, "chaos:", runErr)
		os.Exit(1)
	}
}

// command is the chaos test's command line; it calls start with the run's
// settings (paths resolved) and the flags given other than --seed, as
// --name=value, for the rerun line.
func command(start func(cfg chaos.Config, given []string) error) *cobra.Command {
	d := chaos.Defaults
	var cfg chaos.Config
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Run imagefleet's chaos test on a stack of its own",
		Long: "Runs a mixed load of every operation on a stack of its own with cloud faults, a region outage, and workers,\n" +
			"the Temporal dev server and the simulated cloud killed at random (seeded), then audits end states,\n" +
			"exactly-once side effects, leaks and histories. Exit code 1 names any violation.\n\n" +
			"The temporal binary: --temporal-cli, else IMAGEFLEET_TEMPORAL_CLI, else .tools/temporal.",
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := stack.ModuleRoot()
			if err != nil {
				return err
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
			return start(cfg, givenFlags(cmd.Flags()))
		},
	}
	f := cmd.Flags()
	f.Int64Var(&cfg.Seed, "seed", 0, "seed of the kill schedule and faults (0: a new one, printed)")
	f.StringVar(&cfg.DataDir, "data-dir", ".data/chaos", "folder of the run's state, logs and audit.json (wiped first)")
	f.StringVar(&cfg.TemporalCLI, "temporal-cli", "", "the temporal binary (default .tools/temporal)")
	f.IntVar(&cfg.Distributions, "distributions", d.Distributions, "distributions to three regions (plus one aborted)")
	f.IntVar(&cfg.Publications, "publications", d.Publications, "publications of each of file, container image and Helm chart (plus one aborted)")
	f.IntVar(&cfg.Builds, "builds", d.Builds, "image builds with distribution")
	f.IntVar(&cfg.Rollouts, "rollouts", d.Rollouts, "rolling updates, at least 3 (plain, a failing instance tolerated, paused and resumed)")
	f.IntVar(&cfg.BlueGreens, "bluegreens", d.BlueGreens, "blue/green deployments (plus one aborted mid-shift)")
	f.IntVar(&cfg.GroupSize, "group-size", d.GroupSize, "instances per scaling group")
	f.IntVar(&cfg.WorkerKills, "worker-kills", d.WorkerKills, "SIGKILLs of one of the 2 workers")
	f.IntVar(&cfg.ServerRestarts, "server-restarts", d.ServerRestarts, "kills and restarts of the Temporal dev server")
	f.IntVar(&cfg.CloudRestarts, "cloud-restarts", d.CloudRestarts, "kills and restarts of the simulated cloud")
	f.Float64Var(&cfg.Transient, "transient", d.Transient, "probability of a 5xx answer to any cloud call")
	f.Float64Var(&cfg.Throttle, "throttle", d.Throttle, "probability of a 429 answer to any cloud call")
	f.DurationVar(&cfg.Outage, "outage", d.Outage, "how long region eu-west-1 is dark (0: no outage)")
	f.DurationVar(&cfg.KillWindow, "kill-window", d.KillWindow, "kills happen at random within this time from the load's start")
	f.DurationVar(&cfg.Spread, "spread", d.Spread, "operations start at random within this time")
	f.Float64Var(&cfg.TimeScale, "time-scale", d.TimeScale, "the cloud's time scale")
	f.DurationVar(&cfg.Timeout, "timeout", d.Timeout, "how long to wait for the load to end")
	f.BoolVar(&cfg.Baseline, "baseline", false, "first run the same load without chaos, to compare times")
	return cmd
}

// givenFlags are the flags set on the command line other than --seed, as
// --name=value, with their values as the run uses them (paths resolved).
func givenFlags(fs *pflag.FlagSet) []string {
	var given []string
	fs.Visit(func(f *pflag.Flag) {
		if f.Name != "seed" {
			given = append(given, fmt.Sprintf("--%s=%s", f.Name, f.Value))
		}
	})
	return given
}

// rerunArgs are the flags given, with the seed made explicit.
func rerunArgs(seed int64, given []string) []string {
	return append([]string{fmt.Sprintf("--seed=%d", seed)}, given...)
}
