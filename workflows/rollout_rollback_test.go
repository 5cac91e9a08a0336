package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// requireContinuedAsRollback checks that the run ended by continuing as its
// rollback and returns the rollback's spec.
func (env *rolloutEnv) requireContinuedAsRollback() model.RolloutSpec {
	env.t.Helper()
	env.checkExpectations()
	require.True(env.t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.ErrorAs(env.t, err, &can)
	require.Equal(env.t, model.RolloutWorkflowType, can.WorkflowType.Name)
	var spec model.RolloutSpec
	require.NoError(env.t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &spec))
	require.True(env.t, spec.IsRollback())
	return spec
}

// requireHandedOver checks that the run handed the group to its rollback:
// no instance left in Standby, the task and the processes it suspended
// still held, and named in the rollback's spec.
func (env *rolloutEnv) requireHandedOver(spec model.RolloutSpec) {
	env.t.Helper()
	env.locked(func() {
		require.Empty(env.t, env.standby, "instances left in Standby")
		require.Equal(env.t, 1, env.tasks, "the rolling update task is handed over, not finished")
		require.ElementsMatch(env.t, cloud.ScalingProcesses, env.suspended, "the processes stay suspended for the rollback")
	})
	require.NotNil(env.t, spec.Handoff)
	require.NotEmpty(env.t, spec.Handoff.TaskID)
}

func TestRolloutRollbackWhilePausedAfterBatch(t *testing.T) {
	env := newRolloutEnv(t, 10)
	env.at(time.Minute, func() {
		env.send(model.CommandRollback, model.RollbackCommand{Batches: 2, PausePolicy: model.PauseEachBatch}, "")
	})
	env.execute(rolloutSpec(3, model.PauseFirstBatch))
	spec := env.requireContinuedAsRollback()
	require.Equal(t, []string{"i-01", "i-02", "i-03", "i-04"}, spec.Instances, "the first batch's instances")
	require.Equal(t, "m-webapp-v1", spec.Image.ImageID, "the rollback image")
	require.Equal(t, 2, spec.Batches)
	require.Equal(t, model.PauseEachBatch, spec.PausePolicy)
	require.Equal(t, "asg-web-hz", spec.ScalingGroupID)
	env.requireHandedOver(spec)
}

func TestRolloutRollbackWhilePausedOnFailure(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.fails["i-02"] = 1
	env.at(time.Minute, func() {
		env.send(model.CommandRollback, model.RollbackCommand{ImageID: "m-webapp-v0"}, "")
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	spec := env.requireContinuedAsRollback()
	require.Equal(t, []string{"i-01", "i-02"}, spec.Instances, "the failed instance is rolled back too")
	require.Equal(t, "m-webapp-v0", spec.Image.ImageID)
	require.Equal(t, 2, spec.Batches)
	env.requireHandedOver(spec)
}

func TestRolloutRollbackRefusedWhileRunningAndForARollback(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.succeedAfter(time.Minute)
	spec := rolloutSpec(2, model.PauseFirstBatch)
	spec.RollbackOf = &model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "run-1"}
	spec.Instances = []string{"i-01", "i-02", "i-03", "i-04"}
	env.at(30*time.Second, func() {
		env.send(model.CommandRollback, model.RollbackCommand{}, "a rollback cannot itself be rolled back")
	})
	env.at(5*time.Minute, func() {
		require.Equal(t, model.RolloutPausedBatch, env.state().Status)
		env.send(model.CommandRollback, model.RollbackCommand{}, "a rollback cannot itself be rolled back")
		env.send(model.CommandResume, model.ResumeCommand{}, "")
	})
	env.execute(spec)
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.NotNil(t, st.RollbackOf)
}

func TestRolloutRollbackRefusedWhileRunning(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.succeedAfter(time.Minute)
	env.at(30*time.Second, func() {
		env.send(model.CommandRollback, model.RollbackCommand{}, "only while paused")
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	require.Equal(t, model.RolloutSucceeded, env.result().Status)
}

func TestRolloutRollbackSpecOfFinishedTask(t *testing.T) {
	orig := rolloutSpec(3, model.PauseNone)
	ref := model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "r1"}
	spec, err := model.RollbackSpec(orig, ref, []string{"i-01", "i-02"}, model.RollbackCommand{})
	require.NoError(t, err)
	require.Equal(t, 2, spec.Batches, "at most one batch per instance")
	require.Equal(t, "m-webapp-v1", spec.Image.ImageID)
	_, err = model.RollbackSpec(spec, ref, []string{"i-01"}, model.RollbackCommand{})
	require.ErrorContains(t, err, "cannot itself be rolled back")
	noRollbackImage := orig
	noRollbackImage.Image = &model.ImageChange{ImageID: "m-webapp-v2"}
	_, err = model.RollbackSpec(noRollbackImage, ref, []string{"i-01"}, model.RollbackCommand{})
	require.ErrorContains(t, err, "no rollback image")
	_, err = model.RollbackSpec(orig, ref, nil, model.RollbackCommand{})
	require.ErrorContains(t, err, "nothing to roll back")
}
