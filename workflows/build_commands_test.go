package workflows

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// A failed step that keeps its resources, retry-step and cancel (command
// and Temporal cancellation), and the refusals of a start.

func TestBuildKeepsResourcesOnFailureWhenAsked(t *testing.T) {
	env := newBuildEnv(t)
	req := keepingTemplate("keep")
	req.TestContent = []cloud.Component{{Name: "smoke", Content: "exit 1"}}
	tpl := env.template(t, req)

	env.execute(tpl, "0s")

	appErr, result := buildError(t, env)
	require.Contains(t, appErr.Error(), "kept (release on failure is off)")
	var kinds []string
	for _, r := range result.Kept {
		kinds = append(kinds, r.Kind)
	}
	require.ElementsMatch(t, []string{model.ResourceVpc, model.ResourceVSwitch, model.ResourceInstance}, kinds)
	// The kept ones are still there; the test instance and the image are not.
	left := env.created("Instance", "VSwitch", "Vpc", "Image")
	require.Len(t, left, 3)
	for _, r := range result.Kept {
		require.Contains(t, left, r.ID)
	}
}

func TestBuildRetryStepDoesNotRedoEarlierSteps(t *testing.T) {
	env := newBuildEnv(t)
	req := keepingTemplate("retry")
	tpl := env.template(t, req)
	var failedOnce atomic.Bool
	env.OnActivity(env.real.RunComponent, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.ComponentInput) (*model.ComponentOutput, error) {
		if in.Phase == cloud.ComponentTest && failedOnce.CompareAndSwap(false, true) {
			return &model.ComponentOutput{Phase: in.Phase, Name: "acs:check-boot", Status: cloud.InvocationFailed, ExitCode: 1, Error: "exit code 1"}, nil
		}
		return env.real.RunComponent(ctx, in)
	})
	var wrongStep, retry *updateOutcome
	env.RegisterDelayedCallback(func() {
		p := env.progress(t)
		require.Equal(t, model.StepTest, p.FailedStep)
		require.Contains(t, p.WaitingFor, model.CommandRetryStep)
		wrongStep = env.command(model.CommandRetryStep, model.RetryStepCommand{Step: model.StepComponents})
		retry = env.command(model.CommandRetryStep, model.RetryStepCommand{Step: model.StepTest})
	}, 10*time.Minute)

	env.execute(tpl, "1h")

	wrongStep.requireRejected(t, "the failed step is Test")
	retry.requireAccepted(t)
	require.NoError(t, env.GetWorkflowError())
	// One build instance, two test instances (the failed run's and the
	// retry's), one image: nothing before the test ran twice.
	runs := map[string]int{}
	for _, e := range env.sim.Server.Ledger() {
		runs[e.Action]++
	}
	require.Equal(t, 3, runs["RunInstances"])
	require.Equal(t, 1, runs["CreateImage"])
	require.Equal(t, 1, runs["CreateVpc"])
	require.Empty(t, env.created("Instance", "VSwitch", "Vpc"))
	// The cloud's build record (what starter build list shows) says the
	// wait is over once the step runs again: no later record keeps
	// "waiting for retry-step".
	var records []string
	for _, e := range env.sim.Server.Ledger() {
		if e.ResourceType == "ImagePipelineExecution" {
			records = append(records, e.Detail)
		}
	}
	waited := slices.IndexFunc(records, func(d string) bool { return strings.Contains(d, "waiting for retry-step") })
	require.GreaterOrEqual(t, waited, 0, "the record says the build waits: %q", records)
	require.Contains(t, records[waited+1], "step Test runs again (retry-step)")
	for _, d := range records[waited+1:] {
		require.NotContains(t, d, "waiting for retry-step")
	}
}

