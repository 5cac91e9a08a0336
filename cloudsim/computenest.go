package cloudsim

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// Compute Nest deployment packages ("artifacts") and services.

// Compute Nest limits beyond the package rules of package model (names,
// description, tags), which the simulator enforces too.
const maxServiceNameLen = 128

var artifactTypes = []string{cloud.ArtifactEcsImage, cloud.ArtifactFile, cloud.ArtifactAcrImage, cloud.ArtifactHelmChart}

type artifactRecord struct {
	cloud.Artifact
	CreateTime time.Time
	// ReleaseTokens holds, per Delivering version, the token of the one
	// publication that may release it (locks.go). Never shown to callers.
	ReleaseTokens map[string]string `json:",omitempty"`
}

type serviceRecord struct {
	cloud.Service
	CreateTime time.Time
}

func (a *artifactRecord) version(name string) *cloud.ArtifactVersion {
	i := slices.IndexFunc(a.Versions, func(v cloud.ArtifactVersion) bool { return v.VersionName == name })
	if i < 0 {
		return nil
	}
	return &a.Versions[i]
}

// clone is a deep copy, for answers that must not share state.
func (a *artifactRecord) clone() cloud.Artifact {
	out := a.Artifact
	out.Tags = maps.Clone(a.Tags)
	out.Versions = make([]cloud.ArtifactVersion, len(a.Versions))
	for i, v := range a.Versions {
		v.SupportRegionIds = slices.Clone(v.SupportRegionIds)
		v.ImageDelivery = maps.Clone(v.ImageDelivery)
		v.Delivery = maps.Clone(v.Delivery)
		if v.Permission != nil {
			p := *v.Permission
			p.AccountIds = slices.Clone(p.AccountIds)
			v.Permission = &p
		}
		out.Versions[i] = v
	}
	return out
}

func (s *Server) registerComputeNest() {
	registerMutation(s, "CreateArtifact", s.createArtifact)
	registerQuery(s, "GetArtifact", s.getArtifact)
	registerQuery(s, "ListArtifacts", s.listArtifacts)
	registerMutation(s, "ReleaseArtifact", s.releaseArtifact)
	registerMutation(s, "StartArtifactRelease", s.startArtifactRelease)
	registerMutation(s, "CancelArtifactRelease", s.cancelArtifactRelease)
	registerMutation(s, "DeleteArtifact", s.deleteArtifact)
	registerMutation(s, "CreateService", s.createService)
	registerQuery(s, "ListServices", s.listServices)
	registerMutation(s, "UpdateService", s.updateNestService)
}

func artifactNotFound(format string, args ...any) error {
	return newError(http.StatusNotFound, cloud.CodeArtifactNotFound, format, args...)
}

// ownArtifact finds one of the caller's packages by ID.
func (c *call) ownArtifact(id string) (*artifactRecord, error) {
	if id == "" {
		return nil, invalidParam("ArtifactId is required")
	}
	a := c.st.Artifacts[id]
	if a == nil || a.OwnerId != c.account {
		return nil, artifactNotFound("package %s does not exist", id)
	}
	return a, nil
}

func (c *call) artifactByName(name string) *artifactRecord {
	for _, a := range c.st.Artifacts {
		if a.OwnerId == c.account && a.Name == name {
			return a
		}
	}
	return nil
}

