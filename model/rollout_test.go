package model_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

func scriptSpec(script string) model.RolloutSpec {
	return model.RolloutSpec{ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: model.TaskScript, Batches: 2,
		Script: &model.ScriptChange{Type: model.ScriptShell, Script: script}}
}

// Every limit the cloud applies to a task's inputs is checked by Validate,
// so that the starter, the temporal CLI and any client are refused before
// anything starts.
func TestRolloutSpecMeetsTheCloudsLimits(t *testing.T) {
	require.Equal(t, cloud.MaxCommandContent, model.MaxScriptBytes, "the limit is Cloud Assistant's")
	require.NoError(t, scriptSpec(strings.Repeat("e", model.MaxScriptBytes)).Validate())

	for name, tc := range map[string]struct {
		spec model.RolloutSpec
		want string
	}{
		"17 KB script":  {scriptSpec(strings.Repeat("echo hi\n", 17*1024/8)), "script.script is 17408 bytes: Cloud Assistant runs scripts of 1 byte to 16 KiB"},
		"10 MB script":  {scriptSpec(strings.Repeat("x", 10<<20)), "script.script is 10485760 bytes"},
		"blank script":  {scriptSpec(" \n\t"), "needs script.script"},
		"invalid UTF-8": {scriptSpec("echo \xff"), "not valid UTF-8"},
		"17 KB rollback": {func() model.RolloutSpec {
			s := scriptSpec("echo")
			s.Script.RollbackScript = strings.Repeat("y", 17*1024)
			return s
		}(), "script.rollbackScript is 17408 bytes"},
		"blank rollback": {func() model.RolloutSpec { s := scriptSpec("echo"); s.Script.RollbackScript = "  "; return s }(), "script.rollbackScript holds only blanks"},
		"2^63-1 batches": {func() model.RolloutSpec { s := scriptSpec("echo"); s.Batches = 1<<63 - 1; return s }(), "batches must be at most 10000"},
		"invalid group":  {func() model.RolloutSpec { s := scriptSpec("echo"); s.ScalingGroupID = "asg-\xff\x01"; return s }(), `scaling group ID "asg-\xff\x01" must be`},
		"long group": {func() model.RolloutSpec {
			s := scriptSpec("echo")
			s.ScalingGroupID = "asg-" + strings.Repeat("a", 61)
			return s
		}(), "at most 64 characters"},
		"instance twice":     {rollbackSpec("i-1", "i-2", "i-1"), `instances names "i-1" twice`},
		"empty instance":     {rollbackSpec("i-1", ""), "empty instance ID"},
		"too many instances": {rollbackSpec(make([]string, model.MaxRolloutInstances+1)...), "names 10001 instances"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.spec.Validate()
			require.ErrorContains(t, err, tc.want)
			require.Less(t, len(err.Error()), 1024, "the message does not echo the input")
		})
	}
}

func rollbackSpec(ids ...string) model.RolloutSpec {
	s := scriptSpec("echo")
	s.Batches = 1
	s.RollbackOf = &model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "r1"}
	s.Instances = ids
	return s
}

// A rollback's script meets the same limit, whether the task's or the
// rollback command's.
func TestRollbackSpecMeetsTheScriptLimit(t *testing.T) {
	orig := scriptSpec("echo v2")
	orig.Script.RollbackScript = "echo v1"
	_, err := model.RollbackSpec(orig, model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "r1"}, []string{"i-1"},
		model.RollbackCommand{Script: strings.Repeat("z", model.MaxScriptBytes+1)})
	require.ErrorContains(t, err, "script.script is 16385 bytes")
}

// The instances query selects the changed instances, the unchanged ones, or
// both when "changed" is absent.
func TestInstancesQueryChanged(t *testing.T) {
	changed, unchanged := model.InstanceProgress{InstanceID: "i-1", Attempts: 1}, model.InstanceProgress{InstanceID: "i-2"}
	yes, no := true, false
	for _, tc := range []struct {
		q    model.InstancesQuery
		c, u bool
	}{
		{model.InstancesQuery{}, true, true},
		{model.InstancesQuery{Changed: &yes}, true, false},
		{model.InstancesQuery{Changed: &no}, false, true},
	} {
		require.Equal(t, tc.c, tc.q.Matches(changed))
		require.Equal(t, tc.u, tc.q.Matches(unchanged))
	}
}
