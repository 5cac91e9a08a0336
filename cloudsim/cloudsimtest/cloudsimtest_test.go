package cloudsimtest_test

import (
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

func TestStartAndRestart(t *testing.T) {
	clock := cloudsimtest.NewClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	env := cloudsimtest.Start(t, cloudsimtest.WithNow(clock.Now), cloudsimtest.WithFaults(cloud.Fault{Kind: cloud.FaultSlow, Delay: time.Millisecond}))
	if env.Client.AccountID() != cloudsim.DefaultAccount || env.ClientAs(cloudsim.SecondAccount).AccountID() != cloudsim.SecondAccount {
		t.Fatal("clients act as the wrong accounts")
	}
	resp, err := env.Client.CopyImage(t.Context(), &cloud.CopyImageRequest{
		RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1", ClientToken: "t",
	})
	if err != nil {
		t.Fatal(err)
	}
	url, first := env.URL, env.Server
	env.Restart()
	if env.URL != url || env.Server == first || len(env.Server.Faults()) != 1 {
		t.Fatalf("restart: URL %s → %s, faults %+v", url, env.URL, env.Server.Faults())
	}
	again, err := env.Client.CopyImage(t.Context(), &cloud.CopyImageRequest{
		RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1", ClientToken: "t",
	})
	if err != nil || again.ImageId != resp.ImageId {
		t.Fatalf("after restart: %+v, %v", again, err)
	}
	clock.Advance(time.Hour)
	if got := clock.Now(); !got.Equal(time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("clock at %s", got)
	}
}
