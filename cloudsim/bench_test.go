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

// BenchmarkFleetCalls measures the calls of a rolling update's chunk (100
// instances) on the seed state and on one with a 10,000-instance scaling
// group, side by side: the fleet's size must not slow a call down. Each
// call at fleet size reports its cost relative to the seed as x-seed.
//
//	go test -run '^$' -bench FleetCalls -benchtime 200x ./cloudsim/
func BenchmarkFleetCalls(b *testing.B) {
	type fleetCall struct {
		name string
		do   func(b *testing.B, c *cloud.Client, ids []string, i int)
	}
	calls := []fleetCall{
		{"DescribeInstances", func(b *testing.B, c *cloud.Client, ids []string, _ int) {
			resp, err := c.DescribeInstances(b.Context(), &cloud.DescribeInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: ids, PageSize: 100})
			if err != nil || len(resp.Instances) != len(ids) {
				b.Fatal(err, len(resp.Instances))
			}
		}},
		{"RunCommand+DescribeInvocationResults", func(b *testing.B, c *cloud.Client, ids []string, i int) {
			run, err := c.RunCommand(b.Context(), &cloud.RunCommandRequest{RegionId: cloudsim.SeedRegion, Type: cloud.CommandShell,
				CommandContent: "echo ok", InstanceIds: ids, ClientToken: fmt.Sprint("bench-", i)})
			if err != nil {
				b.Fatal(err)
			}
			res, err := c.DescribeInvocationResults(b.Context(), &cloud.DescribeInvocationResultsRequest{RegionId: cloudsim.SeedRegion, InvokeId: run.InvokeId, PageSize: 100})
			if err != nil || res.TotalCount != len(ids) {
				b.Fatal(err)
			}
		}},
		{"EnterStandby+ExitStandby", func(b *testing.B, c *cloud.Client, ids []string, _ int) {
			ids = ids[:cloud.MaxStandbyInstances]
			if _, err := c.EnterStandby(b.Context(), &cloud.EnterStandbyRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: "asg-bench", InstanceIds: ids}); err != nil {
				b.Fatal(err)
			}
			if _, err := c.ExitStandby(b.Context(), &cloud.ExitStandbyRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: "asg-bench", InstanceIds: ids}); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, call := range calls {
		var seed time.Duration
		for _, size := range []int{100, cloudsim.MaxScalingGroupSize} {
			b.Run(fmt.Sprintf("%s/group=%d", call.name, size), func(b *testing.B) {
				sim := cloudsimtest.Start(b, cloudsimtest.WithoutJournalCheck(), cloudsimtest.WithDataDir(b.TempDir()), cloudsimtest.WithTimeScale(0.0001))
				if _, err := sim.Server.AddScalingGroup(cloudsim.ScalingGroupSpec{ScalingGroupId: "asg-bench", RegionId: cloudsim.SeedRegion,
					ImageId: cloudsim.ImageWebappV1, Size: size, LoadBalancerId: "lb-bench"}); err != nil {
					b.Fatal(err)
				}
				ids := make([]string, 100)
				for i := range ids {
					ids[i] = fmt.Sprintf("i-bench%04d", size-i) // the newest: last in every listing
				}
				for i := 0; b.Loop(); i++ {
					call.do(b, sim.Client, ids, i)
				}
				perCall := b.Elapsed() / time.Duration(b.N)
				if size == 100 {
					seed = perCall
				} else if seed > 0 {
					b.ReportMetric(float64(perCall)/float64(seed), "x-seed")
				}
			})
		}
	}
}
