// Command devstack runs imagefleet's local stack: the Temporal dev server
// with its Web UI, the codec server that decrypts payloads for the Web UI,
// the simulated cloud and a worker.
//
//	devstack up     run the stack until Ctrl-C
//	devstack demo   run the demo scenario, on the running stack or on one it
//	                starts (and stops) itself
//
// State lives under .data, so runs stay browsable in the Web UI across
// restarts; so does the payload key (.data/codec.keys, made on first start).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/imagefleet/imagefleet/internal/stack"
)

func main() {
	fs := flag.NewFlagSet("devstack", flag.ExitOnError)
	root := fs.String("root", ".", "project root (holds .tools, .data and bin)")
	faults := fs.String("faults", "", "JSON file of fault rules the simulated cloud starts with (see cloudsim/README.md)")
	timeScale := fs.Float64("time-scale", 0.002, "cloud time scale: 0.002 makes a 40-minute image copy take about 5 seconds")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: devstack [flags] up|demo\n\n  up    run the dev server (Web UI on :8233), the simulated cloud (:8299) and a worker until Ctrl-C\n  demo  run the demo scenario, starting the stack if it is not running\n\nFlags:\n")
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() != 1 {
		fs.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := stack.New(stack.Config{
		TemporalCLI:    filepath.Join(*root, ".tools", "temporal"),
		CloudSim:       filepath.Join(*root, "bin", "cloudsim"),
		Worker:         filepath.Join(*root, "bin", "worker"),
		DataDir:        filepath.Join(*root, ".data"),
		CloudTimeScale: *timeScale,
		CloudFaults:    *faults,
		CodecServer:    filepath.Join(*root, "bin", "codecserver"),
	})
	var err error
	switch fs.Arg(0) {
	case "up":
		err = up(ctx, s)
	case "demo":
		err = demo(ctx, s, filepath.Join(*root, ".data", "demo-stack.log"), filepath.Join(*root, "bin", "starter"))
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
	fmt.Printf("\nimagefleet stack is up\n  Temporal: %s\n  Web UI:   %s\n  Cloud:    %s\n  Codec:    %s (payloads encrypted with %s)\n"+
		"  CLI:      temporal workflow show -w ID --codec-endpoint %[4]s\nPress Ctrl-C to stop.\n\n",
		s.TemporalAddress(), s.WebUI(), s.CloudEndpoint(), s.CodecEndpoint(), s.CodecKeysFile())
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
