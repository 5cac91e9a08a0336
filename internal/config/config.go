// Package config builds what every imagefleet process needs from its
// environment: a zerolog logger, Temporal client options (through envconfig,
// so TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS settings and
// temporal.toml profiles all work) and the cloud client.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/payload"
)

// Environment variables of imagefleet's own settings.
const (
	EnvCloudEndpoint = "IMAGEFLEET_CLOUD_ENDPOINT"
	// The access key of credentials-go's default chain (which also reads
	// the CLI profile, STS tokens and an ECS RAM role): the services
	// migrated to Alibaba Cloud's SDK sign with it.
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	EnvAccount         = "IMAGEFLEET_ACCOUNT"
	EnvLogLevel        = "IMAGEFLEET_LOG_LEVEL"
	EnvWebUI           = "IMAGEFLEET_WEB_UI"
)

// Defaults of the local stack.
const (
	DefaultCloudEndpoint = "http://127.0.0.1:8299"
	DefaultAccount       = "1000000000000001"
	DefaultWebUI         = "http://localhost:8233"
)

// Logger returns a zerolog logger for component: human-readable on a
// terminal, JSON lines otherwise; level from IMAGEFLEET_LOG_LEVEL (info).
func Logger(component string) zerolog.Logger {
	var w io.Writer = os.Stderr
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		w = zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}
	}
	level, err := zerolog.ParseLevel(strings.ToLower(os.Getenv(EnvLogLevel)))
	if err != nil || level == zerolog.NoLevel {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("component", component).Logger()
}

// SDKLogger hands a zerolog logger to the Temporal SDK. Workflow log lines
// then carry the SDK's WorkflowID and RunID fields.
func SDKLogger(l zerolog.Logger) sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(zerolog.NewSlogHandler(l)))
}

// TemporalOptions loads client options from the environment and the
// temporal.toml profile (TEMPORAL_PROFILE), as the temporal CLI does.
// Without any setting they point at localhost:7233, namespace default.
// Payloads are encrypted with PayloadKeys; without keys it fails with
// ErrNoPayloadKeys unless IMAGEFLEET_PLAINTEXT_PAYLOADS=true.
func TemporalOptions(l zerolog.Logger) (client.Options, error) {
	return temporalOptions(l, nil)
}

// WorkerTemporalOptions is TemporalOptions for a worker: a payload its keys
// do not decrypt blocks the workflow task (retried until a worker with the
// key takes it) instead of failing the run; report hears of each one.
func WorkerTemporalOptions(l zerolog.Logger, report func(*codec.KeyError)) (client.Options, error) {
	if report == nil {
		report = func(*codec.KeyError) {}
	}
	return temporalOptions(l, report)
}

// AdminTemporalOptions is TemporalOptions for a client that sends and
// reads no payloads (`starter setup` registers search attributes): it needs
// no payload keys, and refuses nothing for their absence.
func AdminTemporalOptions(l zerolog.Logger) (client.Options, error) {
	return baseTemporalOptions(l)
}

func temporalOptions(l zerolog.Logger, report func(*codec.KeyError)) (client.Options, error) {
	opts, err := baseTemporalOptions(l)
	if err != nil {
		return client.Options{}, err
	}
	if err := withPayloadCodec(&opts, l, report); err != nil {
		return client.Options{}, fmt.Errorf("payload encryption: %w", err)
	}
	return opts, nil
}

func baseTemporalOptions(l zerolog.Logger) (client.Options, error) {
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{})
	if err != nil {
		return client.Options{}, err
	}
	if opts.Namespace == "" {
		opts.Namespace = client.DefaultNamespace // what the SDK uses, named in logs and links
	}
	opts.Logger = SDKLogger(l)
	// One data converter for worker and starter: strict JSON, so that a
	// misspelled field of an input, signal or update is refused by name.
	opts.DataConverter = payload.Converter
	withPrintableHeaders(&opts)
	return opts, nil
}

// Cloud returns the cloud client for IMAGEFLEET_CLOUD_ENDPOINT acting as
// IMAGEFLEET_ACCOUNT.
//
// The services migrated to Alibaba Cloud's official SDK go to
// IMAGEFLEET_ALIBABA_ENDPOINT (a URL, or "regional" for the real regional
// endpoints), else to the same endpoint, signed with credentials-go's
// default chain.
func Cloud() *cloud.Client {
	c := cloud.NewClient(env(EnvCloudEndpoint, DefaultCloudEndpoint), env(EnvAccount, DefaultAccount))
	if e := os.Getenv(cloud.EnvAlibabaEndpoint); e != "" {
		c = c.WithAlibabaEndpoint(e)
	}
	return c
}

// WebUI is the base URL of the Temporal Web UI.
func WebUI() string { return strings.TrimRight(env(EnvWebUI, DefaultWebUI), "/") }

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
