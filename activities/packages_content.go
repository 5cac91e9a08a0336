package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

// PackageContent are the activities that deliver File, AcrImage and
// HelmChart package versions.
//
// Temporary registry credentials: an activity that needs one asks
// GetAuthorizationToken itself and uses it in the same call; no credential is
// ever an activity's input or result, so none reaches a workflow history
// (nor a heartbeat, nor an error message). The starter's pushes do the same
// outside Temporal.
type PackageContent struct {
	Nest cloud.ComputeNest
	OSS  cloud.OSS
	ACR  cloud.ACR
}

// Error types of the package content activities.
const (
	ErrTypeNotDraft    = "VersionNotDraft"
	ErrTypePackageType = "UnsupportedPackageType"
)

// PackageVersionInfo is a version as PublishPackageVersion needs it.
type PackageVersionInfo struct {
	ArtifactID string
	Type       string
	Status     string
	Regions    []string // the regions it is to be delivered to
	Content    model.PackageContent
}

// LoadVersionInput names a version.
type LoadVersionInput struct {
	Package string
	Version string
}

// LoadDraftVersion returns the draft version to publish. A published
// version is refused (locked), as is an ECS image package, which
// DistributeImagePackage publishes.
func (a *PackageContent) LoadDraftVersion(ctx context.Context, in LoadVersionInput) (*PackageVersionInfo, error) {
	art, err := cloudops.FindArtifact(ctx, a.Nest, in.Package)
	if err != nil {
		return nil, fromCloud(err)
	}
	if art == nil {
		return nil, permanent(cloud.CodeArtifactNotFound, fmt.Errorf("package %s does not exist", in.Package))
	}
	v := cloudops.FindVersion(art, in.Version)
	if v == nil {
		return nil, permanent(cloud.CodeArtifactNotFound, fmt.Errorf("package %s has no version %s: create it first (starter package version create)", in.Package, in.Version))
	}
	if art.ArtifactType == cloud.ArtifactEcsImage {
		return nil, permanent(ErrTypePackageType, fmt.Errorf("package %s is an ECS image package: publish it with %s", in.Package, model.DistributeWorkflowType))
	}
	if v.Status == cloud.ArtifactAvailable { // a Delivering version: StartRelease says whose it is
		return nil, permanent(ErrTypeVersionLocked, fmt.Errorf("version %s of package %s is already %s and locked; publish changed content as a new version", in.Version, in.Package, v.Status))
	}
	return &PackageVersionInfo{
		ArtifactID: art.ArtifactId, Type: art.ArtifactType, Status: v.Status, Regions: v.SupportRegionIds,
		Content: ContentOf(v.ArtifactProperty),
	}, nil
}

// FindPublishedContentVersion returns the result of a version an earlier
// run published, or nil if the version is not published: a restart of a
// finished publication answers with it instead of failing on the lock.
func (a *PackageContent) FindPublishedContentVersion(ctx context.Context, in LoadVersionInput) (*model.PublishResult, error) {
	art, err := cloudops.FindArtifact(ctx, a.Nest, in.Package)
	if err != nil || art == nil {
		return nil, fromCloud(err)
	}
	v := cloudops.FindVersion(art, in.Version)
	if v == nil || v.Status != cloud.ArtifactAvailable || art.ArtifactType == cloud.ArtifactEcsImage {
		return nil, nil // LoadDraftVersion explains what is wrong
	}
	res := &model.PublishResult{Package: in.Package, Version: in.Version, Type: art.ArtifactType, ArtifactID: art.ArtifactId,
		Delivery: v.Delivery, Endpoint: model.EndpointInternet, AlreadyPublished: true}
	if art.ArtifactType == cloud.ArtifactFile {
		res.Endpoint = model.EndpointInternal
	}
	if v.Permission != nil {
		res.Permission = model.Permission{Visibility: v.Permission.Visibility, Accounts: v.Permission.AccountIds}
	}
	for _, r := range v.SupportRegionIds {
		if _, ok := v.Delivery[r]; !ok {
			res.Dropped = append(res.Dropped, r)
		}
	}
	return res, nil
}

// ContentOf converts the cloud's property of a version.
func ContentOf(p cloud.ArtifactProperty) model.PackageContent {
	return model.PackageContent{Region: p.RegionId, Bucket: p.Bucket, ObjectKey: p.ObjectKey, URL: p.Url,
		Namespace: p.Namespace, RepoName: p.RepoName, Tag: p.Tag}
}

