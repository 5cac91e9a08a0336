package cloudsim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// BenchmarkMutationByStateSize measures one persisted mutating call on a
// small state and on one holding 2,000 more images (and as many idempotency
// records), side by side: a call appends what it touched to the journal, so
// its cost should not grow with the state. The second size reports its cost
// relative to the first as x-small.
//
//	go test -run '^$' -bench MutationByStateSize -benchtime 100x ./cloudsim/
func BenchmarkMutationByStateSize(b *testing.B) {
	// The check that every call touched what it changed encodes the whole
	// state twice per call: not part of what is measured.
	var small time.Duration // per call, on the small state
	for _, extra := range []int{0, 2000} {
		b.Run(fmt.Sprintf("images=%d", extra), func(b *testing.B) {
			sim := cloudsimtest.Start(b, cloudsimtest.WithoutJournalCheck(), cloudsimtest.WithDataDir(b.TempDir()),
				cloudsimtest.WithConfig(func(c *cloudsim.Config) { c.ImageQuota = 1 << 30 }))
			for i := range extra {
				_, err := sim.Client.CopyImage(b.Context(), &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1,
					DestinationRegionId: "cn-beijing", ClientToken: fmt.Sprint("fill-", i)})
				if err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				_, err := sim.Client.ModifyImageSharePermission(b.Context(), &cloud.ModifyImageSharePermissionRequest{
					RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, AddAccount: []string{cloudsim.SecondAccount}})
				if err != nil {
					b.Fatal(err)
				}
			}
			perCall := b.Elapsed() / time.Duration(b.N)
			if extra == 0 {
				small = perCall
			} else if small > 0 {
				b.ReportMetric(float64(perCall)/float64(small), "x-small")
			}
		})
	}
}
