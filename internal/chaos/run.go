package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/stack"
	"github.com/imagefleet/imagefleet/model"
)

// run is one pass of the load on a fresh stack, with or without chaos.
type run struct {
	cfg    Config
	name   string // baseline | chaos
	chaos  bool
	dir    string
	bin    string
	stack  *stack.Stack
	cloud  *cloud.Client
	tc     client.Client
	dc     converter.DataConverter // decrypts the histories' payloads
	ops    []*op
	faults *faults
	events []*event

	report   *Report
	logPath  string
	setupSeq int64 // the ledger's last entry before the load started
	started  time.Time
	outage   struct {
		sync.Mutex
		lifted bool
		from   time.Duration
		to     time.Duration
	}
}

// Run runs the chaos test (after a baseline run without chaos, if asked),
// prints the audit and writes it to DataDir/audit.json. The error names the
// violations.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	if cfg.Seed == 0 {
		cfg.Seed = time.Now().UnixNano() % 1_000_000
	}
	fmt.Fprintf(cfg.Log, "chaos: seed %d (rerun the same schedule with --seed %d)\n", cfg.Seed, cfg.Seed)
	if err := os.RemoveAll(cfg.DataDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	if cfg.BinDir == "" {
		cfg.BinDir = filepath.Join(cfg.DataDir, "bin")
		if err := Build(ctx, cfg.Root, cfg.BinDir); err != nil {
			return nil, err
		}
	}
	var baseline *run
	if cfg.Baseline {
		b, err := runOnce(ctx, cfg, "baseline", false)
		if err != nil {
			return nil, fmt.Errorf("baseline run: %w", err)
		}
		baseline = b
	}
	r, err := runOnce(ctx, cfg, "chaos", true)
	if err != nil {
		return nil, fmt.Errorf("chaos run: %w", err)
	}
	rep := r.report
	rep.compare(baseline)
	rep.print(cfg.Log)
	if err := rep.write(filepath.Join(cfg.DataDir, "audit.json")); err != nil {
		return rep, err
	}
	if len(rep.Violations) > 0 {
		return rep, fmt.Errorf("%d violations: %v", len(rep.Violations), rep.Violations)
	}
	return rep, nil
}

// Build builds the worker, starter and simulated cloud into dir.
func Build(ctx context.Context, root, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+"/", "./worker", "./starter", "./cloudsim/cmd/cloudsim")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("build binaries: %w\n%s", err, out)
	}
	return nil
}

func runOnce(ctx context.Context, cfg Config, name string, chaos bool) (*run, error) {
	r := &run{cfg: cfg, name: name, chaos: chaos, dir: filepath.Join(cfg.DataDir, name), bin: cfg.BinDir}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	r.logPath = filepath.Join(r.dir, "stack.log")
	logFile, err := os.Create(r.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	r.stack = stack.New(stack.Config{
		TemporalCLI: cfg.TemporalCLI, CloudSim: filepath.Join(r.bin, "cloudsim"), Worker: filepath.Join(r.bin, "worker"),
		DataDir: filepath.Join(r.dir, "state"), TemporalPort: stack.FreePort(), CloudPort: stack.FreePort(), Headless: true,
		CloudTimeScale: cfg.TimeScale, Log: &syncWriter{w: logFile},
		// Payloads are encrypted, as on any real deployment.
		CodecKeysFile: filepath.Join(r.dir, "codec-keys"),
	})
	if err := r.stack.EnsureCodecKeys(); err != nil {
		return nil, err
	}
	keys, err := codec.LoadKeyFile(r.stack.CodecKeysFile())
	if err != nil {
		return nil, err
	}
	defer r.stack.Stop()
	r.logf("starting a stack of its own in %s (Temporal %s, cloud %s)", r.dir, r.stack.TemporalAddress(), r.stack.CloudEndpoint())
	k := &killer{r: r, rng: newRand(cfg.Seed, 2)}
	if k.server, err = r.stack.StartTemporal(ctx); err != nil {
		return nil, err
	}
	if k.cloud, err = r.stack.StartCloud(ctx); err != nil {
		return nil, err
	}
	for range 2 {
		w, err := r.stack.StartWorker(ctx)
		if err != nil {
			return nil, err
		}
		k.workers = append(k.workers, w)
	}
	// The harness rides out throttling, 5xx and a restarting cloud.
	r.cloud = cloud.NewClient(r.stack.CloudEndpoint(), cloudsim.DefaultAccount).WithAccessKey(cloudsim.AccessKey(cloudsim.DefaultAccount)).WithRetry(cloud.Retry{Attempts: 60, Backoff: 200 * time.Millisecond, MaxWait: 2 * time.Second})
	r.faults = &faults{admin: r.cloud.Admin(), active: map[string]cloud.Fault{}}
	opts := client.Options{HostPort: r.stack.TemporalAddress(), Logger: stack.QuietLogger{}}
	codec.Apply(&opts, codec.New(keys))
	r.dc = opts.DataConverter
	if r.tc, err = client.Dial(opts); err != nil {
		return nil, err
	}
	defer r.tc.Close()

	r.ops = plan(cfg)
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	ledger, err := r.cloud.Admin().Ledger(ctx)
	if err != nil {
		return nil, err
	}
	if len(ledger) > 0 {
		r.setupSeq = ledger[len(ledger)-1].Seq
	}
	// The doomed region refuses every copy into it in both runs (its quota
	// is exceeded: a refusal, not an outage, which a copy waits out for up
	// to model.StepDeadline): the operations that copy there wait for an
	// operator, who aborts them.
	for _, action := range []string{"CopyImage", "CopyObject"} {
		if err := r.faults.add(ctx, "doomed-region-"+action, cloud.Fault{Kind: cloud.FaultQuota, Action: action, Region: doomedRegion}); err != nil {
			return nil, err
		}
	}
	for _, o := range r.ops {
		if o.Failing != "" {
			if err := r.faults.add(ctx, "failing-"+o.Failing, cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: o.Failing, Action: "ReplaceSystemDisk"}); err != nil {
				return nil, err
			}
		}
	}
	if chaos {
		rng := newRand(cfg.Seed, 1)
		r.events = schedule(cfg, rng)
		for _, ev := range r.events {
			r.logf("scheduled %s at +%s", ev.Kind, ev.At)
		}
		if cfg.Transient > 0 {
			if err := r.faults.add(ctx, "transient", cloud.Fault{Kind: cloud.FaultTransient, Probability: cfg.Transient}); err != nil {
				return nil, err
			}
		}
		if cfg.Throttle > 0 {
			if err := r.faults.add(ctx, "throttle", cloud.Fault{Kind: cloud.FaultThrottle, Probability: cfg.Throttle, RetryAfter: 500 * time.Millisecond}); err != nil {
				return nil, err
			}
		}
	}

	// The operations start at seeded random times within Config.Spread, so
	// that work is in flight during the whole kill window.
	r.started = time.Now()
	offsets := startOffsets(cfg, len(r.ops))
	startErr := make(chan error, 1)
	go func() {
		defer close(startErr)
		for i, o := range r.ops {
			if d := time.Until(r.started.Add(offsets[i])); d > 0 {
				select {
				case <-ctx.Done():
					startErr <- ctx.Err()
					return
				case <-time.After(d):
				}
			}
			if err := r.start(ctx, o); err != nil {
				startErr <- err
				return
			}
			r.logf("started %s (%s)", o.WorkflowID, o.Label)
		}
	}()

	var wg sync.WaitGroup
	if chaos {
		wg.Go(func() { r.runKills(ctx, k) })
		if cfg.Outage > 0 {
			wg.Go(func() { r.runOutage(ctx) })
		}
	}
	r.watch(ctx)
	wg.Wait()
	if err := <-startErr; err != nil {
		return nil, err
	}
	if err := r.faults.clear(ctx); err != nil {
		return nil, fmt.Errorf("clear faults: %w", err)
	}
	r.report, err = r.audit(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return r, nil
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "chaos [%s +%s] %s\n", r.name, r.elapsed(), fmt.Sprintf(format, args...))
}

