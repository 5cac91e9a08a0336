package activities

import (
	"cmp"
	"context"
	"fmt"
	"strconv"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// The instance configuration source of a scaling group (model.ScalingSource):
// an image update makes the group launch its image, and gives back the
// source it had when it is cancelled, fails or is rolled back. Each change
// is made once however often an activity is retried: the modifications
// set values (setting the value a resource has changes nothing), and a
// launch template version, which ECS creates without a client token, is
// marked with the caller's token in its description and looked for before
// one is created.

// SourceInput names a scaling group.
type SourceInput struct {
	Region string
	Group  string
}

// DescribeScalingSource answers what the group launches from now.
func (a *Rollouts) DescribeScalingSource(ctx context.Context, in SourceInput) (*model.ScalingSource, error) {
	groups, err := a.Cloud.DescribeScalingGroups(ctx, &cloud.DescribeScalingGroupsRequest{RegionId: in.Region, ScalingGroupIds: []string{in.Group}})
	if err != nil {
		return nil, fromCloud(err)
	}
	if len(groups.ScalingGroups) != 1 {
		return nil, permanent(ErrTypeRolloutRefused, fmt.Errorf("scaling group %s does not exist in %s", in.Group, in.Region))
	}
	g := groups.ScalingGroups[0]
	if g.LaunchTemplateId != "" {
		setting := cmp.Or(g.LaunchTemplateVersion, cloud.LaunchTemplateDefault) // the API's default
		v, err := a.templateVersion(ctx, in.Region, g.LaunchTemplateId, setting)
		if err != nil {
			return nil, err
		}
		return &model.ScalingSource{LaunchTemplateID: g.LaunchTemplateId, LaunchTemplateVersion: setting,
			Version: v.VersionNumber, ImageID: v.LaunchTemplateData.ImageId}, nil
	}
	confs, err := a.Cloud.DescribeScalingConfigurations(ctx, &cloud.DescribeScalingConfigurationsRequest{
		RegionId: in.Region, ScalingGroupId: in.Group, ScalingConfigurationIds: []string{g.ActiveScalingConfigurationId},
	})
	if err != nil {
		return nil, fromCloud(err)
	}
	if len(confs.ScalingConfigurations) != 1 {
		return nil, permanent(ErrTypeRolloutRefused, fmt.Errorf("scaling group %s has no active scaling configuration or launch template", in.Group))
	}
	sc := confs.ScalingConfigurations[0]
	return &model.ScalingSource{ScalingConfigurationID: sc.ScalingConfigurationId, ImageID: sc.ImageId}, nil
}

// SwitchSourceInput makes a group launch ImageID; From is its source as
// DescribeScalingSource answered before (kept by the workflow, so that the
// switch back is exact), Token marks what the switch creates.
type SwitchSourceInput struct {
	Region  string
	Group   string
	From    model.ScalingSource
	ImageID string
	Token   string
}

// SwitchScalingSource makes the group launch ImageID, as Auto Scaling's
// image update does: the scaling configuration's image is modified, or a
// launch template version is created from the one the group uses with the
// new image and the group is made to use it (the template's default
// version for a group at Default, the group's version for one at a number;
// a group at Latest uses it once it exists). A source that launches ImageID
// already is left alone. It answers the source the group has now.
func (a *Rollouts) SwitchScalingSource(ctx context.Context, in SwitchSourceInput) (*model.ScalingSource, error) {
	to := in.From
	if in.From.ImageID == in.ImageID {
		return &to, nil
	}
	to.ImageID = in.ImageID
	if in.From.LaunchTemplateID == "" {
		_, err := a.Cloud.ModifyScalingConfiguration(ctx, &cloud.ModifyScalingConfigurationRequest{
			RegionId: in.Region, ScalingConfigurationId: in.From.ScalingConfigurationID, ImageId: in.ImageID,
		})
		return &to, fromCloud(err)
	}
	n, err := a.ensureVersion(ctx, in.Region, in.From, in.ImageID, in.Token)
	if err != nil {
		return nil, err
	}
	to.Version = n
	switch in.From.LaunchTemplateVersion {
	case cloud.LaunchTemplateDefault:
		_, err = a.Cloud.ModifyLaunchTemplateDefaultVersion(ctx, &cloud.ModifyLaunchTemplateDefaultVersionRequest{
			RegionId: in.Region, LaunchTemplateId: in.From.LaunchTemplateID, DefaultVersionNumber: n,
		})
	case cloud.LaunchTemplateLatest:
	default:
		to.LaunchTemplateVersion = strconv.FormatInt(n, 10)
		_, err = a.Cloud.ModifyScalingGroup(ctx, &cloud.ModifyScalingGroupRequest{
			RegionId: in.Region, ScalingGroupId: in.Group, LaunchTemplateId: in.From.LaunchTemplateID, LaunchTemplateVersion: to.LaunchTemplateVersion,
		})
	}
	if err != nil {
		return nil, fromCloud(err)
	}
	return &to, nil
}

// RestoreSourceInput gives a group back the source To (what
// DescribeScalingSource answered before a switch); Token marks what the
// restore creates.
type RestoreSourceInput struct {
	Region string
	Group  string
	To     model.ScalingSource
	Token  string
}

// RestoreScalingSource makes the group launch exactly To again: the
// scaling configuration's image back, the template's default version back,
// or the group's version back. A group at Latest cannot go back to an older
// version: a version with To's settings is created (once), unless the
// latest version is To. A source that is To already is left alone (no
// change in the cloud), so the restore is also safe when no switch
// happened.
func (a *Rollouts) RestoreScalingSource(ctx context.Context, in RestoreSourceInput) error {
	var err error
	switch {
	case in.To.LaunchTemplateID == "":
		_, err = a.Cloud.ModifyScalingConfiguration(ctx, &cloud.ModifyScalingConfigurationRequest{
			RegionId: in.Region, ScalingConfigurationId: in.To.ScalingConfigurationID, ImageId: in.To.ImageID,
		})
	case in.To.LaunchTemplateVersion == cloud.LaunchTemplateDefault:
		_, err = a.Cloud.ModifyLaunchTemplateDefaultVersion(ctx, &cloud.ModifyLaunchTemplateDefaultVersionRequest{
			RegionId: in.Region, LaunchTemplateId: in.To.LaunchTemplateID, DefaultVersionNumber: in.To.Version,
		})
	case in.To.LaunchTemplateVersion == cloud.LaunchTemplateLatest:
		latest, lerr := a.templateVersion(ctx, in.Region, in.To.LaunchTemplateID, cloud.LaunchTemplateLatest)
		if lerr != nil {
			return lerr
		}
		if latest.VersionNumber != in.To.Version && latest.VersionDescription != versionMark(in.Token) {
			_, err := a.ensureVersion(ctx, in.Region, in.To, in.To.ImageID, in.Token)
			return err
		}
	default:
		_, err = a.Cloud.ModifyScalingGroup(ctx, &cloud.ModifyScalingGroupRequest{
			RegionId: in.Region, ScalingGroupId: in.Group, LaunchTemplateId: in.To.LaunchTemplateID, LaunchTemplateVersion: in.To.LaunchTemplateVersion,
		})
	}
	return fromCloud(err)
}

// versionMark is the description of the launch template version made with
// token.
func versionMark(token string) string { return "imagefleet " + token }

// ensureVersion returns the number of the template's version marked with
// token, creating it from version from.Version with image if there is none.
func (a *Rollouts) ensureVersion(ctx context.Context, region string, from model.ScalingSource, image, token string) (int64, error) {
	mark := versionMark(token)
	var base *cloud.LaunchTemplateVersionSet
	for page := 1; ; page++ {
		resp, err := a.Cloud.DescribeLaunchTemplateVersions(ctx, &cloud.DescribeLaunchTemplateVersionsRequest{
			RegionId: region, LaunchTemplateId: from.LaunchTemplateID, PageNumber: page, PageSize: 50,
		})
		if err != nil {
			return 0, fromCloud(err)
		}
		for i, v := range resp.LaunchTemplateVersionSets {
			if v.VersionDescription == mark {
				return v.VersionNumber, nil
			}
			if v.VersionNumber == from.Version {
				base = &resp.LaunchTemplateVersionSets[i]
			}
		}
		if page*50 >= resp.TotalCount {
			break
		}
	}
	if base == nil {
		return 0, permanent(ErrTypeRolloutRefused, fmt.Errorf("launch template %s has no version %d any more", from.LaunchTemplateID, from.Version))
	}
	d := base.LaunchTemplateData
	resp, err := a.Cloud.CreateLaunchTemplateVersion(ctx, &cloud.CreateLaunchTemplateVersionRequest{
		RegionId: region, LaunchTemplateId: from.LaunchTemplateID, VersionDescription: mark, ImageId: image,
		InstanceType: d.InstanceType, SystemDiskSize: d.SystemDiskSize, SystemDiskCategory: d.SystemDiskCategory,
		InstanceName: d.InstanceName, VSwitchId: d.VSwitchId,
	})
	if err != nil {
		return 0, fromCloud(err)
	}
	return resp.LaunchTemplateVersionNumber, nil
}

// templateVersion finds the version a group's setting resolves to.
func (a *Rollouts) templateVersion(ctx context.Context, region, templateID, setting string) (*cloud.LaunchTemplateVersionSet, error) {
	req := &cloud.DescribeLaunchTemplateVersionsRequest{RegionId: region, LaunchTemplateId: templateID}
	switch setting {
	case cloud.LaunchTemplateDefault:
		req.DefaultVersion = true
	case cloud.LaunchTemplateLatest:
		// The last page holds the latest (versions come in order).
		first, err := a.Cloud.DescribeLaunchTemplateVersions(ctx, &cloud.DescribeLaunchTemplateVersionsRequest{RegionId: region, LaunchTemplateId: templateID, PageSize: 1})
		if err != nil {
			return nil, fromCloud(err)
		}
		req.PageSize, req.PageNumber = 1, max(first.TotalCount, 1)
	default:
		req.LaunchTemplateVersion = []string{setting}
	}
	resp, err := a.Cloud.DescribeLaunchTemplateVersions(ctx, req)
	if err != nil {
		return nil, fromCloud(err)
	}
	if len(resp.LaunchTemplateVersionSets) != 1 {
		return nil, permanent(ErrTypeRolloutRefused, fmt.Errorf("launch template %s has no version %s", templateID, setting))
	}
	return &resp.LaunchTemplateVersionSets[0], nil
}
