package cloudsim_test

import (
	"context"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// t0 is the fake clock's start.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// startClocked starts a simulator on a fake clock at real durations
// (TimeScale 1): time moves only through clock.Advance.
func startClocked(t *testing.T, opts ...cloudsimtest.Option) (*cloudsimtest.Env, *cloudsimtest.Clock) {
	t.Helper()
	clock := cloudsimtest.NewClock(t0)
	opts = append([]cloudsimtest.Option{cloudsimtest.WithNow(clock.Now), cloudsimtest.WithTimeScale(1)}, opts...)
	return cloudsimtest.Start(t, opts...), clock
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantCode fails unless err is an API error with code.
func wantCode(t *testing.T, err error, code string) *cloud.APIError {
	t.Helper()
	apiErr, isAPI := cloud.AsAPIError(err)
	if !isAPI || apiErr.Code != code {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	return apiErr
}

// describe returns one image as c sees it, deleted ones included.
func describe(t *testing.T, c *cloud.Client, region, id string) cloud.Image {
	t.Helper()
	resp, err := c.DescribeImages(context.Background(), &cloud.DescribeImagesRequest{RegionId: region, ImageIds: []string{id}, IncludeDeleted: true})
	ok(t, err)
	return single(t, "image "+id+" in "+region, resp.Images)
}

// single returns the one item a call answered about what.
func single[T any](t *testing.T, what string, items []T) T {
	t.Helper()
	if len(items) != 1 {
		t.Fatalf("%s: want 1, got %d: %+v", what, len(items), items)
	}
	return items[0]
}

// allowed reports whether a call went through; a refusal must be code.
func allowed(t *testing.T, err error, code string) bool {
	t.Helper()
	if err != nil {
		wantCode(t, err, code)
		return false
	}
	return true
}

// wantOneEntry fails unless the ledger holds one entry of action, on id.
func wantOneEntry(t *testing.T, env *cloudsimtest.Env, action, id string) {
	t.Helper()
	if got := ledgerOf(env, action); len(got) != 1 || got[0].ResourceId != id {
		t.Fatalf("ledger of %s: %+v", action, got)
	}
}

// visible reports whether c sees image id in region (not deleted).
func visible(t *testing.T, c *cloud.Client, region, id string) bool {
	t.Helper()
	resp, err := c.DescribeImages(context.Background(), &cloud.DescribeImagesRequest{RegionId: region, ImageIds: []string{id}})
	ok(t, err)
	return len(resp.Images) == 1
}

// copyWebapp copies m-webapp-v1 (40 GiB) from cn-hangzhou to region.
func copyWebapp(t *testing.T, c *cloud.Client, region, token string) string {
	t.Helper()
	resp, err := c.CopyImage(context.Background(), &cloud.CopyImageRequest{
		RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: region, ClientToken: token,
	})
	ok(t, err)
	return resp.ImageId
}

// ledgerOf returns the entries of action.
func ledgerOf(env *cloudsimtest.Env, action string) []cloud.LedgerEntry {
	var out []cloud.LedgerEntry
	for _, e := range env.Server.Ledger() {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}
