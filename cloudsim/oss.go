package cloudsim

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/imagefleet/imagefleet/cloud"
)

// OSS: the per-region buckets Compute Nest provides for file deployment
// packages. Every account has one bucket in every region; it exists
// implicitly. Copies are synchronous, as OSS's CopyObject is.

type objectRecord struct {
	cloud.ObjectInfo
	Content []byte
}

func objectKey(region, bucket, key string) string { return region + "/" + bucket + "/" + key }

var objectKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$`)

// artifactBucket is the bucket Compute Nest provides account in region.
func artifactBucket(region, account string) string {
	return "computenest-" + region + "-" + account
}

func ossInternalEndpoint(region string) string { return "oss-" + region + "-internal.aliyuncs.com" }
func ossInternetEndpoint(region string) string { return "oss-" + region + ".aliyuncs.com" }

// internalURL is the address an object is downloaded from inside its region.
func internalURL(region, bucket, key string) string {
	return "https://" + bucket + "." + ossInternalEndpoint(region) + "/" + key
}

func (s *Server) registerOSS() {
	registerQuery(s, "GetArtifactBucket", s.getArtifactBucket)
	registerMutation(s, "PutObject", s.putObject)
	registerMutation(s, "CopyObject", s.copyObject)
	registerQuery(s, "GetObject", s.getObject)
	registerQuery(s, "HeadObject", s.headObject)
	registerMutation(s, "DeleteObject", s.deleteObject)
}

func accessDenied(format string, args ...any) error {
	return newError(http.StatusForbidden, cloud.CodeAccessDenied, format, args...)
}

func (s *Server) getArtifactBucket(c *call, req *cloud.GetArtifactBucketRequest) (*cloud.GetArtifactBucketResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	return &cloud.GetArtifactBucketResponse{
		RegionId:         req.RegionId,
		Bucket:           artifactBucket(req.RegionId, c.account),
		InternalEndpoint: ossInternalEndpoint(req.RegionId),
		InternetEndpoint: ossInternetEndpoint(req.RegionId),
	}, nil
}

// bucketOwner returns the account whose artifact bucket in region is bucket.
func (s *Server) bucketOwner(region, bucket string) (string, error) {
	if err := checkRegion("RegionId", region); err != nil {
		return "", err
	}
	for a := range s.accounts {
		if artifactBucket(region, a) == bucket {
			return a, nil
		}
	}
	return "", newError(http.StatusNotFound, cloud.CodeNoSuchBucket, "bucket %s does not exist in %s", bucket, region)
}

// writableBucket checks that the caller may write into bucket in region.
func (c *call) writableBucket(region, bucket, key string) error {
	owner, err := c.srv.bucketOwner(region, bucket)
	if err != nil {
		return err
	}
	if owner != c.account {
		return accessDenied("bucket %s belongs to another account", bucket)
	}
	if !objectKeyRE.MatchString(key) || strings.Contains(key, "..") {
		return invalidParam("object key %q must be 1–255 characters of letters, digits, '.', '_', '-' and '/', without '..'", key)
	}
	// A published version's content is locked.
	if a, v := c.publishedDelivering(owner, func(a *artifactRecord, v *cloud.ArtifactVersion) bool {
		return a.ArtifactType == cloud.ArtifactFile && deliversURL(v, internalURL(region, bucket, key))
	}); v != nil {
		return lockedError(v.VersionName, a.Name)
	}
	return nil
}

// readableObject finds an object the caller may read: its own, or one a
// published package version delivered and made visible to the caller. For
// another account's object that it may not read, it answers AccessDenied
// whether or not the object exists.
func (c *call) readableObject(region, bucket, key string) (*objectRecord, error) {
	owner, err := c.srv.bucketOwner(region, bucket)
	if err != nil {
		return nil, err
	}
	obj := c.st.Objects[objectKey(region, bucket, key)]
	if owner == c.account {
		if obj == nil {
			return nil, newError(http.StatusNotFound, cloud.CodeNoSuchKey, "object %s does not exist in bucket %s", key, bucket)
		}
		return obj, nil
	}
	if obj != nil && c.granted(owner, func(a *artifactRecord, v *cloud.ArtifactVersion) bool {
		return a.ArtifactType == cloud.ArtifactFile && v.Delivery[region] == obj.InternalUrl
	}) {
		return obj, nil
	}
	return nil, accessDenied("account %s may not read %s/%s: it is not part of a package version visible to it", c.account, bucket, key)
}

func (c *call) storeObject(region, bucket, key string, content []byte) *objectRecord {
	sum := md5.Sum(content)
	obj := &objectRecord{Content: content, ObjectInfo: cloud.ObjectInfo{
		RegionId: region, Bucket: bucket, Key: key, Size: len(content), ETag: hex.EncodeToString(sum[:]),
		OwnerId: c.account, InternalUrl: internalURL(region, bucket, key), LastModified: c.now,
	}}
	c.st.Objects[objectKey(region, bucket, key)] = obj
	c.touch(c.st.Objects, objectKey(region, bucket, key))
	return obj
}

func (s *Server) putObject(c *call, req *cloud.PutObjectRequest) (*cloud.PutObjectResponse, error) {
	if err := c.writableBucket(req.RegionId, req.Bucket, req.Key); err != nil {
		return nil, err
	}
	if len(req.Content) > cloud.MaxObjectSize {
		return nil, newError(http.StatusBadRequest, cloud.CodeEntityTooLarge, "the simulated OSS stores objects of at most %d bytes, got %d", cloud.MaxObjectSize, len(req.Content))
	}
	obj := c.storeObject(req.RegionId, req.Bucket, req.Key, req.Content)
	c.record(req.RegionId, "Object", req.Bucket+"/"+req.Key, fmt.Sprintf("uploaded, %d bytes", obj.Size))
	return &cloud.PutObjectResponse{Object: obj.ObjectInfo}, nil
}

func (s *Server) copyObject(c *call, req *cloud.CopyObjectRequest) (*cloud.CopyObjectResponse, error) {
	src, err := c.readableObject(req.SourceRegionId, req.SourceBucket, req.SourceKey)
	if err != nil {
		return nil, err
	}
	if err := c.writableBucket(req.RegionId, req.Bucket, req.Key); err != nil {
		return nil, err
	}
	obj := c.storeObject(req.RegionId, req.Bucket, req.Key, slices.Clone(src.Content))
	c.record(req.RegionId, "Object", req.Bucket+"/"+req.Key,
		fmt.Sprintf("copied from %s/%s/%s, %d bytes", req.SourceRegionId, req.SourceBucket, req.SourceKey, obj.Size))
	return &cloud.CopyObjectResponse{Object: obj.ObjectInfo}, nil
}

func (s *Server) getObject(c *call, req *cloud.GetObjectRequest) (*cloud.GetObjectResponse, error) {
	obj, err := c.readableObject(req.RegionId, req.Bucket, req.Key)
	if err != nil {
		return nil, err
	}
	return &cloud.GetObjectResponse{Object: obj.ObjectInfo, Content: slices.Clone(obj.Content)}, nil
}

func (s *Server) headObject(c *call, req *cloud.HeadObjectRequest) (*cloud.HeadObjectResponse, error) {
	obj, err := c.readableObject(req.RegionId, req.Bucket, req.Key)
	if err != nil {
		return nil, err
	}
	return &cloud.HeadObjectResponse{Object: obj.ObjectInfo}, nil
}

func (s *Server) deleteObject(c *call, req *cloud.DeleteObjectRequest) (*cloud.DeleteObjectResponse, error) {
	if err := c.writableBucket(req.RegionId, req.Bucket, req.Key); err != nil {
		return nil, err
	}
	k := objectKey(req.RegionId, req.Bucket, req.Key)
	if c.st.Objects[k] == nil {
		return &cloud.DeleteObjectResponse{}, nil // OSS answers a delete of a missing key with success
	}
	delete(c.st.Objects, k)
	c.touch(c.st.Objects, k)
	c.record(req.RegionId, "Object", req.Bucket+"/"+req.Key, "deleted")
	return &cloud.DeleteObjectResponse{}, nil
}

// objectByURL finds an object by its internal URL in region.
func (c *call) objectByURL(region, url string) *objectRecord {
	prefix := "https://"
	rest, ok := strings.CutPrefix(url, prefix)
	if !ok {
		return nil
	}
	host, key, ok := strings.Cut(rest, "/")
	if !ok {
		return nil
	}
	bucket, ok := strings.CutSuffix(host, "."+ossInternalEndpoint(region))
	if !ok {
		return nil
	}
	return c.st.Objects[objectKey(region, bucket, key)]
}
