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
	if !slices.Equal(o.sizes, []int{1000, 10000}) || o.batches != 10 || o.noops != 2000 || o.window != 500 || o.tasks != 100 ||
		o.regions != 20 || o.copyMinutes != 1 || o.dataDir != ".data/bench" || o.port != 17233 {
		t.Errorf("defaults: %+v", o)
	}
	o, _, _, err = parseFlags("--sizes", "1000, 2000", "--noops=1000", "--tasks", "50", "--port", "27233")
	if err != nil || !slices.Equal(o.sizes, []int{1000, 2000}) || o.noops != 1000 || o.tasks != 50 || o.port != 27233 {
		t.Errorf("flags: %+v, %v", o, err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--bogus"}, {"-sizes=1000"}, {"stray"}, {"--sizes", "5"}, {"--sizes", "x"}, {"--sizes", "1000000000"}} {
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
	for _, want := range []string{"--sizes", "--batches", "--copy-minutes", "--data-dir", "--port"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %s", want)
		}
	}
}
