package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// Limits up front, for a rolling update: every input the cloud would refuse
// (a script over Cloud Assistant's 16 KiB, more batches than a group can
// have or than it has) is refused before the group is touched, through the
// temporal CLI, a raw client and the starter (exit 2, with a clear message);
// the cloud's ledger gains nothing.
func TestRolloutRefusedInputsLeaveNothingInTheCloud(t *testing.T) {
	e := newEnv(t, 0.002)
	const group = cloudsim.GroupWeb
	id := model.RolloutWorkflowID(group)
	before := len(e.ledger())
	start := func(spec map[string]any) {
		t.Helper()
		input, err := json.Marshal(spec)
		require.NoError(t, err)
		out, err := e.cli("workflow", "start", "--task-queue", model.TaskQueue, "--type", model.RolloutWorkflowType,
			"--workflow-id", id, "--input", string(input))
		require.NoError(t, err, out)
	}
	spec := func(batches int, script string) map[string]any {
		return map[string]any{"scalingGroupId": group, "regionId": cloudsim.SeedRegion, "taskType": model.TaskScript,
			"script": map[string]any{"type": model.ScriptShell, "script": script}, "batches": batches}
	}

	// 14: batches = 2^63−1, through the temporal CLI.
	start(spec(1<<63-1, "echo hi"))
	requireAppError(t, e.runEnd(id, nil), "InvalidSpec", "batches must be at most 10000")
	require.Contains(t, e.rolloutOf(id).Error, "batches must be at most 10000")
	// More batches than the group has instances: only the cloud knows, and
	// it is asked before the group's task is created.
	start(spec(11, "echo hi"))
	requireAppError(t, e.runEnd(id, nil), activities.ErrTypeRolloutRefused, "11 batches for 10 instances")

	// 13: a 17 KB script, through a raw client and the temporal CLI.
	big := strings.Repeat("echo 0123456789abcdef\n", 17*1024/22+1)
	rawStart(t, e, id, model.RolloutWorkflowType, spec(2, big))
	requireAppError(t, e.runEnd(id, nil), "InvalidSpec", "Cloud Assistant runs scripts of 1 byte to 16 KiB")
	start(spec(2, big))
	requireAppError(t, e.runEnd(id, nil), "InvalidSpec", "Cloud Assistant runs scripts of 1 byte to 16 KiB")
	require.Len(t, e.ledger(), before, "refused attempts leave nothing in the cloud: %v", e.ledger()[before:])

	// Through the starter: exit 2 before anything starts, for 17 KB and for
	// 10 MB (which Temporal itself would refuse with a raw gRPC error).
	for _, size := range []int{len(big), 10 << 20} {
		file := filepath.Join(t.TempDir(), "script.sh")
		require.NoError(t, os.WriteFile(file, []byte(strings.Repeat("#", size-1)+"\n"), 0o600))
		out, code := e.starter("rollout", "start", group, "--type", "script", "--script-file", file, "--batches", "2")
		require.Equal(t, 2, code, out)
		require.Contains(t, out, "Cloud Assistant runs scripts of 1 byte to 16 KiB")
		require.Less(t, len(out), 2048, "the message does not echo the script")
	}
	require.Len(t, e.ledger(), before)
	tasks, err := e.cloudC.DescribeRollingUpdateTasks(t.Context(), &cloud.DescribeRollingUpdateTasksRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group})
	require.NoError(t, err)
	require.Empty(t, tasks.Tasks, "no refused attempt created the group's task")

	// The same task with a script within the limit runs.
	start(spec(2, "echo hi"))
	require.NoError(t, e.runEnd(id, nil))
}

// 12: after batch 1's failures are final (within the threshold), the pause
// on batch 2's failure asks only for decisions that are accepted, and the
// starter's resume refusal says the same.
func TestRolloutPauseNamesOnlyDecisionsThatAreAccepted(t *testing.T) {
	e := newEnv(t, 0.002)
	const group = cloudsim.GroupWeb
	for _, id := range []string{"i-webhz0002", "i-webhz0007"} {
		e.addFault(cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: id, Action: "RunCommand", Count: 1})
	}
	out, code := e.starter("rollout", "start", group, "--type", "script", "--script", "echo v2", "--batches", "2", "--error-threshold", "1", "--watch")
	require.Equal(t, 4, code, out)
	st := e.awaitRollout(group, "paused on failure", func(st model.RolloutState) bool { return st.Status == model.RolloutPausedFailure })
	require.Equal(t, 2, st.CurrentBatch)
	require.Contains(t, st.WaitingFor, "each of i-webhz0007, or raise the threshold to at least 2")
	require.NotContains(t, st.WaitingFor, "i-webhz0002")
	require.Contains(t, out, "each of i-webhz0007")
	require.NotContains(t, out, "i-webhz0002")

	out, code = e.starter("rollout", "resume", group)
	require.Equal(t, 3, code, out)
	require.Contains(t, out, "each of i-webhz0007")
	require.NotContains(t, out, "i-webhz0002")
	out, code = e.starter("rollout", "retry", group, "i-webhz0002")
	require.Equal(t, 3, code, out)
	require.Contains(t, out, "batch 1, which has ended")

	_, code = e.starter("rollout", "skip", group, "i-webhz0007")
	require.Equal(t, 0, code)
	_, code = e.starter("rollout", "resume", group)
	require.Equal(t, 0, code)
	out, code = e.starter("rollout", "status", group, "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, model.RolloutSucceeded)
	e.requireGroupRestored(group, cloudsim.LBWeb, 100, []string{})
}

