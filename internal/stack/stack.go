// Package stack runs imagefleet's local stack as real processes: the
// Temporal CLI dev server (SQLite-backed, with the Web UI), the simulated
// cloud and a worker. devstack uses it for `task up` and `task demo`, the
// end-to-end tests for their own throwaway stacks.
package stack

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/model"
)

// Config says where the stack's programs and state live and which ports it uses.
type Config struct {
	// TemporalCLI is the temporal binary (built by `task tools`).
	TemporalCLI string
	// CloudSim and Worker are the project's binaries.
	CloudSim, Worker string
	// DataDir holds temporal.db and cloud/, so runs survive restarts.
	DataDir string
	// Ports; zero picks the defaults 7233, 8233 and 8299.
	TemporalPort, UIPort, CloudPort int
	// Headless runs the dev server without its Web UI.
	Headless bool
	// CloudTimeScale compresses cloud operation times (0.002: a 40-minute
	// copy takes about 5 s).
	CloudTimeScale float64
	// CloudFaults is a JSON file of fault rules the cloud starts with.
	CloudFaults string
	// CloudImageQuota is the cloud's custom images per region and account
	// (zero: the cloud's default).
	CloudImageQuota int
	// Workers is how many workers Start starts (default 1).
	Workers int
	// MetricsPort is where the first worker serves /metrics; the n-th worker
	// running at once uses MetricsPort+n-1. Zero gives each worker a free
	// port; -1 serves no metrics.
	MetricsPort int
	// WorkerStopTimeout is the workers' --stop-timeout (zero: the worker's
	// default): how long a stopping worker lets in-flight activities run.
	WorkerStopTimeout time.Duration
	// Log receives every process's output, each line prefixed with its name.
	Log io.Writer
	// Payload encryption (see codec.go): the codec server binary (empty:
	// none runs, and the Web UI shows encrypted payloads as such), its port
	// (zero: 8234) and the key file (empty: DataDir/codec.keys, made on
	// first start). CodecToken, when set, is the bearer token the codec
	// server asks for (the Web UI cannot send it: a browser signs in at the
	// codec server's /login and sends the session cookie).
	CodecServer   string
	CodecPort     int
	CodecKeysFile string
	CodecToken    string
}

// Stack is a running local stack.
type Stack struct {
	cfg            Config
	mu             sync.Mutex
	running        []*Process
	all            []*Process // every process started, for Supervise
	workersStarted int        // for the workers' labels
	stopped        bool       // Stop was called (and nothing started since)
}

// New returns a stack for cfg with defaults applied; nothing runs yet.
func New(cfg Config) *Stack {
	if cfg.TemporalPort == 0 {
		cfg.TemporalPort = 7233
	}
	if cfg.UIPort == 0 {
		cfg.UIPort = 8233
	}
	if cfg.CloudPort == 0 {
		cfg.CloudPort = 8299
	}
	if cfg.CloudTimeScale == 0 {
		cfg.CloudTimeScale = 1
	}
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	cfg = withCodecDefaults(cfg)
	return &Stack{cfg: cfg}
}

// SetLog sends the output of processes started from now on to w.
func (s *Stack) SetLog(w io.Writer) { s.cfg.Log = w }

// TemporalAddress is the dev server's gRPC address.
func (s *Stack) TemporalAddress() string { return "127.0.0.1:" + strconv.Itoa(s.cfg.TemporalPort) }

// CloudEndpoint is the simulated cloud's base URL.
func (s *Stack) CloudEndpoint() string { return "http://127.0.0.1:" + strconv.Itoa(s.cfg.CloudPort) }

// WebUI is the Web UI's base URL.
func (s *Stack) WebUI() string { return "http://localhost:" + strconv.Itoa(s.cfg.UIPort) }

