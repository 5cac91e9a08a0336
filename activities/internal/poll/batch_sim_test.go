package poll

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// The shared poller against the simulated cloud: 150 copies in one region
// cost two DescribeImages calls a tick (the API takes 100 IDs), a throttled
// call delays the next tick by the cloud's Retry-After, a deleted copy fails
// only its own wait, and the tick after the copies finish wakes every
// waiter. Calls are counted by the simulator.
func TestBatchAgainstSimulator(t *testing.T) {
	clock := cloudsimtest.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	sim := cloudsimtest.Start(t, cloudsimtest.WithNow(clock.Now), cloudsimtest.WithTimeScale(1),
		cloudsimtest.WithoutJournalCheck(), cloudsimtest.WithConfig(func(c *cloudsim.Config) { c.ImageQuota = 200 }))
	ctx := t.Context()
	const region = "cn-shanghai"
	var ids []string
	for i := range 150 {
		resp, err := sim.Client.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: region, ClientToken: fmt.Sprintf("c%d", i)})
		require.NoError(t, err)
		ids = append(ids, resp.ImageId)
	}

	h := newHarness(t, Rules{Interval: time.Second})
	batch := &Batch[cloud.Image]{Rules: h.batch.Rules, Fetch: func(ctx context.Context, region string, ids []string) (map[string]cloud.Image, error) {
		resp, err := sim.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: region, ImageIds: ids, IncludeDeleted: true, PageSize: 100})
		if err != nil {
			return nil, err
		}
		if resp.TotalCount != len(ids) || len(resp.Images) != len(ids) {
			return nil, fmt.Errorf("one page should answer a call: %d of %d images", len(resp.Images), resp.TotalCount)
		}
		out := map[string]cloud.Image{}
		for _, img := range resp.Images {
			out[img.ImageId] = img
		}
		return out, nil
	}}
	check := func(_ context.Context, img cloud.Image, found bool) (bool, time.Duration, error) {
		switch {
		case !found:
			return false, 0, fmt.Errorf("%s not found", img.ImageId)
		case img.Status == cloud.ImageAvailable:
			return true, 0, nil
		case img.Status != cloud.ImageCreating:
			return false, 0, fmt.Errorf("copy ended %s", img.Status)
		}
		return false, 0, nil
	}
	results := map[string]chan error{}
	for _, id := range ids {
		ch := make(chan error, 1)
		results[id] = ch
		go func() { ch <- batch.Wait(ctx, region, id, check, nil) }()
	}
	for batch.Waiters(region) != len(ids) {
		time.Sleep(time.Millisecond)
	}
	require.Equal(t, time.Second, h.ticks.idle())
	calls := func() int64 { return sim.Server.Calls()["DescribeImages"] }
	before := calls()

	_, err := sim.Admin().AddFault(ctx, cloud.Fault{Kind: cloud.FaultThrottle, Action: "DescribeImages", Count: 1, RetryAfter: 7 * time.Second})
	require.NoError(t, err)
	h.ticks.tick()
	require.Equal(t, 7*time.Second, h.ticks.idle(), "the next tick waits the cloud's Retry-After")
	require.Equal(t, before+1, calls(), "a throttled call ends the tick: its other call waits too")
	h.step(1)
	require.Equal(t, before+3, calls(), "150 copies: 2 calls a tick")

	// A copy deleted meanwhile fails its own wait only.
	_, err = sim.Client.CancelCopyImage(ctx, &cloud.CancelCopyImageRequest{RegionId: region, ImageId: ids[0]})
	require.NoError(t, err)
	h.ticks.tick()
	require.ErrorContains(t, <-results[ids[0]], "ended Deleted")
	h.ticks.idle()
	require.Equal(t, before+5, calls())
	for _, id := range ids[1:] {
		pending(t, results[id])
	}

	clock.Advance(time.Hour)
	h.ticks.tick()
	for _, id := range ids[1:] {
		require.NoError(t, <-results[id])
	}
	require.Equal(t, before+7, calls())
	h.ticks.idle()
	h.ticks.tick() // nobody waits: the loop ends
}
