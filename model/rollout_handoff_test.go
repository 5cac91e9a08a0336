package model

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fleet is a task's instances at fleet size before batch next (0-based):
// n instances in batches of n/batches, those of ended batches changed with
// outputs from out(i), one in ten failed after a retry.
func fleet(n, batches, next int, out func(i int) string) []InstanceProgress {
	insts := make([]InstanceProgress, n)
	for i := range insts {
		insts[i] = InstanceProgress{InstanceID: fmt.Sprintf("i-fleet%06d", i), Batch: i/(n/batches) + 1, State: InstancePending}
		if insts[i].Batch > next {
			continue
		}
		insts[i].State, insts[i].Attempts, insts[i].Output, insts[i].Ref = InstanceSucceeded, 1, out(i), fmt.Sprintf("t-%016x", rand.Uint64())
		if i%10 == 0 {
			insts[i].State, insts[i].Attempts, insts[i].ExitCode, insts[i].Error = InstanceFailed, 2, 1, "the script exited with 1"
		}
	}
	return insts
}

// continuationSpec is the input of a run that continues a 10,000-instance
// task, with its record.
func continuationSpec(t *testing.T, insts []InstanceProgress, next int) ([]byte, int) {
	t.Helper()
	start := time.Now()
	record, dropped, err := EncodeInstanceRecord(insts, next, MaxInstanceRecord)
	require.NoError(t, err)
	t.Logf("%d instances: record %d bytes in %v, %d outputs dropped", len(insts), len(record), time.Since(start), dropped)
	require.LessOrEqual(t, len(record), MaxInstanceRecord)
	batches := make([]BatchProgress, 100)
	for i := range batches {
		batches[i] = BatchProgress{Index: i + 1, Size: 100, State: BatchDone, Succeeded: 90, Failed: 10}
	}
	spec := RolloutSpec{ScalingGroupID: "asg-fleet", RegionID: "cn-hangzhou", TaskType: TaskScript, Batches: 100,
		Script: &ScriptChange{Type: ScriptShell, Script: strings.Repeat("x", 16<<10)},
		Handoff: &RolloutHandoff{FromRunID: "r1", TaskID: "rut-1", Suspended: []string{"ScaleIn"}, SuspendedBefore: []string{},
			Continuation: &RolloutContinuation{TokenKey: "k", NextBatch: next, Batches: batches, PausePolicy: PauseNone,
				StartedAt: time.Now(), Instances: record, OutputsDropped: dropped}}}
	require.NoError(t, spec.Validate())
	payload, err := json.Marshal(spec)
	require.NoError(t, err)
	t.Logf("the next run's input: %d bytes", len(payload))
	return payload, dropped
}

// TestInstanceRecordAtFleetSize (issue 18, item 20): the record a task of
// 10,000 instances carries to its next run keeps the next run's input
// under 512 KB; the outcomes come back the same, and only when the outputs
// cannot fit are the outputs of ended batches dropped.
func TestInstanceRecordAtFleetSize(t *testing.T) {
	same := fleet(10000, 100, 99, func(int) string { return "start\ndone\n" })
	payload, dropped := continuationSpec(t, same, 99)
	require.Zero(t, dropped)
	require.Less(t, len(payload), 512<<10)
	var spec RolloutSpec
	require.NoError(t, json.Unmarshal(payload, &spec))
	back, err := DecodeInstanceRecord(spec.Handoff.Continuation.Instances)
	require.NoError(t, err)
	require.Equal(t, same, back)

	// 256 bytes of output each that do not compress: the outputs of ended
	// batches give way, succeeded instances first.
	unique := fleet(10000, 100, 99, func(i int) string {
		b := make([]byte, MaxKeptOutput)
		for j := range b {
			b[j] = byte('!' + rand.IntN(90))
		}
		return string(b)
	})
	payload, dropped = continuationSpec(t, unique, 99)
	require.Positive(t, dropped)
	require.Less(t, len(payload), 512<<10)
	require.NoError(t, json.Unmarshal(payload, &spec))
	back, err = DecodeInstanceRecord(spec.Handoff.Continuation.Instances)
	require.NoError(t, err)
	require.Len(t, back, 10000)
	for i, in := range back {
		if in.Batch > 99 {
			require.Equal(t, unique[i], in, "the batches still to come are whole")
		}
		require.Equal(t, unique[i].State, in.State)
		require.Equal(t, unique[i].Attempts, in.Attempts)
		require.Equal(t, unique[i].ExitCode, in.ExitCode)
	}
}

func TestRollbackAgainSpec(t *testing.T) {
	orig := RolloutSpec{ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: TaskImage, Batches: 3,
		Image: &ImageChange{ImageID: "m-webapp-v2", RollbackImageID: "m-webapp-v1"}, Description: "webapp v2"}
	ref := RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "r1"}
	rb, err := RollbackSpec(orig, ref, []string{"i-01", "i-02", "i-03", "i-04"}, RollbackCommand{Batches: 2})
	require.NoError(t, err)
	rb.Handoff = &RolloutHandoff{FromRunID: "r1", TaskID: "rut-1"}

	again, err := RollbackAgainSpec(rb, []string{"i-03", "i-04"}, RollbackCommand{})
	require.NoError(t, err)
	require.Equal(t, []string{"i-03", "i-04"}, again.Instances)
	require.Equal(t, &ref, again.RollbackOf, "still the rollback of the same task")
	require.Equal(t, "m-webapp-v1", again.Image.ImageID)
	require.Equal(t, 2, again.Batches)
	require.Nil(t, again.Handoff, "a new task: nothing is handed over")

	again, err = RollbackAgainSpec(rb, []string{"i-04"}, RollbackCommand{ImageID: "m-webapp-v0", PausePolicy: PauseEachBatch})
	require.NoError(t, err)
	require.Equal(t, "m-webapp-v0", again.Image.ImageID)
	require.Equal(t, 1, again.Batches, "at most one batch per instance")
	require.Equal(t, PauseEachBatch, again.PausePolicy)

	_, err = RollbackAgainSpec(rb, nil, RollbackCommand{})
	require.ErrorContains(t, err, "no instance to roll back")
	_, err = RollbackAgainSpec(orig, []string{"i-01"}, RollbackCommand{})
	require.ErrorContains(t, err, "not a rollback")
}

func TestRolloutSpecHandoffAndRunEvents(t *testing.T) {
	spec := RolloutSpec{ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: TaskImage, Batches: 3,
		Image: &ImageChange{ImageID: "m-webapp-v2"}}
	require.NoError(t, spec.Validate())
	for _, n := range []int{-1, MaxRunEvents + 1} {
		s := spec
		s.RunEvents = n
		require.ErrorContains(t, s.Validate(), "runEvents must be 0")
	}
	s := spec
	s.Handoff = &RolloutHandoff{FromRunID: "r1", TaskID: "rut-1"}
	require.ErrorContains(t, s.Validate(), "goes to a rollback or continues the task", "a forward task is handed over only to continue")
	s.Handoff = &RolloutHandoff{TaskID: "rut-1", Continuation: &RolloutContinuation{TokenKey: "k", NextBatch: 1, Batches: make([]BatchProgress, 3), Instances: []byte{1}}}
	require.ErrorContains(t, s.Validate(), "handoff.fromRunId")
	s.Handoff.FromRunID = "r1"
	require.NoError(t, s.Validate())
	s.Handoff.Continuation.NextBatch = 3
	require.ErrorContains(t, s.Validate(), "next batch after the first and before the end")
}
