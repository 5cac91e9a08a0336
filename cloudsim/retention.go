package cloudsim

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// The lifecycle of published image versions: deprecation of a version,
// deletion of its copy in one region, the rules of deleting an image that
// something refers to, and the snapshot storage images take per region
// (cloud.ImageRetention).

func (s *Server) registerRetention() {
	registerMutation(s, "ModifyArtifactVersion", s.modifyArtifactVersion)
	registerMutation(s, "DeleteArtifactDelivery", s.deleteArtifactDelivery)
	registerQuery(s, "DescribeSnapshotsUsage", s.describeSnapshotsUsage)
}

// imageInUseError refuses to delete an image of region that something
// refers to, as ECS does: an instance created from it (unless force, as
// ECS's DeleteImage Force), a scaling group's active scaling configuration or
// a launch template version. The first user found is named.
func (c *call) imageInUseError(region, imageID string, force bool) error {
	if !force {
		for _, id := range slices.Sorted(maps.Keys(c.st.Instances)) {
			r := c.st.Instances[id]
			if r.OwnerId == c.account && r.RegionId == region && r.ImageId == imageID {
				return newError(http.StatusForbidden, cloud.CodeImageUsingByInstance,
					"image %s in %s has been used to create instance %s (%s): release the instance first, or delete with Force", imageID, region, id, r.status(c.now))
			}
		}
	}
	for _, u := range c.imageSources(region, imageID) {
		return newError(http.StatusForbidden, u.code, "image %s in %s is used by %s: new instances are created from it", imageID, region, u.what)
	}
	return nil
}

// imageSource is a scaling configuration or launch template version that
// launches an image.
type imageSource struct {
	code string // the error code deleting the image is refused with
	what string
}

// imageSources are what launches imageID in region for the caller: the
// source of a scaling group (its active scaling configuration, or the
// launch template version its setting resolves to), and the default
// version of a launch template (what a launch from it without a version
// uses).
func (c *call) imageSources(region, imageID string) []imageSource {
	var found []imageSource
	for _, id := range slices.Sorted(maps.Keys(c.st.ScalingGroups)) {
		g := c.st.ScalingGroups[id]
		if g.OwnerId != c.account || g.RegionId != region {
			continue
		}
		data, err := launchData(c.st, g)
		if err != nil || data.ImageId != imageID {
			continue
		}
		code := cloud.CodeImageUsingByScalingConfiguration
		if g.LaunchTemplateId != "" {
			code = cloud.CodeImageUsingByLaunchTemplate
		}
		found = append(found, imageSource{code, describeSource(g) + " of scaling group " + g.ScalingGroupId})
	}
	for _, id := range slices.Sorted(maps.Keys(c.st.LaunchTemplates)) {
		lt := c.st.LaunchTemplates[id]
		if lt.OwnerId != c.account || lt.RegionId != region {
			continue
		}
		if v, err := lt.version(cloud.LaunchTemplateDefault); err == nil && v.LaunchTemplateData.ImageId == imageID {
			found = append(found, imageSource{cloud.CodeImageUsingByLaunchTemplate, fmt.Sprintf("the default version %d of launch template %s", v.VersionNumber, lt.LaunchTemplateId)})
		}
	}
	return found
}

// publishedVersion finds a published version of one of the caller's packages.
func (c *call) publishedVersion(artifactID, version string) (*artifactRecord, *cloud.ArtifactVersion, error) {
	a, err := c.ownArtifact(artifactID)
	if err != nil {
		return nil, nil, err
	}
	v := a.version(version)
	if v == nil {
		return nil, nil, artifactNotFound("package %s has no version %q", a.Name, version)
	}
	if v.Status != cloud.ArtifactAvailable {
		return nil, nil, newError(http.StatusBadRequest, cloud.CodeArtifactNotPublished, "version %s of package %s is %s: only a published version is deprecated and deleted region by region", version, a.Name, v.Status)
	}
	return a, v, nil
}

