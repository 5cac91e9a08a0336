// Command devstack runs imagefleet's local stack: the Temporal dev server
// with its Web UI, the codec server that decrypts payloads for the Web UI,
// the simulated cloud and one or more workers. It also holds the demo and
// the simulated cloud's demo setups, which are no business of the starter
// (a client of any Temporal cluster and cloud).
//
//	devstack up                    run the stack until Ctrl-C
//	devstack demo                  run the demo scenario, on the running stack
//	                               or on one it starts (and stops) itself
//	devstack metrics               print a readable snapshot of the workers' metrics
//	devstack setup-bluegreen-demo  create a service ready for a blue/green
//	                               deployment in the simulated cloud
//
// State lives under .data (--data-dir), so runs stay browsable in the Web UI
// across restarts; so does the payload key (codec.keys there, made on first
// start). Every port is a flag with an environment variable, so two stacks
// can run side by side (each with its own --data-dir). Flags may come before
// or after the command (`devstack --workers 3 up`, as the Taskfile passes them).
//
// Exit codes: 0 done, 1 a command failed, 2 invalid flags or arguments.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/internal/stack"
)

// flags are devstack's settings, shared by its commands.
type flags struct {
	root, faults, dataDir, metricsURLs                               string
	timeScale                                                        float64
	workers, temporalPort, uiPort, cloudPort, codecPort, metricsPort int
	envErrs                                                          []error
}

// usageError is an error in the flags or arguments: exit code 2.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, err := command().ExecuteContextC(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "devstack:", err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprint(os.Stderr, "\n"+cmd.UsageString())
		os.Exit(2)
	}
	os.Exit(1)
}

func command() *cobra.Command {
	var f flags
	root := &cobra.Command{
		Use:   "devstack",
		Short: "Run imagefleet's local stack, its demo and the simulated cloud's demo setups",
		// The root runs only to refuse a missing or unknown command.
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q", args[0])}
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return usageError{errors.New("want a command: up, demo, metrics or setup-bluegreen-demo")}
		},
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if err := errors.Join(f.envErrs...); err != nil {
				return usageError{err}
			}
			if f.workers < 1 {
				return usageError{fmt.Errorf("--workers %d: at least one worker", f.workers)}
			}
			if f.dataDir == "" {
				f.dataDir = filepath.Join(f.root, ".data")
			}
			return nil
		},
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	p := root.PersistentFlags()
	p.StringVar(&f.root, "root", ".", "project root (holds .tools, .data and bin)")
	p.StringVar(&f.faults, "faults", "", "JSON file of fault rules the simulated cloud starts with (see cloudsim/README.md)")
	p.Float64Var(&f.timeScale, "time-scale", 0.002, "cloud time scale: 0.002 makes a 40-minute image copy take about 5 seconds")
	p.IntVar(&f.workers, "workers", envInt("IMAGEFLEET_WORKERS", 1, &f.envErrs), "how many workers to run (env IMAGEFLEET_WORKERS)")
	p.IntVar(&f.temporalPort, "temporal-port", envInt("IMAGEFLEET_TEMPORAL_PORT", 7233, &f.envErrs), "dev server gRPC port (env IMAGEFLEET_TEMPORAL_PORT)")
	p.IntVar(&f.uiPort, "ui-port", envInt("IMAGEFLEET_UI_PORT", 8233, &f.envErrs), "Web UI port (env IMAGEFLEET_UI_PORT)")
	p.IntVar(&f.cloudPort, "cloud-port", envInt("IMAGEFLEET_CLOUD_PORT", 8299, &f.envErrs), "simulated cloud port (env IMAGEFLEET_CLOUD_PORT)")
	p.IntVar(&f.codecPort, "codec-port", envInt("IMAGEFLEET_CODEC_PORT", stack.DefaultCodecPort, &f.envErrs), "codec server port, for the Web UI and the CLI (env IMAGEFLEET_CODEC_PORT)")
	p.IntVar(&f.metricsPort, "metrics-port", envInt("IMAGEFLEET_METRICS_PORT", stack.DefaultMetricsPort, &f.envErrs),
		"first worker's /metrics port; worker n uses this + n-1; -1 serves none (env IMAGEFLEET_METRICS_PORT)")
	p.StringVar(&f.dataDir, "data-dir", os.Getenv("IMAGEFLEET_DATA_DIR"), "directory of the stack's state (default <root>/.data; env IMAGEFLEET_DATA_DIR)")
	p.StringVar(&f.metricsURLs, "metrics-url", "", "metrics: comma-separated /metrics URLs to read instead of the local stack's workers")

	root.AddCommand(
		&cobra.Command{
			Use:   "up",
			Short: "Run the dev server (Web UI on :8233), its codec server (:8234), the simulated cloud (:8299) and the workers until Ctrl-C",
			Args:  noArgs,
			RunE:  func(cmd *cobra.Command, _ []string) error { return up(cmd.Context(), f.stack()) },
		},
		demoCommand(&f),
		&cobra.Command{
			Use:   "metrics",
			Short: "Print a readable snapshot of the workers' metrics (Prometheus endpoint on :9464, :9465, …)",
			Args:  noArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return printMetrics(cmd.Context(), f.metricsPort, f.metricsURLs)
			},
		},
		setupBlueGreenDemoCommand(&f),
	)
	return root
}

