package activities_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/internal/payload"
	"github.com/imagefleet/imagefleet/model"
)

func applyChunk(t *testing.T, sim *cloudsimtest.Env, in activities.ChunkInput, heartbeat any) activities.ChunkResult {
	t.Helper()
	env := activityEnv(t, sim)
	if heartbeat != nil {
		env.SetHeartbeatDetails(heartbeat)
	}
	var a *activities.Rollouts
	v, err := env.ExecuteActivity(a.ApplyChangeChunk, in)
	require.NoError(t, err)
	var res activities.ChunkResult
	require.NoError(t, v.Get(&res))
	return res
}

// bigGroup adds a group of n instances and returns their IDs.
func bigGroup(t *testing.T, sim *cloudsimtest.Env, n int) []string {
	t.Helper()
	_, err := sim.Server.AddScalingGroup(cloudsim.ScalingGroupSpec{ScalingGroupId: "asg-chunk", RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, Size: n})
	require.NoError(t, err)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-chunk%04d", i+1)
	}
	return ids
}

func chunkOf(ids []string, attempt int) []activities.ChunkInstance {
	var out []activities.ChunkInstance
	for _, id := range ids {
		out = append(out, activities.ChunkInstance{InstanceID: id, ClientToken: model.ClientToken("test", id, fmt.Sprint(attempt))})
	}
	return out
}

// countPerInstance counts the ledger's entries of action per instance.
func countPerInstance(sim *cloudsimtest.Env, action string) map[string]int {
	n := map[string]int{}
	for _, e := range sim.Server.Ledger() {
		if e.Action == action && e.ResourceType == "Instance" {
			n[e.ResourceId]++
		}
	}
	return n
}

