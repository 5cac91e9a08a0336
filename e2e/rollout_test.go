package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/histstat"
	"github.com/imagefleet/imagefleet/model"
)

// rollout queries the group's task.
func (e *env) rollout(group string) (model.RolloutState, error) {
	v, err := e.client.QueryWorkflow(e.t.Context(), model.RolloutWorkflowID(group), "", model.QueryRollout)
	if err != nil {
		return model.RolloutState{}, err
	}
	var st model.RolloutState
	return st, v.Get(&st)
}

// instances pages through the instances of the group's task matching q.
func (e *env) instances(group string, q model.InstancesQuery) []model.InstanceProgress {
	e.t.Helper()
	q.PageSize = model.MaxInstancePage
	var all []model.InstanceProgress
	for {
		v, err := e.client.QueryWorkflow(e.t.Context(), model.RolloutWorkflowID(group), "", model.QueryRolloutInstances, q)
		require.NoError(e.t, err)
		var page model.InstancePage
		require.NoError(e.t, v.Get(&page))
		all = append(all, page.Instances...)
		if page.NextPageToken == "" {
			return all
		}
		q.PageToken = page.NextPageToken
	}
}

// instanceState is one instance's state in the group's task ("" if the
// query fails).
func (e *env) instanceState(group, id string) string {
	for _, in := range e.instances(group, model.InstancesQuery{}) {
		if in.InstanceID == id {
			return in.State
		}
	}
	return ""
}

// awaitRollout waits until the group's task satisfies cond.
func (e *env) awaitRollout(group, what string, cond func(model.RolloutState) bool) model.RolloutState {
	e.t.Helper()
	var last model.RolloutState
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		st, err := e.rollout(group)
		if !assert.NoError(c, err) {
			return
		}
		last = st
		assert.True(c, cond(st), "%s: task is %s, batch %d", what, st.Status, st.CurrentBatch)
	}, 2*time.Minute, 200*time.Millisecond)
	return last
}

// requireGroupRestored checks that no instance of the group is in Standby,
// every load-balancer weight is back to want, and exactly the processes in
// suspended are suspended.
func (e *env) requireGroupRestored(group, lb string, want int, suspended []string) {
	e.t.Helper()
	ctx := e.t.Context()
	g, err := e.cloudC.DescribeScalingGroups(ctx, &cloud.DescribeScalingGroupsRequest{RegionId: cloudsim.SeedRegion, ScalingGroupIds: []string{group}})
	require.NoError(e.t, err)
	require.Zero(e.t, g.ScalingGroups[0].StandbyCapacity, "instances left in Standby")
	require.ElementsMatch(e.t, suspended, g.ScalingGroups[0].SuspendedProcesses)
	attr, err := e.cloudC.DescribeLoadBalancerAttribute(ctx, &cloud.DescribeLoadBalancerAttributeRequest{RegionId: cloudsim.SeedRegion, LoadBalancerId: lb})
	require.NoError(e.t, err)
	for _, b := range attr.BackendServers {
		require.Equal(e.t, want, b.Weight, b.ServerId)
	}
}

func (e *env) imagesOf(ids ...string) map[string]string {
	e.t.Helper()
	resp, err := e.cloudC.DescribeInstances(e.t.Context(), &cloud.DescribeInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: ids})
	require.NoError(e.t, err)
	out := map[string]string{}
	for _, in := range resp.Instances {
		out[in.InstanceId] = in.ImageId
	}
	return out
}

// countResources counts the ledger entries of action per resource.
func countResources(entries []cloud.LedgerEntry, action string) map[string]int {
	return countBy(entries, action, func(en cloud.LedgerEntry) string { return en.ResourceId })
}

func webInstances() []string {
	var ids []string
	for i := 1; i <= 10; i++ {
		ids = append(ids, fmt.Sprintf("i-webhz%04d", i))
	}
	return ids
}

