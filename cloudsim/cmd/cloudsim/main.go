// Command cloudsim runs the simulated cloud imagefleet works against.
//
//	cloudsim [--listen 127.0.0.1:8299] [--data-dir .data/cloud] [--time-scale 1]
//	         [--faults faults.json] [--seed=true]   (cloudsim --help)
//
// Each flag falls back to an environment variable: IMAGEFLEET_CLOUD_LISTEN,
// IMAGEFLEET_CLOUD_DATA_DIR, IMAGEFLEET_CLOUD_TIME_SCALE, IMAGEFLEET_CLOUD_FAULTS,
// IMAGEFLEET_CLOUD_SEED; IMAGEFLEET_LOG_LEVEL sets the log level (info).
// The faults file holds a JSON array of cloud.Fault; Delay and RetryAfter may
// be written as durations ("2s"). State and the ledger persist in the data
// directory; fault rules do not. SIGINT or SIGTERM shut it down gracefully.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "cloudsim:", err)
		os.Exit(2)
	}
}

// settings are the simulated cloud's flags.
type settings struct {
	listen, dataDir, faultsFile string
	timeScale                   float64
	imageQuota                  int
	seed                        bool
}

// run reads args, then serves until ctx ends (--help only prints the help).
// ready, if not nil, receives the listening address.
func run(ctx context.Context, args []string, logOut io.Writer, ready chan<- string) error {
	var (
		s       settings
		envErrs []error
	)
	cmd := &cobra.Command{
		Use:   "cloudsim",
		Short: "Run the simulated cloud imagefleet works against",
		Long: "Runs the simulated cloud: an HTTP API with asynchronous operations, faults, idempotency tokens,\n" +
			"persistence and a side-effect ledger (see cloudsim/README.md). Each flag falls back to an environment\n" +
			"variable (named in its help); IMAGEFLEET_LOG_LEVEL sets the log level (info).",
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := errors.Join(envErrs...); err != nil {
				return err
			}
			return serve(cmd.Context(), s, logOut, ready)
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.listen, "listen", env("IMAGEFLEET_CLOUD_LISTEN", "127.0.0.1:8299"), "address to listen on (env IMAGEFLEET_CLOUD_LISTEN)")
	f.StringVar(&s.dataDir, "data-dir", env("IMAGEFLEET_CLOUD_DATA_DIR", ".data/cloud"), "directory of the persistent state and ledger (env IMAGEFLEET_CLOUD_DATA_DIR)")
	f.Float64Var(&s.timeScale, "time-scale", envParse("IMAGEFLEET_CLOUD_TIME_SCALE", 1.0, parseFloat, &envErrs),
		"factor on asynchronous durations (0.002: a 40-minute copy takes ~5s; env IMAGEFLEET_CLOUD_TIME_SCALE)")
	f.IntVar(&s.imageQuota, "image-quota", cloudsim.DefaultImageQuota, "custom images an account may have per region (a bench of many distributions raises it)")
	f.StringVar(&s.faultsFile, "faults", env("IMAGEFLEET_CLOUD_FAULTS", ""), "JSON file with an array of fault rules to install at start (env IMAGEFLEET_CLOUD_FAULTS)")
	f.BoolVar(&s.seed, "seed", envParse("IMAGEFLEET_CLOUD_SEED", true, strconv.ParseBool, &envErrs), "create demo data on first start (env IMAGEFLEET_CLOUD_SEED)")
	cmd.SetArgs(args)
	cmd.SetOut(logOut)
	cmd.SetErr(logOut)
	return cmd.ExecuteContext(ctx)
}

// serve runs the simulated cloud with s until ctx ends.
func serve(ctx context.Context, s settings, logOut io.Writer, ready chan<- string) error {
	log := newLogger(logOut)

	var faults []cloud.Fault
	if s.faultsFile != "" {
		data, err := os.ReadFile(s.faultsFile)
		if err != nil {
			return err
		}
		if faults, err = cloudsim.ParseFaults(data); err != nil {
			return fmt.Errorf("%s: %w", s.faultsFile, err)
		}
	}
	srv, err := cloudsim.New(cloudsim.Config{
		DataDir:    s.dataDir,
		TimeScale:  s.timeScale,
		ImageQuota: s.imageQuota,
		Faults:     faults,
		NoSeed:     !s.seed,
		OnRequest:  func(r cloudsim.RequestLog) { logRequest(log, r) },
	})
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	log.Info().Str("listen", ln.Addr().String()).Str("dataDir", s.dataDir).Float64("timeScale", s.timeScale).
		Int("faults", len(faults)).Msg("simulated cloud serving")
	if ready != nil {
		ready <- ln.Addr().String()
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return err
	}
	return srv.Close()
}

func logRequest(log zerolog.Logger, r cloudsim.RequestLog) {
	ev := log.Info()
	if r.Status >= 500 || r.Status == http.StatusTooManyRequests {
		ev = log.Warn()
	}
	if r.Action != "" {
		ev = ev.Str("action", r.Action).Str("account", r.Account)
	} else {
		ev = ev.Str("method", r.Method).Str("path", r.Path)
	}
	ev = ev.Int("status", r.Status).Dur("duration", r.Duration).Str("requestId", r.RequestID)
	if r.Code != "" {
		ev = ev.Str("code", r.Code)
	}
	if r.TraceID != "" {
		ev = ev.Str("traceId", r.TraceID)
	}
	if r.Replayed {
		ev = ev.Bool("replayed", true)
	}
	if len(r.Faults) > 0 {
		ev = ev.Strs("faults", r.Faults)
	}
	ev.Msg("request")
}

// newLogger writes human-readable lines to a terminal, JSON lines otherwise.
func newLogger(out io.Writer) zerolog.Logger {
	w := out
	if f, ok := out.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			w = zerolog.ConsoleWriter{Out: out, TimeFormat: time.TimeOnly}
		}
	}
	level, err := zerolog.ParseLevel(strings.ToLower(os.Getenv("IMAGEFLEET_LOG_LEVEL")))
	if err != nil || level == zerolog.NoLevel {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("component", "cloudsim").Logger()
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envParse reads name with parse, or returns def if it is unset; an invalid
// value is an error rather than silently the default.
func envParse[T any](name string, def T, parse func(string) (T, error), errs *[]error) T {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := parse(s)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s=%q: %w", name, s, err))
		return def
	}
	return v
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
