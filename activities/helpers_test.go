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
	"github.com/imagefleet/imagefleet/cloud"
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

// ledgerCount counts the calls of action the cloud's ledger holds.
func ledgerCount(sim *cloudsimtest.Env, action string) int {
	n := 0
	for _, e := range sim.Server.Ledger() {
		if e.Action == action {
			n++
		}
	}
	return n
}

// imageStatus is the status of an image, deleted ones included.
func imageStatus(t *testing.T, sim *cloudsimtest.Env, region, imageID string) string {
	t.Helper()
	resp, err := sim.Client.DescribeImages(t.Context(), &cloud.DescribeImagesRequest{RegionId: region, ImageIds: []string{imageID}, IncludeDeleted: true})
	require.NoError(t, err)
	require.Len(t, resp.Images, 1)
	return resp.Images[0].Status
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