func TestRolloutPauseFailRetryRollbackWithStarter(t *testing.T) {
	e := newEnv(t, 0.002)
	ctx := t.Context()
	const group = cloudsim.GroupWeb
	e.addFault(cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: "i-webhz0006", Action: "ReplaceSystemDisk", Count: 1})

	// Refusals before anything starts.
	out, code := e.starter("rollout", "start", cloudsim.GroupBusy, "--type", "image", "--image", cloudsim.ImageWebappV2, "--batches", "2")
	require.Equal(t, 2, code)
	require.Contains(t, out, "scaling activity in progress")
	out, code = e.starter("rollout", "start", group, "--type", "image", "--image", "m-not-here", "--batches", "2")
	require.Equal(t, 2, code)
	require.Contains(t, out, "does not exist in cn-hangzhou")
	out, code = e.starter("rollout", "start", group, "--type", "image", "--image", cloudsim.ImageWebappV2, "--batches", "11")
	require.Equal(t, 2, code)
	require.Contains(t, out, "11 batches for 10 instances")

	// Paused after the first batch (4 of 10).
	out, code = e.starter("rollout", "start", group, "--type", "image", "--image", cloudsim.ImageWebappV2, "--rollback-image", cloudsim.ImageWebappV1,
		"--batches", "3", "--pause-policy", model.PauseFirstBatch, "--description", "webapp v2", "--watch")
	require.Equal(t, 4, code, out)
	require.Contains(t, out, "Paused (batch)")
	out, code = e.starter("rollout", "start", group, "--type", "script", "--script", "echo hi", "--batches", "2")
	require.Equal(t, 2, code)
	require.Contains(t, out, "a rolling update is already running on asg-web-hz: workflow rollout/asg-web-hz run")
	out, code = e.starter("rollout", "status", group)
	require.Equal(t, 0, code)
	require.Regexp(t, `i-webhz0001 +1 +Success`, out)
	require.Regexp(t, `i-webhz0005 +2 +Pending`, out)
	// The generic status command shows the same, by workflow ID.
	out, code = e.starter("status", model.RolloutWorkflowID(group))
	require.Equal(t, 0, code)
	require.Regexp(t, `i-webhz0005 +2 +Pending`, out)

	// Resumed: the second batch fails on i-webhz0006 and pauses on failure.
	_, code = e.starter("rollout", "resume", group)
	require.Equal(t, 0, code)
	out, code = e.starter("rollout", "status", group, "--watch")
	require.Equal(t, 4, code, out)
	require.Contains(t, out, "Paused (failure)")
	out, code = e.starter("rollout", "skip", group, "i-webhz0005")
	require.Equal(t, 3, code, "a decision for an instance that did not fail is refused")
	require.Contains(t, out, "applies only to a failed instance")
	events, err := e.cloudC.Admin().Events(ctx, model.EventImageFailed, group)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, "i-webhz0006", events[0].InstanceId)

	_, code = e.starter("rollout", "retry", group, "i-webhz0006")
	require.Equal(t, 0, code)
	e.awaitRollout(group, "retried instance succeeded", func(model.RolloutState) bool {
		return e.instanceState(group, "i-webhz0006") == model.InstanceSucceeded
	})
	_, code = e.starter("rollout", "resume", group)
	require.Equal(t, 0, code)
	out, code = e.starter("rollout", "status", group, "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Succeeded")
	images := e.imagesOf(webInstances()...)
	require.Len(t, images, 10)
	for id, img := range images {
		require.Equal(t, cloudsim.ImageWebappV2, img, id)
	}
	e.requireGroupRestored(group, cloudsim.LBWeb, 100, []string{})
	recordHistory(t, e.client, model.RolloutWorkflowID(group), "rollout_chunked_pause_fail_retry.json")

	// Roll the finished task back, as a new task linked to it.
	out, code = e.starter("rollout", "rollback", group, "--batches", "2", "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Rollback of rollout/asg-web-hz run")
	images = e.imagesOf(webInstances()...)
	require.Len(t, images, 10)
	for id, img := range images {
		require.Equal(t, cloudsim.ImageWebappV1, img, id)
	}
	out, code = e.starter("rollout", "rollback", group)
	require.Equal(t, 2, code)
	require.Contains(t, out, "a rollback cannot itself be rolled back")
	e.requireGroupRestored(group, cloudsim.LBWeb, 100, []string{})
	// Every instance's disk was replaced exactly once forward (plus the
	// retry of the faulted one, whose first call changed nothing) and once back.
	perInstance := countResources(e.ledger(), "ReplaceSystemDisk")
	require.Len(t, perInstance, 10)
	for id, n := range perInstance {
		require.Equal(t, 2, n, id)
	}
}

