package stack

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/config"
)

// DefaultCodecPort is the codec server's port in the local stack.
const DefaultCodecPort = 8234

func withCodecDefaults(cfg Config) Config {
	if cfg.CodecPort == 0 {
		cfg.CodecPort = DefaultCodecPort
	}
	if cfg.CodecKeysFile == "" && cfg.DataDir != "" {
		cfg.CodecKeysFile = filepath.Join(cfg.DataDir, "codec.keys")
	}
	if cfg.CodecKeysFile != "" {
		if abs, err := filepath.Abs(cfg.CodecKeysFile); err == nil {
			cfg.CodecKeysFile = abs
		}
	}
	return cfg
}

// CodecEndpoint is the codec server's base URL, for the Web UI
// (--ui-codec-endpoint) and the temporal CLI (--codec-endpoint).
func (s *Stack) CodecEndpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.cfg.CodecPort) }

// CodecToken is the bearer token the stack's codec server asks for ("": none).
func (s *Stack) CodecToken() string { return s.cfg.CodecToken }

// CodecKeysFile is the key file the stack's processes encrypt with.
func (s *Stack) CodecKeysFile() string { return s.cfg.CodecKeysFile }

// EnsureCodecKeys makes the stack's key file with one fresh key unless it
// exists: the local stack encrypts from its first start on.
func (s *Stack) EnsureCodecKeys() error {
	if s.cfg.CodecKeysFile == "" {
		return nil
	}
	if err := codec.EnsureKeyFile(s.cfg.CodecKeysFile); err != nil {
		return fmt.Errorf("payload key file %s: %w", s.cfg.CodecKeysFile, err)
	}
	return nil
}

// codecEnv points a worker, starter or codec server at the stack's keys
// (and, if it runs one, its codec server).
func (s *Stack) codecEnv() []string {
	var env []string
	if s.cfg.CodecKeysFile != "" {
		env = append(env, config.EnvCodecKeysFile+"="+s.cfg.CodecKeysFile, config.EnvCodecKeys+"=")
	}
	if s.cfg.CodecServer != "" {
		env = append(env, config.EnvCodecEndpoint+"="+s.CodecEndpoint())
	}
	return env
}

// StartCodecServer starts the codec server for the Web UI's origins and
// waits until it answers.
func (s *Stack) StartCodecServer(ctx context.Context) (*Process, error) {
	if err := s.EnsureCodecKeys(); err != nil {
		return nil, err
	}
	ui := strconv.Itoa(s.cfg.UIPort)
	args := []string{
		"--listen", "127.0.0.1:" + strconv.Itoa(s.cfg.CodecPort),
		"--web-ui-origin", strings.Join([]string{"http://localhost:" + ui, "http://127.0.0.1:" + ui}, ","),
	}
	p, err := s.start("codec", s.cfg.CodecServer, args, append(s.codecEnv(), config.EnvCodecToken+"="+s.cfg.CodecToken))
	if err != nil {
		return nil, err
	}
	return p, waitFor(ctx, p, 30*time.Second, httpHealthy(s.CodecEndpoint()+"/health"))
}

// httpHealthy is a readiness check: url answers 200 to a GET.
func httpHealthy(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %s", resp.Status)
		}
		return nil
	}
}