// Env is the environment that points a worker or starter at this stack:
// the simulated cloud for every service, signed with the access key the
// simulator seeds for the account (IMAGEFLEET_ACCOUNT, else the default).
func (s *Stack) Env() []string {
	keyID, secret := cloudsim.AccessKey(cmp.Or(os.Getenv(config.EnvAccount), config.DefaultAccount))
	return append([]string{
		"TEMPORAL_ADDRESS=" + s.TemporalAddress(),
		"TEMPORAL_NAMESPACE=default",
		config.EnvCloudEndpoint + "=" + s.CloudEndpoint(),
		cloud.EnvAlibabaEndpoint + "=" + s.CloudEndpoint(),
		config.EnvAccessKeyID + "=" + keyID,
		config.EnvAccessKeySecret + "=" + secret,
		config.EnvWebUI + "=" + s.WebUI(),
	}, s.codecEnv()...)
}

// Start starts the codec server (when configured), the dev server, the
// cloud and the workers (Config.Workers), each once the one before is ready.
func (s *Stack) Start(ctx context.Context) error {
	if s.cfg.CodecServer != "" {
		if _, err := s.StartCodecServer(ctx); err != nil {
			return err
		}
	}
	if _, err := s.StartTemporal(ctx); err != nil {
		return err
	}
	if _, err := s.StartCloud(ctx); err != nil {
		return err
	}
	for range s.cfg.Workers {
		if _, err := s.StartWorker(ctx); err != nil {
			return err
		}
	}
	return nil
}

// StartTemporal starts the Temporal dev server and waits until its namespace
// answers. imagefleet's search attributes are registered at start.
func (s *Stack) StartTemporal(ctx context.Context) (*Process, error) {
	if err := os.MkdirAll(s.cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(s.cfg.TemporalCLI); err != nil {
		return nil, fmt.Errorf("temporal CLI not found at %s (build it with `go tool task tools`): %w", s.cfg.TemporalCLI, err)
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(s.cfg.TemporalPort),
		"--db-filename", filepath.Join(s.cfg.DataDir, "temporal.db"),
		"--namespace", "default",
		"--log-level", "warn",
	}
	if s.cfg.Headless {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(s.cfg.UIPort))
		if s.cfg.CodecServer != "" {
			args = append(args, "--ui-codec-endpoint", s.CodecEndpoint())
		}
	}
	names := make([]string, 0, len(model.SearchAttributes))
	for name := range model.SearchAttributes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		args = append(args, "--search-attribute", name+"="+cliTypeName[model.SearchAttributes[name]])
	}
	p, err := s.start("temporal", s.cfg.TemporalCLI, args, nil)
	if err != nil {
		return nil, err
	}
	return p, waitFor(ctx, p, 90*time.Second, s.temporalReady)
}

func (s *Stack) temporalReady(ctx context.Context) error {
	c, err := client.Dial(client.Options{HostPort: s.TemporalAddress(), Logger: QuietLogger{}})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WorkflowService().DescribeNamespace(ctx, describeDefault())
	return err
}

// StartCloud starts the simulated cloud and waits until it answers.
func (s *Stack) StartCloud(ctx context.Context) (*Process, error) {
	args := []string{
		"--listen", "127.0.0.1:" + strconv.Itoa(s.cfg.CloudPort),
		"--data-dir", filepath.Join(s.cfg.DataDir, "cloud"),
		"--time-scale", strconv.FormatFloat(s.cfg.CloudTimeScale, 'g', -1, 64),
	}
	if s.cfg.CloudFaults != "" {
		args = append(args, "--faults", s.cfg.CloudFaults)
	}
	if s.cfg.CloudImageQuota > 0 {
		args = append(args, "--image-quota", strconv.Itoa(s.cfg.CloudImageQuota))
	}
	p, err := s.start("cloud", s.cfg.CloudSim, args, nil)
	if err != nil {
		return nil, err
	}
	return p, waitFor(ctx, p, 30*time.Second, httpHealthy(s.CloudEndpoint()+"/admin/health"))
}