func TestRolloutSurvivesWorkerCrash(t *testing.T) {
	e := newEnv(t, 0.1)
	const group = cloudsim.GroupWin // HealthCheck is suspended before the task
	out, code := e.starter("rollout", "start", group, "--type", "script", "--script-type", model.ScriptPowerShell,
		"--script", "Write-Output start\nStart-Sleep 40\nWrite-Output done", "--batches", "2")
	require.Equal(t, 0, code, out)
	// Killed while the first batch's commands run (they take 4 s).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, countResources(e.ledger(), "RunCommand"), 2)
	}, time.Minute, 50*time.Millisecond)
	killWorkers(t, e.stack)
	e.startWorker()
	out, code = e.starter("rollout", "status", group, "--watch")
	require.Equal(t, 0, code, out)
	st, err := e.rollout(group)
	require.NoError(t, err)
	require.Equal(t, model.RolloutSucceeded, st.Status)
	for _, in := range e.instances(group, model.InstancesQuery{}) {
		require.Equal(t, model.InstanceSucceeded, in.State, in.InstanceID)
		require.Equal(t, "start\ndone\n", in.Output)
	}
	perInstance := countResources(e.ledger(), "RunCommand")
	require.Equal(t, map[string]int{"i-winhz0001": 1, "i-winhz0002": 1, "i-winhz0003": 1, "i-winhz0004": 1}, perInstance, "each instance changed exactly once")
	e.requireGroupRestored(group, cloudsim.LBWin, 50, []string{cloud.ProcessHealthCheck})
	require.Greater(t, maxActivityAttempt(t, e, model.RolloutWorkflowID(group)), 1, "the crash hit the first batch's changes")
	recordHistory(t, e.client, model.RolloutWorkflowID(group), "rollout_chunked_worker_crash.json")
}

// maxActivityAttempt is the highest attempt of any activity of the
// workflow's latest run (the chunks of its batches run there).
func maxActivityAttempt(t *testing.T, e *env, id string) int {
	t.Helper()
	attempt := 0
	iter := e.client.GetWorkflowHistory(t.Context(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			attempt = max(attempt, int(a.GetAttempt()))
		}
	}
	return attempt
}

// addGroup creates a scaling group of size instances behind its own load
// balancer through the cloud's admin API.
func (e *env) addGroup(id string, size int) {
	e.t.Helper()
	body, _ := json.Marshal(cloudsim.ScalingGroupSpec{ScalingGroupId: id, RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, Size: size, LoadBalancerId: "lb-" + strings.TrimPrefix(id, "asg-")})
	resp, err := http.Post(e.stack.CloudEndpoint()+"/admin/scaling-groups", "application/json", bytes.NewReader(body))
	require.NoError(e.t, err)
	resp.Body.Close()
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
}

// startRollout starts a task through the Temporal client, as any client can.
func (e *env) startRollout(spec model.RolloutSpec) client.WorkflowRun {
	e.t.Helper()
	run, err := e.client.ExecuteWorkflow(e.t.Context(), client.StartWorkflowOptions{ID: model.RolloutWorkflowID(spec.ScalingGroupID), TaskQueue: model.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(model.SAOperation.ValueSet(model.OperationRollout))}, model.RolloutWorkflowType, spec)
	require.NoError(e.t, err)
	return run
}

// TestRolloutSurvivesWorkerCrashAtFleetSize kills the worker while the first
// batch of a 2,000-instance group runs its commands: after a new worker
// resumes the chunks from their heartbeats, the ledger shows every instance
// changed exactly once (IMAGEFLEET_E2E_BIG=1: 10,000 instances).
func TestRolloutSurvivesWorkerCrashAtFleetSize(t *testing.T) {
	size := 2000
	if os.Getenv("IMAGEFLEET_E2E_BIG") != "" {
		size = 10000
	}
	e := newEnv(t, 0.01)
	const group = "asg-crash"
	e.addGroup(group, size)
	// A run takes (2 s + 300 s) × 0.01: the worker dies while they run.
	spec := model.RolloutSpec{ScalingGroupID: group, RegionID: cloudsim.SeedRegion, TaskType: model.TaskScript, Batches: 2,
		Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo start\nsleep 300\necho done"}}
	run := e.startRollout(spec)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.NotEmpty(c, countResources(e.ledger(), "RunCommand"))
	}, 2*time.Minute, 100*time.Millisecond)
	killWorkers(t, e.stack)
	require.Less(t, len(countResources(e.ledger(), "RunCommand")), size, "killed mid-task")
	e.startWorker()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	var st model.RolloutState
	require.NoError(t, run.Get(ctx, &st))
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Equal(t, size, st.Counts.Succeeded)
	perInstance := countResources(e.ledger(), "RunCommand")
	require.Len(t, perInstance, size)
	for id, n := range perInstance {
		require.Equal(t, 1, n, "%s changed more than once", id)
	}
	e.requireGroupRestored(group, "lb-crash", 100, []string{})
	require.Greater(t, maxActivityAttempt(t, e, model.RolloutWorkflowID(group)), 1, "the crash hit the batch's chunks")
	for _, in := range e.instances(group, model.InstancesQuery{Batch: 1}) {
		require.Equal(t, "start\ndone\n", in.Output, in.InstanceID)
	}
}

