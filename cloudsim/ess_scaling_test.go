package cloudsim_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// members returns the group's instances by lifecycle state.
func members(t *testing.T, c *cloud.Client, groupID string) map[string][]string {
	t.Helper()
	resp, err := c.DescribeScalingInstances(context.Background(), &cloud.DescribeScalingInstancesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: groupID})
	ok(t, err)
	out := map[string][]string{}
	for _, in := range resp.ScalingInstances {
		out[in.LifecycleState] = append(out[in.LifecycleState], in.InstanceId)
	}
	return out
}

// newMembers returns the members of groupID not in before.
func newMembers(t *testing.T, c *cloud.Client, groupID string, before map[string][]string) []string {
	t.Helper()
	var out []string
	for _, ids := range members(t, c, groupID) {
		for _, id := range ids {
			if !slices.ContainsFunc(slices.Collect(mapValues(before)), func(old []string) bool { return slices.Contains(old, id) }) {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}

func mapValues(m map[string][]string) func(yield func([]string) bool) {
	return func(yield func([]string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// TestScalingConfigurationSourceOfScaleOut: a group with a scaling
// configuration shows it as its source; a scale-out boots the
// configuration's image, the one ModifyScalingConfiguration set, and is
// InProgress while the instances boot; a scale-in releases the oldest.
func TestScalingConfigurationSourceOfScaleOut(t *testing.T) {
	env, clock := startClocked(t)
	c, ctx := env.Client, context.Background()
	win := group(t, c, cloudsim.GroupWin)
	if win.ActiveScalingConfigurationId != "asc-win-hz" || win.LaunchTemplateId != "" || win.ImageId != cloudsim.ImageWinsvcV1 {
		t.Fatalf("windows group's source: %+v", win)
	}
	confs, err := c.DescribeScalingConfigurations(ctx, &cloud.DescribeScalingConfigurationsRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin})
	ok(t, err)
	conf := single(t, "configuration", confs.ScalingConfigurations)
	if conf.ImageId != cloudsim.ImageWinsvcV1 || conf.LifecycleState != cloud.ConfigurationActive {
		t.Fatalf("configuration: %+v", conf)
	}

	// An image of another region, or none, is refused; the same image is no change.
	_, err = c.ModifyScalingConfiguration(ctx, &cloud.ModifyScalingConfigurationRequest{RegionId: cloudsim.SeedRegion, ScalingConfigurationId: conf.ScalingConfigurationId, ImageId: "m-nosuch"})
	wantCode(t, err, cloud.CodeImageNotFound)
	_, err = c.ModifyScalingConfiguration(ctx, &cloud.ModifyScalingConfigurationRequest{RegionId: cloudsim.SeedRegion, ScalingConfigurationId: conf.ScalingConfigurationId, ImageId: cloudsim.ImageWinsvcV1})
	ok(t, err)
	if got := ledgerOf(env, "ModifyScalingConfiguration"); len(got) != 0 {
		t.Fatalf("setting the image it has is a side effect: %+v", got)
	}
	_, err = c.ModifyScalingConfiguration(ctx, &cloud.ModifyScalingConfigurationRequest{RegionId: cloudsim.SeedRegion, ScalingConfigurationId: conf.ScalingConfigurationId, ImageId: cloudsim.ImageWebappV1})
	ok(t, err)
	wantOneEntry(t, env, "ModifyScalingConfiguration", conf.ScalingConfigurationId)
	if got := group(t, c, cloudsim.GroupWin).ImageId; got != cloudsim.ImageWebappV1 {
		t.Fatalf("group's image after the modification: %s", got)
	}

	// HealthCheck is suspended, not ScaleOut: the group scales out.
	before := members(t, c, cloudsim.GroupWin)
	out, err := c.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin,
		AdjustmentType: cloud.AdjustQuantity, AdjustmentValue: 2, ClientToken: "out-1"})
	ok(t, err)
	again, err := c.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin,
		AdjustmentType: cloud.AdjustQuantity, AdjustmentValue: 2, ClientToken: "out-1"})
	ok(t, err)
	if again.ScalingActivityId != out.ScalingActivityId {
		t.Fatalf("a repeated token scaled again: %s, %s", out.ScalingActivityId, again.ScalingActivityId)
	}
	launched := newMembers(t, c, cloudsim.GroupWin, before)
	if len(launched) != 2 || len(ledgerOf(env, "ScaleWithAdjustment")) != 2 {
		t.Fatalf("launched %v, ledger %+v", launched, ledgerOf(env, "ScaleWithAdjustment"))
	}
	for _, id := range launched {
		if in := instance(t, c, id); in.ImageId != cloudsim.ImageWebappV1 || in.Status != cloud.InstancePending {
			t.Fatalf("launched instance: %+v", in)
		}
	}
	g := group(t, c, cloudsim.GroupWin)
	if g.PendingCapacity != 2 || g.TotalCapacity != 6 || weights(t, c, cloudsim.LBWin)[launched[0]] != 50 {
		t.Fatalf("group while booting: %+v, weights %v", g, weights(t, c, cloudsim.LBWin))
	}
	acts, err := c.DescribeScalingActivities(ctx, &cloud.DescribeScalingActivitiesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, StatusCode: cloud.ActivityInProgress})
	ok(t, err)
	if single(t, "activity", acts.ScalingActivities).ScalingActivityId != out.ScalingActivityId {
		t.Fatalf("activities: %+v", acts.ScalingActivities)
	}
	// One activity at a time.
	_, err = c.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, AdjustmentType: cloud.AdjustQuantity, AdjustmentValue: 1})
	wantCode(t, err, cloud.CodeScalingActivity)
	clock.Advance(10 * time.Minute)
	if g := group(t, c, cloudsim.GroupWin); g.InServiceCapacity != 6 || g.PendingCapacity != 0 {
		t.Fatalf("group after the boot: %+v", g)
	}

	// Scale in to 4: the two oldest go, released.
	oldest := before[cloud.LifecycleInService][:2]
	_, err = c.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, AdjustmentType: cloud.AdjustTotal, AdjustmentValue: 4})
	ok(t, err)
	left := members(t, c, cloudsim.GroupWin)[cloud.LifecycleInService]
	if len(left) != 4 || slices.Contains(left, oldest[0]) || slices.Contains(left, oldest[1]) {
		t.Fatalf("after the scale-in: %v (oldest %v)", left, oldest)
	}
	resp, err := c.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: cloudsim.SeedRegion, InstanceIds: oldest})
	ok(t, err)
	if len(resp.Instances) != 0 || weights(t, c, cloudsim.LBWin)[oldest[0]] != 0 {
		t.Fatalf("removed instances are still there: %+v", resp.Instances)
	}

	// Beyond MaxSize, below MinSize, a suspended process, no change: refused, no ledger entry.
	entries := len(env.Server.Ledger())
	_, err = c.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, AdjustmentType: cloud.AdjustQuantity, AdjustmentValue: 100})
	wantCode(t, err, cloud.CodeCapacityExceeded)
	minSize := 4
	_, err = c.ModifyScalingGroup(ctx, &cloud.ModifyScalingGroupRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, MinSize: &minSize})
	ok(t, err)
	entries++
	_, err = c.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, AdjustmentType: cloud.AdjustPercent, AdjustmentValue: -10})
	wantCode(t, err, cloud.CodeCapacityExceeded)
	_, err = c.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, AdjustmentType: cloud.AdjustTotal, AdjustmentValue: 4})
	wantCode(t, err, cloud.CodeInvalidParameter)
	_, err = c.SuspendProcesses(ctx, &cloud.SuspendProcessesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, Processes: []string{cloud.ProcessScaleOut}})
	ok(t, err)
	entries++
	_, err = c.ScaleWithAdjustment(ctx, &cloud.ScaleWithAdjustmentRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, AdjustmentType: cloud.AdjustQuantity, AdjustmentValue: 1})
	wantCode(t, err, cloud.CodeProcessSuspended)
	if n := len(env.Server.Ledger()); n != entries {
		t.Fatalf("refused scalings left %d ledger entries", n-entries)
	}
}

