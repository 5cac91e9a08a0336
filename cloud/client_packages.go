package cloud

import "context"

// Client methods of the services deployment packages use besides ECS images:
// OSS (file packages), ACR (container image and Helm chart packages) and
// Compute Nest's UpdateService.

var (
	_ OSS = (*Client)(nil)
	_ ACR = (*Client)(nil)
)

func (c *Client) UpdateService(ctx context.Context, req *UpdateNestServiceRequest) (*UpdateNestServiceResponse, error) {
	return call[UpdateNestServiceResponse](ctx, c, "UpdateService", req)
}

func (c *Client) GetArtifactBucket(ctx context.Context, req *GetArtifactBucketRequest) (*GetArtifactBucketResponse, error) {
	return call[GetArtifactBucketResponse](ctx, c, "GetArtifactBucket", req)
}

func (c *Client) PutObject(ctx context.Context, req *PutObjectRequest) (*PutObjectResponse, error) {
	return call[PutObjectResponse](ctx, c, "PutObject", req)
}

func (c *Client) CopyObject(ctx context.Context, req *CopyObjectRequest) (*CopyObjectResponse, error) {
	return call[CopyObjectResponse](ctx, c, "CopyObject", req)
}

func (c *Client) GetObject(ctx context.Context, req *GetObjectRequest) (*GetObjectResponse, error) {
	return call[GetObjectResponse](ctx, c, "GetObject", req)
}

func (c *Client) HeadObject(ctx context.Context, req *HeadObjectRequest) (*HeadObjectResponse, error) {
	return call[HeadObjectResponse](ctx, c, "HeadObject", req)
}

func (c *Client) DeleteObject(ctx context.Context, req *DeleteObjectRequest) (*DeleteObjectResponse, error) {
	return call[DeleteObjectResponse](ctx, c, "DeleteObject", req)
}

func (c *Client) GetAuthorizationToken(ctx context.Context, req *GetAuthorizationTokenRequest) (*GetAuthorizationTokenResponse, error) {
	return call[GetAuthorizationTokenResponse](ctx, c, "GetAuthorizationToken", req)
}

func (c *Client) PushImage(ctx context.Context, req *PushImageRequest) (*PushImageResponse, error) {
	return call[PushImageResponse](ctx, c, "PushImage", req)
}

func (c *Client) PushChart(ctx context.Context, req *PushChartRequest) (*PushChartResponse, error) {
	return call[PushChartResponse](ctx, c, "PushChart", req)
}

func (c *Client) PullArtifact(ctx context.Context, req *PullArtifactRequest) (*PullArtifactResponse, error) {
	return call[PullArtifactResponse](ctx, c, "PullArtifact", req)
}

func (c *Client) GetRepoTag(ctx context.Context, req *GetRepoTagRequest) (*GetRepoTagResponse, error) {
	return call[GetRepoTagResponse](ctx, c, "GetRepoTag", req)
}

func (c *Client) ListRepoTags(ctx context.Context, req *ListRepoTagsRequest) (*ListRepoTagsResponse, error) {
	return call[ListRepoTagsResponse](ctx, c, "ListRepoTags", req)
}

func (c *Client) DeleteRepoTag(ctx context.Context, req *DeleteRepoTagRequest) (*DeleteRepoTagResponse, error) {
	return call[DeleteRepoTagResponse](ctx, c, "DeleteRepoTag", req)
}
