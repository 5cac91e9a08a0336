package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/config"
)

// execute runs the command line with args; started is the address the
// server would listen on, "" if it would not start.
func execute(t *testing.T, args ...string) (out string, started string, err error) {
	t.Helper()
	var buf bytes.Buffer
	cmd := command(func(listen string, h http.Handler) error {
		started = listen
		srv := httptest.NewServer(h)
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("health: %s", resp.Status)
		}
		return nil
	}, genkey)
	cmd.SetArgs(args)
	cmd.SetOut(&buf)
	cmd.SetErr(io.Discard)
	err = cmd.Execute()
	return buf.String(), started, err
}

func keyFile(t *testing.T) string {
	t.Helper()
	line, err := codec.NewKeyLine()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestServeWithFlags(t *testing.T) {
	t.Setenv(config.EnvCodecKeysFile, "")
	t.Setenv(config.EnvCodecKeys, "")
	_, started, err := execute(t, "--keys-file", keyFile(t), "--listen", "127.0.0.1:0", "--web-ui-origin=http://x:1", "--namespace", "default")
	if err != nil || started != "127.0.0.1:0" {
		t.Fatalf("started %q: %v", started, err)
	}
}

func TestGenkey(t *testing.T) {
	out, started, err := execute(t, "genkey")
	if err != nil || started != "" {
		t.Fatalf("genkey: %v (started %q)", err, started)
	}
	if _, err := codec.ParseKeys(out); err != nil || !strings.Contains(out, "=") {
		t.Errorf("genkey printed %q: %v", out, err)
	}
}

func TestUsageAndSettingErrors(t *testing.T) {
	t.Setenv(config.EnvCodecKeysFile, "")
	t.Setenv(config.EnvCodecKeys, "")
	for _, args := range [][]string{{"--bogus"}, {"-listen=x"}, {"stray"}, {"genkey", "x"}, {"genkey", "--listen=x"},
		{}, {"--keys-file", "/does/not/exist"}} {
		if _, started, err := execute(t, args...); err == nil || started != "" {
			t.Errorf("%q: err %v, started %q", args, err, started)
		}
	}
}

func TestHelp(t *testing.T) {
	out, started, err := execute(t, "--help")
	if err != nil || started != "" {
		t.Fatalf("--help: %v (started %q)", err, started)
	}
	for _, want := range []string{"--listen", "--web-ui-origin", "--keys-file", "--token-file", "--max-body-bytes", "--namespace", "genkey", config.EnvCodecToken} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

// A codec server reachable from other machines without a token says so at
// start; on loopback, or with a token, it does not.
func TestWarnsWhenExposedWithoutToken(t *testing.T) {
	t.Setenv(config.EnvCodecKeysFile, "")
	t.Setenv(config.EnvCodecKeys, "")
	var logs bytes.Buffer
	defer func(old func() zerolog.Logger) { newLogger = old }(newLogger)
	newLogger = func() zerolog.Logger { return zerolog.New(&logs) }
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := keyFile(t)
	for _, tc := range []struct {
		args []string
		warn bool
	}{
		{[]string{"--listen", "0.0.0.0:8234"}, true},
		{[]string{"--listen", ":8234"}, true},
		{[]string{"--listen", "10.1.2.3:8234"}, true},
		{[]string{"--listen", "codec.example.com:8234"}, true},
		{[]string{"--listen", "127.0.0.1:8234"}, false},
		{[]string{"--listen", "[::1]:8234"}, false},
		{[]string{"--listen", "localhost:8234"}, false},
		{[]string{"--listen", "0.0.0.0:8234", "--token-file", tokenFile}, false},
	} {
		logs.Reset()
		if _, _, err := execute(t, append(tc.args, "--keys-file", keys)...); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		warned := strings.Contains(logs.String(), `"level":"warn"`) && strings.Contains(logs.String(), "WITHOUT a token")
		if warned != tc.warn {
			t.Errorf("%v: warned %v, want %v:\n%s", tc.args, warned, tc.warn, logs.String())
		}
	}
}
