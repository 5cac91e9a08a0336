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
	"os/exec"
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
	rounds      int
	parts       map[string]bool
	sizes       []int
	batches     []int
	noops       int
	window      int
	tasks       int
	regions     int
	concurrent  int
	copyMinutes float64
	dataDir     string
	binDir      string
	port        int
	// The long rollout with retries (retry.go); 0 instances skips it.
	retryInstances, retryBatches, retryFailures int
	onlyRetry                                   bool
	// Run as the bare workflows' worker (a process the bench starts).
	bareWorker, bareKeys string
}

// The bench's parts (--parts).
const (
	partRollout      = "rollout"
	partDistribution = "distribution"
	partResume       = "resume"
	partRetry        = "retry"
)

var allParts = []string{partRollout, partDistribution, partResume, partRetry}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var runErr error
	cmd := command(func(o options) error {
		if o.bareWorker != "" {
			runErr = bareWorker(ctx, o.bareWorker, o.bareKeys)
			return nil
		}
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

// intList reads a comma-separated list of numbers from lo to hi.
func intList(flag, s string, lo, hi int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < lo || n > hi {
			return nil, fmt.Errorf("--%s %q: each must be a number from %d to %d", flag, f, lo, hi)
		}
		out = append(out, n)
	}
	return out, nil
}

// command is the bench's command line; it calls start with the options
// once the flags have been read and checked.
func command(start func(options) error) *cobra.Command {
	var (
		o                     options
		sizes, batches, parts string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure imagefleet at fleet size beside bare Temporal",
		Long: "Starts a stack of its own (dev server, simulated cloud and worker on their own ports and data directory)\n" +
			"and a bare-Temporal worker process with the same pollers and slots, then measures bare no-op workflows and\n" +
			"imagefleet's operations in turn (bare, imagefleet, bare, imagefleet, … for --rounds rounds), with the\n" +
			"1-minute load average beside every sample, and prints medians and spreads with the targets. A ratio whose\n" +
			"two sides saw loads differing by more than 25 % (and by more than 0.5) is printed as \"not a figure\".\n" +
			"The temporal binary: IMAGEFLEET_TEMPORAL_CLI, else .tools/temporal; the cloud and worker: --bin-dir.",
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(*cobra.Command, []string) error {
			if o.bareWorker != "" {
				return start(o)
			}
			var err error
			if o.batches, err = intList("batches", batches, 1, 1000); err != nil {
				return err
			}
			if o.sizes, err = intList("sizes", sizes, slices.Max(o.batches), cloudsim.MaxScalingGroupSize); err != nil {
				return fmt.Errorf("%w (at least the most --batches)", err)
			}
			o.parts = map[string]bool{}
			for _, p := range strings.Split(parts, ",") {
				p = strings.TrimSpace(p)
				if !slices.Contains(allParts, p) {
					return fmt.Errorf("--parts: %q is none of %s", p, strings.Join(allParts, ", "))
				}
				o.parts[p] = true
			}
			if o.onlyRetry {
				o.parts = map[string]bool{partRetry: true}
			}
			switch {
			case o.rounds < 1 || o.rounds > 50:
				return fmt.Errorf("--rounds must be 1 to 50 (3 or more for a figure worth the name)")
			case o.noops < 1 || o.window < 1:
				return fmt.Errorf("--noops and --window must be at least 1")
			case o.tasks < 1 || o.tasks > 999:
				return fmt.Errorf("--tasks must be 1 to 999")
			case o.concurrent < 1 || o.concurrent > 999:
				return fmt.Errorf("--concurrent must be 1 to 999")
			case o.regions < 1:
				return fmt.Errorf("--regions must be at least 1")
			case o.copyMinutes <= 0:
				return fmt.Errorf("--copy-minutes must be positive")
			case o.retryInstances < 0 || o.retryInstances > cloudsim.MaxScalingGroupSize:
				return fmt.Errorf("--retry-instances must be 0 (skip) to %d", cloudsim.MaxScalingGroupSize)
			case o.retryInstances > 0 && (o.retryBatches < 1 || o.retryBatches > o.retryInstances):
				return fmt.Errorf("--retry-batches must be 1 to --retry-instances")
			case o.retryFailures < 0 || o.retryFailures > 100:
				return fmt.Errorf("--retry-failures is a percentage: 0 to 100")
			case o.onlyRetry && o.retryInstances == 0:
				return fmt.Errorf("--only-retry needs --retry-instances")
			}
			if o.retryInstances == 0 {
				delete(o.parts, partRetry)
			}
			return start(o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.rounds, "rounds", 3, "rounds of bare Temporal and imagefleet measured in turn (medians and spreads over them)")
	f.StringVar(&parts, "parts", strings.Join(allParts, ","), "parts to run, comma-separated: "+strings.Join(allParts, ", "))
	f.StringVar(&sizes, "sizes", "10000", "rolling-update sizes (instances), comma-separated")
	f.StringVar(&batches, "batches", "10,20", "batch counts of each rolling update, comma-separated")
	f.IntVar(&o.noops, "noops", 5000, "no-op activities of each bare-Temporal run")
	f.IntVar(&o.window, "window", 500, "no-op activities in flight at once")
	f.IntVar(&o.tasks, "tasks", 100, "paused tasks resumed at once")
	f.IntVar(&o.regions, "regions", 20, "regions of each distribution")
	f.IntVar(&o.concurrent, "concurrent", 100, "distributions run at once, beside one alone")
	f.Float64Var(&o.copyMinutes, "copy-minutes", 1, "duration of a distribution's slowest copy (sets the cloud's time scale)")
	f.StringVar(&o.dataDir, "data-dir", ".data/bench", "the bench stack's data directory (emptied first)")
	f.StringVar(&o.binDir, "bin-dir", "bin", "where the cloudsim and worker binaries are")
	f.IntVar(&o.port, "port", 17233, "the dev server's port; the cloud listens on port+1066")
	f.IntVar(&o.retryInstances, "retry-instances", 10000, "instances of the long rollout whose failed instances are retried one by one (0: skip it)")
	f.IntVar(&o.retryBatches, "retry-batches", 100, "batches of the long rollout with retries")
	f.IntVar(&o.retryFailures, "retry-failures", 10, "percentage of the long rollout's instances that fail once and are retried")
	f.BoolVar(&o.onlyRetry, "only-retry", false, "run the long rollout with retries alone (--parts retry)")
	f.StringVar(&o.bareWorker, "bare-worker", "", "run as the bare workflows' worker against this dev server address (the bench starts it)")
	f.StringVar(&o.bareKeys, "bare-keys", "", "the bare worker's codec key file")
	_ = f.MarkHidden("bare-worker")
	_ = f.MarkHidden("bare-keys")
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
		CloudSim:    filepath.Join(o.binDir, "cloudsim"), Worker: filepath.Join(o.binDir, "worker"), DataDir: o.dataDir,
		TemporalPort: o.port, UIPort: o.port + 1000, CloudPort: o.port + 1066, Headless: true,
		CloudTimeScale: scale, Log: logFile,
		// Every distribution's copies stay (published): room for them all.
		CloudImageQuota: cloudsim.DefaultImageQuota + o.rounds*(o.concurrent+1),
	})
	defer s.Stop()
	say("starting the bench stack (dev server %s, cloud %s, time scale %.4g; logs in %s)", s.TemporalAddress(), s.CloudEndpoint(), scale, logFile.Name())
	if err := s.Start(ctx); err != nil {
		return err
	}
	// The stack's worker encrypts payloads with the stack's keys: so do
	// this client and the bare workflows' worker.
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
	stopBare, err := startBareWorker(s, logFile)
	if err != nil {
		return err
	}
	defer stopBare()
	b := &bench{o: o, c: c, dc: cmp.Or(copts.DataConverter, converter.GetDefaultDataConverter()), s: s, cloudC: cloud.NewClient(s.CloudEndpoint(), cloudsim.DefaultAccount).WithAccessKey(cloudsim.AccessKey(cloudsim.DefaultAccount))}

	r := report{o: o}
	if o.parts[partRollout] {
		if err := b.rolloutRounds(ctx, &r); err != nil {
			return err
		}
	}
	if o.parts[partDistribution] {
		say("distributions to %d regions (slowest copy %s): one alone, then %d at once, %d rounds", len(regions), slowestCopy.Round(time.Second), o.concurrent, o.rounds)
		r.slowestCopy = slowestCopy
		if err := b.distributionRounds(ctx, regions, &r); err != nil {
			return err
		}
	}
	if o.parts[partResume] {
		say("resume of %d paused tasks at once beside their bare floor, %d rounds", o.tasks, o.rounds)
		for round := 1; round <= o.rounds; round++ {
			res, l, err := measure(func() (resumeFigures, error) { return b.resumes(ctx, round) })
			if err != nil {
				return err
			}
			res.load = l
			r.resumes = append(r.resumes, res)
			say("  round %d: resume p99 %s, floor p99 %s (%s)", round, res.p99().Round(time.Millisecond), res.floorP99().Round(time.Millisecond), l)
		}
	}
	if o.parts[partRetry] {
		if err := b.retryCase(ctx, &r); err != nil {
			return err
		}
	}
	if r.workerRSS, err = peakRSS(s); err != nil {
		return err
	}
	r.print(os.Stdout)
	return nil
}

// startBareWorker starts this binary as the bare workflows' worker, a
// process of its own as imagefleet's worker is, and returns its stop.
func startBareWorker(s *stack.Stack, log io.Writer) (stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "--bare-worker", s.TemporalAddress(), "--bare-keys", s.CodecKeysFile())
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bare worker: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}, nil
}