// rolloutOf is the progress of the latest run of id.
func (e *env) rolloutOf(id string) model.RolloutState {
	e.t.Helper()
	v, err := e.client.QueryWorkflow(e.t.Context(), id, "", model.QueryRollout)
	require.NoError(e.t, err)
	var st model.RolloutState
	require.NoError(e.t, v.Get(&st))
	return st
}

// 19: a cancel through the temporal CLI while an operator's retry runs lets
// the retry end before compensation returns its instance to service (the
// ledger shows the instance back InService only after the retried command
// finished), and the retry's outcome is kept.
func TestRolloutTemporalCancelWaitsForARetry(t *testing.T) {
	e := newEnv(t, 0.05)
	const group, instance = cloudsim.GroupWeb, "i-webhz0002"
	id := model.RolloutWorkflowID(group)
	e.addFault(cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: instance, Action: "RunCommand", Count: 1})
	// Each run of the script takes (2 + 600) s × 0.05 = 30 s.
	out, code := e.starter("rollout", "start", group, "--type", "script", "--script", "sleep 600; echo v2", "--batches", "2", "--watch")
	require.Equal(t, 4, code, out)
	require.Contains(t, out, model.RolloutPausedFailure)
	out, code = e.starter("rollout", "retry", group, instance)
	require.Equal(t, 0, code, out)
	out, err := e.cli("workflow", "cancel", "--workflow-id", id)
	require.NoError(t, err, out)
	require.True(t, temporal.IsCanceledError(e.runEnd(id, nil)))

	// The retry's command ran to its end before the instance returned.
	var commands, back []cloud.LedgerEntry
	for _, en := range e.ledger() {
		switch {
		case en.ResourceId != instance:
		case en.Action == "RunCommand":
			commands = append(commands, en)
		case en.Action == "ExitStandby":
			back = append(back, en)
		}
	}
	require.Len(t, commands, 2, "the batch's command and the retry's")
	require.Len(t, back, 1, "the instance returned to service once")
	retryInvoke := strings.Fields(commands[1].Detail)[1] // "command <invoke ID> (…) started, …"
	res, err := e.cloudC.DescribeInvocationResults(t.Context(), &cloud.DescribeInvocationResultsRequest{RegionId: cloudsim.SeedRegion, InvokeId: retryInvoke, InstanceId: instance})
	require.NoError(t, err)
	require.Len(t, res.Invocation.InvocationResults, 1)
	finished := res.Invocation.InvocationResults[0].FinishTime
	require.False(t, back[0].Time.Before(finished), "back in service at %s, while the retried command ran until %s", back[0].Time, finished)

	var in model.InstanceProgress
	for _, p := range e.instances(group, model.InstancesQuery{Batch: 1}) {
		if p.InstanceID == instance {
			in = p
		}
	}
	require.Equal(t, model.InstanceSucceeded, in.State, "the retry's outcome is kept")
	require.Equal(t, 2, in.Attempts)
	e.requireGroupRestored(group, cloudsim.LBWeb, 100, []string{})
	recordHistory(t, e.client, id, "rollout_cancel_during_retry.json")
}

// 18: while a batch goes back into service (its ExitStandby throttled for as
// long as the fault stays), a retry of its failed instance is refused, from
// the starter (exit 3) and as a signal through the temporal CLI (kept as
// lastRefusal); the change never runs on the instance again.
func TestRolloutClosingBatchRefusesARetry(t *testing.T) {
	e := newEnv(t, 0.002)
	const group, instance = cloudsim.GroupWeb, "i-webhz0002"
	id := model.RolloutWorkflowID(group)
	e.addFault(cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: instance, Action: "RunCommand", Count: 1})
	throttle, err := e.cloudC.Admin().AddFault(t.Context(), cloud.Fault{Kind: cloud.FaultThrottle, Action: "ExitStandby", RetryAfter: time.Second})
	require.NoError(t, err)
	out, code := e.starter("rollout", "start", group, "--type", "script", "--script", "echo v2", "--batches", "2", "--error-threshold", "1")
	require.Equal(t, 0, code, out)
	e.awaitRollout(group, "batch 1's changes ended", func(st model.RolloutState) bool {
		return len(st.Batches) == 2 && st.Batches[0].Failed == 1 && st.Batches[0].Succeeded == 4
	})

	out, code = e.starter("rollout", "retry", group, instance)
	require.Equal(t, 3, code, out)
	require.Contains(t, out, "i-webhz0002 failed in batch 1, which is going back into service: its failure is final")
	out, err = e.cli("workflow", "signal", "--workflow-id", id, "--name", model.CommandRetry, "--input", `{"instanceId":"i-webhz0002"}`)
	require.NoError(t, err, out)
	e.awaitRollout(group, "the signal refused", func(st model.RolloutState) bool {
		return strings.Contains(st.LastRefusal, "going back into service")
	})

	require.NoError(t, e.cloudC.Admin().RemoveFault(t.Context(), throttle.ID))
	var st model.RolloutState
	require.NoError(t, e.runEnd(id, &st))
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Len(t, countEntriesAll(e.ledger(), "RunCommand"), 10, "one command per instance: the retry never ran")
	for _, p := range e.instances(group, model.InstancesQuery{Batch: 1}) {
		if p.InstanceID == instance {
			require.Equal(t, model.InstanceFailed, p.State)
			require.Equal(t, 1, p.Attempts)
		}
	}
	e.requireGroupRestored(group, cloudsim.LBWeb, 100, []string{})
}
