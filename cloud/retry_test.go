package cloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

var fastRetry = cloud.Retry{Attempts: 6, Backoff: time.Millisecond, MaxWait: 20 * time.Millisecond}

func TestRetryRidesOutThrottlingAndServerErrors(t *testing.T) {
	env := cloudsimtest.Start(t, cloudsimtest.WithFaults(
		cloud.Fault{Kind: cloud.FaultThrottle, Action: "DescribeImages", Count: 2, RetryAfter: 10 * time.Millisecond},
		cloud.Fault{Kind: cloud.FaultTransient, Action: "DescribeImages", Count: 2},
	))
	ctx := context.Background()
	req := &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, ImageIds: []string{cloudsim.ImageWebappV1}}
	_, err := env.Client.DescribeImages(ctx, req)
	require.Error(t, err, "a plain client does not retry")

	resp, err := env.Client.WithRetry(fastRetry).DescribeImages(ctx, req)
	require.NoError(t, err)
	require.Len(t, resp.Images, 1)
}

func TestRetryIsBounded(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := context.Background()
	_, err := env.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultTransient, Action: "DescribeImages"})
	require.NoError(t, err)
	_, err = env.Client.WithRetry(fastRetry).DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion})
	apiErr, ok := cloud.AsAPIError(err)
	require.True(t, ok)
	require.GreaterOrEqual(t, apiErr.HTTPStatus, 500)
	faults, err := env.Admin().Faults(ctx)
	require.NoError(t, err)
	require.Equal(t, fastRetry.Attempts, faults[0].Fired)
}

// A mutating call that failed with a server error is retried with one
// ClientToken, so the side effect happens once even if the answer was lost.
func TestRetryGivesAMutatingCallOneClientToken(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := context.Background()
	_, err := env.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultTransient, Action: "CreateService", Count: 2})
	require.NoError(t, err)
	resp, err := env.Client.WithRetry(fastRetry).CreateService(ctx, &cloud.CreateServiceRequest{Name: "svc-retry", Visibility: "Private"})
	require.NoError(t, err)
	require.NotEmpty(t, resp.ServiceId)
	n := 0
	for _, e := range env.Server.Ledger() {
		if e.Action == "CreateService" {
			n++
			require.NotEmpty(t, e.ClientToken)
		}
	}
	require.Equal(t, 1, n)
}

// A mutating call without a ClientToken field is not repeated after a
// server error: the cloud may have done it.
func TestRetryDoesNotRepeatAMutationWithoutToken(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := context.Background()
	_, err := env.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultTransient, Action: "DeleteArtifact", Count: 1})
	require.NoError(t, err)
	_, err = env.Client.WithRetry(fastRetry).DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: "artifact-none"})
	apiErr, ok := cloud.AsAPIError(err)
	require.True(t, ok)
	require.GreaterOrEqual(t, apiErr.HTTPStatus, 500, "the error of the one try")
}
