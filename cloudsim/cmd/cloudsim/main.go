// Command cloudsim runs the simulated cloud imagefleet works against.
//
//	cloudsim [--listen 127.0.0.1:8299] [--data-dir .data/cloud] [--time-scale 1]
//	         [--faults faults.json] [--seed=true]
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
	"flag"
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

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cloudsim:", err)
		}
		os.Exit(2)
	}
}

// run serves until ctx ends. ready, if not nil, receives the listening address.
func run(ctx context.Context, args []string, logOut io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("cloudsim", flag.ContinueOnError)
	fs.SetOutput(logOut)
	var envErrs []error
	listen := fs.String("listen", env("IMAGEFLEET_CLOUD_LISTEN", "127.0.0.1:8299"), "address to listen on")
	dataDir := fs.String("data-dir", env("IMAGEFLEET_CLOUD_DATA_DIR", ".data/cloud"), "directory of the persistent state and ledger")
	timeScale := fs.Float64("time-scale", envParse("IMAGEFLEET_CLOUD_TIME_SCALE", 1.0, parseFloat, &envErrs), "factor on asynchronous durations (0.002: a 40-minute copy takes ~5s)")
	faultsFile := fs.String("faults", env("IMAGEFLEET_CLOUD_FAULTS", ""), "JSON file with an array of fault rules to install at start")
	seed := fs.Bool("seed", envParse("IMAGEFLEET_CLOUD_SEED", true, strconv.ParseBool, &envErrs), "create demo data on first start")
	if err := errors.Join(envErrs...); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	log := newLogger(logOut)

	var faults []cloud.Fault
	if *faultsFile != "" {
		data, err := os.ReadFile(*faultsFile)
		if err != nil {
			return err
		}
		if faults, err = cloudsim.ParseFaults(data); err != nil {
			return fmt.Errorf("%s: %w", *faultsFile, err)
		}
	}
	srv, err := cloudsim.New(cloudsim.Config{
		DataDir:   *dataDir,
		TimeScale: *timeScale,
		Faults:    faults,
		NoSeed:    !*seed,
		OnRequest: func(r cloudsim.RequestLog) { logRequest(log, r) },
	})
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	log.Info().Str("listen", ln.Addr().String()).Str("dataDir", *dataDir).Float64("timeScale", *timeScale).
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
