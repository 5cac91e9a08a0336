package cloudsim

import (
	"testing"
	"time"
)

// A group of a state saved before groups had sources gets a scaling
// configuration with the image it showed.
func TestGroupsOfAnOldStateGetASource(t *testing.T) {
	st := newState()
	seed(st, time.Now())
	g := st.ScalingGroups[GroupWin]
	delete(st.ScalingConfigurations, g.ActiveScalingConfigurationId)
	g.ActiveScalingConfigurationId = ""
	giveGroupsASource(st)
	sc := st.ScalingConfigurations["asc-win-hz"]
	if sc == nil || sc.ImageId != ImageWinsvcV1 || sc.ScalingGroupId != GroupWin || g.ActiveScalingConfigurationId != "asc-win-hz" || sc.InstanceTypes[0] != "ecs.g7.large" {
		t.Fatalf("configuration %+v, group's %q", sc, g.ActiveScalingConfigurationId)
	}
	if data, err := launchData(st, g); err != nil || data.ImageId != ImageWinsvcV1 {
		t.Fatalf("launch data %+v, %v", data, err)
	}
	web := st.ScalingGroups[GroupWeb]
	if web.ActiveScalingConfigurationId != "" || len(st.ScalingConfigurations) != 2 {
		t.Fatalf("a group with a launch template got a configuration: %+v", st.ScalingConfigurations)
	}
}
