package cloudsimtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// ImageVersion is a published version of an EcsImage package made through
// the cloud's API by PublishImageVersion, without a distribution run.
type ImageVersion struct {
	Package, Version string
	// SourceRegion and SourceImage are the version's content.
	SourceRegion, SourceImage string
	// SourceTags, if set, give the version a source image of its own: a copy
	// of SourceImage in SourceRegion with these tags.
	SourceTags map[string]string
	// Regions receive a copy each.
	Regions []string
	// Wait is called before each look at the copies (e.g. to advance a fake
	// clock); nil waits 20ms.
	Wait func()
}

// PublishImageVersion creates the version as a draft (and the package with
// its first version), copies its image into every region, waits until the
// copies are Available and releases it privately. Its calls carry client
// tokens named after the package and version, so a repeated call is safe.
// It returns the package ID and the version's region → image mapping.
func PublishImageVersion(ctx context.Context, c *cloud.Client, v ImageVersion) (string, map[string]string, error) {
	id, deliveries, err := PublishImageVersions(ctx, c, v)
	if err != nil {
		return "", nil, err
	}
	return id, deliveries[0], nil
}

// PublishImageVersions publishes the versions of one package as
// PublishImageVersion does, their copies all at once, and releases them in
// the order given (the last is the newest). It returns the package ID and
// each version's region → image mapping.
func PublishImageVersions(ctx context.Context, c *cloud.Client, versions ...ImageVersion) (string, []map[string]string, error) {
	ids := make([]string, len(versions))
	deliveries := make([]map[string]string, len(versions))
	for i, v := range versions {
		id, delivery, err := prepareVersion(ctx, c, v)
		if err != nil {
			return "", nil, err
		}
		ids[i], deliveries[i] = id, delivery
	}
	for i, v := range versions {
		if err := awaitImages(ctx, c, deliveries[i], waitOf(v)); err != nil {
			return "", nil, err
		}
	}
	for i, v := range versions {
		_, err := c.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{ArtifactId: ids[i], VersionName: v.Version, ImageDelivery: deliveries[i],
			Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate}, ClientToken: versionToken(v, "release")})
		if err != nil {
			return "", nil, err
		}
	}
	return ids[0], deliveries, nil
}

func waitOf(v ImageVersion) func() {
	if v.Wait == nil {
		return func() { time.Sleep(20 * time.Millisecond) }
	}
	return v.Wait
}

func versionToken(v ImageVersion, parts ...string) string {
	return strings.Join(append([]string{"publish", v.Package, v.Version}, parts...), "-")
}

// prepareVersion creates the draft and starts its copies.
func prepareVersion(ctx context.Context, c *cloud.Client, v ImageVersion) (string, map[string]string, error) {
	source := v.SourceImage
	if v.SourceTags != nil {
		resp, err := c.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: v.SourceRegion, ImageId: v.SourceImage, DestinationRegionId: v.SourceRegion,
			Tags: v.SourceTags, ClientToken: versionToken(v, "source")})
		if err != nil {
			return "", nil, err
		}
		source = resp.ImageId
		if err := awaitImages(ctx, c, map[string]string{v.SourceRegion: source}, waitOf(v)); err != nil {
			return "", nil, err
		}
	}
	req := &cloud.CreateArtifactRequest{ArtifactType: cloud.ArtifactEcsImage, Name: v.Package, VersionName: v.Version,
		Description: "version " + v.Version, ArtifactProperty: cloud.ArtifactProperty{RegionId: v.SourceRegion, ImageId: source},
		SupportRegionIds: v.Regions, ClientToken: versionToken(v, "create")}
	if got, err := c.GetArtifact(ctx, &cloud.GetArtifactRequest{Name: v.Package}); err == nil {
		req.ArtifactId = got.Artifact.ArtifactId
	} else if !cloud.IsCode(err, cloud.CodeArtifactNotFound) {
		return "", nil, err
	}
	created, err := c.CreateArtifact(ctx, req)
	if err != nil {
		return "", nil, err
	}
	delivery := map[string]string{}
	for _, r := range v.Regions {
		resp, err := c.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: v.SourceRegion, ImageId: source, DestinationRegionId: r, ClientToken: versionToken(v, "copy", r)})
		if err != nil {
			return "", nil, err
		}
		delivery[r] = resp.ImageId
	}
	return created.ArtifactId, delivery, nil
}

func awaitImages(ctx context.Context, c *cloud.Client, images map[string]string, wait func()) error {
	for _, r := range slices.Sorted(maps.Keys(images)) {
		for {
			resp, err := c.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: r, ImageIds: []string{images[r]}})
			if err != nil {
				return err
			}
			if len(resp.Images) == 1 && resp.Images[0].Status == cloud.ImageAvailable {
				break
			}
			if len(resp.Images) == 1 && resp.Images[0].Status != cloud.ImageCreating {
				return fmt.Errorf("copy %s in %s is %s", images[r], r, resp.Images[0].Status)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			wait()
		}
	}
	return nil
}
