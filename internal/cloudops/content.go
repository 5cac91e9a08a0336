package cloudops

import (
	"context"
	"errors"
	"path"

	"github.com/imagefleet/imagefleet/cloud"
)

// The content of a File, AcrImage or HelmChart version is put in place
// before its draft is created. The registry credential stays inside these
// functions: it is asked for and used in the same call.

// StageFile uploads a file package's content into the account's artifact
// bucket of region, under pkg/version/name.
func StageFile(ctx context.Context, oss cloud.OSS, region, pkg, version, name string, content []byte) (*cloud.ObjectInfo, error) {
	b, err := oss.GetArtifactBucket(ctx, &cloud.GetArtifactBucketRequest{RegionId: region})
	if err != nil {
		return nil, err
	}
	resp, err := oss.PutObject(ctx, &cloud.PutObjectRequest{RegionId: region, Bucket: b.Bucket, Key: pkg + "/" + version + "/" + path.Base(name), Content: content})
	if err != nil {
		return nil, err
	}
	return &resp.Object, nil
}

// PushContainerImage pushes a local image reference into the tenant
// namespace as repo:tag with a temporary credential.
func PushContainerImage(ctx context.Context, acr cloud.ACR, region, repo, tag, source string) (*cloud.PushImageResponse, error) {
	tok, err := acr.GetAuthorizationToken(ctx, &cloud.GetAuthorizationTokenRequest{RegionId: region})
	if err != nil {
		return nil, err
	}
	return acr.PushImage(ctx, &cloud.PushImageRequest{RegionId: region, Namespace: tok.Namespace, RepoName: repo, Tag: tag,
		SourceImage: source, AuthorizationToken: tok.AuthorizationToken})
}

// PushHelmChart pushes a packaged chart into the tenant namespace as
// repo:tag with a temporary credential.
func PushHelmChart(ctx context.Context, acr cloud.ACR, region, repo, tag, chartName string, content []byte) (*cloud.PushChartResponse, error) {
	if len(content) == 0 {
		return nil, errors.New("the chart file is empty")
	}
	tok, err := acr.GetAuthorizationToken(ctx, &cloud.GetAuthorizationTokenRequest{RegionId: region})
	if err != nil {
		return nil, err
	}
	return acr.PushChart(ctx, &cloud.PushChartRequest{RegionId: region, Namespace: tok.Namespace, RepoName: repo, Tag: tag,
		ChartName: path.Base(chartName), Content: content, AuthorizationToken: tok.AuthorizationToken})
}
