package cloudsim

import (
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/imagefleet/imagefleet/cloud"
)

// Locks the services hold on what another operation owns, as the real
// services do: a package version's delivered images, a version being
// published, a scaling group's rolling update task, a service's deployment.

// managedImageError refuses a change to an image a package version
// delivered: Compute Nest manages it for as long as the version exists.
// The version's source image stays the tenant's.
func (c *call) managedImageError(region, imageID string) error {
	for _, id := range slices.Sorted(maps.Keys(c.st.Artifacts)) {
		a := c.st.Artifacts[id]
		if a.OwnerId != c.account || a.ArtifactType != cloud.ArtifactEcsImage {
			continue
		}
		for _, v := range a.Versions {
			if v.ImageDelivery[region] != imageID || (region == v.ArtifactProperty.RegionId && imageID == v.ArtifactProperty.ImageId) {
				continue
			}
			return newError(http.StatusForbidden, cloud.CodeImageManagedByService,
				"image %s in %s was delivered by version %s of package %s and is managed by Compute Nest: delete the version to release it", imageID, region, v.VersionName, a.Name)
		}
	}
	return nil
}

// One publication per version: StartArtifactRelease makes a draft
// Delivering under the publication's token; ReleaseArtifact and
// CancelArtifactRelease need that token. A second publication (another
// token) is refused while the first holds the version, and for good once
// it is published (VersionLocked).

func releasingError(version, pkg string) error {
	return newError(http.StatusConflict, cloud.CodeArtifactReleasing,
		"version %s of package %s is being published by another publication: wait for it, or abort it", version, pkg)
}

// checkReleaseToken lets a release of a Delivering version through only
// with the token of the publication that holds it. A draft that no
// publication holds is released by anyone (as before the lock existed).
func (a *artifactRecord) checkReleaseToken(version, token string) error {
	if held, ok := a.ReleaseTokens[version]; ok && held != token {
		return releasingError(version, a.Name)
	}
	return nil
}

// checkDeletable refuses to delete a version a publication holds (or a
// package with such a version) unless token is the holder's: the delete
// and the check are one call, so no publication loses its version between
// a client's look and its delete.
func (a *artifactRecord) checkDeletable(version, token string) error {
	for _, v := range a.Versions {
		if version != "" && v.VersionName != version {
			continue
		}
		if held, ok := a.ReleaseTokens[v.VersionName]; ok && held != token {
			return newError(http.StatusConflict, cloud.CodeArtifactReleasing,
				"version %s of package %s is being published (%s) and cannot be deleted: wait for the publication to end, or cancel it first",
				v.VersionName, a.Name, v.Status)
		}
	}
	return nil
}

func (s *Server) startArtifactRelease(c *call, req *cloud.StartArtifactReleaseRequest) (*cloud.StartArtifactReleaseResponse, error) {
	a, v, err := c.versionForRelease(req.ArtifactId, req.VersionName, req.ReleaseToken)
	if err != nil {
		return nil, err
	}
	if held, ok := a.ReleaseTokens[v.VersionName]; ok {
		if held != req.ReleaseToken {
			return nil, releasingError(v.VersionName, a.Name)
		}
		return &cloud.StartArtifactReleaseResponse{Status: v.Status}, nil // the same publication again
	}
	if a.ReleaseTokens == nil {
		a.ReleaseTokens = map[string]string{}
	}
	a.ReleaseTokens[v.VersionName], v.Status = req.ReleaseToken, cloud.ArtifactDelivering
	c.touch(c.st.Artifacts, a.ArtifactId)
	c.record(v.ArtifactProperty.RegionId, "Artifact", a.ArtifactId, fmt.Sprintf("version %s of package %s is being published", v.VersionName, a.Name))
	return &cloud.StartArtifactReleaseResponse{Status: v.Status}, nil
}

func (s *Server) cancelArtifactRelease(c *call, req *cloud.CancelArtifactReleaseRequest) (*cloud.CancelArtifactReleaseResponse, error) {
	a, v, err := c.versionForRelease(req.ArtifactId, req.VersionName, req.ReleaseToken)
	if err != nil {
		return nil, err
	}
	held, ok := a.ReleaseTokens[v.VersionName]
	if !ok {
		return &cloud.CancelArtifactReleaseResponse{}, nil // a draft already
	}
	if held != req.ReleaseToken {
		return nil, releasingError(v.VersionName, a.Name)
	}
	delete(a.ReleaseTokens, v.VersionName)
	v.Status = cloud.ArtifactDraft
	c.touch(c.st.Artifacts, a.ArtifactId)
	c.record(v.ArtifactProperty.RegionId, "Artifact", a.ArtifactId, fmt.Sprintf("publication of version %s of package %s given up", v.VersionName, a.Name))
	return &cloud.CancelArtifactReleaseResponse{}, nil
}

// versionForRelease finds the version a publication holds or gives up: one
// not published yet (a published one is locked for good).
func (c *call) versionForRelease(artifactID, version, token string) (*artifactRecord, *cloud.ArtifactVersion, error) {
	if token == "" {
		return nil, nil, invalidParam("ReleaseToken is required")
	}
	a, err := c.ownArtifact(artifactID)
	if err != nil {
		return nil, nil, err
	}
	v := a.version(version)
	if v == nil {
		return nil, nil, artifactNotFound("package %s has no version %q", a.Name, version)
	}
	if v.Status == cloud.ArtifactAvailable {
		return nil, nil, lockedError(v.VersionName, a.Name)
	}
	return a, v, nil
}

// deploymentInProgress returns the task set of a deployment still under
// way on svc: an ACTIVE task set (not the primary, not draining). A
// service's deployment is locked while one runs: a second task set would
// move traffic under the first, or be left behind when it ends. The lock
// holds whatever external ID the new task set carries: anyone can read a
// deployment's external ID (DescribeTaskSets), so it names a deployment but
// proves nothing; the deployment's own retried creation is answered from its
// client token before the lock is asked.
func (c *call) deploymentInProgress(svc *containerServiceRecord) *taskSetRecord {
	for _, arn := range slices.Sorted(maps.Keys(c.st.TaskSets)) {
		ts := c.st.TaskSets[arn]
		if ts.ServiceArn == svc.ServiceArn && ts.Status == cloud.TaskSetActive && ts.DeletedAt.IsZero() {
			return ts
		}
	}
	return nil
}