func (s *Server) createArtifact(c *call, req *cloud.CreateArtifactRequest) (*cloud.CreateArtifactResponse, error) {
	if err := checkVersionFields(req); err != nil {
		return nil, err
	}
	var a *artifactRecord
	if req.ArtifactId == "" {
		if !slices.Contains(artifactTypes, req.ArtifactType) {
			return nil, invalidParam("ArtifactType %q must be one of %s", req.ArtifactType, strings.Join(artifactTypes, ", "))
		}
		if !model.ValidPackageName(req.Name) {
			return nil, invalidParam("Name %q must be 3–128 characters of letters, digits and underscore", req.Name)
		}
		if existing := c.artifactByName(req.Name); existing != nil {
			return nil, newError(http.StatusBadRequest, cloud.CodeArtifactExists, "a package named %s already exists: %s", req.Name, existing.ArtifactId)
		}
		if err := c.checkArtifactProperty(req.ArtifactType, &req.ArtifactProperty); err != nil {
			return nil, err
		}
		a = &artifactRecord{CreateTime: c.now, Artifact: cloud.Artifact{
			ArtifactId:   c.newArtifactID(),
			ArtifactType: req.ArtifactType,
			Name:         req.Name,
			OwnerId:      c.account,
		}}
		c.st.Artifacts[a.ArtifactId] = a
	} else {
		var err error
		if a, err = c.ownArtifact(req.ArtifactId); err != nil {
			return nil, err
		}
		if req.Name != "" && req.Name != a.Name {
			return nil, invalidParam("package %s is named %s: package names cannot change", a.ArtifactId, a.Name)
		}
		if req.ArtifactType != "" && req.ArtifactType != a.ArtifactType {
			return nil, invalidParam("package %s is of type %s, not %s", a.ArtifactId, a.ArtifactType, req.ArtifactType)
		}
		if v := a.version(req.VersionName); v != nil {
			if v.Status == cloud.ArtifactAvailable {
				return nil, lockedError(v.VersionName, a.Name)
			}
			return nil, invalidParam("version %s of package %s exists as draft", v.VersionName, a.Name)
		}
		if err := c.checkArtifactProperty(a.ArtifactType, &req.ArtifactProperty); err != nil {
			return nil, err
		}
	}
	if len(req.Tags) > 0 {
		a.Tags = maps.Clone(req.Tags) // tags belong to the package: the latest call sets them
	}
	a.Versions = append(a.Versions, cloud.ArtifactVersion{
		VersionName:      req.VersionName,
		Description:      req.Description,
		Status:           cloud.ArtifactDraft,
		ArtifactProperty: req.ArtifactProperty,
		SupportRegionIds: slices.Clone(req.SupportRegionIds),
		CreateTime:       c.now,
	})
	c.touch(c.st.Artifacts, a.ArtifactId)
	detail := "draft version " + req.VersionName
	if req.ArtifactId == "" {
		detail = fmt.Sprintf("package %s (%s) created with %s", a.Name, a.ArtifactType, detail)
	}
	c.record(req.ArtifactProperty.RegionId, "Artifact", a.ArtifactId, detail)
	return &cloud.CreateArtifactResponse{ArtifactId: a.ArtifactId, VersionName: req.VersionName, Status: cloud.ArtifactDraft}, nil
}

func lockedError(version, pkg string) error {
	return newError(http.StatusBadRequest, cloud.CodeArtifactLocked, "version %s of package %s is published and locked; create a new version to change it", version, pkg)
}

// checkVersionFields validates what every version carries.
func checkVersionFields(req *cloud.CreateArtifactRequest) error {
	var errs []string
	if !model.ValidVersionName(req.VersionName) {
		errs = append(errs, fmt.Sprintf("VersionName %q must be 3–50 characters of letters, digits and underscore", req.VersionName))
	}
	if n := utf8.RuneCountInString(req.Description); n < model.MinDescriptionLen || n > model.MaxDescriptionLen {
		errs = append(errs, fmt.Sprintf("Description must be %d–%d characters, got %d", model.MinDescriptionLen, model.MaxDescriptionLen, n))
	}
	errs = append(errs, model.CheckTags(req.Tags, model.MaxPackageTags)...)
	if len(req.SupportRegionIds) == 0 {
		errs = append(errs, "SupportRegionIds needs at least one region")
	} else if err := model.CheckRegions(req.SupportRegionIds); err != nil {
		errs = append(errs, "SupportRegionIds: "+err.Error())
	}
	if len(errs) > 0 {
		return invalidParam("%s", strings.Join(errs, "; "))
	}
	return nil
}