// TestLaunchTemplateSourceOfScaleOut: a group at its template's Default
// version launches the default version's image; a new version changes
// nothing until it is made default; a group at a fixed version or at Latest
// follows that; scaling rules and RemoveInstances work on the group.
func TestLaunchTemplateSourceOfScaleOut(t *testing.T) {
	env, clock := startClocked(t)
	c, ctx := env.Client, context.Background()
	web := group(t, c, cloudsim.GroupWeb)
	if web.LaunchTemplateId != cloudsim.LaunchTemplateWeb || web.LaunchTemplateVersion != cloud.LaunchTemplateDefault || web.ActiveScalingConfigurationId != "" || web.ImageId != cloudsim.ImageWebappV1 {
		t.Fatalf("web group's source: %+v", web)
	}
	versions, err := c.DescribeLaunchTemplateVersions(ctx, &cloud.DescribeLaunchTemplateVersionsRequest{RegionId: cloudsim.SeedRegion, LaunchTemplateId: cloudsim.LaunchTemplateWeb, DefaultVersion: true})
	ok(t, err)
	v1 := single(t, "default version", versions.LaunchTemplateVersionSets)
	if v1.VersionNumber != 1 || !v1.DefaultVersion || v1.LaunchTemplateData.ImageId != cloudsim.ImageWebappV1 {
		t.Fatalf("version 1: %+v", v1)
	}
	data := v1.LaunchTemplateData
	created, err := c.CreateLaunchTemplateVersion(ctx, &cloud.CreateLaunchTemplateVersionRequest{RegionId: cloudsim.SeedRegion, LaunchTemplateId: cloudsim.LaunchTemplateWeb,
		VersionDescription: "v2", ImageId: cloudsim.ImageWinsvcV1, InstanceType: data.InstanceType})
	ok(t, err)
	if created.LaunchTemplateVersionNumber != 2 || group(t, c, cloudsim.GroupWeb).ImageId != cloudsim.ImageWebappV1 {
		t.Fatalf("version 2 (%d) changed the group at Default", created.LaunchTemplateVersionNumber)
	}
	_, err = c.ModifyLaunchTemplateDefaultVersion(ctx, &cloud.ModifyLaunchTemplateDefaultVersionRequest{RegionId: cloudsim.SeedRegion, LaunchTemplateId: cloudsim.LaunchTemplateWeb, DefaultVersionNumber: 9})
	wantCode(t, err, cloud.CodeLaunchTemplateVersionNotFound)
	for range 2 { // the second changes nothing
		_, err = c.ModifyLaunchTemplateDefaultVersion(ctx, &cloud.ModifyLaunchTemplateDefaultVersionRequest{RegionId: cloudsim.SeedRegion, LaunchTemplateId: cloudsim.LaunchTemplateWeb, DefaultVersionNumber: 2})
		ok(t, err)
	}
	wantOneEntry(t, env, "ModifyLaunchTemplateDefaultVersion", cloudsim.LaunchTemplateWeb)
	if got := group(t, c, cloudsim.GroupWeb).ImageId; got != cloudsim.ImageWinsvcV1 {
		t.Fatalf("group at Default after version 2 became default: %s", got)
	}

	// A simple rule scales out from the default version.
	rule, err := c.CreateScalingRule(ctx, &cloud.CreateScalingRuleRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, AdjustmentType: cloud.AdjustQuantity, AdjustmentValue: 1})
	ok(t, err)
	rules, err := c.DescribeScalingRules(ctx, &cloud.DescribeScalingRulesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb})
	ok(t, err)
	if single(t, "rule", rules.ScalingRules).ScalingRuleAri != rule.ScalingRuleAri {
		t.Fatalf("rules: %+v", rules.ScalingRules)
	}
	launch := func(want string) string {
		t.Helper()
		before := members(t, c, cloudsim.GroupWeb)
		_, err := c.ExecuteScalingRule(ctx, &cloud.ExecuteScalingRuleRequest{RegionId: cloudsim.SeedRegion, ScalingRuleAri: rule.ScalingRuleAri})
		ok(t, err)
		ids := newMembers(t, c, cloudsim.GroupWeb, before)
		if len(ids) != 1 || instance(t, c, ids[0]).ImageId != want {
			t.Fatalf("launched %v, want one instance of %s", ids, want)
		}
		clock.Advance(10 * time.Minute)
		return ids[0]
	}
	launch(cloudsim.ImageWinsvcV1)

	// A fixed version, then Latest.
	_, err = c.ModifyScalingGroup(ctx, &cloud.ModifyScalingGroupRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, LaunchTemplateVersion: "1"})
	ok(t, err)
	first := launch(cloudsim.ImageWebappV1)
	_, err = c.ModifyScalingGroup(ctx, &cloud.ModifyScalingGroupRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, LaunchTemplateVersion: "7"})
	wantCode(t, err, cloud.CodeLaunchTemplateVersionNotFound)
	_, err = c.ModifyScalingGroup(ctx, &cloud.ModifyScalingGroupRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, LaunchTemplateVersion: cloud.LaunchTemplateLatest})
	ok(t, err)
	_, err = c.CreateLaunchTemplateVersion(ctx, &cloud.CreateLaunchTemplateVersionRequest{RegionId: cloudsim.SeedRegion, LaunchTemplateId: cloudsim.LaunchTemplateWeb, ImageId: cloudsim.ImageWebappV1, InstanceType: data.InstanceType})
	ok(t, err)
	launch(cloudsim.ImageWebappV1)

	// RemoveInstances releases the instance; a second time it is not found.
	_, err = c.RemoveInstances(ctx, &cloud.RemoveInstancesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, InstanceIds: []string{first}})
	ok(t, err)
	_, err = c.RemoveInstances(ctx, &cloud.RemoveInstancesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, InstanceIds: []string{first}})
	wantCode(t, err, cloud.CodeInstanceNotFound)
	if _, found := weights(t, c, cloudsim.LBWeb)[first]; found || len(ledgerOf(env, "RemoveInstances")) != 1 {
		t.Fatalf("removed instance still weighted or ledger %+v", ledgerOf(env, "RemoveInstances"))
	}

	// Back to a scaling configuration of the group.
	conf, err := c.CreateScalingConfiguration(ctx, &cloud.CreateScalingConfigurationRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, ImageId: cloudsim.ImageWinsvcV1, InstanceTypes: []string{"ecs.g7.large"}})
	ok(t, err)
	_, err = c.ModifyScalingGroup(ctx, &cloud.ModifyScalingGroupRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, ActiveScalingConfigurationId: conf.ScalingConfigurationId})
	ok(t, err)
	if g := group(t, c, cloudsim.GroupWeb); g.LaunchTemplateId != "" || g.ActiveScalingConfigurationId != conf.ScalingConfigurationId || g.ImageId != cloudsim.ImageWinsvcV1 {
		t.Fatalf("group after switching to a configuration: %+v", g)
	}
	_, err = c.ModifyScalingGroup(ctx, &cloud.ModifyScalingGroupRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, ActiveScalingConfigurationId: conf.ScalingConfigurationId})
	wantCode(t, err, cloud.CodeInvalidParameter)
}