func (r *run) elapsed() time.Duration {
	if r.started.IsZero() {
		return 0
	}
	return time.Since(r.started).Round(100 * time.Millisecond)
}

// start starts one operation through a raw Temporal client, as any client
// could, retrying while the server is unreachable.
func (r *run) start(ctx context.Context, o *op) error {
	var last error
	for range 60 {
		run, err := r.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: o.WorkflowID, TaskQueue: model.TaskQueue,
			WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
			WorkflowExecutionErrorWhenAlreadyStarted: true,
			StaticSummary:                            "chaos: " + o.Label,
		}, o.workflowType, o.input)
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		switch {
		case err == nil:
			o.setStarted(run.GetRunID())
			return nil
		case errors.As(err, &already): // our earlier start whose answer was lost
			o.setStarted(already.RunId)
			return nil
		}
		last = err
		time.Sleep(time.Second)
	}
	return fmt.Errorf("start %s: %w", o.WorkflowID, last)
}

func (r *run) runKills(ctx context.Context, k *killer) {
	for _, ev := range r.events {
		if d := time.Until(r.started.Add(ev.At)); d > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		if err := k.do(ctx, ev); err != nil {
			ev.Note = "failed: " + err.Error()
		}
		r.logf("%s: %s", ev.Kind, ev.Note)
	}
}

// runOutage darkens outageRegion 10 s into the load and lifts it after
// Config.Outage.
func (r *run) runOutage(ctx context.Context) {
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	if !wait(10 * time.Second) {
		return
	}
	if err := r.faults.add(ctx, "outage", cloud.Fault{Kind: cloud.FaultOutage, Region: outageRegion}); err != nil {
		r.logf("outage: %v", err)
		return
	}
	r.outage.Lock()
	r.outage.from = r.elapsed()
	r.outage.Unlock()
	r.logf("region %s is dark", outageRegion)
	if !wait(r.cfg.Outage) {
		return
	}
	for {
		if err := r.faults.remove(ctx, "outage"); err == nil {
			break
		}
		if !wait(time.Second) {
			return
		}
	}
	r.outage.Lock()
	r.outage.lifted, r.outage.to = true, r.elapsed()
	r.outage.Unlock()
	r.logf("region %s is back", outageRegion)
}

func (r *run) outageOver() bool {
	if !r.chaos || r.cfg.Outage == 0 {
		return true
	}
	r.outage.Lock()
	defer r.outage.Unlock()
	return r.outage.lifted
}

// newRand is the random source of one purpose (stream) of a seeded run.
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// startOffsets draws when each operation starts, from the seed.
func startOffsets(cfg Config, n int) []time.Duration {
	rng := newRand(cfg.Seed, 3)
	out := make([]time.Duration, n)
	for i := range out {
		if cfg.Spread > 0 {
			out[i] = time.Duration(rng.Int64N(int64(cfg.Spread))).Round(100 * time.Millisecond)
		}
	}
	return out
}

// syncWriter serialises the processes' log lines into one file.
type syncWriter struct {
	mu sync.Mutex
	w  *os.File
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
