package activities_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/model"
)

func TestCheckSourceImage(t *testing.T) {
	_, env := startCloud(t)
	var a *activities.Images
	for _, tc := range []struct {
		name, region, image, refusal string
	}{
		{"custom image of the account", cloudsim.SeedRegion, cloudsim.ImageWebappV1, ""},
		{"marketplace image", cloudsim.SeedRegion, cloudsim.ImageMarketplaceNginx, ""},
		{"system image", cloudsim.SeedRegion, cloudsim.ImageSystemAliyun, "a system image"},
		{"community image", cloudsim.SeedRegion, cloudsim.ImageCommunityTools, "a community image"},
		{"another account's private image", cloudsim.SeedRegion, cloudsim.ImageOtherPrivate, "does not exist"},
		{"image in another region", "cn-beijing", cloudsim.ImageWebappV1, "does not exist in cn-beijing"},
		{"missing image", cloudsim.SeedRegion, "m-nope", "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.ExecuteActivity(a.CheckSourceImage, activities.SourceImageInput{Region: tc.region, ImageID: tc.image})
			if tc.refusal == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.refusal)
			appErr := appError(t, err)
			require.True(t, appErr.NonRetryable())
			require.Equal(t, activities.ErrTypeSourceImage, appErr.Type())
		})
	}
}

func TestStartImageCopyIsIdempotent(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Images
	in := activities.StartCopyInput{
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Region: "eu-west-1",
		ImageName: "webapp_v1", ClientToken: model.ClientToken("test", "copy", "eu-west-1", "1"),
	}
	var first, second string
	v, err := env.ExecuteActivity(a.StartImageCopy, in)
	require.NoError(t, err)
	require.NoError(t, v.Get(&first))
	v, err = env.ExecuteActivity(a.StartImageCopy, in)
	require.NoError(t, err)
	require.NoError(t, v.Get(&second))
	require.Equal(t, first, second, "the same token returns the same copy")

	require.Equal(t, 1, ledgerCount(sim, "CopyImage"), "one image created")
}

func TestStartImageCopyErrors(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Images
	in := activities.StartCopyInput{SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Region: "eu-west-1", ClientToken: "t1"}

	// Throttling is retryable, and the retry waits what the cloud asked.
	_, err := sim.Admin().AddFault(t.Context(), cloud.Fault{Kind: cloud.FaultThrottle, Action: "CopyImage", Count: 1, RetryAfter: 3 * time.Second})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.StartImageCopy, in)
	appErr := appError(t, err)
	require.False(t, appErr.NonRetryable())
	require.Equal(t, cloud.CodeThrottling, appErr.Type())
	require.Equal(t, 3*time.Second, appErr.NextRetryDelay())

	// A transient server error is retryable with the policy's backoff.
	_, err = sim.Admin().AddFault(t.Context(), cloud.Fault{Kind: cloud.FaultTransient, Action: "CopyImage", Count: 1})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.StartImageCopy, in)
	appErr = appError(t, err)
	require.False(t, appErr.NonRetryable())
	require.Zero(t, appErr.NextRetryDelay())

	// An exceeded quota is permanent.
	_, err = sim.Admin().AddFault(t.Context(), cloud.Fault{Kind: cloud.FaultQuota, Action: "CopyImage", Region: "eu-west-1", Count: 1})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.StartImageCopy, in)
	appErr = appError(t, err)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, cloud.CodeQuotaExceeded, appErr.Type())

	// An unknown region is permanent too.
	in.Region = "mars-1"
	_, err = env.ExecuteActivity(a.StartImageCopy, in)
	require.True(t, appError(t, err).NonRetryable())
}

func startCopy(t *testing.T, sim *cloudsimtest.Env, region, token string) string {
	t.Helper()
	resp, err := sim.Client.CopyImage(t.Context(), &cloud.CopyImageRequest{
		RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: region, ClientToken: token,
	})
	require.NoError(t, err)
	return resp.ImageId
}

func TestAwaitImageAvailable(t *testing.T) {
	sim, env := startCloud(t, cloudsimtest.WithTimeScale(0.0001)) // a 40 GiB copy: a fraction of a second
	var a *activities.Images
	id := startCopy(t, sim, "cn-shanghai", "a1")

	// Throttled polls are waited out, not failed.
	_, err := sim.Admin().AddFault(t.Context(), cloud.Fault{Kind: cloud.FaultThrottle, Action: "DescribeImages", Count: 2, RetryAfter: time.Millisecond})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.AwaitImageAvailable, activities.AwaitImageInput{Region: "cn-shanghai", ImageID: id})
	require.NoError(t, err)

	require.Equal(t, cloud.ImageAvailable, imageStatus(t, sim, "cn-shanghai", id))
}

