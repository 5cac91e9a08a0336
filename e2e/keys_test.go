package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/internal/telemetry"
	"github.com/imagefleet/imagefleet/model"
)

// TestWorkerWithoutTheKeyBlocksTheRunUntilTheKeyIsBack drives issue 18's
// case 4 as it was found: a rolling update paused after its first batch by
// a worker with the key, then resumed while only workers without it run.
//   - a worker without keys refuses to start (exit 2, naming the settings);
//   - a worker with another key, and one told to run without keys on
//     purpose (--plaintext-payloads), each take the resumed run's workflow
//     task, cannot decrypt its history, and block it: an error line in the
//     log, a count in imagefleet_payload_decode_blocked_total, the run still
//     Running, the group still held;
//   - once a worker with the key is back the run goes on and succeeds.
func TestWorkerWithoutTheKeyBlocksTheRunUntilTheKeyIsBack(t *testing.T) {
	e := newEnv(t, 0.002)
	const group = cloudsim.GroupWeb
	id := model.RolloutWorkflowID(group)
	t.Cleanup(func() { terminateIfRunning(e.client, id) })

	// No keys, nothing said: refused before it polls.
	out, code := e.rawWorker(t, nil).wait(t)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, config.EnvPlaintextPayloads)
	require.Contains(t, out, config.EnvCodecKeysFile)

	out, code = e.starter("rollout", "start", group, "--type", "script", "--script", "echo keys",
		"--batches", "2", "--pause-policy", model.PauseFirstBatch, "--description", "blocked without the key", "--watch")
	require.Equal(t, 4, code, out)
	for _, p := range e.stack.Processes("worker") {
		require.NoError(t, p.Stop())
	}
	ledgerBefore := len(e.ledger())

	otherKey, err := codec.NewKeyLine()
	require.NoError(t, err)
	for i, w := range []struct {
		name, reason string
		env          []string
		args         []string
	}{
		{"no keys, on purpose", codec.ReasonNoKeys, nil, []string{"--plaintext-payloads"}},
		{"another key", codec.ReasonUnknownKey, []string{config.EnvCodecKeys + "=" + otherKey}, nil},
	} {
		wrong := e.rawWorker(t, w.env, w.args...)
		if i == 0 {
			// A resume makes a new workflow task; a worker has no cached
			// state of the run and replays its history from the start.
			out, err := runTemporal(t.Context(), e.stack, "workflow", "signal", "--workflow-id", id, "--name", model.CommandResume, "--input", "{}")
			require.NoError(t, err, out)
		}
		wrong.awaitLog(t, w.name, `"reason":"`+w.reason+`"`, func() error { return e.runEnded(id) })
		require.Contains(t, wrong.log(), `"level":"error"`)
		require.Contains(t, wrong.log(), "workflow task is blocked")
		metrics := wrong.scrape(t)
		require.Contains(t, metrics, telemetry.MetricPayloadDecodeBlocked+`{key_id="`, w.name)
		require.Contains(t, metrics, `reason="`+w.reason+`"`, w.name)
		e.requireStatus(id, enums.WORKFLOW_EXECUTION_STATUS_RUNNING)
		wrong.stop(t)
	}
	// The first attempt failed the workflow task, in words (the plain
	// worker's failure is not encrypted); the run itself never failed.
	var taskFailures []string
	for _, ev := range rawHistory(t, e.client, id).GetEvents() {
		require.NotEqual(t, enums.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, ev.GetEventType())
		if a := ev.GetWorkflowTaskFailedEventAttributes(); a != nil {
			taskFailures = append(taskFailures, a.GetFailure().GetMessage())
		}
	}
	require.NotEmpty(t, taskFailures)
	require.Contains(t, strings.Join(taskFailures, "\n"), "blocked until a worker has the payload's key")
	require.Equal(t, ledgerBefore, len(e.ledger()), "nothing happened in the cloud while no worker had the key")

	// The key is back: the run goes on from where it was.
	e.startWorker()
	out, code = e.starter("rollout", "status", group, "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Succeeded")
	e.requireStatus(id, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED)
}

