package operator

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/internal/payload"
)

type resume struct{ Batch int }

// The same command arrives as a signal and as an update; both are validated
// the same way, a refused signal is reported, a refused update answers.
func TestCommandAsSignalAndUpdate(t *testing.T) {
	var applied []int
	var refused []string
	wf := func(ctx workflow.Context) ([]int, error) {
		paused := 1
		err := Register(ctx, Command[resume]{
			Name: "resume",
			Validate: func(c resume) error {
				if c.Batch != paused {
					return errors.New("not paused at that batch")
				}
				return nil
			},
			Apply: func(c resume) { applied = append(applied, c.Batch); paused++ },
		}, func(name string, err error) { refused = append(refused, name+": "+err.Error()) })
		if err != nil {
			return nil, err
		}
		err = workflow.Await(ctx, func() bool { return paused == 3 })
		return applied, err
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(wf)
	var rejected error
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("resume", resume{Batch: 7}) }, time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("resume", resume{Batch: 1}) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow("resume", "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, resume{Batch: 9})
	}, 3*time.Minute)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow("resume", "u2", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("rejected: %v", err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, resume{Batch: 2})
	}, 4*time.Minute)

	env.ExecuteWorkflow(wf)

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []int{1, 2}, applied)
	require.Equal(t, []string{"resume: not paused at that batch"}, refused)
	require.ErrorContains(t, rejected, "not paused at that batch")
}

// A renamed command is accepted under its old name too, by signal and by
// update, with the same validation; a refusal names what the sender used.
func TestCommandAlias(t *testing.T) {
	var applied []string
	var logged string
	wf := func(ctx workflow.Context) ([]string, error) {
		done := false
		err := Register(ctx, Command[resume]{
			Name:    "cancel",
			Aliases: []string{"abort"},
			Validate: func(c resume) error {
				if c.Batch < 0 {
					return errors.New("negative batch")
				}
				return nil
			},
			Apply: func(c resume) { applied = append(applied, "applied"); done = c.Batch == 2 },
		}, RecordRefusal(&logged, workflow.GetLogger(ctx)))
		if err != nil {
			return nil, err
		}
		err = workflow.Await(ctx, func() bool { return done })
		return applied, err
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(wf)
	var rejected error
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("abort", resume{Batch: -1}) }, time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("abort", resume{Batch: 1}) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow("abort", "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, resume{Batch: -5})
	}, 3*time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("cancel", resume{Batch: 2}) }, 4*time.Minute)

	env.ExecuteWorkflow(wf)

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"applied", "applied"}, applied)
	require.Equal(t, "abort: negative batch", logged)
	require.ErrorContains(t, rejected, "negative batch")
}

type skip struct {
	InstanceID string `json:"instanceId"`
}

// issue 18 item 9: a signal with a field the command does not have, or a
// field spelled in another case, is refused and kept like any refused
// signal (it was dropped with only a log line); an update with it is
// refused to its sender. Nothing is applied, and the run goes on.
func TestSignalWithUnknownFieldIsRefused(t *testing.T) {
	var applied []string
	var last string
	var refusals []string
	wf := func(ctx workflow.Context) ([]string, error) {
		err := Register(ctx, Command[skip]{
			Name:     "skip",
			Validate: func(skip) error { return nil },
			Apply:    func(c skip) { applied = append(applied, c.InstanceID) },
		}, func(name string, err error) {
			RecordRefusal(&last, workflow.GetLogger(ctx))(name, err)
			refusals = append(refusals, last)
		})
		if err != nil {
			return nil, err
		}
		err = workflow.Await(ctx, func() bool { return len(applied) == 1 })
		return applied, err
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetDataConverter(payload.Converter)
	env.RegisterWorkflow(wf)
	var rejected []error
	reject := &testsuite.TestUpdateCallback{
		OnReject: func(err error) { rejected = append(rejected, err) }, OnAccept: func() { t.Error("update accepted") }, OnComplete: func(any, error) {},
	}
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow("skip", map[string]any{"instanceId": "i-1", "reasn": "x"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("skip", map[string]any{"instanceID": "i-2"}) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("skip", "i-3") }, 3*time.Minute)
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("skip", "u1", reject, map[string]any{"instanceID": "i-4"}) }, 4*time.Minute)
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("skip", "u2", reject, map[string]any{"instanceId": "i-5", "reasn": "x"}) }, 5*time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("skip", skip{InstanceID: "i-6"}) }, 6*time.Minute)

	env.ExecuteWorkflow(wf)

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"i-6"}, applied)
	require.Len(t, refusals, 3)
	require.Contains(t, refusals[0], `skip: the payload was refused`)
	require.Contains(t, refusals[0], `unknown field "reasn" in operator.skip`)
	require.Contains(t, refusals[1], `unknown field "instanceID" in operator.skip (field names are case-sensitive: "instanceId")`)
	require.Contains(t, refusals[2], `cannot unmarshal string`)
	require.Equal(t, refusals[2], last)
	require.Len(t, rejected, 2)
	require.ErrorContains(t, rejected[0], `unknown field "instanceID"`)
	require.ErrorContains(t, rejected[1], `unknown field "reasn"`)
}

// issue 18: a refusal echoes what was sent; it reaches lastRefusal and the
// update's sender with control characters escaped and cut to maxRefusal.
func TestRefusalIsEscapedAndCapped(t *testing.T) {
	var last string
	wf := func(ctx workflow.Context) error {
		err := Register(ctx, Command[skip]{
			Name:     "skip",
			Validate: func(c skip) error { return fmt.Errorf("instance %s is not part of this task", c.InstanceID) },
			Apply:    func(skip) {},
		}, RecordRefusal(&last, workflow.GetLogger(ctx)))
		if err != nil {
			return err
		}
		return workflow.Await(ctx, func() bool { return strings.Contains(last, "(") })
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetDataConverter(payload.Converter)
	env.RegisterWorkflow(wf)
	var rejected error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow("skip", "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err }, OnAccept: func() {}, OnComplete: func(any, error) {},
		}, skip{InstanceID: "i-1\x1b[2J\x00\u202e"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow("skip", skip{InstanceID: strings.Repeat("i", 5000)}) }, 2*time.Minute)
	env.ExecuteWorkflow(wf)
	require.NoError(t, env.GetWorkflowError())
	require.ErrorContains(t, rejected, `instance i-1\x1b[2J\x00\u202e is not part of this task`)
	require.True(t, strings.HasSuffix(last, "… (5034 characters)"), last[len(last)-40:])
	require.Less(t, len(last), 1100)
}
