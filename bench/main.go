// Command bench measures imagefleet at fleet size against bare Temporal, side
// by side from one run on one server: it starts its own stack (dev server,
// simulated cloud and worker on their own ports and data directory), runs
// bare no-op workflows of its own and imagefleet's operations, and prints
// the figures with their targets. `go tool task bench` runs it.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	querypb "go.temporal.io/api/query/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/clock"
	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/histstat"
	"github.com/imagefleet/imagefleet/internal/stack"
	"github.com/imagefleet/imagefleet/model"
)

type options struct {
	sizes       []int
	batches     int
	noops       int
	window      int
	tasks       int
	regions     int
	copyMinutes float64
	dataDir     string
	port        int
	// The long rollout with retries (retry.go); 0 instances skips it.
	retryInstances, retryBatches, retryFailures int
	onlyRetry                                   bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var runErr error
	cmd := command(func(o options) error {
		runErr = run(ctx, o)
		return nil
	})
	// Exit codes: 2 for bad flags (nothing started), 1 for a bench that
	// failed, 0 otherwise (--help included).
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v (see bench --help)\n", err)
		os.Exit(2)
	}
	if runErr != nil {
		fmt.Fprintln(os.Stderr, "bench:", runErr)
		os.Exit(1)
	}
}

// command is the bench's command line; it calls start with the options
// once the flags have been read and checked.
func command(start func(options) error) *cobra.Command {
	var (
		o     options
		sizes string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure imagefleet at fleet size beside bare Temporal",
		Long: "Starts a stack of its own (dev server, simulated cloud and worker on their own ports and data directory),\n" +
			"runs bare no-op workflows and imagefleet's operations, and prints the figures with their targets.\n" +
			"The temporal binary: IMAGEFLEET_TEMPORAL_CLI, else .tools/temporal; the cloud and worker: bin/cloudsim, bin/worker.",
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(*cobra.Command, []string) error {
			for _, s := range strings.Split(sizes, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n < o.batches || n > cloudsim.MaxScalingGroupSize {
					return fmt.Errorf("size %q must be a number of instances from --batches to %d", s, cloudsim.MaxScalingGroupSize)
				}
				o.sizes = append(o.sizes, n)
			}
			switch {
			case o.retryInstances < 0 || o.retryInstances > cloudsim.MaxScalingGroupSize:
				return fmt.Errorf("--retry-instances must be 0 (skip) to %d", cloudsim.MaxScalingGroupSize)
			case o.retryInstances > 0 && (o.retryBatches < 1 || o.retryBatches > o.retryInstances):
				return fmt.Errorf("--retry-batches must be 1 to --retry-instances")
			case o.retryFailures < 0 || o.retryFailures > 100:
				return fmt.Errorf("--retry-failures is a percentage: 0 to 100")
			case o.onlyRetry && o.retryInstances == 0:
				return fmt.Errorf("--only-retry needs --retry-instances")
			}
			return start(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&sizes, "sizes", "1000,10000", "rolling-update sizes (instances), comma-separated")
	f.IntVar(&o.batches, "batches", 10, "batches of each rolling update")
	f.IntVar(&o.noops, "noops", 2000, "no-op activities of the bare-Temporal run")
	f.IntVar(&o.window, "window", 500, "no-op activities in flight at once")
	f.IntVar(&o.tasks, "tasks", 100, "paused tasks resumed at once")
	f.IntVar(&o.regions, "regions", 20, "regions of the distribution")
	f.Float64Var(&o.copyMinutes, "copy-minutes", 1, "duration of the distribution's slowest copy (sets the cloud's time scale)")
	f.StringVar(&o.dataDir, "data-dir", ".data/bench", "the bench stack's data directory (emptied first)")
	f.IntVar(&o.port, "port", 17233, "the dev server's port; the cloud listens on port+1066")
	f.IntVar(&o.retryInstances, "retry-instances", 10000, "instances of the long rollout whose failed instances are retried one by one (0: skip it)")
	f.IntVar(&o.retryBatches, "retry-batches", 100, "batches of the long rollout with retries")
	f.IntVar(&o.retryFailures, "retry-failures", 10, "percentage of the long rollout's instances that fail once and are retried")
	f.BoolVar(&o.onlyRetry, "only-retry", false, "run the long rollout with retries alone")
	return cmd
}

// copyPlan is the distribution's regions and the duration of its slowest copy
// at the chosen time scale.
func copyPlan(o options) (regions []string, scale float64, slowest time.Duration, err error) {
	sim, err := cloudsim.New(cloudsim.Config{NoSeed: true, TimeScale: 1})
	if err != nil {
		return nil, 0, 0, err
	}
	defer sim.Close()
	const imageGiB = 40 // cloudsim.ImageWebappV1
	var base time.Duration
	for _, r := range model.Regions {
		if r.ID == cloudsim.SeedRegion || len(regions) == o.regions {
			continue
		}
		regions = append(regions, r.ID)
		base = max(base, sim.CopyDuration(cloudsim.SeedRegion, r.ID, imageGiB))
	}
	if len(regions) < o.regions {
		return nil, 0, 0, fmt.Errorf("only %d regions to distribute to", len(regions))
	}
	want := time.Duration(o.copyMinutes * float64(time.Minute))
	scale = float64(want) / float64(base)
	return regions, scale, time.Duration(float64(base) * scale), nil
}

func run(ctx context.Context, o options) error {
	regions, scale, slowestCopy, err := copyPlan(o)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(o.dataDir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(o.dataDir, "stack.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	s := stack.New(stack.Config{
		TemporalCLI: cmp.Or(os.Getenv("IMAGEFLEET_TEMPORAL_CLI"), ".tools/temporal"),
		CloudSim:    "bin/cloudsim", Worker: "bin/worker", DataDir: o.dataDir,
		TemporalPort: o.port, UIPort: o.port + 1000, CloudPort: o.port + 1066, Headless: true,
		CloudTimeScale: scale, Log: logFile,
	})
	defer s.Stop()
	say("starting the bench stack (dev server %s, cloud %s, time scale %.4g; logs in %s)", s.TemporalAddress(), s.CloudEndpoint(), scale, logFile.Name())
	if err := s.Start(ctx); err != nil {
		return err
	}
	// The stack's worker encrypts payloads with the stack's keys: so does
	// this client (and the bare workflows' worker, which shares it).
	copts := client.Options{HostPort: s.TemporalAddress(), Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	if file := s.CodecKeysFile(); file != "" {
		keys, err := codec.LoadKeyFile(file)
		if err != nil {
			return err
		}
		codec.Apply(&copts, codec.New(keys))
	}
	c, err := client.Dial(copts)
	if err != nil {
		return err
	}
	defer c.Close()
	// The same pollers as imagefleet's worker (worker/main.go): the floor
	// measures Temporal, not a tuning difference.
	pollers := worker.NewPollerBehaviorSimpleMaximum(worker.PollerBehaviorSimpleMaximumOptions{MaximumNumberOfPollers: 8})
	w := worker.New(c, bareTaskQueue, worker.Options{WorkflowTaskPollerBehavior: pollers, ActivityTaskPollerBehavior: pollers})
	w.RegisterWorkflow(BareActivities)
	w.RegisterWorkflow(BareResume)
	w.RegisterActivity(noop)
	w.RegisterActivity(started)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	b := &bench{o: o, c: c, dc: cmp.Or(copts.DataConverter, converter.GetDefaultDataConverter()), s: s, cloudC: cloud.NewClient(s.CloudEndpoint(), cloudsim.DefaultAccount)}

	var r report
	if o.onlyRetry {
		if err := b.retryCase(ctx, &r); err != nil {
			return err
		}
		r.printRetry(os.Stdout, o)
		return nil
	}
	say("bare Temporal: %d no-op activities, %d in flight", o.noops, o.window)
	if r.bareRate, err = b.bareActivities(ctx); err != nil {
		return err
	}
	for _, n := range o.sizes {
		say("rolling update of %d instances in %d batches", n, o.batches)
		ro, err := b.rollout(ctx, n)
		if err != nil {
			return err
		}
		r.rollouts = append(r.rollouts, ro)
	}
	if o.retryInstances > 0 {
		if err := b.retryCase(ctx, &r); err != nil {
			return err
		}
	}
	say("distribution to %d regions (slowest copy %s)", len(regions), slowestCopy.Round(time.Second))
	if r.distWall, err = b.distribution(ctx, regions); err != nil {
		return err
	}
	r.slowestCopy = slowestCopy
	say("resume of %d paused tasks at once, and its bare floor", o.tasks)
	if r.resume, r.floor, err = b.resumes(ctx); err != nil {
		return err
	}
	if r.workerRSS, err = peakRSS(s); err != nil {
		return err
	}
	r.print(os.Stdout, o)
	return nil
}

type bench struct {
	o      options
	c      client.Client
	dc     converter.DataConverter
	s      *stack.Stack
	cloudC *cloud.Client
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// wall is a finished run's time from start to close, as the server saw it.
func (b *bench) wall(ctx context.Context, id, runID string) (time.Duration, error) {
	desc, err := b.c.DescribeWorkflowExecution(ctx, id, runID)
	if err != nil {
		return 0, err
	}
	info := desc.GetWorkflowExecutionInfo()
	return info.GetCloseTime().AsTime().Sub(info.GetStartTime().AsTime()), nil
}

func (b *bench) bareActivities(ctx context.Context) (float64, error) {
	run, err := b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "bench/bare-activities", TaskQueue: bareTaskQueue}, BareActivities, b.o.noops, b.o.window)
	if err != nil {
		return 0, err
	}
	if err := run.Get(ctx, nil); err != nil {
		return 0, err
	}
	d, err := b.wall(ctx, run.GetID(), run.GetRunID())
	return float64(b.o.noops) / d.Seconds(), err
}

func (b *bench) addGroup(ctx context.Context, id string, size int) error {
	body, _ := json.Marshal(cloudsim.ScalingGroupSpec{ScalingGroupId: id, RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, Size: size,
		LoadBalancerId: "lb-" + strings.TrimPrefix(id, "asg-")})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.s.CloudEndpoint()+"/admin/scaling-groups", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("add scaling group %s: %s", id, msg)
	}
	return nil
}

func (b *bench) startRollout(ctx context.Context, spec model.RolloutSpec) (client.WorkflowRun, error) {
	return b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: model.RolloutWorkflowID(spec.ScalingGroupID), TaskQueue: model.TaskQueue}, model.RolloutWorkflowType, spec)
}