// checkArtifactProperty checks the content of a version. EcsImage: an
// Available image the caller may distribute, its own or a marketplace one;
// the other types: see checkContentProperty, which completes *p.
func (c *call) checkArtifactProperty(artifactType string, p *cloud.ArtifactProperty) error {
	if artifactType != cloud.ArtifactEcsImage {
		completed, err := c.checkContentProperty(artifactType, *p)
		if err != nil {
			return err
		}
		*p = completed
		return nil
	}
	if err := checkRegion("ArtifactProperty.RegionId", p.RegionId); err != nil {
		return err
	}
	img, err := c.usableImage(p.RegionId, p.ImageId)
	if err != nil {
		return err
	}
	if alias, _ := img.alias(c.account); alias != cloud.OwnerSelf && alias != cloud.OwnerMarketplace {
		return invalidParam("image %s is a %s image: a package can hold only a custom image of the account or a marketplace image", img.ImageId, alias)
	}
	if st, _ := img.status(c.now); st != cloud.ImageAvailable {
		return newError(http.StatusBadRequest, cloud.CodeIncorrectStatus, "image %s is %s, not Available", img.ImageId, st)
	}
	return nil
}

func (c *call) newArtifactID() string { return newID(c.st.Artifacts, "artifact-", 24, lowerHex) }

func (s *Server) getArtifact(c *call, req *cloud.GetArtifactRequest) (*cloud.GetArtifactResponse, error) {
	var a *artifactRecord
	switch {
	case req.ArtifactId != "":
		var err error
		if a, err = c.ownArtifact(req.ArtifactId); err != nil {
			return nil, err
		}
		if req.Name != "" && req.Name != a.Name {
			return nil, artifactNotFound("package %s is not named %s", req.ArtifactId, req.Name)
		}
	case req.Name != "":
		if a = c.artifactByName(req.Name); a == nil {
			return nil, artifactNotFound("no package named %s", req.Name)
		}
	default:
		return nil, invalidParam("ArtifactId or Name is required")
	}
	return &cloud.GetArtifactResponse{Artifact: a.clone()}, nil
}

func (s *Server) listArtifacts(c *call, req *cloud.ListArtifactsRequest) (*cloud.ListArtifactsResponse, error) {
	resp := &cloud.ListArtifactsResponse{Artifacts: []cloud.Artifact{}}
	for _, a := range c.st.Artifacts {
		if a.OwnerId == c.account && (req.Name == "" || req.Name == a.Name) {
			resp.Artifacts = append(resp.Artifacts, a.clone())
		}
	}
	slices.SortFunc(resp.Artifacts, func(x, y cloud.Artifact) int { return cmp.Compare(x.Name, y.Name) })
	return resp, nil
}

func (s *Server) releaseArtifact(c *call, req *cloud.ReleaseArtifactRequest) (*cloud.ReleaseArtifactResponse, error) {
	a, err := c.ownArtifact(req.ArtifactId)
	if err != nil {
		return nil, err
	}
	v := a.version(req.VersionName)
	if v == nil {
		return nil, artifactNotFound("package %s has no version %q", a.Name, req.VersionName)
	}
	if v.Status == cloud.ArtifactAvailable {
		return nil, lockedError(v.VersionName, a.Name)
	}
	if err := a.checkReleaseToken(v.VersionName, req.ReleaseToken); err != nil {
		return nil, err
	}
	if err := s.checkPermission(req.Permission); err != nil {
		return nil, err
	}
	if a.ArtifactType == cloud.ArtifactEcsImage {
		if len(req.Delivery) > 0 {
			return nil, invalidParam("an %s package is released with ImageDelivery, not Delivery", cloud.ArtifactEcsImage)
		}
		if err := c.checkDelivery(v, req.ImageDelivery); err != nil {
			return nil, err
		}
	} else {
		if len(req.ImageDelivery) > 0 {
			return nil, invalidParam("a %s package is released with Delivery, not ImageDelivery", a.ArtifactType)
		}
		if err := c.checkContentDelivery(a, v, req.Delivery); err != nil {
			return nil, err
		}
	}
	perm := req.Permission
	perm.AccountIds = slices.Sorted(slices.Values(perm.AccountIds))
	v.Status, v.ImageDelivery, v.Delivery, v.Permission, v.ReleaseTime = cloud.ArtifactAvailable, maps.Clone(req.ImageDelivery), maps.Clone(req.Delivery), &perm, c.now
	delete(a.ReleaseTokens, v.VersionName)
	c.touch(c.st.Artifacts, a.ArtifactId)
	c.record(v.ArtifactProperty.RegionId, "Artifact", a.ArtifactId,
		fmt.Sprintf("version %s of package %s released: %s, %d regions", v.VersionName, a.Name, perm.Visibility, max(len(v.ImageDelivery), len(v.Delivery))))
	return &cloud.ReleaseArtifactResponse{Status: cloud.ArtifactAvailable}, nil
}

