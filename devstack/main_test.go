package main

import (
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/internal/stack"
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

// A taken port stops `devstack up` before anything starts, naming the flag
// that moves it (a worker's metrics port here).
func TestUpChecksPortsFirstAndNamesTheFlag(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	metrics := held.Addr().(*net.TCPAddr).Port
	root := t.TempDir()
	args := []string{"--root", root, "--workers", "2", "--metrics-port", strconv.Itoa(metrics)}
	for _, flag := range []string{"--temporal-port", "--ui-port", "--cloud-port", "--codec-port"} {
		args = append(args, flag, strconv.Itoa(stack.FreePort()))
	}
	err = execute(t, append(args, "up")...)
	if err == nil {
		t.Fatal("up started with a taken metrics port")
	}
	for _, want := range []string{"port " + strconv.Itoa(metrics), "worker 1's metrics", "--metrics-port", "IMAGEFLEET_METRICS_PORT", "nothing was started"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: lacks %q", err, want)
		}
	}
	if _, statErr := os.Stat(filepath.Join(root, ".data")); !os.IsNotExist(statErr) {
		t.Errorf("up made its data directory before refusing: %v", statErr)
	}
}

// setup-bluegreen-demo works on the cloud every other program uses:
// IMAGEFLEET_CLOUD_ENDPOINT when set.
func TestSetupBlueGreenDemoHonoursTheCloudEndpoint(t *testing.T) {
	sim, err := cloudsim.New(cloudsim.Config{TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	t.Setenv(config.EnvCloudEndpoint, srv.URL)
	// The stack's own cloud port has nothing behind it.
	if err := execute(t, "--cloud-port", strconv.Itoa(stack.FreePort()), "setup-bluegreen-demo", "demo", "web"); err != nil {
		t.Fatalf("setup-bluegreen-demo on %s: %v", srv.URL, err)
	}
	services, err := cloud.NewClient(srv.URL, cloudsim.DefaultAccount).Containers().
		DescribeServices(t.Context(), &cloud.DescribeServicesRequest{Cluster: "demo", Services: []string{"web"}})
	if err != nil || len(services.Services) != 1 {
		t.Fatalf("the demo service is not in the cloud at %s: %v %+v", srv.URL, err, services)
	}
}

// issue 22: the release demo's spec is one the release accepts, and the
// demo refuses to start a stack of its own (it waits for an approval).
func TestReleaseDemo(t *testing.T) {
	spec := releaseDemoSpec("1208120000", []string{"asg-demo1-1", "asg-demo1-2", "asg-demo1-3", "asg-demo1-4"})
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	args := []string{"--root", t.TempDir()}
	for _, flag := range []string{"--temporal-port", "--ui-port", "--cloud-port", "--codec-port"} {
		args = append(args, flag, strconv.Itoa(stack.FreePort()))
	}
	err := execute(t, append(args, "demo", "--release")...)
	if err == nil || !strings.Contains(err.Error(), "start the stack first") {
		t.Fatalf("devstack demo --release without a stack: %v", err)
	}
}