func (s *Server) modifyArtifactVersion(c *call, req *cloud.ModifyArtifactVersionRequest) (*cloud.ModifyArtifactVersionResponse, error) {
	a, v, err := c.publishedVersion(req.ArtifactId, req.VersionName)
	if err != nil {
		return nil, err
	}
	if v.Deprecated == req.Deprecated {
		return &cloud.ModifyArtifactVersionResponse{DeprecateTime: v.DeprecateTime}, nil // nothing changes: no side effect
	}
	v.Deprecated = req.Deprecated
	v.DeprecateTime = c.now
	detail := fmt.Sprintf("version %s of package %s deprecated: not offered to new deployments", v.VersionName, a.Name)
	if !req.Deprecated {
		v.DeprecateTime = time.Time{}
		detail = fmt.Sprintf("version %s of package %s no longer deprecated", v.VersionName, a.Name)
	}
	c.touch(c.st.Artifacts, a.ArtifactId)
	c.record(v.ArtifactProperty.RegionId, "Artifact", a.ArtifactId, detail)
	return &cloud.ModifyArtifactVersionResponse{DeprecateTime: v.DeprecateTime}, nil
}

func (s *Server) deleteArtifactDelivery(c *call, req *cloud.DeleteArtifactDeliveryRequest) (*cloud.DeleteArtifactDeliveryResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	a, v, err := c.publishedVersion(req.ArtifactId, req.VersionName)
	if err != nil {
		return nil, err
	}
	if a.ArtifactType != cloud.ArtifactEcsImage {
		return nil, invalidParam("package %s is of type %s: only an %s version's copies are deleted region by region", a.Name, a.ArtifactType, cloud.ArtifactEcsImage)
	}
	if !v.Deprecated {
		return nil, newError(http.StatusBadRequest, cloud.CodeArtifactNotDeprecated,
			"version %s of package %s is not deprecated: deprecate it (ModifyArtifactVersion) before deleting its copies", v.VersionName, a.Name)
	}
	imageID, ok := v.ImageDelivery[req.RegionId]
	if !ok {
		return nil, artifactNotFound("version %s of package %s has no copy in %s (delivered to %s)", v.VersionName, a.Name, req.RegionId, regionList(v.ImageDelivery))
	}
	source := req.RegionId == v.ArtifactProperty.RegionId && imageID == v.ArtifactProperty.ImageId
	if err := c.imageInUseError(req.RegionId, imageID, false); err != nil {
		return nil, err
	}
	resp := &cloud.DeleteArtifactDeliveryResponse{ImageId: imageID}
	delete(v.ImageDelivery, req.RegionId)
	v.SupportRegionIds = slices.DeleteFunc(v.SupportRegionIds, func(r string) bool { return r == req.RegionId && !source })
	c.touch(c.st.Artifacts, a.ArtifactId)
	if img := c.st.Images[imageKey(req.RegionId, imageID)]; img != nil && !img.Deleted && !source && img.OwnerId == c.account && img.Kind == kindCustom {
		img.Deleted, img.DeletedTime = true, c.now
		c.touch(c.st.Images, imageKey(img.RegionId, img.ImageId))
		resp.ImageDeleted, resp.SizeGiB = true, img.Size
		c.record(req.RegionId, "Image", imageID, fmt.Sprintf("deleted: the copy of version %s of package %s, %d GiB freed", v.VersionName, a.Name, img.Size))
	}
	detail := fmt.Sprintf("version %s of package %s: copy in %s removed", v.VersionName, a.Name, req.RegionId)
	if source {
		detail += " (the source image stays the account's)"
	}
	c.record(req.RegionId, "Artifact", a.ArtifactId, detail)
	return resp, nil
}

func regionList(m map[string]string) string {
	if len(m) == 0 {
		return "no region"
	}
	return fmt.Sprint(slices.Sorted(maps.Keys(m)))
}

func (s *Server) describeSnapshotsUsage(c *call, req *cloud.DescribeSnapshotsUsageRequest) (*cloud.DescribeSnapshotsUsageResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	resp := &cloud.DescribeSnapshotsUsageResponse{}
	for _, img := range c.st.Images {
		if img.RegionId == req.RegionId && img.Kind == kindCustom && img.OwnerId == c.account && !img.Deleted {
			resp.SnapshotCount++
			resp.SnapshotSize += int64(img.Size) << 30
		}
	}
	return resp, nil
}
