package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunServesAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	faults := filepath.Join(dir, "faults.json")
	if err := os.WriteFile(faults, []byte(`[{"Kind":"throttle","Action":"CopyImage","Count":1,"RetryAfter":"2s"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var logs syncBuffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--time-scale", "0.001", "--faults", faults}, &logs, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}

	c := cloud.NewClient("http://"+addr, cloudsim.DefaultAccount)
	if err := c.Admin().Health(ctx); err != nil {
		t.Fatal(err)
	}
	req := &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1", ClientToken: "x"}
	_, err := c.CopyImage(ctx, req)
	if apiErr, ok := cloud.AsAPIError(err); !ok || apiErr.Code != cloud.CodeThrottling || apiErr.RetryAfter != 2*time.Second {
		t.Fatalf("fault from --faults: %v", err)
	}
	if _, err := c.CopyImage(ctx, req); err != nil {
		t.Fatal(err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
	out := logs.String()
	for _, want := range []string{`"action":"CopyImage"`, `"status":429`, `"account":"1000000000000001"`, "shutting down"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "state.json")); err != nil {
		t.Fatal(err)
	}
}

func TestRunRejectsBadSettings(t *testing.T) {
	var logs syncBuffer
	if err := run(t.Context(), []string{"--time-scale", "-1", "--data-dir", t.TempDir()}, &logs, nil); err == nil {
		t.Error("negative time scale accepted")
	}
	if err := run(t.Context(), []string{"--faults", "/does/not/exist.json"}, &logs, nil); err == nil {
		t.Error("missing faults file accepted")
	}
	t.Setenv("IMAGEFLEET_CLOUD_SEED", "maybe")
	if err := run(t.Context(), nil, &logs, nil); err == nil || !strings.Contains(err.Error(), "IMAGEFLEET_CLOUD_SEED") {
		t.Errorf("bad env value: %v", err)
	}
}

func TestHelpPrintsFlagsAndServesNothing(t *testing.T) {
	var out syncBuffer
	if err := run(t.Context(), []string{"--help"}, &out, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--listen", "--data-dir", "--time-scale", "--faults", "--seed", "IMAGEFLEET_CLOUD_LISTEN"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "serving") {
		t.Error("--help started the cloud")
	}
}
