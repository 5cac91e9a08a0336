package activities_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// buildEnvWith is an activity environment whose cloud client is c.
func buildEnvWith(c *cloud.Client) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	activities.Register(env, c, activities.Options{PollInterval: 5 * time.Millisecond})
	return env
}

// A worker with a wrong secret, or with no credentials at all, is refused
// by the VPC service with a permanent error naming the cause, and nothing
// is created.
func TestBuildVpcRefusedWithoutValidKeys(t *testing.T) {
	sim := cloudsimtest.Start(t)
	id, secret := cloudsim.AccessKey(cloudsim.DefaultAccount)
	in := activities.NetworkInput{Region: cloudsim.SeedRegion, Name: "b", ClientToken: "t-keys"}
	var a *activities.Builds

	_, err := buildEnvWith(cloud.NewClient(sim.URL, cloudsim.DefaultAccount).WithAccessKey(id, "not-"+secret)).ExecuteActivity(a.CreateBuildVpc, in)
	appErr := appError(t, err)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, cloudsim.CodeSignatureDoesNotMatch, appErr.Type())

	// No key anywhere in the default chain.
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_PROFILE", "")
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", "")
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_URI", "")
	t.Setenv("ALIBABA_CLOUD_ROLE_ARN", "")
	t.Setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "")
	t.Setenv("HOME", t.TempDir())
	_, err = buildEnvWith(cloud.NewClient(sim.URL, cloudsim.DefaultAccount)).ExecuteActivity(a.CreateBuildVpc, in)
	appErr = appError(t, err)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, cloud.CodeInvalidCredentials, appErr.Type())

	require.Empty(t, sim.Server.Ledger())

	// The right key: made once, and once only for the same token.
	env := buildEnvWith(sim.Client)
	for range 2 {
		v, err := env.ExecuteActivity(a.CreateBuildVpc, in)
		require.NoError(t, err)
		var vpcID string
		require.NoError(t, v.Get(&vpcID))
		require.NotEmpty(t, vpcID)
	}
	require.Equal(t, 1, ledgerCount(sim, "CreateVpc"))
}
