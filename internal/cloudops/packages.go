package cloudops

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// FindArtifact returns the caller's package named name, or nil.
func FindArtifact(ctx context.Context, nest cloud.ComputeNest, name string) (*cloud.Artifact, error) {
	resp, err := nest.GetArtifact(ctx, &cloud.GetArtifactRequest{Name: name})
	if cloud.IsCode(err, cloud.CodeArtifactNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &resp.Artifact, nil
}

// FindVersion returns the package's version named name, or nil.
func FindVersion(a *cloud.Artifact, name string) *cloud.ArtifactVersion {
	i := slices.IndexFunc(a.Versions, func(v cloud.ArtifactVersion) bool { return v.VersionName == name })
	if i < 0 {
		return nil
	}
	return &a.Versions[i]
}

// CheckVersionUnpublished refuses a version that is already published.
func CheckVersionUnpublished(a *cloud.Artifact, version string) error {
	if v := FindVersion(a, version); v != nil && v.Status == cloud.ArtifactAvailable {
		return fmt.Errorf("version %s of package %s is already published and locked; publish a changed image as a new version", version, a.Name)
	}
	return nil
}

// CheckDraftFits refuses a distribution of spec onto an existing draft of
// its version that it would not deliver in full: the draft must hold the
// spec's source image, and the spec's regions must be exactly the draft's.
// A region of the draft left out would be published (and locked) in the
// version's region list with nothing delivered there; a region the draft
// lacks cannot be released. Both are refused before anything is copied.
// Without a draft of the version, nothing is refused.
func CheckDraftFits(a *cloud.Artifact, spec model.DistributeSpec) error {
	draft := FindVersion(a, spec.Version)
	if draft == nil || draft.Status == cloud.ArtifactAvailable {
		return nil
	}
	if draft.ArtifactProperty.ImageId != spec.SourceImage || draft.ArtifactProperty.RegionId != spec.SourceRegion {
		return fmt.Errorf("draft version %s of package %s holds image %s in %s, not %s in %s: use a new version name",
			spec.Version, spec.Package, draft.ArtifactProperty.ImageId, draft.ArtifactProperty.RegionId, spec.SourceImage, spec.SourceRegion)
	}
	extra, missing := notIn(spec.Regions, draft.SupportRegionIds), notIn(draft.SupportRegionIds, spec.Regions)
	if len(extra) == 0 && len(missing) == 0 {
		return nil
	}
	var why []string
	if len(missing) > 0 {
		why = append(why, fmt.Sprintf("it leaves out %s, which the published version would list with nothing delivered", strings.Join(missing, ", ")))
	}
	if len(extra) > 0 {
		why = append(why, fmt.Sprintf("the draft does not support %s", strings.Join(extra, ", ")))
	}
	return fmt.Errorf("draft version %s of package %s is for regions %s, not %s: %s; distribute to the draft's regions (--regions %s) or use a new version name",
		spec.Version, spec.Package, strings.Join(draft.SupportRegionIds, ","), strings.Join(spec.Regions, ","), strings.Join(why, "; "), strings.Join(draft.SupportRegionIds, ","))
}

// notIn returns the regions of a that b lacks.
func notIn(a, b []string) []string {
	var out []string
	for _, r := range a {
		if !slices.Contains(b, r) {
			out = append(out, r)
		}
	}
	return out
}

// PackagePermission derives the package's permission from the services
// associated with it.
func PackagePermission(ctx context.Context, nest cloud.ComputeNest, artifactID string) (model.Permission, error) {
	resp, err := nest.ListServices(ctx, &cloud.ListServicesRequest{ArtifactId: artifactID})
	if err != nil {
		return model.Permission{}, err
	}
	services := make([]model.AssociatedService, len(resp.Services))
	for i, s := range resp.Services {
		services[i] = model.AssociatedService{ID: s.ServiceId, Public: s.Visibility == cloud.VisibilityPublic, Whitelist: s.Whitelist}
	}
	return model.PackagePermission(services), nil
}
