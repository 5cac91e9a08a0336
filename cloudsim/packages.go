package cloudsim

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// Deployment packages of every type: what a version holds and delivers, who
// may use what it delivered, and what deleting it removes.

// permits reports whether p lets account use a version's delivered content.
func permits(p *cloud.Permission, account string) bool {
	if p == nil {
		return false
	}
	switch p.Visibility {
	case cloud.VisibilityPublic:
		return true
	case cloud.VisibilityWhitelist:
		return slices.Contains(p.AccountIds, account)
	}
	return false
}

// publishedDelivering returns a published version of owner's packages that
// match accepts (its content, locked), or nil.
func (c *call) publishedDelivering(owner string, match func(*artifactRecord, *cloud.ArtifactVersion) bool) (*artifactRecord, *cloud.ArtifactVersion) {
	for _, id := range slices.Sorted(maps.Keys(c.st.Artifacts)) {
		a := c.st.Artifacts[id]
		if a.OwnerId != owner {
			continue
		}
		for i := range a.Versions {
			if v := &a.Versions[i]; v.Status == cloud.ArtifactAvailable && match(a, v) {
				return a, v
			}
		}
	}
	return nil, nil
}

// granted reports whether a published version of owner's packages that
// match accepts is visible to the caller.
func (c *call) granted(owner string, match func(*artifactRecord, *cloud.ArtifactVersion) bool) bool {
	for _, a := range c.st.Artifacts {
		if a.OwnerId != owner {
			continue
		}
		for i := range a.Versions {
			v := &a.Versions[i]
			if v.Status == cloud.ArtifactAvailable && match(a, v) && permits(v.Permission, c.account) {
				return true
			}
		}
	}
	return false
}

// deliversURL reports whether a File version holds or delivered the object
// at url.
func deliversURL(v *cloud.ArtifactVersion, url string) bool {
	return v.ArtifactProperty.Url == url || slices.Contains(slices.Collect(maps.Values(v.Delivery)), url)
}

// checkContentProperty checks the content of a File, AcrImage or HelmChart
// version and returns it completed (a file's Url).
func (c *call) checkContentProperty(artifactType string, p cloud.ArtifactProperty) (cloud.ArtifactProperty, error) {
	if err := checkRegion("ArtifactProperty.RegionId", p.RegionId); err != nil {
		return p, err
	}
	if p.ImageId != "" {
		return p, invalidParam("ArtifactProperty.ImageId is for %s packages, not %s", cloud.ArtifactEcsImage, artifactType)
	}
	switch artifactType {
	case cloud.ArtifactFile:
		if p.Bucket != artifactBucket(p.RegionId, c.account) {
			return p, invalidParam("a file package's object must be in the account's artifact bucket %s of %s, not %q", artifactBucket(p.RegionId, c.account), p.RegionId, p.Bucket)
		}
		obj := c.st.Objects[objectKey(p.RegionId, p.Bucket, p.ObjectKey)]
		if obj == nil {
			return p, newError(http.StatusNotFound, cloud.CodeNoSuchKey, "object %s does not exist in bucket %s: upload the file first", p.ObjectKey, p.Bucket)
		}
		if p.Url != "" && p.Url != obj.InternalUrl {
			return p, invalidParam("ArtifactProperty.Url %q is not the object's internal URL %s", p.Url, obj.InternalUrl)
		}
		p.Url = obj.InternalUrl
		if p.Namespace != "" || p.RepoName != "" || p.Tag != "" {
			return p, invalidParam("a file package has no registry Namespace, RepoName or Tag")
		}
	case cloud.ArtifactAcrImage, cloud.ArtifactHelmChart:
		want := cloud.RegistryImage
		if artifactType == cloud.ArtifactHelmChart {
			want = cloud.RegistryChart
		}
		if p.Namespace != tenantNamespace(c.account) {
			return p, invalidParam("the content must be in the account's namespace %s, not %q", tenantNamespace(c.account), p.Namespace)
		}
		t := c.st.RepoTags[repoTagKey(p.Namespace, p.RepoName, p.Tag)]
		if t == nil {
			return p, newError(http.StatusNotFound, cloud.CodeRepoTagMissing, "%s/%s:%s does not exist: push it first", p.Namespace, p.RepoName, p.Tag)
		}
		if t.Kind != want {
			return p, invalidParam("%s/%s:%s is a %s, not a %s", p.Namespace, p.RepoName, p.Tag, t.Kind, want)
		}
		if p.Bucket != "" || p.ObjectKey != "" || p.Url != "" {
			return p, invalidParam("a %s package has no Bucket, ObjectKey or Url", artifactType)
		}
	}
	return p, nil
}