func (s *Server) checkPermission(p cloud.Permission) error {
	switch p.Visibility {
	case cloud.VisibilityPrivate, cloud.VisibilityPublic:
		if len(p.AccountIds) > 0 {
			return invalidParam("Permission.AccountIds is a whitelist: only for visibility %s, not %s", cloud.VisibilityWhitelist, p.Visibility)
		}
	case cloud.VisibilityWhitelist:
		if len(p.AccountIds) == 0 {
			return invalidParam("visibility %s needs at least one account in Permission.AccountIds", cloud.VisibilityWhitelist)
		}
		if err := s.checkAccounts("Permission.AccountIds", p.AccountIds); err != nil {
			return err
		}
	default:
		return invalidParam("Permission.Visibility %q must be %s, %s or %s", p.Visibility, cloud.VisibilityPrivate, cloud.VisibilityPublic, cloud.VisibilityWhitelist)
	}
	return nil
}

func (s *Server) checkAccounts(field string, accounts []string) error {
	for _, a := range accounts {
		if !s.accounts[a] {
			return invalidParam("%s: account %q does not exist", field, a)
		}
	}
	return nil
}

// checkDelivery checks the region → image mapping of an EcsImage release:
// regions the version supports, each with an Available image there.
func (c *call) checkDelivery(v *cloud.ArtifactVersion, delivery map[string]string) error {
	if len(delivery) == 0 {
		return invalidParam("ImageDelivery needs at least one region's image")
	}
	for _, region := range slices.Sorted(maps.Keys(delivery)) {
		if err := checkRegion("ImageDelivery region", region); err != nil {
			return err
		}
		if !slices.Contains(v.SupportRegionIds, region) {
			return invalidParam("ImageDelivery names region %s, which version %s does not support (%s)", region, v.VersionName, strings.Join(v.SupportRegionIds, ", "))
		}
		img, err := c.usableImage(region, delivery[region])
		if err != nil {
			return err
		}
		if alias, _ := img.alias(c.account); alias != cloud.OwnerSelf && alias != cloud.OwnerMarketplace {
			return invalidParam("ImageDelivery image %s in %s is a %s image, not the account's", img.ImageId, region, alias)
		}
		if st, _ := img.status(c.now); st != cloud.ImageAvailable {
			return newError(http.StatusBadRequest, cloud.CodeIncorrectStatus, "ImageDelivery image %s in %s is %s, not Available", img.ImageId, region, st)
		}
	}
	return nil
}

