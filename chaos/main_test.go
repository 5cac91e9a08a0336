package main

import (
	"bytes"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/internal/chaos"
)

// parseFlags reads args as the chaos command does before it starts.
func parseFlags(t *testing.T, args ...string) (cfg chaos.Config, given []string, err error) {
	t.Helper()
	cmd := command(func(c chaos.Config, g []string) error { cfg, given = c, g; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err = cmd.Execute()
	return cfg, given, err
}

func TestFlagsAndRerunLine(t *testing.T) {
	t.Setenv("IMAGEFLEET_TEMPORAL_CLI", "")
	cfg, given, err := parseFlags(t, "--seed=1313", "--worker-kills", "3", "--outage", "15s", "--transient=0.05", "--baseline")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 1313 || cfg.WorkerKills != 3 || cfg.Outage != 15*time.Second || cfg.Transient != 0.05 || !cfg.Baseline {
		t.Errorf("flags not read: %+v", cfg)
	}
	if cfg.Distributions != chaos.Defaults.Distributions || cfg.Timeout != chaos.Defaults.Timeout {
		t.Errorf("defaults lost: %+v", cfg)
	}
	if !filepath.IsAbs(cfg.DataDir) || !strings.HasSuffix(cfg.DataDir, filepath.Join(".data", "chaos")) {
		t.Errorf("data dir %q", cfg.DataDir)
	}
	if cfg.TemporalCLI != filepath.Join(cfg.Root, ".tools", "temporal") {
		t.Errorf("temporal CLI %q", cfg.TemporalCLI)
	}
	want := []string{"--seed=42", "--baseline=true", "--outage=15s", "--transient=0.05", "--worker-kills=3"}
	if got := rerunArgs(42, given); !slices.Equal(got, want) {
		t.Errorf("rerun %q, want %q", got, want)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}, {"-seed=1"}, {"--seed=x"}, {"stray"}} {
		if _, _, err := parseFlags(t, args...); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestHelp(t *testing.T) {
	started := false
	cmd := command(func(chaos.Config, []string) error { started = true; return nil })
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if started {
		t.Error("--help started a run")
	}
	for _, want := range []string{"--seed", "--cloud-restarts", "--kill-window", "IMAGEFLEET_TEMPORAL_CLI"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}