// StartWorker starts a worker. It is ready when it polls, which the server
// shows shortly after start; callers that need it wait for work to progress.
// Its metrics address is in Process.MetricsAddr.
func (s *Stack) StartWorker(ctx context.Context) (*Process, error) {
	if err := s.EnsureCodecKeys(); err != nil {
		return nil, err
	}
	env := s.Env()
	addr, err := s.nextMetricsAddr()
	if err != nil {
		return nil, err
	}
	if addr == "" {
		env = append(env, config.EnvMetricsAddr+"=off")
	} else {
		env = append(env, config.EnvMetricsAddr+"="+addr)
	}
	stopTimeout := 30 * time.Second // the worker's default
	if s.cfg.WorkerStopTimeout > 0 {
		stopTimeout = s.cfg.WorkerStopTimeout
		env = append(env, EnvWorkerStopTimeout+"="+stopTimeout.String())
	}
	s.mu.Lock()
	label := "worker-" + strconv.Itoa(s.workersStarted+1)
	s.mu.Unlock()
	p, err := s.startLabelled("worker", label, s.cfg.Worker, nil, env)
	if err != nil {
		return nil, err
	}
	p.MetricsAddr = addr
	p.grace = stopTimeout + 10*time.Second
	return p, nil
}

// Running reports whether something already listens on the stack's ports
// (a stack started elsewhere, e.g. by `task up`).
func (s *Stack) Running() bool {
	for _, port := range []int{s.cfg.TemporalPort, s.cfg.CloudPort} {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 300*time.Millisecond)
		if err != nil {
			return false
		}
		conn.Close()
	}
	return true
}

// Stop stops every process in the reverse order of their start.
func (s *Stack) Stop() error {
	s.mu.Lock()
	procs := slices.Clone(s.running)
	s.running = nil
	s.stopped = true
	s.mu.Unlock()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Processes returns the running processes called name.
func (s *Stack) Processes(name string) []*Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Process
	for _, p := range s.running {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

func (s *Stack) start(name, path string, args, env []string) (*Process, error) {
	return s.startLabelled(name, name, path, args, env)
}

// startLabelled starts a process called name whose log lines carry label.
func (s *Stack) startLabelled(name, label, path string, args, env []string) (*Process, error) {
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	// Own process group: the terminal's Ctrl-C reaches only devstack, which
	// then stops the children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", label, path, err)
	}
	p := &Process{Name: name, Label: label, cmd: cmd, done: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		prefixLines(s.cfg.Log, label, out)
	}()
	go func() {
		<-copied
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.running = append(s.running, p)
	s.all = append(s.all, p)
	s.stopped = false
	if name == "worker" {
		s.workersStarted++
	}
	s.mu.Unlock()
	return p, nil
}

// Process is one program of the stack.
type Process struct {
	// Name is the program (temporal, cloud, codec, worker); Label tells
	// processes of one program apart in the log (worker-1, worker-2, …).
	Name, Label string
	// MetricsAddr is where a worker serves /metrics (empty: nowhere).
	MetricsAddr string
	cmd         *exec.Cmd
	done        chan struct{}
	err         error
	grace       time.Duration // how long Stop waits before it kills (default 15 s)
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill ends the process at once with SIGKILL, as a crash would.
func (p *Process) Kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-p.done
	return nil
}

// Stop asks the process to stop (SIGINT) and kills it after 15 seconds (a
// worker: after its stop timeout and 10 seconds more).
func (p *Process) Stop() error { return p.stopWith(syscall.SIGINT) }

// Terminate stops the process with SIGTERM, as a service manager or
// Kubernetes does, and waits as Stop does.
func (p *Process) Terminate() error { return p.stopWith(syscall.SIGTERM) }

func (p *Process) stopWith(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	grace := p.grace
	if grace == 0 {
		grace = 15 * time.Second
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not stop within %s and was killed", p.Label, grace)
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process ended (after it has).
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// ExitText says how the process ended: "exit status 0", "exit status 1",
// "signal: killed", … .
func (p *Process) ExitText() string {
	if err := p.Err(); err != nil {
		return err.Error()
	}
	return "exit status 0"
}

func waitFor(ctx context.Context, p *Process, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		last = ready(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start (%s)", p.Label, p.ExitText())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %w", p.Label, timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func prefixLines(w io.Writer, name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fmt.Fprintf(w, "%-8s | %s\n", name, sc.Text())
	}
}
