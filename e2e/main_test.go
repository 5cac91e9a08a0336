// Package e2e tests imagefleet end to end on real processes: the Temporal
// CLI dev server, the simulated cloud and worker binaries, and the starter.
// TestMain builds the binaries and starts one dev server for the package;
// each test starts its own cloud and worker so that it can break them.
package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/stack"
	"github.com/imagefleet/imagefleet/model"
)

var (
	binDir      string
	temporalCLI string
	devServer   *stack.Stack // the shared dev server, with its Web UI and codec server
	logSink     io.Writer    = io.Discard
)

// Payload encryption of the package's stacks: codecKeys is the key file
// every worker and starter encrypts with, testCodec reads what they wrote,
// devDataDir holds the dev server's temporal.db.
var (
	codecKeys  string
	testCodec  *codec.Codec
	devDataDir string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	temporalCLI = os.Getenv("IMAGEFLEET_TEMPORAL_CLI")
	if temporalCLI == "" {
		temporalCLI = filepath.Join(root, ".tools", "temporal")
	}
	if _, err := os.Stat(temporalCLI); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: the Temporal CLI is needed at %s: build it with `go tool task tools` (or run `go tool task test`)\n", temporalCLI)
		return 1
	}
	if os.Getenv("IMAGEFLEET_E2E_LOG") != "" {
		logSink = os.Stderr
	}
	dir, err := os.MkdirTemp("", "imagefleet-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", binDir+"/", "./worker", "./starter", "./cloudsim/cmd/cloudsim", "./codecserver")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build binaries:", err)
		return 1
	}
	codecKeys = filepath.Join(dir, "codec.keys")
	if testCodec, err = newTestCodec(codecKeys); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: payload keys:", err)
		return 1
	}
	devDataDir = filepath.Join(dir, "temporal")
	devServer = stack.New(stack.Config{
		TemporalCLI:   temporalCLI,
		DataDir:       devDataDir,
		TemporalPort:  freePort(),
		UIPort:        freePort(),
		CodecServer:   filepath.Join(binDir, "codecserver"),
		CodecPort:     freePort(),
		CodecKeysFile: codecKeys,
		Log:           logSink,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	defer devServer.Stop()
	if _, err := devServer.StartCodecServer(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start codec server:", err)
		return 1
	}
	if _, err := devServer.StartTemporal(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start dev server:", err)
		return 1
	}
	return m.Run()
}

// env is one test's stack: the shared dev server, its own cloud and workers.
type env struct {
	t      *testing.T
	stack  *stack.Stack
	cloud  *stack.Process
	cloudC *cloud.Client
	client client.Client
}

// newEnv starts a cloud with timeScale and one worker; opts change the
// stack's configuration first.
func newEnv(t *testing.T, timeScale float64, opts ...func(*stack.Config)) *env {
	t.Helper()
	cfg := stack.Config{
		TemporalCLI:    temporalCLI,
		CloudSim:       filepath.Join(binDir, "cloudsim"),
		Worker:         filepath.Join(binDir, "worker"),
		DataDir:        t.TempDir(),
		TemporalPort:   portOf(devServer.TemporalAddress()),
		CloudPort:      freePort(),
		CloudTimeScale: timeScale,
		CodecKeysFile:  codecKeys,
		Log:            logSink,
		// Each worker serves metrics on a free port; a stopping worker gives
		// in-flight activities a short while, so that tests end quickly.
		WorkerStopTimeout: 3 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := stack.New(cfg)
	t.Cleanup(func() { _ = s.Stop() })
	e := &env{t: t, stack: s}
	var err error
	e.cloud, err = s.StartCloud(t.Context())
	require.NoError(t, err)
	e.startWorker()
	e.cloudC = cloud.NewClient(s.CloudEndpoint(), cloudsim.DefaultAccount)
	e.client, err = client.Dial(clientOptions(s.TemporalAddress()))
	require.NoError(t, err)
	t.Cleanup(e.client.Close)
	t.Cleanup(e.terminateOpenRunsIfFailed)
	return e
}

// terminateOpenRunsIfFailed ends the runs a failed test left open on the
// shared dev server (a paused rolling update holds its group's workflow
// ID), so that one failure does not fail the tests after it.
func (e *env) terminateOpenRunsIfFailed() {
	if !e.t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := e.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "ExecutionStatus = 'Running'", PageSize: 1000})
	if err != nil {
		e.t.Logf("cleanup: list open runs: %v", err)
		return
	}
	for _, ex := range resp.GetExecutions() {
		id := ex.GetExecution().GetWorkflowId()
		if err := e.client.TerminateWorkflow(ctx, id, "", "e2e cleanup after a failed test"); err != nil {
			e.t.Logf("cleanup: terminate %s: %v", id, err)
		}
	}
}

func (e *env) startWorker() *stack.Process {
	p, err := e.stack.StartWorker(e.t.Context())
	require.NoError(e.t, err)
	return p
}

// starter runs the starter binary against this stack and returns its
// output and exit code.
func (e *env) starter(args ...string) (string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "starter"), args...)
	cmd.Env = append(os.Environ(), e.stack.Env()...)
	out, err := cmd.CombinedOutput()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else {
		require.NoError(e.t, err)
	}
	e.t.Logf("starter %s → exit %d\n%s", strings.Join(args, " "), code, out)
	return string(out), code
}

// ledger counts the cloud's side effects by action and region.
// addFault installs a fault rule in the cloud.
func (e *env) addFault(f cloud.Fault) {
	e.t.Helper()
	_, err := e.cloudC.Admin().AddFault(e.t.Context(), f)
	require.NoError(e.t, err)
}

// rawStart starts a workflow as any Temporal client can: by type, ID and
// input, without the starter's checks.
func rawStart(t *testing.T, e *env, id, workflowType string, input any) {
	t.Helper()
	_, err := e.client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: model.TaskQueue}, workflowType, input)
	require.NoError(t, err)
}

// requireStatus fails unless the latest run of id has status want.
func (e *env) requireStatus(id string, want enums.WorkflowExecutionStatus) {
	e.t.Helper()
	desc, err := e.client.DescribeWorkflowExecution(e.t.Context(), id, "")
	require.NoError(e.t, err)
	require.Equal(e.t, want, desc.GetWorkflowExecutionInfo().GetStatus())
}

func (e *env) ledger() []cloud.LedgerEntry {
	e.t.Helper()
	entries, err := e.cloudC.Admin().Ledger(e.t.Context())
	require.NoError(e.t, err)
	return entries
}

// countEntries counts the ledger entries of action per region.
func countEntries(entries []cloud.LedgerEntry, action string) map[string]int {
	return countBy(entries, action, func(en cloud.LedgerEntry) string { return en.Region })
}

// countBy counts the ledger entries of action by key.
func countBy(entries []cloud.LedgerEntry, action string, key func(cloud.LedgerEntry) string) map[string]int {
	n := map[string]int{}
	for _, en := range entries {
		if en.Action == action {
			n[key(en)]++
		}
	}
	return n
}

func moduleRoot() (string, error) { return stack.ModuleRoot() }

func freePort() int { return stack.FreePort() }

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	var port int
	fmt.Sscan(p, &port)
	return port
}