// TestBuildCancelAtEachStep blocks one activity of the step for an hour and
// cancels at half past; whatever was made is released.
func TestBuildCancelAtEachStep(t *testing.T) {
	type blocker func(env *buildEnv)
	block := func(act any, real any) blocker {
		return func(env *buildEnv) { env.OnActivity(act, mock.Anything, mock.Anything).After(time.Hour).Return(real) }
	}
	cases := []struct {
		step  string
		block func(env *buildEnv) blocker
	}{
		{model.StepResolve, func(env *buildEnv) blocker { return block(env.real.ResolveSource, env.real.ResolveSource) }},
		{model.StepNetwork, func(env *buildEnv) blocker { return block(env.real.CreateBuildVSwitch, env.real.CreateBuildVSwitch) }},
		{model.StepInstance, func(env *buildEnv) blocker { return block(env.real.AwaitBuildInstance, env.real.AwaitBuildInstance) }},
		{model.StepCheck, func(env *buildEnv) blocker { return block(env.real.CheckBuildGuestOS, env.real.CheckBuildGuestOS) }},
		{model.StepComponents, func(env *buildEnv) blocker { return block(env.real.RunComponent, env.real.RunComponent) }},
		{model.StepCreateImage, func(env *buildEnv) blocker {
			return block(env.images.AwaitImageAvailable, env.images.AwaitImageAvailable)
		}},
		{model.StepTest, func(env *buildEnv) blocker {
			return func(env *buildEnv) {
				env.OnActivity(env.real.RunComponent, mock.Anything, mock.MatchedBy(func(in activities.ComponentInput) bool { return in.Phase == cloud.ComponentTest })).
					After(time.Hour).Return(env.real.RunComponent)
				env.OnActivity(env.real.RunComponent, mock.Anything, mock.Anything).Return(env.real.RunComponent)
			}
		}},
		{model.StepDistribute, func(env *buildEnv) blocker {
			return func(env *buildEnv) {
				env.OnActivity(env.images.AwaitImageAvailable, mock.Anything, mock.MatchedBy(func(in activities.AwaitImageInput) bool { return in.Region != buildRegion })).
					After(time.Hour).Return(env.images.AwaitImageAvailable)
				env.OnActivity(env.images.AwaitImageAvailable, mock.Anything, mock.Anything).Return(env.images.AwaitImageAvailable)
			}
		}},
		{model.StepShare, func(env *buildEnv) blocker {
			// The distribution shares its copies too; the build's own share
			// starts in its region.
			return func(env *buildEnv) {
				env.OnActivity(env.images.ShareImage, mock.Anything, mock.MatchedBy(func(in activities.ShareImageInput) bool { return in.Region == buildRegion })).
					After(time.Hour).Return(env.images.ShareImage)
				env.OnActivity(env.images.ShareImage, mock.Anything, mock.Anything).Return(env.images.ShareImage)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.step, func(t *testing.T) {
			env := newBuildEnv(t)
			req := baseTemplate("cancel")
			req.ToRegionIds = []string{buildRegion, "cn-shanghai"}
			req.AddAccounts = []string{cloudsim.SecondAccount}
			tpl := env.template(t, req)
			tc.block(env)(env)
			var first, again, other, retry *updateOutcome
			env.RegisterDelayedCallback(func() {
				require.Equal(t, tc.step, env.progress(t).Step)
				retry = env.command(model.CommandRetryStep, model.RetryStepCommand{})
				other = env.command(model.CommandCancelBuild, model.CancelBuildCommand{ExecutionID: "exec-other"})
				first = env.command(model.CommandCancelBuild, model.CancelBuildCommand{Reason: "wrong base image"})
				again = env.command(model.CommandCancelBuild, model.CancelBuildCommand{})
			}, 30*time.Minute)

			env.execute(tpl, "")

			retry.requireRejected(t, "no failed step waits for a retry")
			other.requireRejected(t, "is not this run")
			first.requireAccepted(t)
			again.requireAccepted(t)
			appErr, _ := buildError(t, env)
			require.Equal(t, ErrTypeBuildCancelled, appErr.Type())
			require.Contains(t, appErr.Error(), "cancelled during "+tc.step+": wrong base image")
			env.requireNothingLeft(t)
			require.Equal(t, cloud.PipelineExecutionCancelled, env.execution(t, tpl).Status)
			require.True(t, env.progress(t).Cancelled)
		})
	}
}

func TestBuildTemporalCancelCleansUp(t *testing.T) {
	env := newBuildEnv(t)
	tpl := env.template(t, baseTemplate("tcancel"))
	env.OnActivity(env.real.RunComponent, mock.Anything, mock.Anything).After(time.Hour).Return(env.real.RunComponent)
	env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Minute)

	env.execute(tpl, "")

	require.True(t, env.IsWorkflowCompleted())
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), "%v", env.GetWorkflowError())
	env.requireNothingLeft(t)
	require.Equal(t, cloud.PipelineExecutionCancelled, env.execution(t, tpl).Status)
}