// noArgs refuses arguments as a usage error.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(args, " "))}
	}
	return nil
}

// stack is the local stack the flags describe.
func (f *flags) stack() *stack.Stack {
	return stack.New(stack.Config{
		TemporalCLI:    filepath.Join(f.root, ".tools", "temporal"),
		CloudSim:       filepath.Join(f.root, "bin", "cloudsim"),
		Worker:         filepath.Join(f.root, "bin", "worker"),
		DataDir:        f.dataDir,
		CloudTimeScale: f.timeScale,
		CloudFaults:    f.faults,
		TemporalPort:   f.temporalPort,
		UIPort:         f.uiPort,
		CloudPort:      f.cloudPort,
		MetricsPort:    f.metricsPort,
		Workers:        f.workers,
		CodecServer:    filepath.Join(f.root, "bin", "codecserver"),
		CodecPort:      f.codecPort,
		// A token protects the codec server (the Web UI then signs in at
		// its /login, see the README).
		CodecToken: strings.TrimSpace(os.Getenv(config.EnvCodecToken)),
	})
}

func up(ctx context.Context, s *stack.Stack) error {
	if s.Running() {
		return fmt.Errorf("a stack already listens on %s and %s", s.TemporalAddress(), s.CloudEndpoint())
	}
	if err := checkPorts(s); err != nil {
		return err
	}
	defer s.Stop()
	if err := s.Start(ctx); err != nil {
		return err
	}
	fmt.Printf("\nimagefleet stack is up\n  Temporal: %s\n  Web UI:   %s\n  Cloud:    %s\n  Metrics:  %s\n  Codec:    %s (payloads encrypted with %s)\n"+
		"  CLI:      temporal workflow show -w ID -n default --codec-endpoint %[5]s\n"+
		"  Starter:  %[7]s\n"+
		"A worker that exits is reported and the stack stays up. Press Ctrl-C to stop.\n\n",
		s.TemporalAddress(), s.WebUI(), s.CloudEndpoint(), strings.Join(s.MetricsURLs(), " "), s.CodecEndpoint(), s.CodecKeysFile(), starterHint(s))
	if s.CodecToken() != "" {
		login := strings.Replace(s.CodecEndpoint(), "127.0.0.1", "localhost", 1)
		fmt.Printf("The codec server asks for %s: sign in once at %s/login, then in the Web UI's \"Codec Server\" settings use\n"+
			"your browser setting, endpoint %s, and \"Include cross-origin credentials\". The CLI sends --codec-auth \"Bearer $%[1]s\".\n\n",
			config.EnvCodecToken, login, login)
	}
	err := s.Supervise(ctx, os.Stdout)
	if ctx.Err() != nil {
		fmt.Println("\nstopped the stack")
	}
	return err
}

// starterHint says how bin/starter reaches this stack with its key: from
// inside the clone it finds .data/codec.keys by itself; another data
// directory or port needs the settings spelled out.
func starterHint(s *stack.Stack) string {
	if s.TemporalAddress() == "127.0.0.1:7233" && config.LocalStackKeyFile("") == s.CodecKeysFile() {
		return "bin/starter … (finds " + s.CodecKeysFile() + " by itself)"
	}
	return fmt.Sprintf("export TEMPORAL_ADDRESS=%s %s=%s %s=%s; bin/starter …",
		s.TemporalAddress(), config.EnvCodecKeysFile, s.CodecKeysFile(), config.EnvCloudEndpoint, s.CloudEndpoint())
}

// checkPorts refuses to start a stack one of whose ports is taken, naming
// the flag that moves it.
func checkPorts(s *stack.Stack) error {
	err := s.CheckPorts()
	var taken *stack.PortTakenError
	if errors.As(err, &taken) {
		flag := portFlag[taken.Role]
		return fmt.Errorf("%w; nothing was started: choose another port with %s (env %s)", err, flag[0], flag[1])
	}
	return err
}

// portFlag is the flag and environment variable of each port of the stack.
var portFlag = map[string][2]string{
	"temporal": {"--temporal-port", "IMAGEFLEET_TEMPORAL_PORT"},
	"ui":       {"--ui-port", "IMAGEFLEET_UI_PORT"},
	"cloud":    {"--cloud-port", "IMAGEFLEET_CLOUD_PORT"},
	"codec":    {"--codec-port", "IMAGEFLEET_CODEC_PORT"},
	"metrics":  {"--metrics-port", "IMAGEFLEET_METRICS_PORT"},
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

// cloudClient calls the stack's simulated cloud as the starter's account
// (IMAGEFLEET_ACCOUNT), riding out throttling and a restarting cloud.
func cloudClient(s *stack.Stack) *cloud.Client {
	return cloudClientAt(s.CloudEndpoint())
}

func cloudClientAt(endpoint string) *cloud.Client {
	account := cmp.Or(os.Getenv(config.EnvAccount), config.DefaultAccount)
	return cloud.NewClient(endpoint, account).WithAccessKey(cloudsim.AccessKey(account)).WithRetry(cloud.DefaultRetry)
}

// cloudEndpoint is IMAGEFLEET_CLOUD_ENDPOINT when set (the cloud every
// other imagefleet program uses then), else the local stack's cloud.
func cloudEndpoint(s *stack.Stack) string {
	return cmp.Or(os.Getenv(config.EnvCloudEndpoint), s.CloudEndpoint())
}