// rolloutRounds measures, per round, the bare no-op activities and then
// each rolling update (every size in every batch count).
func (b *bench) rolloutRounds(ctx context.Context, r *report) error {
	o := b.o
	for round := 1; round <= o.rounds; round++ {
		say("round %d of %d: bare Temporal, %d no-op activities, %d in flight", round, o.rounds, o.noops, o.window)
		rate, l, err := measure(func() (float64, error) { return b.bareActivities(ctx, round) })
		if err != nil {
			return err
		}
		bare := sample{v: rate, load: l}
		r.bare = append(r.bare, bare)
		say("  bare: %.1f activities/s (%s)", rate, l)
		for _, n := range o.sizes {
			for _, nb := range o.batches {
				f, l, err := measure(func() (rolloutFigures, error) { return b.rollout(ctx, n, nb, round) })
				if err != nil {
					return err
				}
				f.load = l
				f.ratio = newRatio(round, sample{v: f.rate(), load: l}, bare)
				r.rollouts = append(r.rollouts, f)
				say("  rolling update of %d instances in %d batches: wall %s, %.1f instances/s (%s)", n, nb, f.wall.Round(time.Millisecond), f.rate(), l)
			}
		}
	}
	return nil
}

// distributionRounds measures, per round, one distribution alone and then
// o.concurrent at once, with the cloud's call rate during each.
func (b *bench) distributionRounds(ctx context.Context, regions []string, r *report) error {
	for round := 1; round <= b.o.rounds; round++ {
		alone, l, err := measure(func() (distFigures, error) { return b.distributions(ctx, regions, round, 1, true) })
		if err != nil {
			return err
		}
		alone.load = l
		say("  round %d: one distribution alone: wall %s, %.0f cloud calls/s (%s)", round, alone.walls[0].Round(time.Millisecond), alone.callRate(), l)
		many, l, err := measure(func() (distFigures, error) { return b.distributions(ctx, regions, round, b.o.concurrent, false) })
		if err != nil {
			return err
		}
		many.load = l
		say("  round %d: %d at once: slowest wall %s, %.0f cloud calls/s (%s)", round, b.o.concurrent, many.slowest().Round(time.Millisecond), many.callRate(), l)
		r.alone = append(r.alone, alone)
		r.many = append(r.many, many)
	}
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

// wall is a finished workflow's time from the start of its run runID to
// the close of its last run (a rolling update continues as new at batch
// boundaries), as the server saw it.
func (b *bench) wall(ctx context.Context, id, runID string) (time.Duration, error) {
	first, err := b.c.DescribeWorkflowExecution(ctx, id, runID)
	if err != nil {
		return 0, err
	}
	last, err := b.c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return 0, err
	}
	return last.GetWorkflowExecutionInfo().GetCloseTime().AsTime().Sub(first.GetWorkflowExecutionInfo().GetStartTime().AsTime()), nil
}