func TestApplyChangeChunkOfEachTaskType(t *testing.T) {
	sim := cloudsimtest.Start(t, cloudsimtest.WithFaults(cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: "i-chunk0007", Count: 3}))
	ids := bigGroup(t, sim, 300)
	for i, tc := range []struct {
		in     activities.ChunkInput
		action string
		output string
	}{
		{activities.ChunkInput{TaskType: model.TaskScript, Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo done"}}, "RunCommand", "done\n"},
		{activities.ChunkInput{TaskType: model.TaskOOSPackage, Package: &model.OOSPackageChange{Name: "webapp-agent", Version: "1.1.0"}}, "StartExecution", "install webapp-agent 1.1.0"},
		{activities.ChunkInput{TaskType: model.TaskImage, Image: &model.ImageChange{ImageID: cloudsim.ImageWebappV2}}, "ReplaceSystemDisk", "from " + cloudsim.ImageWebappV2},
	} {
		t.Run(tc.in.TaskType, func(t *testing.T) {
			chunk := ids[i*model.RolloutChunkSize : (i+1)*model.RolloutChunkSize]
			if i == 0 {
				chunk = ids[:model.RolloutChunkSize] // holds the faulty i-chunk0007
			}
			in := tc.in
			in.Region, in.ClientToken, in.Instances = cloudsim.SeedRegion, "chunk-"+tc.action, chunkOf(chunk, 1)
			res := applyChunk(t, sim, in, nil)
			require.Len(t, res.Results, len(chunk))
			for j, r := range res.Results {
				require.Equal(t, chunk[j], r.InstanceID)
				require.NotEmpty(t, r.Ref, r.InstanceID)
				if r.InstanceID == "i-chunk0007" {
					require.False(t, r.Succeeded)
					continue
				}
				require.True(t, r.Succeeded, "%s: %s", r.InstanceID, r.Error)
				require.Contains(t, r.Output, tc.output)
			}
			// The same attempt again (a retried activity): nothing is redone.
			again := applyChunk(t, sim, in, nil)
			require.Equal(t, res, again)
			per := countPerInstance(sim, tc.action)
			for _, id := range chunk {
				require.LessOrEqual(t, per[id], 1, id)
			}
		})
	}
}

// A retried attempt resumes from its heartbeat: the instances it finished
// are not asked about again, and the chunk's command is not started again.
func TestApplyChangeChunkResumesFromHeartbeat(t *testing.T) {
	sim := cloudsimtest.Start(t)
	ids := bigGroup(t, sim, 10)
	in := activities.ChunkInput{Region: cloudsim.SeedRegion, TaskType: model.TaskScript, ClientToken: "chunk-1", Instances: chunkOf(ids, 1),
		Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo ok"}}
	first := applyChunk(t, sim, in, nil)
	// As a worker that crashed after recording the first half as done.
	heartbeat := map[string]any{"Ref": first.Results[0].Ref, "Done": first.Results[:5]}
	resumed := applyChunk(t, sim, in, heartbeat)
	require.Equal(t, first, resumed)
	for _, id := range ids {
		require.Equal(t, 1, countPerInstance(sim, "RunCommand")[id], id)
	}
}

// An operator's retry looks at the cloud first: a command that succeeded
// there (although its attempt was lost, e.g. to worker crashes) is not run
// a second time; a command that failed there is.
func TestApplyChangeChunkRetryLooksAtTheCloudFirst(t *testing.T) {
	sim := cloudsimtest.Start(t, cloudsimtest.WithFaults(cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: "i-chunk0002", Count: 1}))
	ids := bigGroup(t, sim, 2)
	script := &model.ScriptChange{Type: model.ScriptShell, Script: "echo ok"}
	first := applyChunk(t, sim, activities.ChunkInput{Region: cloudsim.SeedRegion, TaskType: model.TaskScript, Script: script, ClientToken: "chunk-1", Instances: chunkOf(ids, 1)}, nil)
	require.True(t, first.Results[0].Succeeded)
	require.False(t, first.Results[1].Succeeded)

	for i, id := range ids {
		retry := chunkOf([]string{id}, 2)
		retry[0].Previous = first.Results[i].Ref
		res := applyChunk(t, sim, activities.ChunkInput{Region: cloudsim.SeedRegion, TaskType: model.TaskScript, Script: script,
			ClientToken: "retry-" + id, Instances: retry}, nil)
		require.True(t, res.Results[0].Succeeded, res.Results[0].Error)
	}
	require.Equal(t, map[string]int{"i-chunk0001": 1, "i-chunk0002": 2}, countPerInstance(sim, "RunCommand"),
		"the succeeded command is not run again, the failed one is")
}

func TestReportFailuresInBulk(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Rollouts
	var failures []activities.InstanceFailure
	for i := range 150 {
		failures = append(failures, activities.InstanceFailure{InstanceID: fmt.Sprintf("i-webhz%04d", i), Content: "exit 1"})
	}
	in := activities.FailureEventsInput{Region: cloudsim.SeedRegion, Group: cloudsim.GroupWeb, TaskType: model.TaskScript, Failures: failures, ClientToken: "events-1"}
	_, err := env.ExecuteActivity(a.ReportFailures, in)
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.ReportFailures, in)
	require.NoError(t, err, "a retried report writes nothing twice")
	require.Len(t, sim.Server.Events(model.EventScriptFailed, cloudsim.GroupWeb), 150)
	calls := map[string]bool{}
	for _, e := range sim.Server.Ledger() {
		if e.Action == "PutCustomEvent" {
			calls[e.ClientToken] = true
		}
	}
	require.Len(t, calls, 2, "100 events per call")
}

