package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// issue 22: a release's verification reads its stage's groups from the
// cloud: unhealthy instances and failure events since the soak began.
func TestVerifyGroups(t *testing.T) {
	sim, env := startCloud(t)
	ctx := context.Background()
	groups := []model.ReleaseGroup{{ScalingGroupID: cloudsim.GroupWeb, RegionID: cloudsim.SeedRegion}, {ScalingGroupID: cloudsim.GroupWin, RegionID: cloudsim.SeedRegion}}
	var a *activities.Rollouts
	verify := func(since time.Time) activities.VerifyReport {
		t.Helper()
		v, err := env.ExecuteActivity(a.VerifyGroups, activities.VerifyInput{Groups: groups, Since: since})
		require.NoError(t, err)
		var rep activities.VerifyReport
		require.NoError(t, v.Get(&rep))
		return rep
	}
	rep := verify(time.Time{})
	require.Equal(t, 14, rep.Instances) // 10 web + 4 win
	require.Zero(t, rep.Unhealthy)
	require.Zero(t, rep.FailureEvents)

	require.NoError(t, sim.Admin().SetInstanceHealth(ctx, cloud.InstanceHealth{ScalingGroupId: cloudsim.GroupWin, InstanceIds: []string{"i-winhz0001"}, Unhealthy: true}))
	_, err := sim.Client.PutCustomEvent(ctx, &cloud.PutCustomEventRequest{EventInfo: []cloud.Event{
		{EventName: model.EventImageFailed, Level: cloud.EventCritical, RegionId: cloudsim.SeedRegion, GroupId: cloudsim.GroupWeb, InstanceId: "i-webhz0003"},
		{EventName: "info", Level: cloud.EventInfo, GroupId: cloudsim.GroupWeb},
	}})
	require.NoError(t, err)
	rep = verify(time.Time{})
	require.Equal(t, 1, rep.Unhealthy)
	require.Equal(t, 1, rep.FailureEvents)
	require.Len(t, rep.Findings, 2)
	// Events before the soak began do not count.
	rep = verify(time.Now().Add(time.Hour))
	require.Zero(t, rep.FailureEvents)
}