func (s *Server) deleteArtifact(c *call, req *cloud.DeleteArtifactRequest) (*cloud.DeleteArtifactResponse, error) {
	a, err := c.ownArtifact(req.ArtifactId)
	if err != nil {
		return nil, err
	}
	if err := a.checkDeletable(req.VersionName, req.ReleaseToken); err != nil {
		return nil, err
	}
	c.touch(c.st.Artifacts, a.ArtifactId)
	if req.VersionName == "" {
		// Removed from the state first, so that content its versions share
		// is not kept for one another.
		delete(c.st.Artifacts, a.ArtifactId)
		for _, v := range a.Versions {
			c.removeVersionContent(a, v)
		}
		c.record("", "Artifact", a.ArtifactId, fmt.Sprintf("package %s deleted with %d versions", a.Name, len(a.Versions)))
		return &cloud.DeleteArtifactResponse{}, nil
	}
	i := slices.IndexFunc(a.Versions, func(v cloud.ArtifactVersion) bool { return v.VersionName == req.VersionName })
	if i < 0 {
		return nil, artifactNotFound("package %s has no version %q", a.Name, req.VersionName)
	}
	removed := a.Versions[i]
	a.Versions = slices.Delete(a.Versions, i, i+1)
	delete(a.ReleaseTokens, removed.VersionName) // a deleted version's publication is over
	c.removeVersionContent(a, removed)
	c.record("", "Artifact", a.ArtifactId, fmt.Sprintf("version %s of package %s deleted", req.VersionName, a.Name))
	return &cloud.DeleteArtifactResponse{}, nil
}

func (s *Server) createService(c *call, req *cloud.CreateServiceRequest) (*cloud.CreateServiceResponse, error) {
	if n := utf8.RuneCountInString(req.Name); n < 1 || n > maxServiceNameLen {
		return nil, invalidParam("Name must be 1–%d characters, got %d", maxServiceNameLen, n)
	}
	switch req.Visibility {
	case cloud.VisibilityPrivate:
	case cloud.VisibilityPublic:
		if len(req.Whitelist) > 0 {
			return nil, invalidParam("a Whitelist applies only to a %s service", cloud.VisibilityPrivate)
		}
	default:
		return nil, invalidParam("Visibility %q must be %s or %s", req.Visibility, cloud.VisibilityPublic, cloud.VisibilityPrivate)
	}
	if err := s.checkAccounts("Whitelist", req.Whitelist); err != nil {
		return nil, err
	}
	for _, id := range req.ArtifactIds {
		if _, err := c.ownArtifact(id); err != nil {
			return nil, err
		}
	}
	svc := &serviceRecord{CreateTime: c.now, Service: cloud.Service{
		ServiceId:   c.newServiceID(),
		Name:        req.Name,
		Visibility:  req.Visibility,
		Whitelist:   slices.Compact(slices.Sorted(slices.Values(req.Whitelist))),
		ArtifactIds: slices.Compact(slices.Sorted(slices.Values(req.ArtifactIds))),
		OwnerId:     c.account,
	}}
	c.st.Services[svc.ServiceId] = svc
	c.touch(c.st.Services, svc.ServiceId)
	c.record("", "Service", svc.ServiceId, fmt.Sprintf("service %s (%s) with packages %v", svc.Name, svc.Visibility, svc.ArtifactIds))
	for _, id := range svc.ArtifactIds {
		c.recomputePermission(id)
	}
	return &cloud.CreateServiceResponse{ServiceId: svc.ServiceId}, nil
}

func (c *call) newServiceID() string { return newID(c.st.Services, "service-", 20, lowerHex) }

func (s *Server) listServices(c *call, req *cloud.ListServicesRequest) (*cloud.ListServicesResponse, error) {
	var found []*serviceRecord
	for _, svc := range c.st.Services {
		if svc.OwnerId == c.account && (req.ArtifactId == "" || slices.Contains(svc.ArtifactIds, req.ArtifactId)) {
			found = append(found, svc)
		}
	}
	slices.SortFunc(found, func(a, b *serviceRecord) int {
		return cmp.Or(a.CreateTime.Compare(b.CreateTime), cmp.Compare(a.ServiceId, b.ServiceId))
	})
	resp := &cloud.ListServicesResponse{Services: make([]cloud.Service, len(found))}
	for i, svc := range found {
		out := svc.Service
		out.Whitelist, out.ArtifactIds = slices.Clone(svc.Whitelist), slices.Clone(svc.ArtifactIds)
		resp.Services[i] = out
	}
	return resp, nil
}
