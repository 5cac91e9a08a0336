package cloudsim

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/imagefleet/imagefleet/cloud"
)

// ECS launch templates: numbered, immutable versions of instance settings,
// one of them the default. They are not created through the API: a
// scaling group made by AddScalingGroup with a LaunchTemplateId gets one
// (ess_scaling.go). CreateLaunchTemplateVersion takes no client token, as
// in ECS.

// launchTemplateRecord is an ECS launch template with its versions (by
// version number, in decimal).
type launchTemplateRecord struct {
	LaunchTemplateId     string
	LaunchTemplateName   string
	RegionId             string
	OwnerId              string
	DefaultVersionNumber int64
	LatestVersionNumber  int64
	Versions             map[string]*cloud.LaunchTemplateVersionSet
}

func (t *launchTemplateRecord) scope() (string, string) { return t.OwnerId, t.RegionId }

var launchTemplates = resource{"launch template", cloud.CodeLaunchTemplateNotFound}

func (s *Server) registerLaunchTemplates() {
	registerQuery(s, "DescribeLaunchTemplateVersions", s.describeLaunchTemplateVersions)
	registerMutation(s, "CreateLaunchTemplateVersion", s.createLaunchTemplateVersion)
	registerMutation(s, "ModifyLaunchTemplateDefaultVersion", s.modifyLaunchTemplateDefaultVersion)
}

// version resolves a group's version setting: Default, Latest or a number.
func (t *launchTemplateRecord) version(setting string) (*cloud.LaunchTemplateVersionSet, error) {
	n := int64(0)
	switch setting {
	case cloud.LaunchTemplateDefault, "":
		n = t.DefaultVersionNumber
	case cloud.LaunchTemplateLatest:
		n = t.LatestVersionNumber
	default:
		var err error
		if n, err = strconv.ParseInt(setting, 10, 64); err != nil || n < 1 {
			return nil, invalidParam("LaunchTemplateVersion %q must be Default, Latest or a version number", setting)
		}
	}
	v := t.Versions[strconv.FormatInt(n, 10)]
	if v == nil {
		return nil, newError(http.StatusNotFound, cloud.CodeLaunchTemplateVersionNotFound, "launch template %s has no version %s", t.LaunchTemplateId, setting)
	}
	return v, nil
}

func (c *call) ownLaunchTemplate(region, id string) (*launchTemplateRecord, error) {
	return findOwned(c, c.st.LaunchTemplates, launchTemplates, region, "LaunchTemplateId", id)
}

func (t *launchTemplateRecord) view(v *cloud.LaunchTemplateVersionSet) cloud.LaunchTemplateVersionSet {
	out := *v
	out.DefaultVersion = v.VersionNumber == t.DefaultVersionNumber
	return out
}

