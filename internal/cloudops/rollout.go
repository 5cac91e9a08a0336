package cloudops

import (
	"context"
	"slices"
	"strings"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// RolloutCloud is what checking a rolling update asks of the cloud.
type RolloutCloud interface {
	cloud.ECS
	cloud.ECSInstances
	cloud.AutoScaling
	cloud.LaunchTemplates
	cloud.OOS
}

// RolloutPlan is what a task starts from.
type RolloutPlan struct {
	// Instances are the target instances, oldest first.
	Instances []string
	// SuspendedProcesses are the processes suspended before the task.
	SuspendedProcesses []string
	OSType             string
}

// CheckRollout checks a spec against the cloud and returns the plan: the
// group exists in the region with no scaling activity in progress, the image
// (and rollback image) is Available in the group's region, the package
// version exists, the script type fits the instances' OS, and there are at
// least as many target instances as batches. Errors that a retry cannot fix
// are *RefusedError.
func CheckRollout(ctx context.Context, c RolloutCloud, spec model.RolloutSpec) (*RolloutPlan, error) {
	refuse := func(format string, args ...any) (*RolloutPlan, error) {
		return nil, refused(format, args...)
	}
	if err := spec.Validate(); err != nil {
		return refuse("%v", err)
	}
	groups, err := c.DescribeScalingGroups(ctx, &cloud.DescribeScalingGroupsRequest{RegionId: spec.RegionID, ScalingGroupIds: []string{spec.ScalingGroupID}})
	if err != nil {
		return nil, refusedIfPermanent(err, "scaling group %s in %s", spec.ScalingGroupID, spec.RegionID)
	}
	if len(groups.ScalingGroups) == 0 {
		return refuse("scaling group %s does not exist in %s", spec.ScalingGroupID, spec.RegionID)
	}
	group := groups.ScalingGroups[0]
	acts, err := c.DescribeScalingActivities(ctx, &cloud.DescribeScalingActivitiesRequest{RegionId: spec.RegionID, ScalingGroupId: spec.ScalingGroupID, StatusCode: cloud.ActivityInProgress})
	if err != nil {
		return nil, refusedIfPermanent(err, "scaling activities of %s", spec.ScalingGroupID)
	}
	if len(acts.ScalingActivities) > 0 {
		a := acts.ScalingActivities[0]
		return refuse("scaling group %s has a scaling activity in progress (%s: %s); wait until it ends", spec.ScalingGroupID, a.ScalingActivityId, a.Description)
	}
	members, err := scalingInstances(ctx, c, spec.RegionID, spec.ScalingGroupID)
	if err != nil {
		return nil, err
	}
	plan := &RolloutPlan{SuspendedProcesses: slices.Clone(group.SuspendedProcesses)}
	if spec.IsRollback() {
		for _, id := range spec.Instances {
			state, ok := members.states[id]
			if !ok {
				return refuse("instance %s is no longer in scaling group %s", id, spec.ScalingGroupID)
			}
			if state != cloud.LifecycleInService && state != cloud.LifecycleStandby {
				return refuse("instance %s is %s in scaling group %s", id, state, spec.ScalingGroupID)
			}
		}
		plan.Instances = slices.Clone(spec.Instances)
	} else {
		for _, m := range members.ordered {
			if members.states[m] == cloud.LifecycleInService {
				plan.Instances = append(plan.Instances, m)
			}
		}
	}
	if len(plan.Instances) == 0 {
		return refuse("scaling group %s has no InService instance", spec.ScalingGroupID)
	}
	if spec.Batches > len(plan.Instances) {
		return refuse("%d batches for %d instances: every batch needs at least one instance", spec.Batches, len(plan.Instances))
	}
	insts, err := c.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: spec.RegionID, InstanceIds: plan.Instances[:1]})
	if err != nil {
		return nil, refusedIfPermanent(err, "instance %s", plan.Instances[0])
	}
	if len(insts.Instances) == 1 {
		plan.OSType = insts.Instances[0].OSType
	}
	switch spec.TaskType {
	case model.TaskImage:
		for _, img := range []string{spec.Image.ImageID, spec.Image.RollbackImageID} {
			if img == "" {
				continue
			}
			resp, err := c.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: spec.RegionID, ImageIds: []string{img}})
			if err != nil {
				return nil, refusedIfPermanent(err, "image %s", img)
			}
			if len(resp.Images) == 0 {
				return refuse("image %s does not exist in %s, the scaling group's region (copy it there first)", img, spec.RegionID)
			}
			if resp.Images[0].Status != cloud.ImageAvailable {
				return refuse("image %s in %s is %s, not Available", img, spec.RegionID, resp.Images[0].Status)
			}
		}
		if err := checkTemplateRoom(ctx, c, spec, group); err != nil {
			return nil, err
		}
	case model.TaskScript:
		if plan.OSType == cloud.OSWindows && spec.Script.Type == model.ScriptShell {
			return refuse("the instances of %s run Windows: use %s or %s, not %s", spec.ScalingGroupID, model.ScriptBat, model.ScriptPowerShell, spec.Script.Type)
		}
		if plan.OSType != cloud.OSWindows && spec.Script.Type != model.ScriptShell {
			return refuse("the instances of %s run Linux: use %s, not %s", spec.ScalingGroupID, model.ScriptShell, spec.Script.Type)
		}
	case model.TaskOOSPackage:
		resp, err := c.ListOOSPackages(ctx, &cloud.ListOOSPackagesRequest{RegionId: spec.RegionID, PackageName: spec.Package.Name})
		if err != nil {
			return nil, refusedIfPermanent(err, "OOS package %s", spec.Package.Name)
		}
		if len(resp.Packages) == 0 {
			return refuse("OOS package %s does not exist", spec.Package.Name)
		}
		for _, v := range []string{spec.Package.Version, spec.Package.RollbackVersion} {
			if v != "" && !slices.Contains(resp.Packages[0].Versions, v) {
				return refuse("OOS package %s has no version %s (versions: %s)", spec.Package.Name, v, strings.Join(resp.Packages[0].Versions, ", "))
			}
		}
	}
	return plan, nil
}

