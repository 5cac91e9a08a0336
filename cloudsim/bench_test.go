package cloudsim_test

import (
	"fmt"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// BenchmarkMutationByStateSize measures one persisted mutating call on a
// small state and on one holding 2,000 more images, side by side: the whole
// state is written on every change, so the cost grows with its size.
//
//	go test -run '^$' -bench MutationByStateSize -benchtime 100x ./cloudsim/
func BenchmarkMutationByStateSize(b *testing.B) {
	for _, extra := range []int{0, 2000} {
		b.Run(fmt.Sprintf("images=%d", extra), func(b *testing.B) {
			sim := cloudsimtest.Start(b, cloudsimtest.WithDataDir(b.TempDir()),
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
		})
	}
}