// TestScalingSourcesSurviveRestart: sources, versions and rules are
// persisted.
func TestScalingSourcesSurviveRestart(t *testing.T) {
	env, _ := startClocked(t, cloudsimtest.WithDataDir(t.TempDir()))
	c, ctx := env.Client, context.Background()
	_, err := c.CreateLaunchTemplateVersion(ctx, &cloud.CreateLaunchTemplateVersionRequest{RegionId: cloudsim.SeedRegion, LaunchTemplateId: cloudsim.LaunchTemplateWeb, ImageId: cloudsim.ImageWinsvcV1, InstanceType: "ecs.g7.large"})
	ok(t, err)
	_, err = c.ModifyLaunchTemplateDefaultVersion(ctx, &cloud.ModifyLaunchTemplateDefaultVersionRequest{RegionId: cloudsim.SeedRegion, LaunchTemplateId: cloudsim.LaunchTemplateWeb, DefaultVersionNumber: 2})
	ok(t, err)
	_, err = c.ModifyScalingConfiguration(ctx, &cloud.ModifyScalingConfigurationRequest{RegionId: cloudsim.SeedRegion, ScalingConfigurationId: "asc-busy-hz", ImageId: cloudsim.ImageWinsvcV1})
	ok(t, err)
	env.Restart()
	if got := group(t, env.Client, cloudsim.GroupWeb).ImageId; got != cloudsim.ImageWinsvcV1 {
		t.Fatalf("web group's image after a restart: %s", got)
	}
	if got := group(t, env.Client, cloudsim.GroupBusy).ImageId; got != cloudsim.ImageWinsvcV1 {
		t.Fatalf("busy group's image after a restart: %s", got)
	}
}
