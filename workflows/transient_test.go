package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// A transient cloud error (5xx, throttling) never ends an operation: each
// step retries it until model.StepDeadline. These tests make the first check
// of each operation fail more often than the 5 attempts checks had. (The SDK
// test suite caps an unlimited retry policy at 10 attempts, so 9 is the most
// a test here can show.)
const transientFailures = 9

func transientError() error {
	return temporal.NewApplicationError("ServiceUnavailable: the request has failed due to a temporary failure of the server", cloud.CodeServiceUnavailable)
}

func TestTransientErrorsDoNotFailARollingUpdate(t *testing.T) {
	env := newRolloutEnv(t, 4)
	env.OnActivity(rollouts.CheckRollout, mock.Anything, mock.Anything).Return(nil, transientError()).Times(transientFailures)
	env.execute(rolloutSpec(2, model.PauseNone))
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, model.RolloutSucceeded, env.state().Status)
}

func TestTransientErrorsDoNotFailABlueGreenDeployment(t *testing.T) {
	env := newBlueGreenEnv(t)
	env.OnActivity(deployments.InspectService, mock.Anything, mock.Anything).Return(nil, transientError()).Times(transientFailures)
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyAllAtOnce}))
	env.requireDeployed(t, 100)
}

func TestTransientErrorsDoNotFailADistribution(t *testing.T) {
	env := newDistributionEnv(t)
	env.OnActivity(images.CheckSourceImage, mock.Anything, mock.Anything).Return(nil, transientError()).Times(transientFailures)
	env.OnActivity(packages.ResolvePackagePermission, mock.Anything, mock.Anything).Return(model.Permission{}, transientError()).Times(transientFailures)
	env.execute(validSpec())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
}

// The build runs real activities against the simulated cloud, whose faults
// hit its check steps (the template, then the base image).
func TestTransientErrorsDoNotFailABuild(t *testing.T) {
	env := newBuildEnv(t)
	for _, action := range []string{"DescribeImagePipelines", "DescribeImageFromFamily"} {
		_, err := env.sim.Admin().AddFault(context.Background(), cloud.Fault{Kind: cloud.FaultTransient, Action: action, Count: transientFailures})
		require.NoError(t, err)
	}
	env.execute(env.template(t, baseTemplate("web")), "")
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
}

// A build's distribution waits out transient errors on its copies (eight
// 5xx in one region, a throttle with Retry-After in another): they do not
// use the child's copyAttempts, so no region waits for an operator and the
// build completes with one copy per region. Issue 18, item 2.
func TestTransientCopyErrorsInABuildsDistribution(t *testing.T) {
	env := newBuildEnv(t)
	for _, f := range []cloud.Fault{
		{Kind: cloud.FaultTransient, Action: "CopyImage", Region: "cn-shanghai", Count: 8},
		{Kind: cloud.FaultThrottle, Action: "CopyImage", Region: "cn-beijing", Count: 1, RetryAfter: time.Second},
	} {
		_, err := env.sim.Admin().AddFault(context.Background(), f)
		require.NoError(t, err)
	}
	req := baseTemplate("web")
	req.ToRegionIds = []string{buildRegion, "cn-shanghai", "cn-beijing"}
	tpl := env.template(t, req)

	env.execute(tpl, "")

	require.True(t, env.IsWorkflowCompleted(), "no region waits for an operator")
	require.NoError(t, env.GetWorkflowError())
	var result model.BuildResult
	require.NoError(t, env.GetWorkflowResult(&result))
	require.Len(t, result.Images, 3)
	faults, err := env.sim.Admin().Faults(context.Background())
	require.NoError(t, err)
	require.Empty(t, faults, "every fault fired in full")
	copies := map[string]int{}
	for _, e := range env.sim.Server.Ledger() {
		if e.Action == "CopyImage" {
			copies[e.Region]++
		}
	}
	require.Equal(t, map[string]int{"cn-shanghai": 1, "cn-beijing": 1}, copies, "one copy per region")
}
