package cloudsim_test

import (
	"fmt"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

func BenchmarkTmpMutation(b *testing.B) {
	for _, n := range []int{0, 2000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			sim := cloudsimtest.Start(b, cloudsimtest.WithDataDir(b.TempDir()), cloudsimtest.WithConfig(func(c *cloudsim.Config) { c.ImageQuota = 1 << 30 }))
			for i := range n {
				_, err := sim.Client.CopyImage(b.Context(), &cloud.CopyImageRequest{RegionId: "cn-hangzhou", ImageId: "m-webapp-v1", DestinationRegionId: "cn-beijing", ClientToken: fmt.Sprint("seed", i)})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				_, err := sim.Client.ModifyImageSharePermission(b.Context(), &cloud.ModifyImageSharePermissionRequest{RegionId: "cn-hangzhou", ImageId: "m-webapp-v1", AddAccount: []string{"1000000000000002"}})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
