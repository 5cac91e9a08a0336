package activities

import (
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/imagefleet/imagefleet/cloud"
)

// Cloud is every cloud service the activities call.
type Cloud interface {
	cloud.ECS
	cloud.ComputeNest
	ScalingCloud // rolling updates (rollout.go)
	cloud.RollingUpdateTasks
	// The container service and load balancing come through their own
	// client types: their method names clash with Compute Nest's.
	Containers() *cloud.ContainersClient
	ELB() *cloud.ELBClient
	cloud.OSS
	cloud.ACR
	BuildCloud // image builds (build.go)
	cloud.ImageRetention
}

// Options tune the activities.
type Options struct {
	// PollInterval is how often long-running cloud operations are polled.
	PollInterval time.Duration
	// Visibility and DataConverter (the worker's Temporal client and its
	// data converter) let lifecycle runs see running operations and their
	// own earlier runs (retention.go).
	Visibility    Visibility
	DataConverter converter.DataConverter
}

// Register registers every activity, bound to the cloud client c.
func Register(r worker.ActivityRegistry, c Cloud, opts Options) {
	r.RegisterActivity(&Images{ECS: c, PollInterval: opts.PollInterval})
	r.RegisterActivity(&Packages{Nest: c})
	r.RegisterActivity(&Rollouts{Cloud: c, PollInterval: opts.PollInterval})
	r.RegisterActivity(&RolloutTasks{ESS: c})
	r.RegisterActivity(&Deployments{ECS: c.Containers(), ELB: c.ELB(), PollInterval: opts.PollInterval})
	r.RegisterActivity(&PackageContent{Nest: c, OSS: c, ACR: c})
	r.RegisterActivity(&Builds{Cloud: c, PollInterval: opts.PollInterval})
	r.RegisterActivity(&Retention{Cloud: c, Visibility: opts.Visibility, DataConverter: opts.DataConverter})
}
