// Command worker runs imagefleet's workflows and activities on the imagefleet
// task queue. Temporal connection settings come from the environment
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, temporal.toml
// profiles); the cloud from IMAGEFLEET_CLOUD_ENDPOINT and IMAGEFLEET_ACCOUNT.
// It serves Prometheus metrics on --metrics-addr and traces through
// OpenTelemetry (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set). On SIGTERM or
// SIGINT it stops polling and lets in-flight activities finish for up to
// --stop-timeout; longer ones heartbeat, so another worker takes them over.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/internal/searchattrs"
	"github.com/imagefleet/imagefleet/internal/telemetry"
	"github.com/imagefleet/imagefleet/internal/workeropts"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows"
)

// Settings of the worker with their environment variables.
const (
	envStopTimeout     = "IMAGEFLEET_WORKER_STOP_TIMEOUT"
	envRegisterSA      = "IMAGEFLEET_REGISTER_SEARCH_ATTRIBUTES"
	defaultStopTimeout = 30 * time.Second
)

type options struct {
	pollInterval time.Duration
	metricsAddr  string
	// metricsDefault: metricsAddr is the default, not chosen. A second
	// worker on the same host then runs without metrics rather than failing.
	metricsDefault bool
	stopTimeout    time.Duration
	// registerSA: register missing search attributes at start.
	registerSA bool
	// plaintext: run without payload keys on purpose (a deployment whose
	// payloads are not encrypted).
	plaintext bool
}

func main() {
	logger := config.Logger("worker")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	var runErr error
	cmd := command(func(o options) error {
		runErr = run(ctx, o)
		return nil
	})
	// Exit codes: 2 for bad flags or settings (nothing started; no payload
	// keys without --plaintext-payloads included), 1 for a
	// worker that stopped on an error, 0 otherwise (--help included).
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "worker: %v (see worker --help)\n", err)
		os.Exit(2)
	}
	if runErr != nil {
		logger.Error().Err(runErr).Msg("worker stopped")
		if errors.Is(runErr, config.ErrNoPayloadKeys) {
			os.Exit(2) // a setting: nothing started
		}
		os.Exit(1)
	}
}

// command is the worker's command line; it calls start with the options
// once the flags and environment have been read and checked.
func command(start func(options) error) *cobra.Command {
	var o options
	stopDefault, envErr := stopTimeoutFromEnv()
	registerDefault, registerErr := boolFromEnv(envRegisterSA, true)
	if envErr == nil {
		envErr = registerErr
	}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run imagefleet's workflows and activities",
		Long: fmt.Sprintf("Runs imagefleet's workflows and activities on task queue %q.\n\n"+
			"Temporal settings: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE.\n"+
			"Cloud settings: %s (default %s), %s.\n"+
			"Payload keys: %s or %s, else the local stack's .data/codec.keys when Temporal is on this machine; "+
			"none refuses to start unless --plaintext-payloads. A payload the keys do not decrypt blocks its workflow task "+
			"(logged at error level, counted in %s) until a worker with the key takes it; the run does not fail.\n"+
			"Tracing: OTLP/HTTP export when OTEL_EXPORTER_OTLP_ENDPOINT is set (standard OTEL_* settings).",
			model.TaskQueue, config.EnvCloudEndpoint, config.DefaultCloudEndpoint, config.EnvAccount,
			config.EnvCodecKeysFile, config.EnvCodecKeys, telemetry.MetricPayloadDecodeBlocked),
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if envErr != nil {
				return envErr
			}
			if o.stopTimeout < 0 {
				return fmt.Errorf("--stop-timeout must not be negative")
			}
			o.metricsDefault = !cmd.Flags().Changed("metrics-addr") &&
				o.metricsAddr == config.DefaultMetricsAddr && os.Getenv(config.EnvMetricsAddr) == ""
			if o.plaintext {
				os.Setenv(config.EnvPlaintextPayloads, "true")
			} else if _, err := config.PlaintextAllowed(); err != nil {
				return err
			}
			if o.metricsAddr == "off" {
				o.metricsAddr = ""
			}
			return start(o)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&o.pollInterval, "poll-interval", 500*time.Millisecond, "how often long cloud operations are polled")
	f.StringVar(&o.metricsAddr, "metrics-addr", config.MetricsAddr(),
		"address to serve Prometheus metrics on (/metrics); \"off\" or empty serves none (env "+config.EnvMetricsAddr+")")
	f.BoolVar(&o.registerSA, "register-search-attributes", registerDefault,
		"register imagefleet's search attributes on the namespace at start when they are missing and the server allows it (env "+envRegisterSA+"=false to only check)")
	f.DurationVar(&o.stopTimeout, "stop-timeout", stopDefault,
		"on SIGTERM/SIGINT, how long in-flight activities may still run before they are cancelled (env "+envStopTimeout+")")
	f.BoolVar(&o.plaintext, "plaintext-payloads", false,
		"run without payload keys on purpose, for a deployment whose payloads are not encrypted (env "+config.EnvPlaintextPayloads+"=true); "+
			"without it a worker without keys refuses to start")
	return cmd
}