func scalingInstances(ctx context.Context, c RolloutCloud, region, group string) (orderedMembers, error) {
	out := orderedMembers{states: map[string]string{}}
	for page := 1; ; page++ {
		resp, err := c.DescribeScalingInstances(ctx, &cloud.DescribeScalingInstancesRequest{RegionId: region, ScalingGroupId: group, PageNumber: page, PageSize: 100})
		if err != nil {
			return out, refusedIfPermanent(err, "instances of %s", group)
		}
		for _, si := range resp.ScalingInstances {
			out.states[si.InstanceId] = si.LifecycleState
			out.ordered = append(out.ordered, si.InstanceId)
		}
		if len(resp.ScalingInstances) == 0 || len(out.ordered) >= resp.TotalCount {
			return out, nil
		}
	}
}

// orderedMembers are a group's instances with their lifecycle states, in
// the group's order (oldest first).
type orderedMembers struct {
	states  map[string]string
	ordered []string
}

// checkTemplateRoom refuses an image update of a group that launches from a
// launch template with no room for the version the update creates (and,
// for a group at Latest, the one a cancel or rollback creates to give the
// source back): ECS keeps at most cloud.MaxLaunchTemplateVersions.
func checkTemplateRoom(ctx context.Context, c RolloutCloud, spec model.RolloutSpec, group cloud.ScalingGroup) error {
	if group.LaunchTemplateId == "" || group.ImageId == spec.Image.ImageID {
		return nil
	}
	resp, err := c.DescribeLaunchTemplateVersions(ctx, &cloud.DescribeLaunchTemplateVersionsRequest{RegionId: spec.RegionID, LaunchTemplateId: group.LaunchTemplateId, PageSize: 1})
	if err != nil {
		return refusedIfPermanent(err, "launch template %s", group.LaunchTemplateId)
	}
	need := 1
	if group.LaunchTemplateVersion == cloud.LaunchTemplateLatest {
		need = 2
	}
	if resp.TotalCount+need > cloud.MaxLaunchTemplateVersions {
		return refused("launch template %s of scaling group %s has %d versions: the image update needs %d more and ECS keeps at most %d (delete old versions first)",
			group.LaunchTemplateId, spec.ScalingGroupID, resp.TotalCount, need, cloud.MaxLaunchTemplateVersions)
	}
	return nil
}
