package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/histstat"
	"github.com/imagefleet/imagefleet/model"
)

// holdActions are the calls that take or release a scaling group.
var holdActions = []string{"CreateRollingUpdateTask", "FinishRollingUpdateTask", "SuspendProcesses", "ResumeProcesses"}

// holdsSince lists the ledger's entries that take or release the group
// after entry seq.
func (e *env) holdsSince(seq int64) []string {
	var out []string
	for _, en := range e.ledger() {
		if en.Seq > seq && slices.Contains(holdActions, en.Action) {
			out = append(out, en.Action)
		}
	}
	return out
}

func (e *env) lastSeq() int64 {
	entries := e.ledger()
	if len(entries) == 0 {
		return 0
	}
	return entries[len(entries)-1].Seq
}

// TestRolloutRollbackKeepsTheGroup (issue 18, item 1): the rollback of a
// paused task takes the group over without letting go of it. The cloud's
// ledger shows no rolling update task finished or created and no process
// resumed or suspended between the two runs, and another client trying to
// create a rolling update task on the group all along is refused every
// time. The rollback, cancelled half way, is finished by `starter rollout
// rollback` again, on the instances it had not rolled back.
func TestRolloutRollbackKeepsTheGroup(t *testing.T) {
	e := newEnv(t, 0.002)
	const group = cloudsim.GroupWeb
	out, code := e.starter("rollout", "start", group, "--type", "image", "--image", cloudsim.ImageWebappV2, "--rollback-image", cloudsim.ImageWebappV1,
		"--batches", "3", "--pause-policy", model.PauseFirstBatch, "--watch")
	require.Equal(t, 4, code, out)
	desc, err := e.client.DescribeWorkflowExecution(t.Context(), model.RolloutWorkflowID(group), "")
	require.NoError(t, err)
	pausedRun := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	before := e.lastSeq()

	// Another client tries to take the group, again and again, from before
	// the rollback is asked until the rollback has paused after its first
	// batch.
	ctx, stop := context.WithCancel(t.Context())
	var (
		wg        sync.WaitGroup
		tries     int
		transient int
		taken     []string
		refusals  = map[string]int{}
	)
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			resp, err := e.cloudC.CreateRollingUpdateTask(ctx, &cloud.CreateRollingUpdateTaskRequest{
				RegionId: cloudsim.SeedRegion, ScalingGroupId: group, Description: "another client", ClientToken: fmt.Sprintf("other-%d", i)})
			var apiErr *cloud.APIError
			switch {
			case err == nil:
				taken = append(taken, resp.TaskId)
			case errors.As(err, &apiErr) && apiErr.Retryable():
				// A busy cloud (503, throttling) took nothing: not a refusal
				// the promise is about.
				transient++
			case errors.As(err, &apiErr):
				refusals[apiErr.Code]++
			case ctx.Err() == nil:
				refusals[err.Error()]++
			}
			tries++
			time.Sleep(5 * time.Millisecond)
		}
	})
	out, code = e.starter("rollout", "rollback", group, "--batches", "2", "--pause-policy", model.PauseEachBatch, "--watch", "--exit-on-pause")
	stop()
	wg.Wait()
	require.Equal(t, 4, code, out)
	st, err := e.rollout(group)
	require.NoError(t, err)
	require.NotNil(t, st.RollbackOf)
	require.Equal(t, pausedRun, st.RollbackOf.RunID)
	require.Equal(t, model.RolloutPausedBatch, st.Status)
	require.Empty(t, taken, "another client took the group during the hand-off")
	require.Positive(t, tries)
	require.Equal(t, map[string]int{cloud.CodeRollingUpdateRunning: tries - transient}, refusals)
	require.Greater(t, tries-transient, transient, "most tries reached the lock")
	require.Empty(t, e.holdsSince(before), "nothing took or released the group between the task and its rollback")
	if os.Getenv("IMAGEFLEET_RECORD_HISTORY") != "" {
		require.NoError(t, writeHistory(t.Context(), e.client, model.RolloutWorkflowID(group), pausedRun, "../workflows/testdata/rollout_chunked_rollback_handoff.json"))
	}
	tasks, err := e.cloudC.DescribeRollingUpdateTasks(t.Context(), &cloud.DescribeRollingUpdateTasksRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group})
	require.NoError(t, err)
	running := 0
	for _, task := range tasks.Tasks {
		if task.Status == "Running" {
			running++
		}
	}
	require.Equal(t, 1, running, "the task the rollback adopted")

	// Cancelled after its first batch (2 of the 4 changed instances), the
	// rollback releases the group once.
	_, code = e.starter("rollout", "cancel", group, "--reason", "look first")
	require.Equal(t, 0, code)
	out, code = e.starter("rollout", "status", group, "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Cancelled")
	require.Contains(t, out, "The rollback did not finish: starter rollout rollback asg-web-hz rolls back the 2 instance(s) left")
	require.ElementsMatch(t, []string{"ResumeProcesses", "FinishRollingUpdateTask"}, e.holdsSince(before))
	e.requireGroupRestored(group, cloudsim.LBWeb, 100, []string{})
	cancelledRun, err := e.client.DescribeWorkflowExecution(t.Context(), model.RolloutWorkflowID(group), "")
	require.NoError(t, err)
	if os.Getenv("IMAGEFLEET_RECORD_HISTORY") != "" {
		require.NoError(t, writeHistory(t.Context(), e.client, model.RolloutWorkflowID(group), cancelledRun.GetWorkflowExecutionInfo().GetExecution().GetRunId(),
			"../workflows/testdata/rollout_chunked_rollback_adopted.json"))
	}
	images := e.imagesOf(webInstances()[:4]...)
	require.Equal(t, 2, countValues(images, cloudsim.ImageWebappV1), "%v", images)

	// Not a dead end: rollback again finishes it, on the two left.
	out, code = e.starter("rollout", "rollback", group, "--watch")
	require.Equal(t, 0, code, out)
	st, err = e.rollout(group)
	require.NoError(t, err)
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Equal(t, pausedRun, st.RollbackOf.RunID, "still the rollback of the paused task")
	require.Equal(t, 2, st.Counts.Total)
	for id, img := range e.imagesOf(webInstances()[:4]...) {
		require.Equal(t, cloudsim.ImageWebappV1, img, id)
	}
	for id, img := range e.imagesOf(webInstances()[4:]...) {
		require.Equal(t, cloudsim.ImageWebappV1, img, id, "never changed")
	}
	out, code = e.starter("rollout", "rollback", group)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "a rollback cannot itself be rolled back")
	e.requireGroupRestored(group, cloudsim.LBWeb, 100, []string{})
	perInstance := countResources(e.ledger(), "ReplaceSystemDisk")
	require.Len(t, perInstance, 4)
	for id, n := range perInstance {
		require.Equal(t, 2, n, "%s: forward once, back once", id)
	}
}