type rolloutFigures struct {
	instances      int
	wall           time.Duration
	history        histstat.Stats
	summaryBytes   int // the progress answer
	pageBytes      int // a page of model.MaxInstancePage instances
	largestPayload int
}

func (f rolloutFigures) rate() float64 { return float64(f.instances) / f.wall.Seconds() }

func (b *bench) rollout(ctx context.Context, n int) (rolloutFigures, error) {
	f := rolloutFigures{instances: n}
	group := fmt.Sprintf("asg-bench%d", n)
	if err := b.addGroup(ctx, group, n); err != nil {
		return f, err
	}
	// Every instance keeps model.MaxKeptOutput bytes of output.
	spec := model.RolloutSpec{ScalingGroupID: group, RegionID: cloudsim.SeedRegion, TaskType: model.TaskScript, Batches: b.o.batches,
		Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo " + strings.Repeat("x", model.MaxKeptOutput)}}
	run, err := b.startRollout(ctx, spec)
	if err != nil {
		return f, err
	}
	var st model.RolloutState
	if err := run.Get(ctx, &st); err != nil {
		return f, err
	}
	if st.Status != model.RolloutSucceeded || st.Counts.Succeeded != n {
		return f, fmt.Errorf("rolling update of %s ended %s with %d of %d instances changed", group, st.Status, st.Counts.Succeeded, n)
	}
	if f.wall, err = b.wall(ctx, run.GetID(), run.GetRunID()); err != nil {
		return f, err
	}
	if f.history, err = histstat.Measure(ctx, b.c, run.GetID(), run.GetRunID()); err != nil {
		return f, err
	}
	if f.summaryBytes, err = b.queryBytes(ctx, run, model.QueryRollout, nil); err != nil {
		return f, err
	}
	if f.pageBytes, err = b.queryBytes(ctx, run, model.QueryRolloutInstances, model.InstancesQuery{PageSize: model.MaxInstancePage}); err != nil {
		return f, err
	}
	f.largestPayload = max(f.history.LargestPayload, f.summaryBytes, f.pageBytes)
	return f, nil
}

// queryBytes is the size of a query's answer payload.
func (b *bench) queryBytes(ctx context.Context, run client.WorkflowRun, name string, arg any) (int, error) {
	q := &querypb.WorkflowQuery{QueryType: name}
	if arg != nil {
		p, err := b.dc.ToPayloads(arg)
		if err != nil {
			return 0, err
		}
		q.QueryArgs = p
	}
	resp, err := b.c.WorkflowService().QueryWorkflow(ctx, &workflowservice.QueryWorkflowRequest{Namespace: "default",
		Execution: &commonpb.WorkflowExecution{WorkflowId: run.GetID(), RunId: run.GetRunID()}, Query: q})
	if err != nil {
		return 0, err
	}
	size := 0
	for _, p := range resp.GetQueryResult().GetPayloads() {
		size = max(size, p.Size())
	}
	return size, nil
}

func (b *bench) distribution(ctx context.Context, regions []string) (time.Duration, error) {
	spec := model.DistributeSpec{Package: "bench_pkg", Version: "v1_0_0", Description: "bench distribution", SourceRegion: cloudsim.SeedRegion,
		SourceImage: cloudsim.ImageWebappV1, Regions: regions}
	run, err := b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: model.DistributeWorkflowID(spec.Package, spec.Version), TaskQueue: model.TaskQueue},
		model.DistributeWorkflowType, spec)
	if err != nil {
		return 0, err
	}
	if err := run.Get(ctx, nil); err != nil {
		return 0, err
	}
	return b.wall(ctx, run.GetID(), run.GetRunID())
}