// checkContentDelivery checks the region → location mapping of a File,
// AcrImage or HelmChart release: supported regions, each with the version's
// content there.
func (c *call) checkContentDelivery(a *artifactRecord, v *cloud.ArtifactVersion, delivery map[string]string) error {
	if len(delivery) == 0 {
		return invalidParam("Delivery needs at least one region")
	}
	p := v.ArtifactProperty
	var src *objectRecord
	if a.ArtifactType == cloud.ArtifactFile {
		if src = c.st.Objects[objectKey(p.RegionId, p.Bucket, p.ObjectKey)]; src == nil {
			return newError(http.StatusNotFound, cloud.CodeNoSuchKey, "the version's file %s has disappeared from %s", p.ObjectKey, p.Bucket)
		}
	} else if c.st.RepoTags[repoTagKey(p.Namespace, p.RepoName, p.Tag)] == nil {
		return newError(http.StatusNotFound, cloud.CodeRepoTagMissing, "the version's %s/%s:%s has disappeared", p.Namespace, p.RepoName, p.Tag)
	}
	for _, region := range slices.Sorted(maps.Keys(delivery)) {
		if err := checkRegion("Delivery region", region); err != nil {
			return err
		}
		if !slices.Contains(v.SupportRegionIds, region) {
			return invalidParam("Delivery names region %s, which version %s does not support (%s)", region, v.VersionName, strings.Join(v.SupportRegionIds, ", "))
		}
		loc := delivery[region]
		switch a.ArtifactType {
		case cloud.ArtifactFile:
			obj := c.objectByURL(region, loc)
			if obj == nil || obj.OwnerId != c.account {
				return invalidParam("Delivery for %s: %q is not an object of the account in that region", region, loc)
			}
			if obj.ETag != src.ETag {
				return invalidParam("Delivery for %s: %s differs from the version's file (ETag %s, not %s)", region, loc, obj.ETag, src.ETag)
			}
		default:
			kind := cloud.RegistryImage
			if a.ArtifactType == cloud.ArtifactHelmChart {
				kind = cloud.RegistryChart
			}
			if want := pullAddress(kind, region, p.Namespace, p.RepoName, p.Tag); loc != want {
				return invalidParam("Delivery for %s: %q is not the pull address %s", region, loc, want)
			}
		}
	}
	return nil
}

// removeVersionContent deletes what a version delivered (and a file
// version's uploaded file), except content another remaining version of the
// owner still holds and the source image of an ECS image package, which is
// the account's own.
func (c *call) removeVersionContent(a *artifactRecord, v cloud.ArtifactVersion) {
	stillUsed := func(match func(*artifactRecord, *cloud.ArtifactVersion) bool) bool {
		for _, other := range c.st.Artifacts {
			if other.OwnerId != a.OwnerId {
				continue
			}
			for i := range other.Versions {
				ov := &other.Versions[i]
				if (other.ArtifactId != a.ArtifactId || ov.VersionName != v.VersionName) && match(other, ov) {
					return true
				}
			}
		}
		return false
	}
	switch a.ArtifactType {
	case cloud.ArtifactEcsImage:
		for _, region := range slices.Sorted(maps.Keys(v.ImageDelivery)) {
			id := v.ImageDelivery[region]
			if region == v.ArtifactProperty.RegionId && id == v.ArtifactProperty.ImageId {
				continue
			}
			img := c.st.Images[imageKey(region, id)]
			if img == nil || img.Deleted || img.OwnerId != a.OwnerId || stillUsed(func(_ *artifactRecord, ov *cloud.ArtifactVersion) bool { return ov.ImageDelivery[region] == id }) {
				continue
			}
			img.Deleted, img.DeletedTime = true, c.now
			c.touch(c.st.Images, imageKey(region, id))
			c.record(region, "Image", id, fmt.Sprintf("deleted with version %s of package %s", v.VersionName, a.Name))
		}
	case cloud.ArtifactFile:
		urls := map[string]string{} // object key → region
		for region, url := range v.Delivery {
			urls[url] = region
		}
		if v.ArtifactProperty.Url != "" {
			urls[v.ArtifactProperty.Url] = v.ArtifactProperty.RegionId
		}
		for _, url := range slices.Sorted(maps.Keys(urls)) {
			region := urls[url]
			obj := c.objectByURL(region, url)
			if obj == nil || obj.OwnerId != a.OwnerId || stillUsed(func(_ *artifactRecord, ov *cloud.ArtifactVersion) bool { return deliversURL(ov, url) }) {
				continue
			}
			delete(c.st.Objects, objectKey(region, obj.Bucket, obj.Key))
			c.touch(c.st.Objects, objectKey(region, obj.Bucket, obj.Key))
			c.record(region, "Object", obj.Bucket+"/"+obj.Key, fmt.Sprintf("deleted with version %s of package %s", v.VersionName, a.Name))
		}
	case cloud.ArtifactAcrImage, cloud.ArtifactHelmChart:
		p := v.ArtifactProperty
		k := repoTagKey(p.Namespace, p.RepoName, p.Tag)
		if c.st.RepoTags[k] == nil || stillUsed(func(oa *artifactRecord, ov *cloud.ArtifactVersion) bool {
			q := ov.ArtifactProperty
			return isRegistryType(oa.ArtifactType) && q.Namespace == p.Namespace && q.RepoName == p.RepoName && q.Tag == p.Tag
		}) {
			return
		}
		delete(c.st.RepoTags, k)
		c.touch(c.st.RepoTags, k)
		c.record("", "RepoTag", k, fmt.Sprintf("deleted with version %s of package %s", v.VersionName, a.Name))
	}
}