func TestAwaitImageAvailableFailedCopy(t *testing.T) {
	sim, env := startCloud(t, cloudsimtest.WithTimeScale(0.0001))
	var a *activities.Images
	_, err := sim.Admin().AddFault(t.Context(), cloud.Fault{Kind: cloud.FaultCopyFail, Action: "CopyImage", Count: 1})
	require.NoError(t, err)
	id := startCopy(t, sim, "cn-shanghai", "a1")

	_, err = env.ExecuteActivity(a.AwaitImageAvailable, activities.AwaitImageInput{Region: "cn-shanghai", ImageID: id})

	appErr := appError(t, err)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, activities.ErrTypeCopyFailed, appErr.Type())
}

func TestAwaitImageAvailableRegionOutage(t *testing.T) {
	sim, env := startCloud(t, cloudsimtest.WithTimeScale(1)) // copies take minutes: the outage decides
	var a *activities.Images
	id := startCopy(t, sim, "eu-west-1", "a1")
	_, err := sim.Admin().AddFault(t.Context(), cloud.Fault{Kind: cloud.FaultOutage, Region: "eu-west-1"})
	require.NoError(t, err)

	_, err = env.ExecuteActivity(a.AwaitImageAvailable, activities.AwaitImageInput{Region: "eu-west-1", ImageID: id})

	appErr := appError(t, err)
	require.False(t, appErr.NonRetryable(), "an outage may end: the activity's retries (then the operator) decide")
	require.Equal(t, cloud.CodeServiceUnavailable, appErr.Type())
}

func TestDeleteImageCopy(t *testing.T) {
	sim, env := startCloud(t, cloudsimtest.WithTimeScale(1))
	var a *activities.Images
	copying := startCopy(t, sim, "eu-west-1", "d1")

	// A running copy is cancelled; deleting it again is a no-op.
	_, err := env.ExecuteActivity(a.DeleteImageCopy, activities.DeleteCopyInput{Region: "eu-west-1", ImageID: copying})
	require.NoError(t, err)
	_, err = env.ExecuteActivity(a.DeleteImageCopy, activities.DeleteCopyInput{Region: "eu-west-1", ImageID: copying})
	require.NoError(t, err)

	require.Equal(t, cloud.ImageDeleted, imageStatus(t, sim, "eu-west-1", copying))
}

func TestDeleteImageCopyOfFinishedCopy(t *testing.T) {
	sim, env := startCloud(t, cloudsimtest.WithTimeScale(0.0001))
	var a *activities.Images
	id := startCopy(t, sim, "cn-shanghai", "d2")
	_, err := env.ExecuteActivity(a.AwaitImageAvailable, activities.AwaitImageInput{Region: "cn-shanghai", ImageID: id})
	require.NoError(t, err)

	_, err = env.ExecuteActivity(a.DeleteImageCopy, activities.DeleteCopyInput{Region: "cn-shanghai", ImageID: id})
	require.NoError(t, err)

	require.Equal(t, cloud.ImageDeleted, imageStatus(t, sim, "cn-shanghai", id))
}

func TestShareImage(t *testing.T) {
	sim, env := startCloud(t)
	var a *activities.Images
	_, err := env.ExecuteActivity(a.ShareImage, activities.ShareImageInput{
		Region: cloudsim.SeedRegion, ImageID: cloudsim.ImageWebappV1, Accounts: []string{cloudsim.SecondAccount}, ClientToken: "s1",
	})
	require.NoError(t, err)

	perm, err := sim.Client.DescribeImageSharePermission(t.Context(), &cloud.DescribeImageSharePermissionRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1})
	require.NoError(t, err)
	require.False(t, perm.IsPublic)
	require.Equal(t, []string{cloudsim.SecondAccount}, perm.Accounts)
	// The whitelisted account now sees the image as shared with it.
	resp, err := sim.ClientAs(cloudsim.SecondAccount).DescribeImages(t.Context(), &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, ImageIds: []string{cloudsim.ImageWebappV1}})
	require.NoError(t, err)
	require.Len(t, resp.Images, 1)
	require.Equal(t, cloud.OwnerOthers, resp.Images[0].ImageOwnerAlias)
}
