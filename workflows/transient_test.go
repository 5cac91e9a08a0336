package workflows

import (
	"context"
	"testing"

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
