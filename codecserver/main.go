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
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/config"
)

// DefaultListen is the local stack's codec server address.
const DefaultListen = "127.0.0.1:8234"

func main() {
	if len(os.Args) == 2 && os.Args[1] == "genkey" {
		line, err := codec.NewKeyLine()
		if err != nil {
			fmt.Fprintln(os.Stderr, "codecserver:", err)
			os.Exit(1)
		}
		fmt.Println(line)
		return
	}
	fs := flag.NewFlagSet("codecserver", flag.ExitOnError)
	listen := fs.String("listen", DefaultListen, "address to listen on")
	origins := fs.String("web-ui-origin", "http://localhost:8233,http://127.0.0.1:8233", "comma-separated Web UI origins allowed to call from a browser (CORS)")
	namespaces := fs.String("namespace", "", "comma-separated namespaces served (X-Namespace); empty serves any")
	keysFile := fs.String("keys-file", "", "key file (default: "+config.EnvCodecKeysFile+" or "+config.EnvCodecKeys+")")
	tokenFile := fs.String("token-file", "", "file holding the bearer token callers must send (default: "+config.EnvCodecToken+"; none: no check)")
	maxBody := fs.Int64("max-body-bytes", codec.DefaultMaxBodyBytes, "largest request body accepted")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: codecserver [flags]     serve POST /encode and /decode for the Web UI and the temporal CLI\n"+
			"       codecserver genkey      print a new key (\"<id>=<base64>\"): append it to the key file to rotate\n\n"+
			"Web UI: temporal server start-dev --ui-codec-endpoint http://%[1]s\n"+
			"CLI:    temporal workflow show -w ID --codec-endpoint http://%[1]s [--codec-auth 'Bearer TOKEN']\n\nFlags:\n", DefaultListen)
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() != 0 {
		fs.Usage()
		os.Exit(2)
	}
	if *keysFile != "" {
		os.Setenv(config.EnvCodecKeysFile, *keysFile)
		os.Unsetenv(config.EnvCodecKeys)
	}
	logger := config.Logger("codecserver")
	opts := codec.ServerOptions{
		AllowedOrigins: splitList(*origins),
		Namespaces:     splitList(*namespaces),
		MaxBodyBytes:   *maxBody,
		Logger:         logger,
	}
	keys, err := config.CodecKeys()
	if err == nil && keys.Len() == 0 {
		err = fmt.Errorf("no keys: set %s or %s, or pass --keys-file", config.EnvCodecKeysFile, config.EnvCodecKeys)
	}
	if err == nil {
		opts.Token, err = token(*tokenFile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "codecserver:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info().Strs("keys", keys.IDs()).Bool("token", opts.Token != "").Strs("origins", opts.AllowedOrigins).Msg("codec server starting")
	if err := serve(ctx, *listen, codec.NewServer(codec.New(keys), opts)); err != nil {
		logger.Error().Err(err).Msg("codec server stopped")
		os.Exit(1)
	}
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

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