func (b *bench) bareActivities(ctx context.Context, round int) (float64, error) {
	run, err := b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench/bare-activities-%d", round), TaskQueue: bareTaskQueue}, BareActivities, b.o.noops, b.o.window)
	if err != nil {
		return 0, err
	}
	first := run.GetRunID()
	if err := run.Get(ctx, nil); err != nil {
		return 0, err
	}
	d, err := b.wall(ctx, run.GetID(), first)
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
	instances, batches, round int
	wall                      time.Duration
	load                      load
	ratio                     ratio          // ÷ the round's bare no-op activities/s
	runs                      int            // the runs it took (continue-as-new)
	history                   histstat.Stats // the largest run's events and payload
	summaryBytes              int            // the progress answer
	pageBytes                 int            // a page of model.MaxInstancePage instances
	largestPayload            int
}

func (f rolloutFigures) rate() float64 { return float64(f.instances) / f.wall.Seconds() }

func (b *bench) rollout(ctx context.Context, n, batches, round int) (rolloutFigures, error) {
	f := rolloutFigures{instances: n, batches: batches, round: round}
	group := fmt.Sprintf("asg-bench%d-b%d-r%d", n, batches, round)
	if err := b.addGroup(ctx, group, n); err != nil {
		return f, err
	}
	// Every instance keeps model.MaxKeptOutput bytes of output.
	spec := model.RolloutSpec{ScalingGroupID: group, RegionID: cloudsim.SeedRegion, TaskType: model.TaskScript, Batches: batches,
		Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo " + strings.Repeat("x", model.MaxKeptOutput)}}
	run, err := b.startRollout(ctx, spec)
	if err != nil {
		return f, err
	}
	firstRun := run.GetRunID() // Get follows the runs: GetRunID is then the last
	var st model.RolloutState
	if err := run.Get(ctx, &st); err != nil {
		return f, err
	}
	if st.Status != model.RolloutSucceeded || st.Counts.Succeeded != n {
		return f, fmt.Errorf("rolling update of %s ended %s with %d of %d instances changed", group, st.Status, st.Counts.Succeeded, n)
	}
	if f.wall, err = b.wall(ctx, run.GetID(), firstRun); err != nil {
		return f, err
	}
	chain, err := histstat.MeasureChain(ctx, b.c, run.GetID(), firstRun)
	if err != nil {
		return f, err
	}
	f.runs = len(chain)
	for _, h := range chain { // the largest run's
		f.history.Events = max(f.history.Events, h.Events)
		f.history.LargestPayload = max(f.history.LargestPayload, h.LargestPayload)
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
		Execution: &commonpb.WorkflowExecution{WorkflowId: run.GetID()}, Query: q}) // the last run
	if err != nil {
		return 0, err
	}
	size := 0
	for _, p := range resp.GetQueryResult().GetPayloads() {
		size = max(size, p.Size())
	}
	return size, nil
}