// Throttling and server errors are waited out inside the attempt, as the
// cloud asks: the chunk neither fails nor repeats a command.
func TestApplyChangeChunkHonoursThrottling(t *testing.T) {
	sim := cloudsimtest.Start(t,
		cloudsimtest.WithFaults(
			cloud.Fault{Kind: cloud.FaultThrottle, Action: "RunCommand", Count: 2, RetryAfter: 50 * time.Millisecond},
			cloud.Fault{Kind: cloud.FaultTransient, Action: "DescribeInvocationResults", Count: 2},
		))
	ids := bigGroup(t, sim, 20)
	res := applyChunk(t, sim, activities.ChunkInput{Region: cloudsim.SeedRegion, TaskType: model.TaskScript, ClientToken: "chunk-1", Instances: chunkOf(ids, 1),
		Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo ok"}}, nil)
	for _, r := range res.Results {
		require.True(t, r.Succeeded, r.Error)
	}
	for _, f := range sim.Server.Faults() {
		require.Equal(t, 2, f.Fired, f.Kind)
	}
	for _, id := range ids {
		require.Equal(t, 1, countPerInstance(sim, "RunCommand")[id], id)
	}
}

// A heartbeat written by a worker whose chunkProgress had a field this one
// lacks still resumes the chunk (the worker's strict data converter would
// refuse it as a whole), and the worker says what it ignored; details that
// cannot be resumed from are said too, and the chunk starts over.
func TestApplyChangeChunkResumesFromAnOldHeartbeatShape(t *testing.T) {
	sim := cloudsimtest.Start(t)
	all := bigGroup(t, sim, 8)
	run := func(ids []string, heartbeat any) (activities.ChunkResult, string) {
		in := activities.ChunkInput{Region: cloudsim.SeedRegion, TaskType: model.TaskScript, ClientToken: "chunk-" + ids[0], Instances: chunkOf(ids, 1),
			Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo ok"}}
		var logs bytes.Buffer
		var s testsuite.WorkflowTestSuite
		s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		env := s.NewTestActivityEnvironment()
		env.SetDataConverter(payload.Converter) // the worker's
		activities.Register(env, sim.Client, activities.Options{PollInterval: 5 * time.Millisecond})
		env.SetHeartbeatDetails(heartbeat)
		var a *activities.Rollouts
		v, err := env.ExecuteActivity(a.ApplyChangeChunk, in)
		require.NoError(t, err)
		var res activities.ChunkResult
		require.NoError(t, v.Get(&res))
		return res, logs.String()
	}
	// What the earlier attempt finished is taken from its heartbeat, not
	// asked again: the output shows it.
	ids := all[:4]
	old := map[string]any{"Pending": ids[1:], "Done": []map[string]any{{"InstanceID": ids[0], "Succeeded": true, "Output": "from the heartbeat"}}}
	res, logs := run(ids, old)
	require.Equal(t, "from the heartbeat", res.Results[0].Output)
	require.True(t, res.Results[1].Succeeded)
	require.Contains(t, logs, "level=WARN")
	require.Contains(t, logs, "fields this worker does not know")
	require.Contains(t, logs, "Pending")

	ids = all[4:]
	res, logs = run(ids, map[string]any{"Version": 99, "Done": []map[string]any{{"InstanceID": ids[0], "Succeeded": true, "Output": "from the heartbeat"}}})
	require.NotEqual(t, "from the heartbeat", res.Results[0].Output, "a newer shape is not resumed from")
	require.True(t, res.Results[0].Succeeded)
	require.Contains(t, logs, "cannot be resumed from")
	require.Contains(t, logs, "version 99")
	for _, id := range ids {
		require.Equal(t, 1, countPerInstance(sim, "RunCommand")[id], id)
	}
}

// A chunk whose cloud work ends well within the poll interval is noticed
// a few short polls after it ends, not an interval later: the polls after
// the start ramp up to the interval (poll.Rules.Ramp). Here the interval is
// an hour and the cloud's clock moves 1 s per describe call (the script
// takes 2 s): the chunk ends after a few describe calls, where polling
// every interval waits an hour after the first (on the code before the
// ramp this test does not end before the test binary's -timeout).
func TestChunkNoticesQuickWorkBeforeThePollInterval(t *testing.T) {
	clock := cloudsimtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var describes atomic.Int32
	sim := cloudsimtest.Start(t, cloudsimtest.WithNow(clock.Now), cloudsimtest.WithOnRequest(func(l cloudsim.RequestLog) {
		if l.Action == "DescribeInvocationResults" {
			describes.Add(1)
			clock.Advance(time.Second)
		}
	}))
	ids := bigGroup(t, sim, 3)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	activities.Register(env, sim.Client, activities.Options{PollInterval: time.Hour})
	var a *activities.Rollouts
	v, err := env.ExecuteActivity(a.ApplyChangeChunk, activities.ChunkInput{Region: cloudsim.SeedRegion, TaskType: model.TaskScript,
		Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo ok"}, Instances: chunkOf(ids, 1), ClientToken: "quick-chunk"})
	require.NoError(t, err)
	var res activities.ChunkResult
	require.NoError(t, v.Get(&res))
	require.Len(t, res.Results, 3)
	for _, r := range res.Results {
		require.True(t, r.Succeeded, "%s: %s", r.InstanceID, r.Error)
	}
	require.GreaterOrEqual(t, describes.Load(), int32(2), "the first describe call found the script running")
}
