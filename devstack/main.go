// Command devstack runs imagefleet's local stack: the Temporal dev server
// with its Web UI, the codec server that decrypts payloads for the Web UI,
// the simulated cloud and one or more workers.
//
//	devstack up       run the stack until Ctrl-C
//	devstack demo     run the demo scenario, on the running stack or on one it
//	                  starts (and stops) itself
//	devstack metrics  print a readable snapshot of the workers' metrics
//
// State lives under .data (--data-dir), so runs stay browsable in the Web UI
// across restarts; so does the payload key (codec.keys there, made on first
// start). Every port is a flag with an environment variable, so two stacks
// can run side by side (each with its own --data-dir).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/imagefleet/imagefleet/internal/stack"
)

func main() {
	fs := flag.NewFlagSet("devstack", flag.ExitOnError)
	root := fs.String("root", ".", "project root (holds .tools, .data and bin)")
	faults := fs.String("faults", "", "JSON file of fault rules the simulated cloud starts with (see cloudsim/README.md)")
	timeScale := fs.Float64("time-scale", 0.002, "cloud time scale: 0.002 makes a 40-minute image copy take about 5 seconds")
	var envErrs []error
	workers := fs.Int("workers", envInt("IMAGEFLEET_WORKERS", 1, &envErrs), "how many workers to run (env IMAGEFLEET_WORKERS)")
	temporalPort := fs.Int("temporal-port", envInt("IMAGEFLEET_TEMPORAL_PORT", 7233, &envErrs), "dev server gRPC port (env IMAGEFLEET_TEMPORAL_PORT)")
	uiPort := fs.Int("ui-port", envInt("IMAGEFLEET_UI_PORT", 8233, &envErrs), "Web UI port (env IMAGEFLEET_UI_PORT)")
	cloudPort := fs.Int("cloud-port", envInt("IMAGEFLEET_CLOUD_PORT", 8299, &envErrs), "simulated cloud port (env IMAGEFLEET_CLOUD_PORT)")
	codecPort := fs.Int("codec-port", envInt("IMAGEFLEET_CODEC_PORT", stack.DefaultCodecPort, &envErrs), "codec server port, for the Web UI and the CLI (env IMAGEFLEET_CODEC_PORT)")
	metricsPort := fs.Int("metrics-port", envInt("IMAGEFLEET_METRICS_PORT", stack.DefaultMetricsPort, &envErrs),
		"first worker's /metrics port; worker n uses this + n-1; -1 serves none (env IMAGEFLEET_METRICS_PORT)")
	dataDir := fs.String("data-dir", os.Getenv("IMAGEFLEET_DATA_DIR"), "directory of the stack's state (default <root>/.data; env IMAGEFLEET_DATA_DIR)")
	metricsURLs := fs.String("metrics-url", "", "metrics: comma-separated /metrics URLs to read instead of the local stack's workers")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: devstack [flags] up|demo|metrics\n\n"+
			"  up       run the dev server (Web UI on :8233), its codec server (:8234), the simulated cloud (:8299) and the workers until Ctrl-C\n"+
			"  demo     run the demo scenario, starting the stack if it is not running\n"+
			"  metrics  print a readable snapshot of the workers' metrics (Prometheus endpoint on :9464, :9465, …)\n\nFlags:\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if err := errors.Join(envErrs...); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(2)
	}
	if fs.NArg() != 1 || *workers < 1 {
		fs.Usage()
		os.Exit(2)
	}
	if *dataDir == "" {
		*dataDir = filepath.Join(*root, ".data")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := stack.New(stack.Config{
		TemporalCLI:    filepath.Join(*root, ".tools", "temporal"),
		CloudSim:       filepath.Join(*root, "bin", "cloudsim"),
		Worker:         filepath.Join(*root, "bin", "worker"),
		DataDir:        *dataDir,
		CloudTimeScale: *timeScale,
		CloudFaults:    *faults,
		TemporalPort:   *temporalPort,
		UIPort:         *uiPort,
		CloudPort:      *cloudPort,
		MetricsPort:    *metricsPort,
		Workers:        *workers,
		CodecServer:    filepath.Join(*root, "bin", "codecserver"),
		CodecPort:      *codecPort,
	})
	var err error
	switch fs.Arg(0) {
	case "up":
		err = up(ctx, s)
	case "demo":
		err = demo(ctx, s, filepath.Join(*dataDir, "demo-stack.log"), filepath.Join(*root, "bin", "starter"))
	case "metrics":
		err = printMetrics(ctx, *metricsPort, *metricsURLs)
	default:
		fs.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func up(ctx context.Context, s *stack.Stack) error {
	if s.Running() {
		return fmt.Errorf("a stack already listens on %s and %s", s.TemporalAddress(), s.CloudEndpoint())
	}
	defer s.Stop()
	if err := s.Start(ctx); err != nil {
		return err
	}
	fmt.Printf("\nimagefleet stack is up\n  Temporal: %s\n  Web UI:   %s\n  Cloud:    %s\n  Metrics:  %s\n  Codec:    %s (payloads encrypted with %s)\n"+
		"  CLI:      temporal workflow show -w ID --codec-endpoint %[5]s\nPress Ctrl-C to stop.\n\n",
		s.TemporalAddress(), s.WebUI(), s.CloudEndpoint(), strings.Join(s.MetricsURLs(), " "), s.CodecEndpoint(), s.CodecKeysFile())
	select {
	case <-ctx.Done():
		fmt.Println("\nstopping the stack…")
		return s.Stop()
	case p := <-s.Exited():
		return fmt.Errorf("%s exited: %v", p.Name, p.Err())
	}
}

func demo(ctx context.Context, s *stack.Stack, logFile, starter string) error {
	if !s.Running() {
		// The stack's own logs would drown the demo's output: they go to a file.
		if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
			return err
		}
		f, err := os.Create(logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		s.SetLog(f)
		fmt.Printf("Starting the local stack for the demo (logs: %s; `go tool task up` keeps one running)…\n", logFile)
		defer s.Stop()
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	cmd := exec.CommandContext(ctx, starter, "demo")
	cmd.Env = append(os.Environ(), s.Env()...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// envInt reads name as an integer, or returns def if it is unset; an invalid
// value is an error rather than silently the default.
func envInt(name string, def int, errs *[]error) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s=%q: not a number", name, s))
		return def
	}
	return n
}