// rawWorkerProc is a worker binary started by a test with its own
// environment, its output kept for the test to read.
type rawWorkerProc struct {
	cmd     *exec.Cmd
	out     *lockedBuffer
	done    chan struct{}
	code    int
	metrics string
}

// rawWorker starts the worker binary against this stack without the
// stack's keys (and where no .data/codec.keys can be found), with env and
// args added.
func (e *env) rawWorker(t *testing.T, env []string, args ...string) *rawWorkerProc {
	t.Helper()
	w := &rawWorkerProc{out: &lockedBuffer{}, done: make(chan struct{}), metrics: "127.0.0.1:" + strconv.Itoa(freePort())}
	w.cmd = exec.Command(filepath.Join(binDir, "worker"), args...)
	w.cmd.Dir = t.TempDir()
	w.cmd.Env = append(append(os.Environ(), e.stack.Env()...),
		config.EnvCodecKeysFile+"=", config.EnvCodecKeys+"=", config.EnvDataDir+"=", config.EnvPlaintextPayloads+"=",
		config.EnvMetricsAddr+"="+w.metrics, "IMAGEFLEET_WORKER_STOP_TIMEOUT=3s")
	w.cmd.Env = append(w.cmd.Env, env...)
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	require.NoError(t, w.cmd.Start())
	go func() {
		err := w.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			w.code = ee.ExitCode()
		}
		close(w.done)
	}()
	t.Cleanup(func() { w.stop(t) })
	return w
}

func (w *rawWorkerProc) log() string { return w.out.String() }

// wait waits for the worker to exit and returns its output and exit code.
func (w *rawWorkerProc) wait(t *testing.T) (string, int) {
	t.Helper()
	select {
	case <-w.done:
	case <-t.Context().Done():
		t.Fatal("the worker did not exit")
	}
	t.Logf("worker → exit %d\n%s", w.code, w.log())
	return w.log(), w.code
}