func countValues(m map[string]string, v string) int {
	n := 0
	for _, x := range m {
		if x == v {
			n++
		}
	}
	return n
}

// TestRolloutContinuesAsNewWithItsGroup (issue 18, item 20): a task whose
// runEvents makes every batch boundary a new run goes on through its runs
// on a real server: one rolling update task created and finished, the
// processes suspended and resumed once, each instance changed once (the
// failed one retried by the operator in the middle run), and the last run's
// queries list every instance with its outcome.
func TestRolloutContinuesAsNewWithItsGroup(t *testing.T) {
	e := newEnv(t, 0.002)
	const group, size, batches = "asg-long", 12, 4
	e.addGroup(group, size)
	ids := make([]string, 0, size)
	resp, err := e.cloudC.DescribeScalingInstances(t.Context(), &cloud.DescribeScalingInstancesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group, PageSize: 100})
	require.NoError(t, err)
	for _, in := range resp.ScalingInstances {
		ids = append(ids, in.InstanceId)
	}
	require.Len(t, ids, size)
	before := e.lastSeq()
	// Batch 3's first instance fails once: the task pauses in its third run.
	failing := ids[6]
	e.addFault(cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: failing, Action: "RunCommand", Count: 1})
	run := e.startRollout(model.RolloutSpec{ScalingGroupID: group, RegionID: cloudsim.SeedRegion, TaskType: model.TaskScript, Batches: batches,
		RunEvents: 1, Description: "continues at every batch boundary",
		Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo done"}})
	firstRun := run.GetRunID() // Get follows the runs, and so does GetRunID after it
	st := e.awaitRollout(group, "paused on the failure in batch 3", func(st model.RolloutState) bool { return st.Status == model.RolloutPausedFailure })
	require.Equal(t, 3, st.CurrentBatch)
	require.Equal(t, 8, st.Counts.Succeeded, "the outcomes of the earlier runs and of the batch")
	out, code := e.starter("rollout", "retry", group, failing)
	require.Equal(t, 0, code, out)
	e.awaitRollout(group, "retried", func(model.RolloutState) bool { return e.instanceState(group, failing) == model.InstanceSucceeded })
	out, code = e.starter("rollout", "resume", group)
	require.Equal(t, 0, code, out)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	require.NoError(t, run.Get(ctx, &st), "Get follows the task's runs")
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Equal(t, size, st.Counts.Succeeded)

	chain, err := histstat.MeasureChain(t.Context(), e.client, run.GetID(), firstRun)
	require.NoError(t, err)
	require.Len(t, chain, batches, "a run per batch")
	if os.Getenv("IMAGEFLEET_RECORD_HISTORY") != "" {
		// The third run: adopted the group, paused, retried, handed it on.
		require.NoError(t, writeHistory(t.Context(), e.client, run.GetID(), chain[1].ContinuedAs, "../workflows/testdata/rollout_chunked_continued.json"))
	}
	all := e.instances(group, model.InstancesQuery{})
	require.Len(t, all, size)
	for _, in := range all {
		require.Equal(t, model.InstanceSucceeded, in.State, in.InstanceID)
		require.Equal(t, "done\n", in.Output, in.InstanceID)
		want := 1
		if in.InstanceID == failing {
			want = 2
		}
		require.Equal(t, want, in.Attempts, in.InstanceID)
	}
	holds := e.holdsSince(before)
	slices.Sort(holds)
	require.Equal(t, []string{"CreateRollingUpdateTask", "FinishRollingUpdateTask", "ResumeProcesses", "SuspendProcesses"}, holds, "held once across the runs")
	perInstance := countResources(e.ledger(), "RunCommand")
	require.Len(t, perInstance, size)
	e.requireGroupRestored(group, "lb-long", 100, []string{})
}
