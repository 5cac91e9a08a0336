package cloudops

import (
	"context"
	"fmt"
	"slices"

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