func (w *rawWorkerProc) stop(t *testing.T) {
	select {
	case <-w.done:
		return
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-w.done:
	case <-time.After(time.Minute):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
}

// awaitLog waits until the worker's output holds want; it gives up when
// the worker exits or ended() reports an error (the run ended meanwhile).
func (w *rawWorkerProc) awaitLog(t *testing.T, what, want string, ended func() error) {
	t.Helper()
	for !strings.Contains(w.log(), want) {
		if err := ended(); err != nil {
			t.Fatalf("%s: %v; the worker logged:\n%s", what, err, w.log())
		}
		select {
		case <-w.done:
			t.Fatalf("%s: the worker exited without logging %q:\n%s", what, want, w.log())
		case <-t.Context().Done():
			t.Fatalf("%s: no %q in the worker's log:\n%s", what, want, w.log())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runEnded is an error once the latest run of id is no longer running.
func (e *env) runEnded(id string) error {
	desc, err := e.client.DescribeWorkflowExecution(e.t.Context(), id, "")
	if err != nil {
		return nil // not known yet: keep waiting
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return fmt.Errorf("the run ended %s instead of waiting for the key", st)
	}
	return nil
}

// scrape reads the worker's /metrics.
func (w *rawWorkerProc) scrape(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.metrics+"/metrics", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// lockedBuffer is a bytes.Buffer safe for a process's writes and a test's reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestStarterFindsTheStackKeyAndNeverSendsPlaintext drives issue 18's case
// 5 with the starter binary: without keys it refuses before anything starts
// (exit 2, nothing in the cloud, no run); run from inside a clone whose
// .data/codec.keys the local stack made, it finds the key with nothing
// exported, and the spec's marker is stored encrypted; told on purpose to
// send plain payloads, it reports a published distribution as completed
// although it cannot read the run's encrypted result.
func TestStarterFindsTheStackKeyAndNeverSendsPlaintext(t *testing.T) {
	e := newEnv(t, 0.002)
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	marker := "KEYMARK" + strings.ToUpper(tag)
	distribute := func(version string) []string {
		return []string{"distribute", "--package", "e2e_keys", "--version", version, "--description", "secret " + marker,
			"--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", "cn-shanghai"}
	}

	// No keys anywhere: refused, nothing started.
	out, code := e.starterIn(t, t.TempDir(), nil, distribute("v1_0_"+tag)...)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, config.EnvPlaintextPayloads)
	_, err := e.client.DescribeWorkflowExecution(t.Context(), model.DistributeWorkflowID("e2e_keys", "v1_0_"+tag), "")
	require.Error(t, err, "no run was started")
	require.Empty(t, countEntries(e.ledger(), "CopyImage"))

	// Inside a clone with the local stack's key: found, with nothing exported.
	clone := t.TempDir()
	keys, err := os.ReadFile(codecKeys)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(clone, ".data"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(clone, ".data", "codec.keys"), keys, 0o600))
	sub := filepath.Join(clone, "docs")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	out, code = e.starterIn(t, sub, nil, distribute("v1_0_"+tag)...)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Published e2e_keys v1_0_"+tag)
	id := model.DistributeWorkflowID("e2e_keys", "v1_0_"+tag)
	stored := payloadText(t, rawHistory(t, e.client, id))
	require.NotContains(t, stored, marker, "the input is stored in plain")
	require.Contains(t, stored, "encoding="+codec.EncodingEncrypted)
	out, code = e.starterIn(t, sub, nil, "status", id)
	require.Equal(t, 0, code, out)

	// The README's first rolling update, from the clone: encrypted, watched
	// to its pause, and its status readable.
	rollout := model.RolloutWorkflowID(cloudsim.GroupWeb)
	t.Cleanup(func() { terminateIfRunning(e.client, rollout) })
	out, code = e.starterIn(t, sub, nil, "rollout", "start", cloudsim.GroupWeb, "--type", "image", "--image", cloudsim.ImageWebappV2,
		"--rollback-image", cloudsim.ImageWebappV1, "--batches", "2", "--pause-policy", model.PauseFirstBatch, "--description", "rollout "+marker, "--watch")
	require.Equal(t, 4, code, out)
	require.NotContains(t, out, "context canceled")
	require.NotContains(t, payloadText(t, rawHistory(t, e.client, rollout)), marker)
	out, code = e.starterIn(t, sub, nil, "rollout", "status", cloudsim.GroupWeb)
	require.Equal(t, 0, code, out)
	require.NotContains(t, out, "decode payload")

	// Plain payloads on purpose: the run publishes; its result, encrypted by
	// the worker, cannot be read here, and that is not a failure.
	out, code = e.starterIn(t, t.TempDir(), []string{config.EnvPlaintextPayloads + "=true"}, distribute("v2_0_"+tag)...)
	require.Equal(t, 0, code, out)
	require.NotContains(t, out, "did not complete")
	require.Contains(t, out, model.DistributeWorkflowID("e2e_keys", "v2_0_"+tag)+" completed")
	e.requireStatus(model.DistributeWorkflowID("e2e_keys", "v2_0_"+tag), enums.WORKFLOW_EXECUTION_STATUS_COMPLETED)
}

// starterIn runs the starter binary in dir against this stack without the
// stack's keys in its environment, with env added.
func (e *env) starterIn(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "starter"), args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), e.stack.Env()...),
		config.EnvCodecKeysFile+"=", config.EnvCodecKeys+"=", config.EnvDataDir+"=", config.EnvPlaintextPayloads+"=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else {
		require.NoError(t, err)
	}
	t.Logf("(in %s) starter %s → exit %d\n%s", dir, strings.Join(args, " "), code, out)
	return string(out), code
}