// stopTimeoutFromEnv is the default of --stop-timeout: IMAGEFLEET_WORKER_STOP_TIMEOUT
// or 30s. An invalid value is an error rather than silently the default.
func stopTimeoutFromEnv() (time.Duration, error) {
	s := os.Getenv(envStopTimeout)
	if s == "" {
		return defaultStopTimeout, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return defaultStopTimeout, fmt.Errorf("%s=%q: want a duration such as 30s", envStopTimeout, s)
	}
	return d, nil
}

// boolFromEnv is a boolean setting's default: the variable name, or def
// when it is unset. An invalid value is an error.
func boolFromEnv(name string, def bool) (bool, error) {
	s := os.Getenv(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return def, fmt.Errorf("%s=%q: want true or false", name, s)
	}
	return b, nil
}

// parseFlags reads args and the environment into options, as the worker
// does before it starts.
func parseFlags(args []string) (options, error) {
	var got options
	cmd := command(func(o options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	return got, err
}

func run(ctx context.Context, o options) error {
	logger := config.Logger("worker")
	tel, err := config.NewTelemetry(ctx, "imagefleet-worker", o.metricsAddr != "")
	if err != nil {
		return err
	}
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(shutdown)
	}()
	countBlocked, err := tel.Metrics.PayloadDecodeBlocked()
	if err != nil {
		return err
	}
	opts, err := config.WorkerTemporalOptions(logger, func(ke *codec.KeyError) {
		// Loud: every attempt of a blocked task says so, at error level.
		msg := "a payload does not decrypt with this worker's keys: its workflow task is blocked and retried until a worker with the key takes it (the run does not fail)"
		if !ke.InWorkflow {
			msg = "a payload does not decrypt with this worker's keys: the activity attempt fails and is retried (on a worker with the key, it succeeds)"
		}
		logger.Error().Str("keyId", ke.KeyID).Str("reason", ke.Reason).Bool("workflowTask", ke.InWorkflow).Err(ke).Msg(msg)
		countBlocked(ke.Reason, ke.KeyID)
	})
	if err != nil {
		return fmt.Errorf("load Temporal client options: %w", err)
	}
	if err := tel.Apply(&opts); err != nil {
		return err
	}
	c, err := client.Dial(opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	defer c.Close()

	var served <-chan error
	// Metrics are served until the worker has stopped, its last tasks included.
	metricsCtx, stopMetrics := context.WithCancel(context.Background())
	defer stopMetrics()
	if o.metricsAddr != "" {
		if err := tel.Metrics.ObserveWaitingRuns(model.Operations, waitingRuns(c)); err != nil {
			return err
		}
		addr, done, err := tel.Metrics.Serve(metricsCtx, o.metricsAddr)
		switch {
		case err != nil && o.metricsDefault:
			logger.Warn().Err(err).Msg("serving no metrics: the default address is taken (another worker on this host?); set --metrics-addr")
		case err != nil:
			return err
		default:
			served = done
			logger.Info().Str("metrics", "http://"+addr.String()+"/metrics").Msg("serving metrics")
		}
	}

	// The search attributes the runs set: registered here where the
	// namespace allows it; otherwise the runs leave out the missing ones.
	sa := searchattrs.NewCatalog(c, opts.Namespace, o.registerSA, logger)
	sa.Check(ctx)
	go sa.Watch(metricsCtx, time.Minute)
	workflows.SetUnregisteredSearchAttributes(sa.Unregistered)

	cloudClient := tel.Cloud()
	// Pollers and slots: workeropts (the bench's bare floor uses the same).
	w := worker.New(c, model.TaskQueue, workeropts.Apply(worker.Options{WorkerStopTimeout: o.stopTimeout,
		Interceptors: workflows.Interceptors(),
		// A panic fails the workflow task, never the run: a payload this
		// worker cannot decrypt panics (codec.BlockUndecodable) and must
		// leave the run to a worker with the key.
		WorkflowPanicPolicy: worker.BlockWorkflow}))
	workflows.Register(w)
	activities.Register(w, cloudClient, activities.Options{PollInterval: o.pollInterval, Visibility: c, DataConverter: opts.DataConverter})
	logger.Info().Str("taskQueue", model.TaskQueue).Str("cloud", cloudClient.Endpoint()).Str("namespace", opts.Namespace).
		Str("stopTimeout", o.stopTimeout.String()).Msg("worker starting")
	if err := w.Start(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		w.Stop()
		return fmt.Errorf("metrics server: %w", err)
	}
	logger.Info().Str("stopTimeout", o.stopTimeout.String()).Msg("stopping: no new tasks; in-flight activities may finish")
	// Stop returns once in-flight tasks have finished, or after the stop
	// timeout has cancelled the activities still running (their next attempt
	// runs on another worker, resuming from its last heartbeat).
	w.Stop()
	logger.Info().Msg("worker stopped")
	return nil
}

// waitingRuns counts the runs of an operation that wait for an operator,
// through the namespace's visibility.
func waitingRuns(c client.Client) func(ctx context.Context, operation string) (int64, error) {
	return func(ctx context.Context, operation string) (int64, error) {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf("%s = '%s' AND %s = '%s' AND ExecutionStatus = 'Running'",
				model.SAOperation.GetName(), operation, model.SAState.GetName(), model.StateWaitingForOperator),
		})
		if err != nil {
			return 0, err
		}
		return resp.GetCount(), nil
	}
}