func (s *Server) describeLaunchTemplateVersions(c *call, req *cloud.DescribeLaunchTemplateVersionsRequest) (*cloud.DescribeLaunchTemplateVersionsResponse, error) {
	lt, err := c.ownLaunchTemplate(req.RegionId, req.LaunchTemplateId)
	if err != nil {
		return nil, err
	}
	pg, err := pageOf(req.PageNumber, req.PageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	found := []cloud.LaunchTemplateVersionSet{}
	for _, v := range lt.Versions {
		if (len(req.LaunchTemplateVersion) > 0 && !slices.Contains(req.LaunchTemplateVersion, strconv.FormatInt(v.VersionNumber, 10))) ||
			(req.DefaultVersion && v.VersionNumber != lt.DefaultVersionNumber) {
			continue
		}
		found = append(found, lt.view(v))
	}
	slices.SortFunc(found, func(a, b cloud.LaunchTemplateVersionSet) int { return cmp.Compare(a.VersionNumber, b.VersionNumber) })
	return &cloud.DescribeLaunchTemplateVersionsResponse{TotalCount: len(found), PageNumber: pg.number, PageSize: pg.size, LaunchTemplateVersionSets: pageItems(pg, found)}, nil
}

func (s *Server) createLaunchTemplateVersion(c *call, req *cloud.CreateLaunchTemplateVersionRequest) (*cloud.CreateLaunchTemplateVersionResponse, error) {
	lt, err := c.ownLaunchTemplate(req.RegionId, req.LaunchTemplateId)
	if err != nil {
		return nil, err
	}
	if len(lt.Versions) >= cloud.MaxLaunchTemplateVersions {
		return nil, newError(http.StatusBadRequest, cloud.CodeLaunchTemplateVersionLimit, "launch template %s has %d versions, the most it may have", lt.LaunchTemplateId, cloud.MaxLaunchTemplateVersions)
	}
	if len(req.VersionDescription) > 256 {
		return nil, invalidParam("VersionDescription must be at most 256 characters")
	}
	if req.InstanceType != "" && !instanceTypeRE.MatchString(req.InstanceType) {
		return nil, newError(http.StatusBadRequest, cloud.CodeInstanceType, "InstanceType %q is not an instance type (e.g. ecs.g7.large)", req.InstanceType)
	}
	if req.VSwitchId != "" && !vSwitchRE.MatchString(req.VSwitchId) {
		return nil, invalidParam("VSwitchId %q is not a vSwitch ID (vsw-…)", req.VSwitchId)
	}
	img, err := c.usableImage(lt.RegionId, req.ImageId)
	if err != nil {
		return nil, err
	}
	if req.SystemDiskSize != 0 || req.SystemDiskCategory != "" {
		if _, err := checkSystemDisk(cloud.SystemDisk{Size: req.SystemDiskSize, Category: req.SystemDiskCategory}, img, defaultSystemDiskGiB); err != nil {
			return nil, err
		}
	}
	n := lt.LatestVersionNumber + 1
	lt.LatestVersionNumber = n
	lt.Versions[strconv.FormatInt(n, 10)] = &cloud.LaunchTemplateVersionSet{
		LaunchTemplateId: lt.LaunchTemplateId, LaunchTemplateName: lt.LaunchTemplateName, VersionNumber: n,
		VersionDescription: req.VersionDescription, CreateTime: c.now,
		LaunchTemplateData: cloud.LaunchTemplateData{
			ImageId: img.ImageId, InstanceType: req.InstanceType, SystemDiskSize: req.SystemDiskSize,
			SystemDiskCategory: req.SystemDiskCategory, InstanceName: req.InstanceName, VSwitchId: req.VSwitchId,
		},
	}
	c.touch(c.st.LaunchTemplates, lt.LaunchTemplateId)
	c.record(lt.RegionId, "LaunchTemplate", lt.LaunchTemplateId, fmt.Sprintf("version %d created: image %s (%s)", n, img.ImageId, req.VersionDescription))
	return &cloud.CreateLaunchTemplateVersionResponse{LaunchTemplateId: lt.LaunchTemplateId, LaunchTemplateVersionNumber: n}, nil
}

func (s *Server) modifyLaunchTemplateDefaultVersion(c *call, req *cloud.ModifyLaunchTemplateDefaultVersionRequest) (*cloud.ModifyLaunchTemplateDefaultVersionResponse, error) {
	lt, err := c.ownLaunchTemplate(req.RegionId, req.LaunchTemplateId)
	if err != nil {
		return nil, err
	}
	if lt.Versions[strconv.FormatInt(req.DefaultVersionNumber, 10)] == nil {
		return nil, newError(http.StatusNotFound, cloud.CodeLaunchTemplateVersionNotFound, "launch template %s has no version %d", lt.LaunchTemplateId, req.DefaultVersionNumber)
	}
	resp := &cloud.ModifyLaunchTemplateDefaultVersionResponse{LaunchTemplateId: lt.LaunchTemplateId}
	if lt.DefaultVersionNumber == req.DefaultVersionNumber {
		return resp, nil // the default already: no side effect
	}
	c.record(lt.RegionId, "LaunchTemplate", lt.LaunchTemplateId, fmt.Sprintf("default version %d → %d", lt.DefaultVersionNumber, req.DefaultVersionNumber))
	lt.DefaultVersionNumber = req.DefaultVersionNumber
	c.touch(c.st.LaunchTemplates, lt.LaunchTemplateId)
	return resp, nil
}