// distFigures are k distributions run at once: each one's wall, and the
// cloud's calls meanwhile.
type distFigures struct {
	walls []time.Duration
	span  time.Duration // first start → last close, as this client saw it
	calls int64
	load  load
}

func (f distFigures) slowest() time.Duration { return slices.Max(f.walls) }

func (f distFigures) median() time.Duration { return percentile(f.walls, 0.5) }

func (f distFigures) callRate() float64 { return float64(f.calls) / f.span.Seconds() }

func (b *bench) totalCalls(ctx context.Context) (int64, error) {
	calls, err := b.cloudC.Admin().Calls(ctx)
	var n int64
	for _, c := range calls {
		n += c
	}
	return n, err
}

// distributions runs k distributions to regions at once (each under a
// version of its own) and waits for them all.
func (b *bench) distributions(ctx context.Context, regions []string, round, k int, alone bool) (distFigures, error) {
	f := distFigures{walls: make([]time.Duration, k)}
	before, err := b.totalCalls(ctx)
	if err != nil {
		return f, err
	}
	kind := 1 // the version names the round, alone (0) or at once (1), and the distribution
	if alone {
		kind = 0
	}
	t0 := time.Now()
	runs := make([]client.WorkflowRun, k)
	firsts := make([]string, k)
	for i := range runs {
		spec := model.DistributeSpec{Package: "bench_pkg", Version: fmt.Sprintf("v%d_%d_%d", round, kind, i), Description: "bench distribution",
			SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: regions}
		if runs[i], err = b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: model.DistributeWorkflowID(spec.Package, spec.Version), TaskQueue: model.TaskQueue},
			model.DistributeWorkflowType, spec); err != nil {
			return f, err
		}
		firsts[i] = runs[i].GetRunID()
	}
	for i, run := range runs {
		if err := run.Get(ctx, nil); err != nil {
			return f, fmt.Errorf("distribution %s: %w", run.GetID(), err)
		}
		if f.walls[i], err = b.wall(ctx, run.GetID(), firsts[i]); err != nil {
			return f, err
		}
	}
	f.span = time.Since(t0)
	after, err := b.totalCalls(ctx)
	f.calls = after - before
	return f, err
}

