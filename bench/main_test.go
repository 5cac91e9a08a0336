package main

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
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
