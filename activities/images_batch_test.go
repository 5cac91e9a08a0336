package activities_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// ticks lets a test run the shared poller's loops one tick at a time.
type ticks struct {
	slept chan struct{}
	run   chan struct{}
}

func (tk *ticks) sleep(context.Context, time.Duration) error {
	tk.slept <- struct{}{}
	<-tk.run
	return nil
}

// step lets loops parked loops run one tick and waits until their calls are
// over (they are parked again).
func (tk *ticks) step(loops int) {
	for range loops {
		tk.run <- struct{}{}
	}
	for range loops {
		<-tk.slept
	}
}

// Many copies awaited at once cost the cloud one DescribeImages call per
// region and tick (per 100 copies), not one per copy: counted in the
// simulator's call counters, tick by tick, with no timing involved.
func TestAwaitImageAvailableManyCopiesOneCallPerRegionAndTick(t *testing.T) {
	clock := cloudsimtest.NewClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	sim := cloudsimtest.Start(t, cloudsimtest.WithNow(clock.Now), cloudsimtest.WithTimeScale(1),
		cloudsimtest.WithoutJournalCheck(), cloudsimtest.WithConfig(func(c *cloudsim.Config) { c.ImageQuota = 200 }))
	images := &activities.Images{ECS: sim.Client, PollInterval: time.Second}
	tk := &ticks{slept: make(chan struct{}), run: make(chan struct{})}
	activities.SetCopyTicks(images, tk.sleep)

	perRegion := map[string]int{"cn-shanghai": 150, "eu-west-1": 20} // 2 + 1 calls a tick
	type copyOf struct{ region, id string }
	var copies []copyOf
	for region, n := range perRegion {
		for i := range n {
			copies = append(copies, copyOf{region, startCopy(t, sim, region, fmt.Sprintf("%s-%d", region, i))})
		}
	}
	results := make(chan error, len(copies))
	var suite testsuite.WorkflowTestSuite
	for _, c := range copies {
		env := suite.NewTestActivityEnvironment()
		env.RegisterActivity(images)
		go func() {
			_, err := env.ExecuteActivity(images.AwaitImageAvailable, activities.AwaitImageInput{Region: c.region, ImageID: c.id})
			results <- err
		}()
	}
	for region, n := range perRegion {
		for activities.CopyWaiters(images, region) != n {
			runtime.Gosched()
		}
	}
	<-tk.slept // both regions' loops wait for their first tick
	<-tk.slept

	before := sim.Server.Calls()["DescribeImages"]
	for tick := 1; tick <= 3; tick++ {
		tk.step(2)
		require.Equal(t, int64(3*tick), sim.Server.Calls()["DescribeImages"]-before,
			"170 copies in 2 regions: 3 calls a tick (150 copies need 2 calls of 100), not 170")
	}
	select {
	case err := <-results:
		t.Fatalf("a copy still Creating ended its wait: %v", err)
	default:
	}

	// The cloud finishes every copy: the next tick wakes all of them.
	clock.Advance(time.Hour)
	tk.run <- struct{}{}
	tk.run <- struct{}{}
	for range copies {
		require.NoError(t, <-results)
	}
	require.Equal(t, int64(3*4), sim.Server.Calls()["DescribeImages"]-before)
	for _, c := range copies[:3] {
		require.Equal(t, cloud.ImageAvailable, imageStatus(t, sim, c.region, c.id))
	}
	<-tk.slept
	<-tk.slept
	tk.run <- struct{}{} // nobody waits: the loops end
	tk.run <- struct{}{}
}
