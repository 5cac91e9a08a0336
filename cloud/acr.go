package cloud

import (
	"context"
	"time"
)

// ACR is the part of Alibaba Cloud Container Registry that container image
// and Helm chart deployment packages use: Compute Nest's registry, in which
// every tenant (account) has its own namespace. Pushes and pulls need a
// temporary credential from GetAuthorizationToken, which expires.
//
// Pulls work only over the registry's internet endpoint: a pull through the
// VPC endpoint is refused, so whoever pulls needs internet access. A pulled
// artifact says which endpoint served it.
//
// Who may pull: the namespace's owner, and the accounts a published package
// version that delivered the tag is visible to. A draft version's tag can be
// pulled by its owner through the source region's endpoint only.
type ACR interface {
	// GetAuthorizationToken issues a temporary credential for the caller's
	// namespace. Keep it out of logs and workflow histories.
	GetAuthorizationToken(ctx context.Context, req *GetAuthorizationTokenRequest) (*GetAuthorizationTokenResponse, error)
	// PushImage pushes a container image (named by a source reference, as a
	// local `docker push` would) into the caller's namespace.
	PushImage(ctx context.Context, req *PushImageRequest) (*PushImageResponse, error)
	// PushChart pushes a packaged Helm chart (.tgz content).
	PushChart(ctx context.Context, req *PushChartRequest) (*PushChartResponse, error)
	// PullArtifact pulls an image or chart by namespace, repository and tag.
	PullArtifact(ctx context.Context, req *PullArtifactRequest) (*PullArtifactResponse, error)
	// GetRepoTag describes one of the caller's tags as a region's endpoint
	// serves it, with its pull address there. Unlike a pull, it is not
	// restricted to a draft's source region: it reads metadata, not content.
	GetRepoTag(ctx context.Context, req *GetRepoTagRequest) (*GetRepoTagResponse, error)
	ListRepoTags(ctx context.Context, req *ListRepoTagsRequest) (*ListRepoTagsResponse, error)
	DeleteRepoTag(ctx context.Context, req *DeleteRepoTagRequest) (*DeleteRepoTagResponse, error)
}

// Registry artifact kinds.
const (
	RegistryImage = "image"
	RegistryChart = "chart"
)

// Registry endpoints.
const (
	EndpointInternet = "internet"
	EndpointVPC      = "vpc"
)

// Registry error codes.
const (
	CodeTokenInvalid   = "AuthorizationToken.Invalid"
	CodeTokenExpired   = "AuthorizationToken.Expired"
	CodeRepoTagMissing = "RepoTag.NotFound"
	CodeVPCPullDenied  = "Pull.InternetOnly"
)

// TokenTTL is how long a temporary registry credential is valid.
const TokenTTL = time.Hour

// RepoTag is one pushed tag.
type RepoTag struct {
	Namespace string
	RepoName  string
	Tag       string
	Kind      string // image | chart
	Digest    string // sha256:…
	Size      int
	OwnerId   string
	// Source is what was pushed: the image reference, or the chart file's name.
	Source   string `json:",omitempty"`
	PushTime time.Time
}

type GetAuthorizationTokenRequest struct {
	RegionId string
}

type GetAuthorizationTokenResponse struct {
	RequestId          string
	TempUsername       string
	AuthorizationToken string
	ExpireTime         time.Time
	Namespace          string // the caller's tenant namespace
	InternetEndpoint   string
	VpcEndpoint        string
}

type PushImageRequest struct {
	RegionId           string
	Namespace          string
	RepoName           string
	Tag                string
	SourceImage        string // e.g. nginx:1.25 — what `docker push` would upload
	AuthorizationToken string
	ClientToken        string `json:",omitempty"`
}

type PushImageResponse struct {
	RequestId string
	Tag       RepoTag
	ImageUrl  string // internet pull address
}

type PushChartRequest struct {
	RegionId           string
	Namespace          string
	RepoName           string
	Tag                string // the chart version
	ChartName          string // the .tgz file name, for the record
	Content            []byte
	AuthorizationToken string
	ClientToken        string `json:",omitempty"`
}

type PushChartResponse struct {
	RequestId string
	Tag       RepoTag
	ChartUrl  string // internet pull address (oci://…)
}

type PullArtifactRequest struct {
	RegionId           string // whose endpoint is used
	Namespace          string
	RepoName           string
	Tag                string
	Endpoint           string // internet (default) | vpc (refused)
	AuthorizationToken string
}

type PullArtifactResponse struct {
	RequestId string
	Tag       RepoTag
	// Endpoint is the endpoint that served the pull: always internet.
	Endpoint string
	Url      string
	Content  []byte `json:",omitempty"` // a chart's .tgz
}

type GetRepoTagRequest struct {
	RegionId           string
	Namespace          string
	RepoName           string
	Tag                string
	AuthorizationToken string
}

type GetRepoTagResponse struct {
	RequestId string
	Tag       RepoTag
	// PullAddress is where the tag is pulled from through the region's
	// internet endpoint (the only endpoint that serves pulls).
	PullAddress string
	Endpoint    string // internet
}

type ListRepoTagsRequest struct {
	Namespace string
	RepoName  string `json:",omitempty"`
}

type ListRepoTagsResponse struct {
	RequestId string
	Tags      []RepoTag
}

type DeleteRepoTagRequest struct {
	Namespace   string
	RepoName    string
	Tag         string
	ClientToken string `json:",omitempty"`
}

type DeleteRepoTagResponse struct{ RequestId string }
