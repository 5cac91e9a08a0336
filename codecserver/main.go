// Command codecserver serves Temporal's codec server protocol for
// imagefleet's encrypted payloads, so that the Web UI and the temporal CLI
// can show them to people allowed to see them:
//
//	codecserver [flags]          serve POST /encode and POST /decode
//	codecserver genkey           print a new key line to append to a key file
//
// Keys come from IMAGEFLEET_CODEC_KEYS_FILE or IMAGEFLEET_CODEC_KEYS (or
// --keys-file); an optional bearer token from IMAGEFLEET_CODEC_TOKEN or
// --token-file. The local stack (devstack) runs it on 127.0.0.1:8234.
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
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/config"
)

// DefaultListen is the local stack's codec server address.
const DefaultListen = "127.0.0.1:8234"

// options are the codec server's flags.
type options struct {
	listen, origins, namespaces, keysFile, tokenFile string
	maxBody                                          int64
	sessionTTL                                       time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed := false
	cmd := command(func(listen string, h http.Handler) error {
		if err := serve(ctx, listen, h); err != nil {
			logger := config.Logger("codecserver")
			logger.Error().Err(err).Msg("codec server stopped")
			failed = true
		}
		return nil
	}, func(out io.Writer) error {
		if err := genkey(out); err != nil {
			fmt.Fprintln(os.Stderr, "codecserver:", err)
			failed = true
		}
		return nil
	})
	// Exit codes: 2 for bad flags, arguments or settings (nothing started),
	// 1 for a server that stopped on an error or a key that could not be
	// made, 0 otherwise (--help included).
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "codecserver: %v (see codecserver --help)\n", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// command is the codec server's command line: it calls start with the
// address and the server once the flags and settings have been read and
// checked; its genkey command calls genkey.
func command(start func(listen string, h http.Handler) error, genkey func(io.Writer) error) *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "codecserver",
		Short: "Serve POST /encode and /decode for the Web UI and the temporal CLI",
		Long: fmt.Sprintf("Serves Temporal's codec server protocol for imagefleet's encrypted payloads.\n\n"+
			"Keys: --keys-file, else %s or %s; bearer token: --token-file, else %s.\n\n"+
			"Web UI: temporal server start-dev --ui-codec-endpoint http://%[4]s\n"+
			"CLI:    temporal workflow show -w ID -n NAMESPACE --codec-endpoint http://%[4]s [--codec-auth 'Bearer TOKEN']\n"+
			"        (without -n the CLI sends an empty X-Namespace, served as namespace \"default\")\n\n"+
			"With a token, the Web UI cannot send it: open <codec endpoint>/login in the browser once and enter the\n"+
			"token; the session cookie it sets is sent when the UI's codec settings include cross-origin credentials\n"+
			"(serve the codec server on the same site as the UI, e.g. both on localhost, or over HTTPS).",
			config.EnvCodecKeysFile, config.EnvCodecKeys, config.EnvCodecToken, DefaultListen),
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(*cobra.Command, []string) error {
			h, err := handler(o)
			if err != nil {
				return err
			}
			return start(o.listen, h)
		},
	}
	cmd.CompletionOptions.DisableDefaultCmd = true
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", DefaultListen, "address to listen on")
	f.StringVar(&o.origins, "web-ui-origin", "http://localhost:8233,http://127.0.0.1:8233", "comma-separated Web UI origins allowed to call from a browser (CORS)")
	f.StringVar(&o.namespaces, "namespace", "", "comma-separated namespaces served (X-Namespace; an empty header, as the temporal CLI sends without -n, is \"default\"); empty serves any")
	f.StringVar(&o.keysFile, "keys-file", "", "key file (default: "+config.EnvCodecKeysFile+" or "+config.EnvCodecKeys+")")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the bearer token callers must send (default: "+config.EnvCodecToken+"; none: no check)")
	f.Int64Var(&o.maxBody, "max-body-bytes", codec.DefaultMaxBodyBytes, "largest request body accepted")
	f.DurationVar(&o.sessionTTL, "session-ttl", codec.DefaultSessionTTL, "how long a browser's sign-in at /login lasts")
	cmd.AddCommand(&cobra.Command{
		Use:   "genkey",
		Short: "Print a new key (\"<id>=<base64>\"): append it to the key file to rotate",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return genkey(cmd.OutOrStdout()) },
	})
	return cmd
}

// genkey prints a new key line.
func genkey(out io.Writer) error {
	line, err := codec.NewKeyLine()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, line)
	return err
}

// handler is the codec server of o's settings: keys, token, origins.
func handler(o options) (http.Handler, error) {
	if o.keysFile != "" {
		os.Setenv(config.EnvCodecKeysFile, o.keysFile)
		os.Unsetenv(config.EnvCodecKeys)
	}
	logger := newLogger()
	opts := codec.ServerOptions{
		AllowedOrigins: splitList(o.origins),
		Namespaces:     splitList(o.namespaces),
		MaxBodyBytes:   o.maxBody,
		SessionTTL:     o.sessionTTL,
		Logger:         logger,
	}
	keys, err := config.CodecKeys()
	if err == nil && keys.Len() == 0 {
		err = fmt.Errorf("no keys: set %s or %s, or pass --keys-file", config.EnvCodecKeysFile, config.EnvCodecKeys)
	}
	if err == nil {
		opts.Token, err = token(o.tokenFile)
	}
	if err != nil {
		return nil, err
	}
	logger.Info().Strs("keys", keys.IDs()).Bool("token", opts.Token != "").Strs("origins", opts.AllowedOrigins).Msg("codec server starting")
	if opts.Token == "" && !loopbackOnly(o.listen) {
		logger.Warn().Str("listen", o.listen).Msgf("listening beyond this machine WITHOUT a token: anyone who reaches %s can decrypt every payload; set %s or --token-file",
			o.listen, config.EnvCodecToken)
	}
	return codec.NewServer(codec.New(keys), opts), nil
}

func serve(ctx context.Context, addr string, h http.Handler) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger := config.Logger("codecserver")
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	logger.Info().Str("listen", l.Addr().String()).Msg("codec server listening")
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func token(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv(config.EnvCodecToken)), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", fmt.Errorf("token file %s is empty", file)
	}
	return t, nil
}

// newLogger is the server's logger (a test reads what it says).
var newLogger = func() zerolog.Logger { return config.Logger("codecserver") }

// loopbackOnly reports whether listen ("host:port") accepts connections
// from this machine only. An empty host ("":8234) or 0.0.0.0 listens on
// every interface; a host name other than localhost is taken as exposed.
func loopbackOnly(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
