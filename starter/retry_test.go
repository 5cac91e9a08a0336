package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/internal/config"
)

// The starter rides out the cloud's throttling and server errors instead of
// exiting 1 on the first one.
func TestStarterRetriesThrottlingAndServerErrors(t *testing.T) {
	env := cloudsimtest.Start(t)
	t.Setenv(config.EnvCloudEndpoint, env.URL)
	ctx := context.Background()
	for _, f := range []cloud.Fault{
		{Kind: cloud.FaultThrottle, Action: "ListServices", Count: 2, RetryAfter: 10 * time.Millisecond},
		{Kind: cloud.FaultTransient, Action: "ListServices", Count: 2},
	} {
		_, err := env.Admin().AddFault(ctx, f)
		require.NoError(t, err)
	}
	a := &app{}
	_, err := a.cloudClient().ListServices(ctx, &cloud.ListServicesRequest{})
	require.NoError(t, err)
}
