package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// VerifyInput names the groups of a release's stage and when its soak
// began: failure events before it do not count.
type VerifyInput struct {
	Groups []model.ReleaseGroup
	Since  time.Time
}

// VerifyReport is what a release's verification found in the cloud.
type VerifyReport struct {
	// Instances counts the groups' InService instances, Unhealthy those
	// of them that fail their health check.
	Instances int
	Unhealthy int
	// FailureEvents counts the CRITICAL events of the groups since Since.
	FailureEvents int
	// Findings name the first unhealthy instances and failure events
	// (at most maxFindings), for the operator.
	Findings []string
}

const maxFindings = 10

// VerifyGroups reads the health of every InService instance of the groups
// and their CRITICAL events (CloudMonitor) since in.Since. It only reads:
// a retried attempt changes nothing.
func (a *Rollouts) VerifyGroups(ctx context.Context, in VerifyInput) (*VerifyReport, error) {
	rep := &VerifyReport{}
	note := func(format string, args ...any) {
		if len(rep.Findings) < maxFindings {
			rep.Findings = append(rep.Findings, fmt.Sprintf(format, args...))
		}
	}
	for _, g := range in.Groups {
		for page := 1; ; page++ {
			resp, err := a.Cloud.DescribeScalingInstances(ctx, &cloud.DescribeScalingInstancesRequest{
				RegionId: g.RegionID, ScalingGroupId: g.ScalingGroupID, LifecycleState: cloud.LifecycleInService, PageNumber: page, PageSize: 100,
			})
			if err != nil {
				return nil, fromCloud(err)
			}
			for _, inst := range resp.ScalingInstances {
				rep.Instances++
				if inst.HealthStatus != "Healthy" {
					rep.Unhealthy++
					note("instance %s of %s is %s", inst.InstanceId, g.ScalingGroupID, inst.HealthStatus)
				}
			}
			if len(resp.ScalingInstances) == 0 || page*100 >= resp.TotalCount {
				break
			}
		}
		ev, err := a.Cloud.DescribeCustomEventAttribute(ctx, &cloud.DescribeCustomEventAttributeRequest{
			GroupId: g.ScalingGroupID, Level: cloud.EventCritical, StartTime: in.Since,
		})
		if err != nil {
			return nil, fromCloud(err)
		}
		rep.FailureEvents += ev.TotalCount
		for _, e := range ev.Events {
			note("event %s on %s %s", e.EventName, g.ScalingGroupID, e.InstanceId)
		}
	}
	return rep, nil
}
