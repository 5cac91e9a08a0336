package cloud

import (
	"context"
	"time"
)

// OSS is the part of Alibaba Cloud Object Storage Service that file
// deployment packages use. Compute Nest provides every account a bucket in
// every region (GetArtifactBucket); a file is uploaded once into the source
// region's bucket and copied into the bucket of each distribution region,
// where deployments download it over the region's internal endpoint.
//
// Who may read an object: its owner, and the accounts a published package
// version that delivered it is visible to (public: everyone; whitelist: the
// listed accounts). A draft version's file is readable by its owner only.
type OSS interface {
	GetArtifactBucket(ctx context.Context, req *GetArtifactBucketRequest) (*GetArtifactBucketResponse, error)
	PutObject(ctx context.Context, req *PutObjectRequest) (*PutObjectResponse, error)
	// CopyObject copies an object into another (region's) bucket, server side.
	CopyObject(ctx context.Context, req *CopyObjectRequest) (*CopyObjectResponse, error)
	GetObject(ctx context.Context, req *GetObjectRequest) (*GetObjectResponse, error)
	HeadObject(ctx context.Context, req *HeadObjectRequest) (*HeadObjectResponse, error)
	DeleteObject(ctx context.Context, req *DeleteObjectRequest) (*DeleteObjectResponse, error)
}

// MaxObjectSize is the largest object the simulated OSS stores (requests are
// JSON with the content in base64, and at most 1 MiB).
const MaxObjectSize = 512 << 10

// Object error codes, as OSS names them.
const (
	CodeNoSuchKey      = "NoSuchKey"
	CodeNoSuchBucket   = "NoSuchBucket"
	CodeAccessDenied   = "AccessDenied"
	CodeEntityTooLarge = "EntityTooLarge"
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	RegionId string
	Bucket   string
	Key      string
	Size     int
	ETag     string // hex MD5 of the content, as OSS answers for a simple upload
	OwnerId  string
	// InternalUrl is the address deployments in the region download it
	// from, over the internal network.
	InternalUrl  string
	LastModified time.Time
}

type GetArtifactBucketRequest struct {
	RegionId string
}

type GetArtifactBucketResponse struct {
	RequestId        string
	RegionId         string
	Bucket           string
	InternalEndpoint string
	InternetEndpoint string
}

type PutObjectRequest struct {
	RegionId    string
	Bucket      string
	Key         string
	Content     []byte // base64 in JSON
	ClientToken string `json:",omitempty"`
}

type PutObjectResponse struct {
	RequestId string
	Object    ObjectInfo
}

type CopyObjectRequest struct {
	SourceRegionId string
	SourceBucket   string
	SourceKey      string
	RegionId       string // the destination
	Bucket         string
	Key            string
	ClientToken    string `json:",omitempty"`
}

type CopyObjectResponse struct {
	RequestId string
	Object    ObjectInfo
}

type GetObjectRequest struct {
	RegionId string
	Bucket   string
	Key      string
}

type GetObjectResponse struct {
	RequestId string
	Object    ObjectInfo
	Content   []byte
}

type HeadObjectRequest struct {
	RegionId string
	Bucket   string
	Key      string
}

type HeadObjectResponse struct {
	RequestId string
	Object    ObjectInfo
}

type DeleteObjectRequest struct {
	RegionId    string
	Bucket      string
	Key         string
	ClientToken string `json:",omitempty"`
}

type DeleteObjectResponse struct{ RequestId string }
