package activities_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// startCloud starts a simulated cloud for the test and an activity
// environment whose activities call it.
func startCloud(t *testing.T, opts ...cloudsimtest.Option) (*cloudsimtest.Env, *testsuite.TestActivityEnvironment) {
	t.Helper()
	sim := cloudsimtest.Start(t, opts...)
	return sim, activityEnv(t, sim)
}

// activityEnv is an activity environment with every activity registered
// against sim, polling every 5 ms.
func activityEnv(t *testing.T, sim *cloudsimtest.Env) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	activities.Register(env, sim.Client, activities.Options{PollInterval: 5 * time.Millisecond})
	return env
}

// appError returns the application error an activity failed with.
func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an application error, got %v", err)
	return appErr
}

// noCredential fails if an activity's result would put a registry
// credential into the workflow history (the simulator's tokens start "crt.").
func noCredential(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NotContains(t, string(b), "crt.", "a temporary credential would reach the history")
}
