package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/internal/stack"
)

// parseFlags reads args as bench does before it starts.
func parseFlags(args ...string) (o options, started bool, help string, err error) {
	var out bytes.Buffer
	cmd := command(func(got options) error { o, started = got, true; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	err = cmd.Execute()
	return o, started, out.String(), err
}

func TestFlags(t *testing.T) {
	o, started, _, err := parseFlags()
	if err != nil || !started {
		t.Fatalf("defaults: %v", err)
	}
	if !slices.Equal(o.sizes, []int{10000}) || !slices.Equal(o.batches, []int{10, 20}) || o.rounds != 3 || o.noops != 5000 || o.window != 500 || o.tasks != 100 ||
		o.regions != 20 || o.concurrent != 100 || o.copyMinutes != 1 || o.dataDir != ".data/bench" || o.binDir != "bin" || o.port != 17233 ||
		len(o.parts) != len(allParts) {
		t.Errorf("defaults: %+v", o)
	}
	o, _, _, err = parseFlags("--sizes", "1000, 2000", "--batches", "5", "--noops=1000", "--tasks", "50", "--port", "27233", "--parts", "rollout,resume", "--rounds", "4")
	if err != nil || !slices.Equal(o.sizes, []int{1000, 2000}) || !slices.Equal(o.batches, []int{5}) || o.noops != 1000 || o.tasks != 50 || o.port != 27233 ||
		!o.parts[partRollout] || !o.parts[partResume] || o.parts[partDistribution] || o.rounds != 4 {
		t.Errorf("flags: %+v, %v", o, err)
	}
	o, _, _, err = parseFlags("--only-retry")
	if err != nil || len(o.parts) != 1 || !o.parts[partRetry] {
		t.Errorf("--only-retry: %+v, %v", o, err)
	}
	o, _, _, err = parseFlags("--retry-instances", "0")
	if err != nil || o.parts[partRetry] {
		t.Errorf("--retry-instances 0 runs no retry part: %+v, %v", o, err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"-sizes=1000"}, {"stray"}, {"--sizes", "5"}, {"--sizes", "x"}, {"--sizes", "1000000000"},
		{"--sizes", "15", "--batches", "10,20"}, {"--batches", "0"}, {"--parts", "rollout,bogus"}, {"--rounds", "0"}, {"--concurrent", "0"}} {
		if _, started, _, err := parseFlags(args...); err == nil || started {
			t.Errorf("%q: err %v, started %v", args, err, started)
		}
	}
}

func TestHelp(t *testing.T) {
	_, started, help, err := parseFlags("--help")
	if err != nil || started {
		t.Fatalf("--help: %v (started %v)", err, started)
	}
	for _, want := range []string{"--sizes", "--batches", "--rounds", "--parts", "--concurrent", "--copy-minutes", "--data-dir", "--port", "not a figure"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

// freeBenchPort is a port p with p, p+1000 (the Web UI's, unused headless)
// and p+1066 (the cloud's) free a moment ago.
func freeBenchPort(t *testing.T) int {
	for range 50 {
		p := stack.FreePort()
		if p+1066 > 65535 {
			continue
		}
		ok := true
		for _, q := range []int{p + 1000, p + 1066} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free ports for the bench stack")
	return 0
}

// TestShortBenchRun is CI's short bench run: every part of the bench at a
// small size, two rounds, on a stack of its own. It checks that the bench
// runs and prints each figure with its target, not the figures' values.
func TestShortBenchRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev server, a cloud and workers")
	}
	root, err := stack.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	cli := cmp.Or(os.Getenv("IMAGEFLEET_TEMPORAL_CLI"), filepath.Join(root, ".tools", "temporal"))
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("the Temporal CLI is needed at %s (go tool task tools)", cli)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", bin+"/", "./bench", "./worker", "./cloudsim/cmd/cloudsim")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute) // a bound on a hung run, not a timed assertion
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "bench"), "--rounds", "2", "--sizes", "200", "--batches", "2,4", "--noops", "100", "--window", "20",
		"--tasks", "3", "--regions", "2", "--concurrent", "2", "--copy-minutes", "0.03", "--retry-instances", "20", "--retry-batches", "2",
		"--bin-dir", bin, "--data-dir", filepath.Join(dir, "data"), "--port", fmt.Sprint(freeBenchPort(t)))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "IMAGEFLEET_TEMPORAL_CLI="+cli)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"bare Temporal no-op activities/s", "round 2:", "load ",
		"rolling update of 200 instances in 2 batches", "rolling update of 200 instances in 4 batches", "÷ bare no-op activities/s of the same round",
		"cost of a batch at 200", "≤ 0.3 s",
		"one 2-region distribution: wall ÷ slowest copy", "≤ 1.01",
		"2 concurrent 2-region distributions ÷ one alone", "≤ 1.10", "cloud calls",
		"resume → next batch's first cloud call, 3 paused tasks at once", "long rollout: 20 instances",
		"worker peak RSS",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}
