package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// mockSource keeps the group's instance configuration source in env.source
// and each change of it in env.switches.
func (env *rolloutEnv) mockSource() {
	env.OnActivity(rollouts.DescribeScalingSource, mock.Anything, mock.Anything).Return(func(context.Context, activities.SourceInput) (*model.ScalingSource, error) {
		var out model.ScalingSource
		env.locked(func() { out = env.source })
		return &out, nil
	}).Maybe()
	env.OnActivity(rollouts.SwitchScalingSource, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SwitchSourceInput) (*model.ScalingSource, error) {
		var out model.ScalingSource
		env.locked(func() {
			require.Equal(env.t, in.From, env.source, "the switch starts from the source read before")
			if env.source.ImageID != in.ImageID {
				env.source.ImageID = in.ImageID
				env.switches = append(env.switches, "switch to "+in.ImageID)
			}
			out = env.source
		})
		return &out, nil
	}).Maybe()
	env.OnActivity(rollouts.RestoreScalingSource, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RestoreSourceInput) error {
		env.locked(func() {
			if env.source != in.To {
				env.source = in.To
				env.switches = append(env.switches, "back to "+in.To.ImageID)
			}
		})
		return nil
	}).Maybe()
}

// rollbackOf is the spec of the rollback task of rolloutSpec(2, …) that
// changed i-01 and i-02, as a client would start it (the run that rolls a
// task back hands the group over: rollout_rollback_test.go).
func rollbackOf(t *testing.T, c model.RollbackCommand) model.RolloutSpec {
	spec, err := model.RollbackSpec(rolloutSpec(2, model.PauseFirstBatch), model.RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "run-1"}, []string{"i-01", "i-02"}, c)
	require.NoError(t, err)
	return spec
}

// requireSource checks the group's source and its changes.
func (env *rolloutEnv) requireSource(image string, switches ...string) {
	env.t.Helper()
	env.locked(func() {
		require.Equal(env.t, image, env.source.ImageID, "the image the group launches")
		require.Equal(env.t, switches, env.switches)
	})
}

func TestRolloutImageUpdateLeavesTheGroupLaunchingTheNewImage(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.execute(rolloutSpec(2, model.PauseNone))
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	env.requireSource("m-webapp-v2", "switch to m-webapp-v2")
	require.Equal(t, "m-webapp-v1", st.SourceBefore.ImageID)
	require.Equal(t, "m-webapp-v2", st.Source.ImageID)
	env.requireRestored()
}

func TestRolloutSwitchesTheSourceBeforeTheFirstBatch(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.OnActivity(rollouts.EnterStandby, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.StandbyInput) error {
		env.locked(func() {
			require.Equal(t, "m-webapp-v2", env.source.ImageID, "no instance leaves service before the group launches the new image")
			for _, id := range in.Instances {
				env.standby[id] = true
			}
		})
		return nil
	})
	env.execute(rolloutSpec(2, model.PauseNone))
	require.Equal(t, model.RolloutSucceeded, env.result().Status)
}

func TestRolloutCancelGivesTheSourceBack(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.at(time.Minute, func() {
		require.Equal(t, "m-webapp-v2", env.state().Source.ImageID)
		env.send(model.CommandCancel, model.CancelCommand{Reason: "bad image"}, "")
	})
	env.execute(rolloutSpec(2, model.PauseFirstBatch))
	st := env.result()
	require.Equal(t, model.RolloutCancelled, st.Status)
	env.requireSource("m-webapp-v1", "switch to m-webapp-v2", "back to m-webapp-v1")
	require.Equal(t, *st.SourceBefore, *st.Source)
	env.requireRestored()
}

func TestRolloutWorkflowCancellationGivesTheSourceBack(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.succeedAfter(time.Minute)
	env.at(30*time.Second, env.CancelWorkflow)
	env.execute(rolloutSpec(2, model.PauseNone))
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), env.GetWorkflowError())
	env.requireSource("m-webapp-v1", "switch to m-webapp-v2", "back to m-webapp-v1")
	env.requireRestored()
}

func TestRolloutFailureGivesTheSourceBack(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.OnActivity(rollouts.ExitStandby, mock.Anything, mock.Anything).Return(
		temporal.NewNonRetryableApplicationError("IncorrectLifecycleState: instance i-01 is Removing", "IncorrectLifecycleState", nil)).Once()
	env.execute(rolloutSpec(2, model.PauseNone))
	require.ErrorContains(t, env.GetWorkflowError(), "is Removing")
	env.requireSource("m-webapp-v1", "switch to m-webapp-v2", "back to m-webapp-v1")
}