func TestBuildRefusesASecondBuildOfTheTemplate(t *testing.T) {
	env := newBuildEnv(t)
	tpl := env.template(t, baseTemplate("busy"))
	running, err := env.sim.Client.StartImagePipelineExecution(context.Background(), &cloud.StartImagePipelineExecutionRequest{RegionId: buildRegion, ImagePipelineId: tpl, ClientToken: "other"})
	require.NoError(t, err)

	env.execute(tpl, "")

	appErr, _ := buildError(t, env)
	require.Contains(t, appErr.Error(), running.ExecutionId)
	require.Empty(t, env.created("Instance", "VSwitch", "Vpc", "Image"))
}

func TestBuildRefusesInvalidInput(t *testing.T) {
	env := newBuildEnv(t)
	executeAs(env.TestWorkflowEnvironment, model.BuildWorkflowID("mars-1", "tpl"), model.BuildWorkflowType, model.BuildInput{Region: "mars-1", TemplateID: "tpl", RetryWindow: "soon"})
	require.True(t, env.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, env.GetWorkflowError(), &appErr)
	require.Equal(t, ErrTypeInvalidSpec, appErr.Type())
	for _, want := range []string{"mars-1", "tpl", "soon"} {
		require.Contains(t, appErr.Error(), want)
	}
}

func TestBuildRetryTestWithAFixedTestComponent(t *testing.T) {
	env := newBuildEnv(t)
	req := keepingTemplate("fixtest")
	req.TestContent = []cloud.Component{{Name: "smoke", Content: "echo GET / 500\nexit 1"}}
	tpl := env.template(t, req)
	var empty, fixed *updateOutcome
	env.RegisterDelayedCallback(func() {
		require.Equal(t, model.StepTest, env.progress(t).FailedStep)
		empty = env.command(model.CommandRetryStep, model.RetryStepCommand{Components: []model.TemplateComponent{{Name: "nothing"}}})
		fixed = env.command(model.CommandRetryStep, model.RetryStepCommand{Step: model.StepTest, Components: []model.TemplateComponent{{Name: "smoke", Content: "echo GET / 200"}}})
	}, 10*time.Minute)

	env.execute(tpl, "1h")

	empty.requireRejected(t, "exactly one of component")
	fixed.requireAccepted(t)
	require.NoError(t, env.GetWorkflowError())
	p := env.progress(t)
	require.Equal(t, []string{"Test: 1 component(s)"}, p.Replaced)
	last := p.Components[len(p.Components)-1]
	require.Equal(t, cloud.InvocationSuccess, last.Status)
	require.Equal(t, "GET / 200\n", last.Output)
	creates := 0
	for _, e := range env.sim.Server.Ledger() {
		if e.Action == "CreateImage" {
			creates++
		}
	}
	require.Equal(t, 1, creates, "the image is not made again")
	require.Empty(t, env.created("Instance", "VSwitch", "Vpc"))
}

func TestBuildCancelWhileWaitingForRetry(t *testing.T) {
	env := newBuildEnv(t)
	req := keepingTemplate("waitcancel")
	req.BuildContent = []cloud.Component{{Name: "broken", Content: "exit 1"}}
	tpl := env.template(t, req)
	var cancel *updateOutcome
	env.RegisterDelayedCallback(func() {
		p := env.progress(t)
		require.Equal(t, model.StepComponents, p.FailedStep)
		require.NotEmpty(t, env.created("Instance"), "the instance is kept while the step waits")
		cancel = env.command(model.CommandCancelBuild, model.CancelBuildCommand{Reason: "give up"})
	}, 10*time.Minute)

	env.execute(tpl, "1h")

	cancel.requireAccepted(t)
	appErr, result := buildError(t, env)
	require.Equal(t, ErrTypeBuildCancelled, appErr.Type())
	require.Empty(t, result.Kept, "cancel releases even what release-on-failure off keeps")
	env.requireNothingLeft(t)
}

// TestBuildDistributionFailureCleansUp: a region refuses the copy, the
// distribution child waits for its operator, who aborts it; the build fails
// at Distribute and releases everything, the image included.