// CopyFileInput copies a file package's object into a region's bucket.
type CopyFileInput struct {
	SourceRegion string
	SourceBucket string
	Key          string
	Region       string
	ClientToken  string
}

// FileCopy is where a copied file is.
type FileCopy struct {
	Bucket string
	Key    string
	URL    string // internal download URL
}

// CopyFileToRegion copies the file into the account's artifact bucket of
// the region, under the same key, and returns its internal download URL.
func (a *PackageContent) CopyFileToRegion(ctx context.Context, in CopyFileInput) (*FileCopy, error) {
	b, err := a.OSS.GetArtifactBucket(ctx, &cloud.GetArtifactBucketRequest{RegionId: in.Region})
	if err != nil {
		return nil, fromCloud(err)
	}
	resp, err := a.OSS.CopyObject(ctx, &cloud.CopyObjectRequest{
		SourceRegionId: in.SourceRegion, SourceBucket: in.SourceBucket, SourceKey: in.Key,
		RegionId: in.Region, Bucket: b.Bucket, Key: in.Key, ClientToken: in.ClientToken,
	})
	if err != nil {
		return nil, fromCloud(err)
	}
	return &FileCopy{Bucket: resp.Object.Bucket, Key: resp.Object.Key, URL: resp.Object.InternalUrl}, nil
}

// DeleteFileInput names a copied file.
type DeleteFileInput struct {
	Region string
	Bucket string
	Key    string
}

// DeleteFileCopy removes a copy; a missing one is already gone.
func (a *PackageContent) DeleteFileCopy(ctx context.Context, in DeleteFileInput) error {
	_, err := a.OSS.DeleteObject(ctx, &cloud.DeleteObjectRequest{RegionId: in.Region, Bucket: in.Bucket, Key: in.Key})
	return fromCloud(err)
}

// RegistryTagInput names registry content and the region whose endpoint
// is to serve it.
type RegistryTagInput struct {
	Region    string
	Namespace string
	RepoName  string
	Tag       string
}

// RegistryLocation is where a region's endpoint serves a tag.
type RegistryLocation struct {
	Address  string
	Endpoint string // always internet: the registry serves pulls only there
	Digest   string
}

// LocateRegistryTag checks that the region's endpoint serves the tag, with a
// temporary credential it fetches itself, and returns the pull address to
// record for the region.
func (a *PackageContent) LocateRegistryTag(ctx context.Context, in RegistryTagInput) (*RegistryLocation, error) {
	tok, err := a.ACR.GetAuthorizationToken(ctx, &cloud.GetAuthorizationTokenRequest{RegionId: in.Region})
	if err != nil {
		return nil, fromCloud(err)
	}
	resp, err := a.ACR.GetRepoTag(ctx, &cloud.GetRepoTagRequest{
		RegionId: in.Region, Namespace: in.Namespace, RepoName: in.RepoName, Tag: in.Tag, AuthorizationToken: tok.AuthorizationToken,
	})
	if cloud.IsCode(err, cloud.CodeTokenExpired) {
		// Expired between the two calls: the next attempt fetches a new one.
		apiErr, _ := cloud.AsAPIError(err)
		return nil, temporal.NewApplicationError(apiErr.Error(), apiErr.Code)
	}
	if err != nil {
		return nil, fromCloud(err)
	}
	return &RegistryLocation{Address: resp.PullAddress, Endpoint: resp.Endpoint, Digest: resp.Tag.Digest}, nil
}

// ReleaseContentInput publishes a File, AcrImage or HelmChart version.
type ReleaseContentInput struct {
	ArtifactID  string
	Version     string
	Delivery    map[string]string
	Permission  model.Permission
	ClientToken string
	// ReleaseToken is the publication's (StartPublication), if it holds one.
	ReleaseToken string `json:",omitempty"`
}

// ReleaseContentVersion publishes the version with its region mapping and
// locks it.
func (a *PackageContent) ReleaseContentVersion(ctx context.Context, in ReleaseContentInput) error {
	return releaseVersion(ctx, a.Nest, in.Permission, &cloud.ReleaseArtifactRequest{
		ArtifactId: in.ArtifactID, VersionName: in.Version, Delivery: in.Delivery, ReleaseToken: in.ReleaseToken, ClientToken: in.ClientToken,
	})
}