// packagePermission derives a package's permission from the caller's
// services associated with it (Compute Nest's rule, model.PackagePermission).
func (c *call) packagePermission(artifactID string) cloud.Permission {
	var services []model.AssociatedService
	for _, svc := range c.st.Services {
		if svc.OwnerId == c.account && slices.Contains(svc.ArtifactIds, artifactID) {
			services = append(services, model.AssociatedService{ID: svc.ServiceId, Public: svc.Visibility == cloud.VisibilityPublic, Whitelist: svc.Whitelist})
		}
	}
	p := model.PackagePermission(services)
	return cloud.Permission{Visibility: p.Visibility, AccountIds: p.Accounts}
}

// recomputePermission applies the package's permission, derived from its
// services now, to every published version and to the images they
// delivered (files and registry tags follow the version's permission when
// they are read).
func (c *call) recomputePermission(artifactID string) {
	a := c.st.Artifacts[artifactID]
	if a == nil || a.OwnerId != c.account {
		return
	}
	perm := c.packagePermission(artifactID)
	for i := range a.Versions {
		v := &a.Versions[i]
		if v.Status != cloud.ArtifactAvailable {
			continue
		}
		if v.Permission != nil && v.Permission.Visibility == perm.Visibility && slices.Equal(v.Permission.AccountIds, perm.AccountIds) {
			continue
		}
		p := perm
		p.AccountIds = slices.Clone(perm.AccountIds)
		v.Permission = &p
		c.touch(c.st.Artifacts, artifactID)
		if a.ArtifactType == cloud.ArtifactEcsImage {
			for region, id := range v.ImageDelivery {
				img := c.st.Images[imageKey(region, id)]
				if img == nil || img.Deleted || img.OwnerId != a.OwnerId || img.Kind != kindCustom {
					continue
				}
				img.IsPublic = perm.Visibility == cloud.VisibilityPublic
				c.touch(c.st.Images, imageKey(region, id))
				img.SharedWith = slices.DeleteFunc(slices.Clone(perm.AccountIds), func(x string) bool { return x == a.OwnerId })
			}
		}
		c.record("", "Artifact", a.ArtifactId, fmt.Sprintf("version %s of package %s is now %s %v", v.VersionName, a.Name, perm.Visibility, perm.AccountIds))
	}
}

func (s *Server) updateNestService(c *call, req *cloud.UpdateNestServiceRequest) (*cloud.UpdateNestServiceResponse, error) {
	svc := c.st.Services[req.ServiceId]
	if svc == nil || svc.OwnerId != c.account {
		return nil, newError(http.StatusNotFound, cloud.CodeServiceNotFound, "service %s does not exist", req.ServiceId)
	}
	visibility, whitelist, ids := svc.Visibility, svc.Whitelist, svc.ArtifactIds
	if req.Visibility != "" {
		visibility = req.Visibility
	}
	if req.Whitelist != nil {
		whitelist = *req.Whitelist
	}
	if req.ArtifactIds != nil {
		ids = *req.ArtifactIds
	}
	switch visibility {
	case cloud.VisibilityPrivate:
	case cloud.VisibilityPublic:
		if len(whitelist) > 0 {
			return nil, invalidParam("a Whitelist applies only to a %s service", cloud.VisibilityPrivate)
		}
	default:
		return nil, invalidParam("Visibility %q must be %s or %s", visibility, cloud.VisibilityPublic, cloud.VisibilityPrivate)
	}
	if err := s.checkAccounts("Whitelist", whitelist); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, err := c.ownArtifact(id); err != nil {
			return nil, err
		}
	}
	affected := slices.Concat(svc.ArtifactIds, ids)
	svc.Visibility = visibility
	svc.Whitelist = slices.Compact(slices.Sorted(slices.Values(whitelist)))
	svc.ArtifactIds = slices.Compact(slices.Sorted(slices.Values(ids)))
	c.touch(c.st.Services, svc.ServiceId)
	c.record("", "Service", svc.ServiceId, fmt.Sprintf("service %s updated: %s, whitelist %v, packages %v", svc.Name, svc.Visibility, svc.Whitelist, svc.ArtifactIds))
	for _, id := range slices.Compact(slices.Sorted(slices.Values(affected))) {
		c.recomputePermission(id)
	}
	out := svc.Service
	out.Whitelist, out.ArtifactIds = slices.Clone(svc.Whitelist), slices.Clone(svc.ArtifactIds)
	return &cloud.UpdateNestServiceResponse{Service: out}, nil
}
