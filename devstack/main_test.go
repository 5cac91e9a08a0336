package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/model"
)

// execute runs devstack's command line with args, as main does.
func execute(t *testing.T, args ...string) error {
	t.Helper()
	cmd := command()
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.ExecuteContext(t.Context())
}

func TestUsageErrorsExitWithTwo(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"bogus"},
		{"--workers", "0", "up"},
		{"--no-such-flag", "up"},
		{"up", "extra"},
		{"setup-bluegreen-demo", "demo"},
	} {
		var ue usageError
		if err := execute(t, args...); !errors.As(err, &ue) {
			t.Errorf("devstack %s: %v, want a usage error (exit code 2)", strings.Join(args, " "), err)
		}
	}
	t.Setenv("IMAGEFLEET_WORKERS", "many")
	if err := execute(t, "up"); !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "IMAGEFLEET_WORKERS") {
		t.Errorf("invalid IMAGEFLEET_WORKERS: %v", err)
	}
}

// The Taskfile passes its flags before the command (bin/devstack {{.CLI_ARGS}} up).
func TestFlagsBeforeOrAfterTheCommand(t *testing.T) {
	for _, args := range [][]string{{"--metrics-port", "-1", "metrics"}, {"metrics", "--metrics-port", "-1"}} {
		err := execute(t, args...)
		if err == nil || errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "--metrics-port -1") {
			t.Errorf("devstack %s: %v, want the metrics command's own error", strings.Join(args, " "), err)
		}
	}
}

func TestDistributeArgsCarryTheWholeSpec(t *testing.T) {
	spec := model.DistributeSpec{Package: "demo_webapp", Version: "v1", Description: "a demo image",
		Tags: map[string]string{"team": "platform"}, SourceRegion: "cn-hangzhou", SourceImage: "m-1", Regions: []string{"a", "b"}}
	got := strings.Join(distributeArgs(spec), " ")
	for _, want := range []string{"distribute ", "--package demo_webapp", "--version v1", "--description a demo image",
		"--source-region cn-hangzhou", "--source-image m-1", "--regions a,b", "--tag team=platform"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
}