// resumes measures resume → first cloud call of the next batch for tasks
// paused after their first batch, all resumed at once by this one client,
// and the bare floor: workflows waiting on an update, each then starting
// one activity.
func (b *bench) resumes(ctx context.Context) (rollout, floor []time.Duration, err error) {
	n := b.o.tasks
	groups := make([]string, n)
	for i := range groups {
		groups[i] = fmt.Sprintf("asg-res%03d", i+1)
		if err := b.addGroup(ctx, groups[i], 2); err != nil {
			return nil, nil, err
		}
		if _, err := b.startRollout(ctx, model.RolloutSpec{ScalingGroupID: groups[i], RegionID: cloudsim.SeedRegion, TaskType: model.TaskScript, Batches: 2,
			PausePolicy: model.PauseFirstBatch, Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo ok"}}); err != nil {
			return nil, nil, err
		}
		if _, err := b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench/bare-resume-%03d", i+1), TaskQueue: bareTaskQueue}, BareResume, groups[i]); err != nil {
			return nil, nil, err
		}
	}
	// Every task paused after its first batch.
	for _, g := range groups {
		for {
			v, err := b.c.QueryWorkflow(ctx, model.RolloutWorkflowID(g), "", model.QueryRollout)
			var st model.RolloutState
			if err == nil && v.Get(&st) == nil && st.Status == model.RolloutPausedBatch {
				break
			}
			if err := clock.Sleep(ctx, 200*time.Millisecond); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := clock.Sleep(ctx, 2*time.Second); err != nil { // every bare workflow waits too
		return nil, nil, err
	}

	sendAll := func(ids []string) (map[string]time.Time, error) {
		sent := make(map[string]time.Time, len(ids))
		var mu sync.Mutex
		var wg sync.WaitGroup
		errs := make([]error, len(ids))
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				mu.Lock()
				sent[id] = t0
				mu.Unlock()
				// On a loaded server the wait for acceptance may time out:
				// asked again with the same update ID, the same update answers.
				var err error
				for range 5 {
					var h client.WorkflowUpdateHandle
					h, err = b.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateID: "bench-resume", UpdateName: model.CommandResume,
						Args: []any{model.ResumeCommand{}}, WaitForStage: client.WorkflowUpdateStageAccepted})
					if err == nil {
						err = h.Get(ctx, nil)
					}
					var timeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
					if !errors.As(err, &timeout) || ctx.Err() != nil {
						break
					}
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		return sent, errors.Join(errs...)
	}

	// The floor and the tasks at the same moment, interleaved, so that both
	// see the same load.
	bareIDs := make([]string, n)
	all := make([]string, 0, 2*n)
	for i, g := range groups {
		bareIDs[i] = fmt.Sprintf("bench/bare-resume-%03d", i+1)
		all = append(all, model.RolloutWorkflowID(g), bareIDs[i])
	}
	sent, err := sendAll(all)
	if err != nil {
		return nil, nil, err
	}
	for range n {
		select {
		case s := <-bareStarted:
			floor = append(floor, s.at.Sub(sent["bench/bare-resume-"+strings.TrimPrefix(s.id, "asg-res")]))
		case <-time.After(2 * time.Minute):
			return nil, nil, errors.New("the bare workflows did not all start their activity")
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	// The first cloud call of the next batch: its EnterStandby, in the ledger.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		entries, err := b.cloudC.Admin().Ledger(ctx)
		if err != nil {
			return nil, nil, err
		}
		first := map[string]time.Time{}
		for _, e := range entries {
			if e.Action != "EnterStandby" || !strings.HasPrefix(e.ResourceId, "i-res") {
				continue
			}
			g := "asg-res" + strings.TrimPrefix(e.ResourceId, "i-res")[:3]
			if t0 := sent[model.RolloutWorkflowID(g)]; e.Time.After(t0) {
				if _, ok := first[g]; !ok {
					first[g] = e.Time
				}
			}
		}
		if len(first) == n {
			for g, at := range first {
				rollout = append(rollout, at.Sub(sent[model.RolloutWorkflowID(g)]))
			}
			return rollout, floor, nil
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("only %d of %d resumed tasks reached their next batch", len(first), n)
		}
		if err := clock.Sleep(ctx, time.Second); err != nil {
			return nil, nil, err
		}
	}
}

// peakRSS is the worker's peak resident set (VmHWM), in bytes.
func peakRSS(s *stack.Stack) (int64, error) {
	procs := s.Processes("worker")
	if len(procs) == 0 {
		return 0, errors.New("no worker runs")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", procs[0].Pid()))
	if err != nil {
		return 0, fmt.Errorf("read the worker's memory (Linux /proc): %w", err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

type report struct {
	bareRate    float64
	rollouts    []rolloutFigures
	distWall    time.Duration
	slowestCopy time.Duration
	resume      []time.Duration
	floor       []time.Duration
	workerRSS   int64
	retry       *retryFigures
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func (r report) print(w io.Writer, o options) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	check := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	fmt.Fprintln(tw, "figure\tmeasured\ttarget\t")
	fmt.Fprintf(tw, "bare Temporal no-op activities/s (%d, %d in flight)\t%.1f\t\t\n", o.noops, o.window, r.bareRate)
	largestHistory, largestPayload := 0, 0
	for _, f := range r.rollouts {
		fmt.Fprintf(tw, "rolling update instances/s at %d (%d batches, wall %s)\t%.1f\t\t\n", f.instances, o.batches, f.wall.Round(time.Millisecond), f.rate())
		fmt.Fprintf(tw, "  ÷ bare no-op activities/s\t%.1f×\t≥ 5× at 10,000\t%s\n", f.rate()/r.bareRate, check(f.instances < 10000 || f.rate() >= 5*r.bareRate))
		fmt.Fprintf(tw, "  history events / largest payload / progress / page of %d\t%d / %d B / %d B / %d B\t\t\n", model.MaxInstancePage, f.history.Events, f.largestPayload, f.summaryBytes, f.pageBytes)
		largestHistory, largestPayload = max(largestHistory, f.history.Events), max(largestPayload, f.largestPayload)
	}
	if len(r.rollouts) > 1 {
		first, last := r.rollouts[0], r.rollouts[len(r.rollouts)-1]
		fmt.Fprintf(tw, "instances/s at %d ÷ at %d\t%.2f\t\t\n", last.instances, first.instances, last.rate()/first.rate())
	}
	fmt.Fprintf(tw, "largest history (events)\t%d\t≤ 10,240\t%s\n", largestHistory, check(largestHistory <= 10240))
	fmt.Fprintf(tw, "largest payload (history, query answers)\t%d KB\t≤ 512 KB\t%s\n", largestPayload>>10, check(largestPayload <= 512<<10))
	_ = tw.Flush()
	r.printRetry(w, o)
	tw = tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintf(tw, "worker peak RSS\t%d MiB\t≤ 256 MiB\t%s\n", r.workerRSS>>20, check(r.workerRSS <= 256<<20))
	ratio := r.distWall.Seconds() / r.slowestCopy.Seconds()
	fmt.Fprintf(tw, "distribution to %d regions: wall %s ÷ slowest copy %s\t%.3f\t≤ 1.02\t%s\n", o.regions, r.distWall.Round(time.Millisecond), r.slowestCopy.Round(time.Millisecond), ratio, check(ratio <= 1.02))
	p50, p99 := percentile(r.resume, 0.50), percentile(r.resume, 0.99)
	f50, f99 := percentile(r.floor, 0.50), percentile(r.floor, 0.99)
	fmt.Fprintf(tw, "resume → next batch's first cloud call, %d tasks at once: p50 / p99\t%s / %s\t\t\n", o.tasks, p50.Round(time.Millisecond), p99.Round(time.Millisecond))
	fmt.Fprintf(tw, "  bare floor (update → activity start): p50 / p99\t%s / %s\t\t\n", f50.Round(time.Millisecond), f99.Round(time.Millisecond))
	fmt.Fprintf(tw, "  p99 ÷ floor p99 (p50 ÷ floor p50)\t%.2f (%.2f)\t≤ 1.2\t%s\n", p99.Seconds()/f99.Seconds(), p50.Seconds()/f50.Seconds(), check(p99.Seconds() <= 1.2*f99.Seconds()))
	_ = tw.Flush()
}
