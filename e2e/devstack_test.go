package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/stack"
)

// TestStackStaysUpWhenAWorkerExits runs a stack of two workers supervised
// as `devstack up --workers 2` supervises it: one worker SIGKILLed, the
// other stopped with SIGTERM; each exit is reported, the stack stays up and
// serves a distribution through a worker started afterwards; each worker's
// log lines carry its own prefix. Only the cloud exiting stops the stack.
func TestStackStaysUpWhenAWorkerExits(t *testing.T) {
	logs := &lockedBuffer{}
	e := newEnv(t, 0.002, func(c *stack.Config) { c.Log = logs })
	e.startWorker()
	workers := e.stack.Processes("worker")
	require.Len(t, workers, 2)
	require.Equal(t, []string{"worker-1", "worker-2"}, []string{workers[0].Label, workers[1].Label})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	report := &lockedBuffer{}
	supervised := make(chan error, 1)
	go func() { supervised <- e.stack.Supervise(ctx, report) }()
	awaitReport := func(want string) {
		t.Helper()
		for !strings.Contains(report.String(), want) {
			select {
			case err := <-supervised:
				t.Fatalf("the stack stopped (%v) instead of reporting %q:\n%s", err, want, report.String())
			case <-t.Context().Done():
				t.Fatalf("no %q in the report:\n%s", want, report.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}

	// Both poll, each logging under its own prefix.
	for _, label := range []string{"worker-1 | ", "worker-2 | "} {
		for !hasLine(logs.String(), label, "Started Worker") {
			select {
			case <-t.Context().Done():
				t.Fatalf("no %q line saying Started Worker:\n%s", label, logs.String())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}

	require.NoError(t, workers[0].Kill())
	awaitReport("worker-1 (pid ")
	awaitReport("exited (signal: killed); the stack stays up with 1 worker(s) running")
	require.NoError(t, workers[1].Terminate())
	awaitReport("worker-2 (pid ")
	awaitReport("exited (exit status 0); the stack stays up with 0 worker(s) running")
	require.NotContains(t, report.String(), "<nil>")

	// Still up: a worker started now runs a distribution.
	third := e.startWorker()
	require.Equal(t, "worker-3", third.Label)
	out, code := e.starter("distribute", "--package", "e2e_devstack", "--version", "v1_0_0", "--description", "after two workers exited",
		"--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", "cn-shanghai")
	require.Equal(t, 0, code, out)
	select {
	case err := <-supervised:
		t.Fatalf("the stack stopped: %v", err)
	default:
	}
	for _, label := range []string{"worker-1 | ", "worker-2 | ", "worker-3 | "} {
		require.Contains(t, logs.String(), label, "each worker's lines carry its own prefix")
	}

	// The cloud is not optional: its exit stops the stack, saying why.
	require.NoError(t, e.cloud.Kill())
	select {
	case err := <-supervised:
		require.ErrorContains(t, err, "cloud exited (signal: killed): stopping the stack")
	case <-t.Context().Done():
		t.Fatal("the stack did not stop after the cloud exited")
	}
	require.True(t, third.Exited(), "the stack stopped its worker")
}

// hasLine reports whether a line of text starts with prefix and holds want.
func hasLine(text, prefix, want string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, want) {
			return true
		}
	}
	return false
}