func TestRolloutRollbackGivesTheSourceBackOnce(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.at(time.Minute, func() {
		env.send(model.CommandRollback, model.RollbackCommand{}, "")
	})
	env.execute(rolloutSpec(2, model.PauseFirstBatch))
	env.requireContinuedAsRollback()
	env.requireSource("m-webapp-v1", "switch to m-webapp-v2", "back to m-webapp-v1")

	// The rollback task installs the image the group launches again: it
	// changes no source, and keeps it when it succeeds.
	rb := newRolloutEnv(t, 4)
	rb.execute(rollbackOf(t, model.RollbackCommand{}))
	st := rb.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	rb.requireSource("m-webapp-v1")
	require.Equal(t, *st.SourceBefore, *st.Source)
}

func TestRolloutRollbackToAnotherImageSwitchesTheSourceToIt(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.at(time.Minute, func() {
		env.send(model.CommandRollback, model.RollbackCommand{ImageID: "m-webapp-v0"}, "")
	})
	env.execute(rolloutSpec(2, model.PauseFirstBatch))
	env.requireContinuedAsRollback()
	env.requireSource("m-webapp-v1", "switch to m-webapp-v2", "back to m-webapp-v1")

	rb := newRolloutEnv(t, 4)
	rb.execute(rollbackOf(t, model.RollbackCommand{ImageID: "m-webapp-v0"}))
	require.Equal(t, model.RolloutSucceeded, rb.result().Status)
	rb.requireSource("m-webapp-v0", "switch to m-webapp-v0")
}

func TestRolloutScriptLeavesTheSourceAlone(t *testing.T) {
	env := newRolloutEnv(t, 4)
	spec := rolloutSpec(2, model.PauseNone)
	spec.TaskType, spec.Image, spec.Script = model.TaskScript, nil, &model.ScriptChange{Type: model.ScriptShell, Script: "echo hi"}
	env.execute(spec)
	st := env.result()
	require.Equal(t, model.RolloutSucceeded, st.Status)
	require.Nil(t, st.Source)
	env.requireSource("m-webapp-v1")
}

// A run that goes on with the task (continue-as-new) adopts the switch in
// its spec: it reads and switches nothing, and gives back the source from
// before the task, not the one it found.
func TestRolloutContinuedRunAdoptsTheSwitch(t *testing.T) {
	env := newRolloutEnv(t, 4)
	before := model.ScalingSource{LaunchTemplateID: "lt-web-hz", LaunchTemplateVersion: "Default", Version: 1, ImageID: "m-webapp-v1"}
	after := before
	after.Version, after.ImageID = 2, "m-webapp-v2"
	env.source = after
	spec := rolloutSpec(2, model.PauseFirstBatch)
	spec.Image.Switched = &model.SourceSwitch{Before: before, After: after}
	env.OnActivity(rollouts.DescribeScalingSource, mock.Anything, mock.Anything).Return(func(context.Context, activities.SourceInput) (*model.ScalingSource, error) {
		t.Error("a continued run read the source")
		return &after, nil
	})
	env.at(time.Minute, func() {
		st := env.state()
		require.Equal(t, before, *st.SourceBefore)
		require.Equal(t, after, *st.Source)
		require.Nil(t, st.Spec.Image.Switched, "the progress shows the task's spec, not the record")
		env.send(model.CommandCancel, model.CancelCommand{Reason: "enough"}, "")
	})
	env.execute(spec)
	require.Equal(t, model.RolloutCancelled, env.result().Status)
	env.requireSource("m-webapp-v1", "back to m-webapp-v1")
	env.locked(func() { require.Equal(t, before, env.source) })
}

// A client cannot make a task adopt a switch to another image than its own.
func TestRolloutSpecRefusesAForeignSwitch(t *testing.T) {
	spec := rolloutSpec(2, model.PauseNone)
	spec.Image.Switched = &model.SourceSwitch{Before: model.ScalingSource{ScalingConfigurationID: "asc-1", ImageID: "m-webapp-v1"},
		After: model.ScalingSource{ScalingConfigurationID: "asc-1", ImageID: "m-webapp-v1"}}
	require.ErrorContains(t, spec.Validate(), "image.switched", "a switch to another image than the task's")
	spec.Image.Switched.After.ImageID = "m-webapp-v2"
	require.NoError(t, spec.Validate())
}