type resumeFigures struct {
	resume, floor []time.Duration
	load          load
}

func (f resumeFigures) p99() time.Duration      { return percentile(f.resume, 0.99) }
func (f resumeFigures) floorP99() time.Duration { return percentile(f.floor, 0.99) }

func (b *bench) resumes(ctx context.Context, round int) (f resumeFigures, err error) {
	f.resume, f.floor, err = b.resumeRound(ctx, round)
	return f, err
}

// resumeRound measures resume → first cloud call of the next batch for
// tasks paused after their first batch, all resumed at once by this one
// client, and the bare floor at the same moment: workflows waiting on an
// update, each then running one local activity.
func (b *bench) resumeRound(ctx context.Context, round int) (rollout, floor []time.Duration, err error) {
	n := b.o.tasks
	groups := make([]string, n)
	bareID := func(i int) string { return fmt.Sprintf("bench/bare-resume-%d-%03d", round, i+1) }
	for i := range groups {
		// Its instances are i-resr<round>x<task><n> (the cloud drops the dashes).
		groups[i] = fmt.Sprintf("asg-resr%dx%03d", round, i+1)
		if err := b.addGroup(ctx, groups[i], 2); err != nil {
			return nil, nil, err
		}
		if _, err := b.startRollout(ctx, model.RolloutSpec{ScalingGroupID: groups[i], RegionID: cloudsim.SeedRegion, TaskType: model.TaskScript, Batches: 2,
			PausePolicy: model.PauseFirstBatch, Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo ok"}}); err != nil {
			return nil, nil, err
		}
		if _, err := b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: bareID(i), TaskQueue: bareTaskQueue}, BareResume); err != nil {
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
	all := make([]string, 0, 2*n)
	for i, g := range groups {
		all = append(all, model.RolloutWorkflowID(g), bareID(i))
	}
	sent, err := sendAll(all)
	if err != nil {
		return nil, nil, err
	}
	for i := range groups {
		var at time.Time
		if err := b.c.GetWorkflow(ctx, bareID(i), "").Get(ctx, &at); err != nil {
			return nil, nil, fmt.Errorf("bare resume %s: %w", bareID(i), err)
		}
		floor = append(floor, at.Sub(sent[bareID(i)]))
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
			prefix := fmt.Sprintf("i-resr%dx", round)
			if e.Action != "EnterStandby" || !strings.HasPrefix(e.ResourceId, prefix) || len(e.ResourceId) < len(prefix)+3 {
				continue
			}
			g := fmt.Sprintf("asg-resr%dx", round) + e.ResourceId[len(prefix):len(prefix)+3]
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
	o           options
	bare        []sample // no-op activities/s per round
	rollouts    []rolloutFigures
	slowestCopy time.Duration
	alone, many []distFigures // per round
	resumes     []resumeFigures
	workerRSS   int64
	retry       *retryFigures
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func check(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// printRatio prints a ratio over the rounds, with each round's loads, and
// checks it against target (nil: no target) where it is a figure.
func printRatio(tw io.Writer, label, unit, targetText string, rs []ratio, target func(float64) bool) {
	st, left := figure(rs)
	if st.n == 0 {
		fmt.Fprintf(tw, "%s	not a figure	(the sides' loads differed in all %d rounds)	%s	\n", label, len(rs), targetText)
	} else {
		verdict := ""
		if target != nil {
			verdict = check(target(st.median))
		}
		fmt.Fprintf(tw, "%s	%.2f%s	%.2f–%.2f (%d of %d rounds)	%s	%s\n", label, st.median, unit, st.low, st.high, st.n, len(rs), targetText, verdict)
	}
	for _, r := range rs {
		note := ""
		if !r.ok {
			note = "  not a figure: loads differ by more than 25 %"
		}
		fmt.Fprintf(tw, "    round %d: %.2f%s (%s ÷ %s)%s\n", r.round, r.v, unit, r.a, r.b, note)
	}
	_ = left
}

func (r report) print(w io.Writer) {
	o := r.o
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintf(w, "\n%d rounds, bare and imagefleet in turn. A ratio is a figure only where its two sides' 1-minute load averages\n"+
		"differ by at most %.0f %% (or %.1f); medians and spreads are over those rounds.\n\n", o.rounds, loadTolerance*100, loadSlack)
	fmt.Fprintln(tw, "figure\tmedian\tspread\ttarget\t")
	if len(r.bare) > 0 {
		st := statsOf(values(r.bare))
		fmt.Fprintf(tw, "bare Temporal no-op activities/s (%d, %d in flight; own worker process)\t%.1f\t%.1f–%.1f (%d)\t\t\n", o.noops, o.window, st.median, st.low, st.high, st.n)
		for i, b := range r.bare {
			fmt.Fprintf(tw, "    round %d: %.1f (%s)\n", i+1, b.v, b.load)
		}
	}
	largestHistory, largestPayload := 0, 0
	for _, n := range o.sizes {
		walls := map[int]map[int]rolloutFigures{} // batches → round → figures
		for _, nb := range o.batches {
			var rates []float64
			var ratios []ratio
			walls[nb] = map[int]rolloutFigures{}
			var last rolloutFigures
			for _, f := range r.rollouts {
				if f.instances != n || f.batches != nb {
					continue
				}
				rates = append(rates, f.rate())
				ratios = append(ratios, f.ratio)
				walls[nb][f.round] = f
				last = f
				largestHistory, largestPayload = max(largestHistory, f.history.Events), max(largestPayload, f.largestPayload)
			}
			if len(rates) == 0 {
				continue
			}
			st := statsOf(rates)
			fmt.Fprintf(tw, "rolling update of %d instances in %d batches: instances/s\t%.1f\t%.1f–%.1f (%d)\t\t\n", n, nb, st.median, st.low, st.high, st.n)
			for round := 1; round <= o.rounds; round++ {
				if f, ok := walls[nb][round]; ok {
					fmt.Fprintf(tw, "    round %d: wall %s (%s a batch), %.1f/s (%s)\n", round, f.wall.Round(time.Millisecond), (f.wall / time.Duration(nb)).Round(time.Millisecond), f.rate(), f.load)
				}
			}
			targetText, target := "", (func(float64) bool)(nil)
			if n == 10000 && nb == 20 {
				targetText, target = "≥ 5×", func(v float64) bool { return v >= 5 }
			}
			printRatio(tw, fmt.Sprintf("  ÷ bare no-op activities/s of the same round"), "×", targetText, ratios, target)
			fmt.Fprintf(tw, "  runs / largest run's history events / largest payload / progress / page of %d\t%d / %d / %d B / %d B / %d B\t\t\t\n", model.MaxInstancePage, last.runs, last.history.Events, last.largestPayload, last.summaryBytes, last.pageBytes)
		}
		// A batch's cost: the extra wall of the most batches over the
		// fewest, per extra batch, in the same round.
		lo, hi := slices.Min(o.batches), slices.Max(o.batches)
		if lo < hi {
			var rs []ratio
			for round := 1; round <= o.rounds; round++ {
				a, okA := walls[hi][round]
				c, okC := walls[lo][round]
				if okA && okC {
					rs = append(rs, ratio{round: round, v: (a.wall - c.wall).Seconds() / float64(hi-lo), ok: comparable(a.load, c.load), a: a.load, b: c.load})
				}
			}
			if len(rs) > 0 {
				printRatio(tw, fmt.Sprintf("cost of a batch at %d: (wall in %d − wall in %d) ÷ %d, in s", n, hi, lo, hi-lo), " s", "≤ 0.3 s", rs, func(v float64) bool { return v <= 0.3 })
			}
		}
	}
	if len(r.rollouts) > 0 {
		fmt.Fprintf(tw, "largest history (events)\t%d\t\t≤ 10,240\t%s\n", largestHistory, check(largestHistory <= 10240))
		fmt.Fprintf(tw, "largest payload (history, query answers)\t%d KB\t\t≤ 512 KB\t%s\n", largestPayload>>10, check(largestPayload <= 512<<10))
	}
	if len(r.alone) > 0 {
		var copyRatios []float64
		var conc, concMedian []ratio
		for i := range r.alone {
			a, m := r.alone[i], r.many[i]
			copyRatios = append(copyRatios, a.walls[0].Seconds()/r.slowestCopy.Seconds())
			alone := sample{v: a.walls[0].Seconds(), load: a.load}
			conc = append(conc, newRatio(i+1, sample{v: m.slowest().Seconds(), load: m.load}, alone))
			concMedian = append(concMedian, newRatio(i+1, sample{v: m.median().Seconds(), load: m.load}, alone))
		}
		st := statsOf(copyRatios)
		fmt.Fprintf(tw, "one %d-region distribution: wall ÷ slowest copy (%s)\t%.3f\t%.3f–%.3f (%d)\t≤ 1.01\t%s\n", o.regions, r.slowestCopy.Round(time.Millisecond), st.median, st.low, st.high, st.n, check(st.median <= 1.01))
		for i, a := range r.alone {
			fmt.Fprintf(tw, "    round %d: wall %s, overhead %s, cloud calls %.0f/s (%s)\n", i+1, a.walls[0].Round(time.Millisecond), (a.walls[0] - r.slowestCopy).Round(time.Millisecond), a.callRate(), a.load)
		}
		printRatio(tw, fmt.Sprintf("%d concurrent %d-region distributions ÷ one alone (slowest wall)", o.concurrent, o.regions), "", "≤ 1.10", conc, func(v float64) bool { return v <= 1.10 })
		printRatio(tw, "  the same, median wall", "", "", concMedian, nil)
		for i, m := range r.many {
			fmt.Fprintf(tw, "    round %d: %d at once: slowest %s, median %s; cloud calls %.0f/s (alone %.0f/s)\n", i+1, o.concurrent, m.slowest().Round(time.Millisecond), m.median().Round(time.Millisecond), m.callRate(), r.alone[i].callRate())
		}
	}
	if len(r.resumes) > 0 {
		var rs []ratio
		for i, f := range r.resumes {
			// Both sides at the same moment: the same load.
			rs = append(rs, ratio{round: i + 1, v: f.p99().Seconds() / f.floorP99().Seconds(), ok: f.load.known(), a: f.load, b: f.load})
		}
		printRatio(tw, fmt.Sprintf("resume → next batch's first cloud call, %d paused tasks at once: p99 ÷ bare floor p99 (same moment)", o.tasks), "", "≤ 1.10", rs, func(v float64) bool { return v <= 1.10 })
		for i, f := range r.resumes {
			fmt.Fprintf(tw, "    round %d: resume p50 / p99 %s / %s; floor (update → local activity start) p50 / p99 %s / %s\n", i+1,
				percentile(f.resume, 0.5).Round(time.Millisecond), f.p99().Round(time.Millisecond), percentile(f.floor, 0.5).Round(time.Millisecond), f.floorP99().Round(time.Millisecond))
		}
	}
	fmt.Fprintf(tw, "worker peak RSS\t%d MiB\t\t≤ 256 MiB\t%s\n", r.workerRSS>>20, check(r.workerRSS <= 256<<20))
	_ = tw.Flush()
	r.printRetry(w, o)
}
