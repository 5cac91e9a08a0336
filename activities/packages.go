package activities

import (
	"context"
	"fmt"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

// Packages are the activities on Compute Nest deployment packages.
type Packages struct {
	Nest cloud.ComputeNest
}

// ErrTypeVersionLocked marks a version that is already published.
const ErrTypeVersionLocked = "VersionLocked"

// PrepareVersionInput describes the draft version to distribute.
type PrepareVersionInput struct {
	Spec        model.DistributeSpec
	ClientToken string
}

// PreparedVersion is the draft version a distribution works on.
type PreparedVersion struct {
	ArtifactID string
	// Created says that this run's client token created the draft (in this
	// attempt or an earlier one): the run may delete it when it fails. A
	// draft that existed before the run is not the run's to delete.
	Created bool
}

// PrepareArtifactVersion is PrepareDraftVersion answering only the package
// ID, for runs recorded before the draft's origin was reported.
func (a *Packages) PrepareArtifactVersion(ctx context.Context, in PrepareVersionInput) (string, error) {
	v, err := a.PrepareDraftVersion(ctx, in)
	return v.ArtifactID, err
}

// PrepareDraftVersion makes sure the package exists and has the spec's
// version as a draft, and says whether the input's client token created it.
// A published version is refused: its content is locked, and a changed
// image needs a new version.
func (a *Packages) PrepareDraftVersion(ctx context.Context, in PrepareVersionInput) (PreparedVersion, error) {
	spec := in.Spec
	existing, err := cloudops.FindArtifact(ctx, a.Nest, spec.Package)
	if err != nil {
		return PreparedVersion{}, fromCloud(err)
	}
	req := &cloud.CreateArtifactRequest{
		ArtifactType:     cloud.ArtifactEcsImage,
		Name:             spec.Package,
		VersionName:      spec.Version,
		Description:      spec.Description,
		ArtifactProperty: cloud.ArtifactProperty{RegionId: spec.SourceRegion, ImageId: spec.SourceImage},
		SupportRegionIds: spec.Regions,
		Tags:             spec.Tags,
		ClientToken:      in.ClientToken,
	}
	if existing != nil {
		if err := cloudops.CheckVersionUnpublished(existing, spec.Version); err != nil {
			return PreparedVersion{}, permanent(ErrTypeVersionLocked, err)
		}
		req.ArtifactId = existing.ArtifactId
		if draft := cloudops.FindVersion(existing, spec.Version); draft != nil {
			// Found before any copy: the distribution delivers exactly the
			// draft's regions, or none (the starter refuses it up front too).
			if err := cloudops.CheckDraftFits(existing, spec); err != nil {
				return PreparedVersion{}, permanent(cloud.CodeInvalidParameter, err)
			}
			created, err := a.createdWithToken(ctx, req)
			return PreparedVersion{ArtifactID: existing.ArtifactId, Created: created}, err
		}
	}
	resp, err := a.Nest.CreateArtifact(ctx, req)
	if err != nil {
		return PreparedVersion{}, fromCloud(err)
	}
	return PreparedVersion{ArtifactID: resp.ArtifactId, Created: true}, nil
}

// createdWithToken tells a draft that an earlier attempt of this run created
// (a retry after a lost answer or a worker crash) from one that existed
// before the run, by asking the cloud to create it again with the run's
// client token: only a successful call is remembered under a token, so a
// replayed answer, or a mismatch (the first call also created the package),
// means the token created the draft; "exists as draft" means it did not.
// The draft exists, so the call creates nothing.
func (a *Packages) createdWithToken(ctx context.Context, req *cloud.CreateArtifactRequest) (bool, error) {
	if req.ClientToken == "" {
		return false, nil
	}
	_, err := a.Nest.CreateArtifact(ctx, req)
	switch {
	case err == nil, cloud.IsCode(err, cloud.CodeIdempotentMismatch):
		return true, nil
	case cloud.IsCode(err, cloud.CodeInvalidParameter):
		return false, nil
	}
	return false, fromCloud(err)
}

// FindPublishedImageVersion returns the result of the spec's version if an
// earlier run published it from the same source image, nil if the version
// is not published, and a VersionLocked error if it was published from
// another image. A restart of a finished distribution answers with the
// existing result instead of failing on the lock.
//
// The result is the publication's: its regions and images, and as dropped
// the regions the version lists without an image, whatever regions this
// start asked for.
func (a *Packages) FindPublishedImageVersion(ctx context.Context, spec model.DistributeSpec) (*model.DistributionResult, error) {
	art, v, err := a.publishedImageVersion(ctx, spec.Package, spec.Version)
	if err != nil || v == nil {
		return nil, err
	}
	if art.ArtifactType != cloud.ArtifactEcsImage || v.ArtifactProperty.ImageId != spec.SourceImage || v.ArtifactProperty.RegionId != spec.SourceRegion {
		return nil, permanent(ErrTypeVersionLocked, fmt.Errorf("version %s of package %s is already published from %s in %s and locked; publish a changed image as a new version",
			spec.Version, spec.Package, v.ArtifactProperty.ImageId, v.ArtifactProperty.RegionId))
	}
	return publishedImageResult(art, v), nil
}

// FindPublishedVersion returns the publication of an ECS image version by
// its package and version alone (a start whose input was refused still
// shows it), or nil if the version is not a published image version.
func (a *Packages) FindPublishedVersion(ctx context.Context, in PackageVersionInput) (*model.DistributionResult, error) {
	art, v, err := a.publishedImageVersion(ctx, in.Package, in.Version)
	if err != nil || v == nil || art.ArtifactType != cloud.ArtifactEcsImage {
		return nil, err
	}
	return publishedImageResult(art, v), nil
}

func (a *Packages) publishedImageVersion(ctx context.Context, pkg, version string) (*cloud.Artifact, *cloud.ArtifactVersion, error) {
	art, err := cloudops.FindArtifact(ctx, a.Nest, pkg)
	if err != nil || art == nil {
		return nil, nil, fromCloud(err)
	}
	v := cloudops.FindVersion(art, version)
	if v == nil || v.Status != cloud.ArtifactAvailable {
		return nil, nil, nil
	}
	return art, v, nil
}

func publishedImageResult(art *cloud.Artifact, v *cloud.ArtifactVersion) *model.DistributionResult {
	res := &model.DistributionResult{Package: art.Name, Version: v.VersionName, ArtifactID: art.ArtifactId, ImageIDs: v.ImageDelivery, AlreadyPublished: true}
	if v.Permission != nil {
		res.Permission = model.Permission{Visibility: v.Permission.Visibility, Accounts: v.Permission.AccountIds}
	}
	for _, r := range v.SupportRegionIds {
		if _, ok := v.ImageDelivery[r]; !ok {
			res.Dropped = append(res.Dropped, r)
		}
	}
	return res
}

// ResolvePackagePermission derives the package's permission from the
// services associated with it.
func (a *Packages) ResolvePackagePermission(ctx context.Context, artifactID string) (model.Permission, error) {
	perm, err := cloudops.PackagePermission(ctx, a.Nest, artifactID)
	return perm, fromCloud(err)
}

// ReleaseInput publishes a version.
type ReleaseInput struct {
	ArtifactID  string
	Version     string
	ImageIDs    map[string]string
	Permission  model.Permission
	ClientToken string
	// ReleaseToken is the publication's (StartPublication), if it holds one.
	ReleaseToken string `json:",omitempty"`
}

// ReleaseArtifactVersion publishes the version with its region mapping and
// locks it. A retry after a lost answer finds it published by us and succeeds.
func (a *Packages) ReleaseArtifactVersion(ctx context.Context, in ReleaseInput) error {
	return releaseVersion(ctx, a.Nest, in.Permission, &cloud.ReleaseArtifactRequest{
		ArtifactId: in.ArtifactID, VersionName: in.Version, ImageDelivery: in.ImageIDs, ReleaseToken: in.ReleaseToken, ClientToken: in.ClientToken,
	})
}

// releaseVersion releases a version of any package type (req names its
// region mapping) with the package's permission.
func releaseVersion(ctx context.Context, nest cloud.ComputeNest, perm model.Permission, req *cloud.ReleaseArtifactRequest) error {
	req.Permission = cloud.Permission{Visibility: perm.Visibility, AccountIds: perm.Accounts}
	_, err := nest.ReleaseArtifact(ctx, req)
	return fromCloud(err)
}

// PublicationInput names the version a publication holds and its token.
type PublicationInput struct {
	ArtifactID   string
	Version      string
	ReleaseToken string
}

// StartPublication makes the publication the one that may release the
// version: a second publication of the same version (another workflow, the
// console) is refused by the cloud (Artifact.VersionReleasing), as is a
// published version (Artifact.VersionLocked). Neither can be retried.
func (a *Packages) StartPublication(ctx context.Context, in PublicationInput) error {
	_, err := a.Nest.StartArtifactRelease(ctx, &cloud.StartArtifactReleaseRequest{ArtifactId: in.ArtifactID, VersionName: in.Version, ReleaseToken: in.ReleaseToken})
	return fromCloud(err)
}

// CancelPublication gives the version back to Draft after a failed or
// aborted publication, so that a new one can start. A version gone is fine.
func (a *Packages) CancelPublication(ctx context.Context, in PublicationInput) error {
	_, err := a.Nest.CancelArtifactRelease(ctx, &cloud.CancelArtifactReleaseRequest{ArtifactId: in.ArtifactID, VersionName: in.Version, ReleaseToken: in.ReleaseToken})
	if isNotFound(err) {
		return nil
	}
	return fromCloud(err)
}

// PackageVersionInput names a package version.
type PackageVersionInput struct {
	Package string
	Version string
	// ReleaseToken, if set, is the token of the publication that may still
	// hold the version (one that ended without giving it up): the cloud
	// deletes a held version only for its holder.
	ReleaseToken string `json:",omitempty"`
}

// DeletePackageVersion deletes a package version, published or not, and
// with it what it distributed. A version or package already gone is fine.
func (a *Packages) DeletePackageVersion(ctx context.Context, in PackageVersionInput) error {
	art, err := cloudops.FindArtifact(ctx, a.Nest, in.Package)
	if err != nil || art == nil {
		return fromCloud(err)
	}
	_, err = a.Nest.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: art.ArtifactId, VersionName: in.Version, ReleaseToken: in.ReleaseToken})
	if isNotFound(err) {
		return nil
	}
	return fromCloud(err)
}