// TestRolloutHistoryAtFleetSize measures the history of 10,000-instance tasks
// in 20 batches and in 5 batches of 2,000: events and the largest payload
// stay below Temporal's limits. It is slow, so it runs only with
// IMAGEFLEET_E2E_BIG=1 (go tool task e2e-big).
func TestRolloutHistoryAtFleetSize(t *testing.T) {
	if os.Getenv("IMAGEFLEET_E2E_BIG") == "" {
		t.Skip("set IMAGEFLEET_E2E_BIG=1 to run the 10,000-instance history measurement")
	}
	e := newEnv(t, 0.0001)
	for _, batches := range []int{20, 5} {
		group := fmt.Sprintf("asg-fleet%d", batches)
		e.addGroup(group, 10000)
		// Every instance keeps 256 bytes of output.
		script := "echo " + strings.Repeat("x", model.MaxKeptOutput)
		run := e.startRollout(model.RolloutSpec{ScalingGroupID: group, RegionID: cloudsim.SeedRegion, TaskType: model.TaskScript, Batches: batches,
			Script: &model.ScriptChange{Type: model.ScriptShell, Script: script}})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
		var st model.RolloutState
		require.NoError(t, run.Get(ctx, &st))
		cancel()
		require.Equal(t, model.RolloutSucceeded, st.Status)
		require.Equal(t, 10000, st.Counts.Succeeded)
		stats, err := histstat.Measure(t.Context(), e.client, run.GetID(), run.GetRunID())
		require.NoError(t, err)
		t.Logf("10,000 instances in %d batches: %d events, largest payload %d bytes", batches, stats.Events, stats.LargestPayload)
		fmt.Fprintf(os.Stderr, "HISTORY batches=%d events=%d largest-payload=%d\n", batches, stats.Events, stats.LargestPayload)
		require.LessOrEqual(t, stats.Events, 10240)
		require.LessOrEqual(t, stats.LargestPayload, 512<<10)
	}
}

func TestRolloutRollbackOfPausedTaskAndCancelWithStarter(t *testing.T) {
	e := newEnv(t, 0.002)
	const group = cloudsim.GroupWeb

	// A package install paused after its first batch (2 of 10) is rolled
	// back: it continues as its rollback, which installs the earlier version
	// on those two instances only.
	out, code := e.starter("rollout", "start", group, "--type", "package", "--package", "webapp-agent", "--version", "1.1.0",
		"--rollback-version", "1.0.0", "--batches", "5", "--pause-policy", model.PauseEachBatch, "--watch")
	require.Equal(t, 4, code, out)
	desc, err := e.client.DescribeWorkflowExecution(t.Context(), model.RolloutWorkflowID(group), "")
	require.NoError(t, err)
	pausedRun := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	out, code = e.starter("rollout", "rollback", group, "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Rollback of rollout/asg-web-hz run")
	st, err := e.rollout(group)
	require.NoError(t, err)
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.NotNil(t, st.RollbackOf)
	require.Equal(t, pausedRun, st.RollbackOf.RunID, "the rollback names the run it rolls back")
	if os.Getenv("IMAGEFLEET_RECORD_HISTORY") != "" {
		require.NoError(t, writeHistory(t.Context(), e.client, model.RolloutWorkflowID(group), pausedRun, "../workflows/testdata/rollout_chunked_rollback_paused.json"))
	}
	require.Equal(t, 2, st.Counts.Total)
	var installs []string
	for _, en := range e.ledger() {
		if en.Action == "StartExecution" {
			installs = append(installs, en.ResourceId+" "+strings.Fields(en.Detail)[4])
		}
	}
	require.Len(t, installs, 4)
	require.ElementsMatch(t, []string{"i-webhz0001 1.1.0", "i-webhz0002 1.1.0"}, installs[:2])
	require.ElementsMatch(t, []string{"i-webhz0001 1.0.0", "i-webhz0002 1.0.0"}, installs[2:], "rolled back after")
	out, code = e.starter("rollout", "rollback", group)
	require.Equal(t, 2, code)
	require.Contains(t, out, "a rollback cannot itself be rolled back")
	e.requireGroupRestored(group, cloudsim.LBWeb, 100, []string{})

	// A paused script task is cancelled: no new batch, the group restored.
	out, code = e.starter("rollout", "start", group, "--type", "script", "--script", "echo hi", "--batches", "3", "--pause-policy", model.PauseEachBatch, "--watch")
	require.Equal(t, 4, code, out)
	_, code = e.starter("rollout", "cancel", group, "--reason", "enough")
	require.Equal(t, 0, code)
	out, code = e.starter("rollout", "status", group, "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Cancelled")
	require.Len(t, countResources(e.ledger(), "RunCommand"), 4, "only the first batch ran")
	e.requireGroupRestored(group, cloudsim.LBWeb, 100, []string{})
}
