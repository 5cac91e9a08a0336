package cloudsim_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// Deployment packages of the other types, and the permission model, tested
// through cloud.Client as the owner and as other accounts.

func bucketOf(t *testing.T, c *cloud.Client, region string) string {
	t.Helper()
	resp, err := c.GetArtifactBucket(t.Context(), &cloud.GetArtifactBucketRequest{RegionId: region})
	ok(t, err)
	return resp.Bucket
}

// publishedFile uploads a file to cn-hangzhou, copies it to eu-west-1, and
// publishes package "files" v1_0 with both regions, private.
func publishedFile(t *testing.T, env *cloudsimtest.Env) (artifactID string, objects map[string]cloud.ObjectInfo) {
	t.Helper()
	ctx := t.Context()
	src := bucketOf(t, env.Client, cloudsim.SeedRegion)
	put, err := env.Client.PutObject(ctx, &cloud.PutObjectRequest{RegionId: cloudsim.SeedRegion, Bucket: src, Key: "files/v1_0/app.tar.gz", Content: []byte("app v1")})
	ok(t, err)
	dst := bucketOf(t, env.Client, "eu-west-1")
	cp, err := env.Client.CopyObject(ctx, &cloud.CopyObjectRequest{
		SourceRegionId: cloudsim.SeedRegion, SourceBucket: src, SourceKey: "files/v1_0/app.tar.gz",
		RegionId: "eu-west-1", Bucket: dst, Key: "files/v1_0/app.tar.gz",
	})
	ok(t, err)
	if cp.Object.ETag != put.Object.ETag || cp.Object.InternalUrl != "https://"+dst+".oss-eu-west-1-internal.aliyuncs.com/files/v1_0/app.tar.gz" {
		t.Fatalf("copy %+v of %+v", cp.Object, put.Object)
	}
	id := createArtifact(t, env.Client, &cloud.CreateArtifactRequest{
		ArtifactType: cloud.ArtifactFile, Name: "files", VersionName: "v1_0", Description: "application archive",
		ArtifactProperty: cloud.ArtifactProperty{RegionId: cloudsim.SeedRegion, Bucket: src, ObjectKey: "files/v1_0/app.tar.gz"},
		SupportRegionIds: []string{cloudsim.SeedRegion, "eu-west-1"},
	})
	_, err = env.Client.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{
		ArtifactId: id, VersionName: "v1_0",
		Delivery:   map[string]string{cloudsim.SeedRegion: put.Object.InternalUrl, "eu-west-1": cp.Object.InternalUrl},
		Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate},
	})
	ok(t, err)
	return id, map[string]cloud.ObjectInfo{cloudsim.SeedRegion: put.Object, "eu-west-1": cp.Object}
}

func canGetObject(t *testing.T, c *cloud.Client, o cloud.ObjectInfo) bool {
	t.Helper()
	resp, err := c.GetObject(t.Context(), &cloud.GetObjectRequest{RegionId: o.RegionId, Bucket: o.Bucket, Key: o.Key})
	if !allowed(t, err, cloud.CodeAccessDenied) {
		return false
	}
	if !bytes.Equal(resp.Content, []byte("app v1")) {
		t.Fatalf("content %q", resp.Content)
	}
	return true
}

func TestFilePackagePermissionMatrix(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	id, objs := publishedFile(t, env)
	eu := objs["eu-west-1"]
	second, third := env.ClientAs(cloudsim.SecondAccount), env.ClientAs(cloudsim.ThirdAccount)

	got, err := env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	ok(t, err)
	if v := got.Artifact.Versions[0]; v.Status != cloud.ArtifactAvailable || v.Delivery["eu-west-1"] != eu.InternalUrl || v.ArtifactProperty.Url != objs[cloudsim.SeedRegion].InternalUrl {
		t.Fatalf("version %+v", v)
	}

	// No service: private. The owner reads; others may not read or copy.
	if !canGetObject(t, env.Client, eu) || canGetObject(t, second, eu) || canGetObject(t, third, eu) {
		t.Fatal("private: only the owner may read")
	}
	_, err = second.CopyObject(ctx, &cloud.CopyObjectRequest{SourceRegionId: eu.RegionId, SourceBucket: eu.Bucket, SourceKey: eu.Key,
		RegionId: "eu-west-1", Bucket: bucketOf(t, second, "eu-west-1"), Key: "stolen"})
	wantCode(t, err, cloud.CodeAccessDenied)
	// Nor write into the owner's bucket.
	_, err = second.PutObject(ctx, &cloud.PutObjectRequest{RegionId: eu.RegionId, Bucket: eu.Bucket, Key: "x", Content: []byte("x")})
	wantCode(t, err, cloud.CodeAccessDenied)

	// A private service with a whitelist: the whitelist.
	svc, err := env.Client.CreateService(ctx, &cloud.CreateServiceRequest{Name: "shop", Visibility: cloud.VisibilityPrivate,
		Whitelist: []string{cloudsim.SecondAccount}, ArtifactIds: []string{id}})
	ok(t, err)
	if !canGetObject(t, second, eu) || canGetObject(t, third, eu) {
		t.Fatal("whitelist: only the second account may read")
	}
	// A region the version was not delivered to has nothing to read.
	_, err = second.GetObject(ctx, &cloud.GetObjectRequest{RegionId: "eu-central-1", Bucket: bucketOf(t, env.Client, "eu-central-1"), Key: eu.Key})
	wantCode(t, err, cloud.CodeAccessDenied)

	// Public: everyone.
	_, err = env.Client.UpdateService(ctx, &cloud.UpdateNestServiceRequest{ServiceId: svc.ServiceId, Visibility: cloud.VisibilityPublic, Whitelist: &[]string{}})
	ok(t, err)
	if !canGetObject(t, second, eu) || !canGetObject(t, third, eu) {
		t.Fatal("public: everyone may read")
	}
	got, err = env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	ok(t, err)
	if p := got.Artifact.Versions[0].Permission; p == nil || p.Visibility != cloud.VisibilityPublic {
		t.Fatalf("permission %+v", p)
	}

	// The package leaves the service: private again.
	_, err = env.Client.UpdateService(ctx, &cloud.UpdateNestServiceRequest{ServiceId: svc.ServiceId, ArtifactIds: &[]string{}})
	ok(t, err)
	if canGetObject(t, second, eu) || canGetObject(t, third, eu) {
		t.Fatal("dissociated: private again")
	}
	// Another account cannot change the owner's service.
	_, err = second.UpdateService(ctx, &cloud.UpdateNestServiceRequest{ServiceId: svc.ServiceId, ArtifactIds: &[]string{id}})
	wantCode(t, err, cloud.CodeServiceNotFound)
}

func TestFilePackageLockedAndDeleted(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	id, objs := publishedFile(t, env)
	eu := objs["eu-west-1"]
	// Published content is locked: neither overwritten nor deleted.
	_, err := env.Client.PutObject(ctx, &cloud.PutObjectRequest{RegionId: eu.RegionId, Bucket: eu.Bucket, Key: eu.Key, Content: []byte("changed")})
	wantCode(t, err, cloud.CodeArtifactLocked)
	_, err = env.Client.DeleteObject(ctx, &cloud.DeleteObjectRequest{RegionId: eu.RegionId, Bucket: eu.Bucket, Key: eu.Key})
	wantCode(t, err, cloud.CodeArtifactLocked)
	_, err = env.Client.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{ArtifactId: id, VersionName: "v1_0",
		Delivery: map[string]string{"eu-west-1": eu.InternalUrl}, Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate}})
	wantCode(t, err, cloud.CodeArtifactLocked)

	// Deleting the version removes what it delivered, in every region.
	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id, VersionName: "v1_0"})
	ok(t, err)
	for region, o := range objs {
		_, err := env.Client.HeadObject(ctx, &cloud.HeadObjectRequest{RegionId: region, Bucket: o.Bucket, Key: o.Key})
		wantCode(t, err, cloud.CodeNoSuchKey)
	}
}

func TestFileReleaseValidation(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	src := bucketOf(t, env.Client, cloudsim.SeedRegion)
	put, err := env.Client.PutObject(ctx, &cloud.PutObjectRequest{RegionId: cloudsim.SeedRegion, Bucket: src, Key: "a.bin", Content: []byte("a")})
	ok(t, err)
	other, err := env.Client.PutObject(ctx, &cloud.PutObjectRequest{RegionId: "eu-west-1", Bucket: bucketOf(t, env.Client, "eu-west-1"), Key: "a.bin", Content: []byte("different")})
	ok(t, err)
	req := &cloud.CreateArtifactRequest{
		ArtifactType: cloud.ArtifactFile, Name: "files", VersionName: "v1_0", Description: "application archive",
		ArtifactProperty: cloud.ArtifactProperty{RegionId: cloudsim.SeedRegion, Bucket: src, ObjectKey: "missing.bin"},
		SupportRegionIds: []string{"eu-west-1"},
	}
	_, err = env.Client.CreateArtifact(ctx, req)
	wantCode(t, err, cloud.CodeNoSuchKey)
	req.ArtifactProperty.ObjectKey = "a.bin"
	id := createArtifact(t, env.Client, req)
	for name, tc := range map[string]struct {
		delivery map[string]string
		code     string
	}{
		"different content":  {map[string]string{"eu-west-1": other.Object.InternalUrl}, cloud.CodeInvalidParameter},
		"unsupported region": {map[string]string{cloudsim.SeedRegion: put.Object.InternalUrl}, cloud.CodeInvalidParameter},
		"nothing":            {nil, cloud.CodeInvalidParameter},
	} {
		_, err := env.Client.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{ArtifactId: id, VersionName: "v1_0", Delivery: tc.delivery, Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate}})
		if apiErr, isAPI := cloud.AsAPIError(err); !isAPI || apiErr.Code != tc.code {
			t.Errorf("%s: want %s, got %v", name, tc.code, err)
		}
	}
}

func token(t *testing.T, c *cloud.Client) *cloud.GetAuthorizationTokenResponse {
	t.Helper()
	resp, err := c.GetAuthorizationToken(t.Context(), &cloud.GetAuthorizationTokenRequest{RegionId: cloudsim.SeedRegion})
	ok(t, err)
	return resp
}

func TestRegistryCredentialsAndEndpoints(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	tok := token(t, env.Client)
	if tok.Namespace != "computenest-"+cloudsim.DefaultAccount || tok.AuthorizationToken == "" || !tok.ExpireTime.Equal(t0.Add(cloud.TokenTTL)) {
		t.Fatalf("token %+v", tok)
	}
	for _, e := range env.Server.Ledger() {
		if bytes.Contains([]byte(e.Detail), []byte(tok.AuthorizationToken)) {
			t.Fatal("the ledger holds the credential")
		}
	}
	push := &cloud.PushImageRequest{RegionId: cloudsim.SeedRegion, Namespace: tok.Namespace, RepoName: "web", Tag: "1.0", SourceImage: "nginx:1.25", AuthorizationToken: tok.AuthorizationToken}
	pushed, err := env.Client.PushImage(ctx, push)
	ok(t, err)
	if pushed.ImageUrl != "computenest-registry.cn-hangzhou.cr.aliyuncs.com/"+tok.Namespace+"/web:1.0" {
		t.Fatalf("push %+v", pushed)
	}

	// Another account's token, or its namespace, does not work.
	otherTok := token(t, env.ClientAs(cloudsim.SecondAccount))
	bad := *push
	bad.AuthorizationToken = otherTok.AuthorizationToken
	_, err = env.Client.PushImage(ctx, &bad)
	wantCode(t, err, cloud.CodeTokenInvalid)
	bad = *push
	bad.Namespace = otherTok.Namespace
	_, err = env.Client.PushImage(ctx, &bad)
	wantCode(t, err, cloud.CodeAccessDenied)
	bad = *push
	bad.AuthorizationToken = ""
	_, err = env.Client.PushImage(ctx, &bad)
	wantCode(t, err, cloud.CodeTokenInvalid)

	pull := &cloud.PullArtifactRequest{RegionId: cloudsim.SeedRegion, Namespace: tok.Namespace, RepoName: "web", Tag: "1.0", AuthorizationToken: tok.AuthorizationToken}
	got, err := env.Client.PullArtifact(ctx, pull)
	ok(t, err)
	if got.Endpoint != cloud.EndpointInternet || got.Tag.Digest != pushed.Tag.Digest {
		t.Fatalf("pull %+v", got)
	}
	// Pulls work only over the internet.
	vpc := *pull
	vpc.Endpoint = cloud.EndpointVPC
	_, err = env.Client.PullArtifact(ctx, &vpc)
	wantCode(t, err, cloud.CodeVPCPullDenied)

	// The credential expires.
	clock.Advance(cloud.TokenTTL)
	_, err = env.Client.PullArtifact(ctx, pull)
	wantCode(t, err, cloud.CodeTokenExpired)
	_, err = env.Client.PushImage(ctx, push)
	wantCode(t, err, cloud.CodeTokenExpired)
}

// publishedRegistryPackage pushes content and creates package name of typ,
// a draft with source region cn-hangzhou, distributable to eu-west-1.
func registryDraft(t *testing.T, env *cloudsimtest.Env, typ, name string) (id string, tok *cloud.GetAuthorizationTokenResponse, pullReq cloud.PullArtifactRequest) {
	t.Helper()
	ctx := t.Context()
	tok = token(t, env.Client)
	repo, tag := "web", "1.0"
	if typ == cloud.ArtifactHelmChart {
		repo, tag = "web-chart", "0.1.0"
		_, err := env.Client.PushChart(ctx, &cloud.PushChartRequest{RegionId: cloudsim.SeedRegion, Namespace: tok.Namespace, RepoName: repo, Tag: tag,
			ChartName: "web-chart-0.1.0.tgz", Content: []byte("\x1f\x8bchart tgz"), AuthorizationToken: tok.AuthorizationToken})
		ok(t, err)
	} else {
		_, err := env.Client.PushImage(ctx, &cloud.PushImageRequest{RegionId: cloudsim.SeedRegion, Namespace: tok.Namespace, RepoName: repo, Tag: tag,
			SourceImage: "nginx:1.25", AuthorizationToken: tok.AuthorizationToken})
		ok(t, err)
	}
	id = createArtifact(t, env.Client, &cloud.CreateArtifactRequest{
		ArtifactType: typ, Name: name, VersionName: "v1_0", Description: "container content",
		ArtifactProperty: cloud.ArtifactProperty{RegionId: cloudsim.SeedRegion, Namespace: tok.Namespace, RepoName: repo, Tag: tag},
		SupportRegionIds: []string{cloudsim.SeedRegion, "eu-west-1"},
	})
	return id, tok, cloud.PullArtifactRequest{Namespace: tok.Namespace, RepoName: repo, Tag: tag}
}

func TestRegistryPackagesDraftPublishAndPermissions(t *testing.T) {
	for _, typ := range []string{cloud.ArtifactAcrImage, cloud.ArtifactHelmChart} {
		t.Run(typ, func(t *testing.T) {
			env := cloudsimtest.Start(t)
			ctx := t.Context()
			id, tok, pull := registryDraft(t, env, typ, "content")
			pullAs := func(c *cloud.Client, region string) error {
				req := pull
				req.RegionId, req.AuthorizationToken = region, token(t, c).AuthorizationToken
				resp, err := c.PullArtifact(ctx, &req)
				if err == nil && resp.Endpoint != cloud.EndpointInternet {
					t.Fatalf("pulled over %s", resp.Endpoint)
				}
				if err == nil && typ == cloud.ArtifactHelmChart && string(resp.Content) != "\x1f\x8bchart tgz" {
					t.Fatalf("chart content %q", resp.Content)
				}
				return err
			}
			second, third := env.ClientAs(cloudsim.SecondAccount), env.ClientAs(cloudsim.ThirdAccount)

			// A draft is usable only in its source region, by its owner.
			ok(t, pullAs(env.Client, cloudsim.SeedRegion))
			wantCode(t, pullAs(env.Client, "eu-west-1"), cloud.CodeAccessDenied)
			wantCode(t, pullAs(second, cloudsim.SeedRegion), cloud.CodeAccessDenied)

			// The wrong kind of content is refused.
			wrong := cloud.ArtifactAcrImage
			if typ == cloud.ArtifactAcrImage {
				wrong = cloud.ArtifactHelmChart
			}
			_, err := env.Client.CreateArtifact(ctx, &cloud.CreateArtifactRequest{ArtifactType: wrong, Name: "wrongkind", VersionName: "v1_0", Description: "container content",
				ArtifactProperty: cloud.ArtifactProperty{RegionId: cloudsim.SeedRegion, Namespace: tok.Namespace, RepoName: pull.RepoName, Tag: pull.Tag},
				SupportRegionIds: []string{"eu-west-1"}})
			wantCode(t, err, cloud.CodeInvalidParameter)

			// Published to eu-west-1 with a whitelist.
			kindPrefix := ""
			if typ == cloud.ArtifactHelmChart {
				kindPrefix = "oci://"
			}
			addr := kindPrefix + "computenest-registry.eu-west-1.cr.aliyuncs.com/" + tok.Namespace + "/" + pull.RepoName + ":" + pull.Tag
			_, err = env.Client.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{ArtifactId: id, VersionName: "v1_0",
				Delivery: map[string]string{"eu-west-1": "registry.example.com/x"}, Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate}})
			wantCode(t, err, cloud.CodeInvalidParameter)
			_, err = env.Client.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{ArtifactId: id, VersionName: "v1_0",
				Delivery: map[string]string{"eu-west-1": addr}, Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate}})
			ok(t, err)
			ok(t, pullAs(env.Client, "eu-west-1"))
			wantCode(t, pullAs(second, "eu-west-1"), cloud.CodeAccessDenied)

			_, err = env.Client.CreateService(ctx, &cloud.CreateServiceRequest{Name: "shop", Visibility: cloud.VisibilityPrivate,
				Whitelist: []string{cloudsim.SecondAccount}, ArtifactIds: []string{id}})
			ok(t, err)
			ok(t, pullAs(second, "eu-west-1"))
			wantCode(t, pullAs(third, "eu-west-1"), cloud.CodeAccessDenied)
			// Only where it was delivered.
			wantCode(t, pullAs(second, "us-east-1"), cloud.CodeAccessDenied)

			// Locked: the tag cannot be pushed over or deleted.
			_, err = env.Client.PushImage(ctx, &cloud.PushImageRequest{RegionId: cloudsim.SeedRegion, Namespace: tok.Namespace, RepoName: pull.RepoName, Tag: pull.Tag,
				SourceImage: "nginx:1.27", AuthorizationToken: tok.AuthorizationToken})
			wantCode(t, err, cloud.CodeArtifactLocked)
			_, err = env.Client.DeleteRepoTag(ctx, &cloud.DeleteRepoTagRequest{Namespace: tok.Namespace, RepoName: pull.RepoName, Tag: pull.Tag})
			wantCode(t, err, cloud.CodeArtifactLocked)

			// Deleting the package removes the tag.
			_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id})
			ok(t, err)
			tags, err := env.Client.ListRepoTags(ctx, &cloud.ListRepoTagsRequest{Namespace: tok.Namespace})
			ok(t, err)
			if len(tags.Tags) != 0 {
				t.Fatalf("tags left: %+v", tags.Tags)
			}
			_, err = second.ListRepoTags(ctx, &cloud.ListRepoTagsRequest{Namespace: tok.Namespace})
			wantCode(t, err, cloud.CodeAccessDenied)
		})
	}
}

// TestImagePackagePermissionMatrix: the images an ECS image package
// delivered follow the package's visibility as its service associations
// change: another account cannot describe, copy or launch them unless the
// package is public or whitelists it.
func TestImagePackagePermissionMatrix(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	id := createArtifact(t, env.Client, draft())
	copyID := deliveredCopy(t, env, clock, "eu-west-1")
	_, err := env.Client.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{ArtifactId: id, VersionName: "v1_0",
		ImageDelivery: map[string]string{"eu-west-1": copyID}, Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate}})
	ok(t, err)
	second, third := env.ClientAs(cloudsim.SecondAccount), env.ClientAs(cloudsim.ThirdAccount)
	canCopy := func(c *cloud.Client) bool {
		_, err := c.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: "eu-west-1", ImageId: copyID, DestinationRegionId: "eu-central-1", ClientToken: time.Now().String()})
		return allowed(t, err, cloud.CodeImageNotAuthorized)
	}
	canLaunch := func(c *cloud.Client) bool {
		_, err := c.RunInstances(ctx, &cloud.RunInstancesRequest{RegionId: "eu-west-1", ImageId: copyID, InstanceType: "ecs.g7.large", ClientToken: time.Now().String()})
		return allowed(t, err, cloud.CodeImageNotAuthorized)
	}
	type want struct{ second, third bool }
	check := func(step string, w want) {
		t.Helper()
		if got := (want{visible(t, second, "eu-west-1", copyID), visible(t, third, "eu-west-1", copyID)}); got != w {
			t.Fatalf("%s: describe: got %+v, want %+v", step, got, w)
		}
		if got := (want{canCopy(second), canCopy(third)}); got != w {
			t.Fatalf("%s: copy: got %+v, want %+v", step, got, w)
		}
		if got := (want{canLaunch(second), canLaunch(third)}); got != w {
			t.Fatalf("%s: launch: got %+v, want %+v", step, got, w)
		}
	}
	check("no service", want{false, false})

	priv, err := env.Client.CreateService(ctx, &cloud.CreateServiceRequest{Name: "internal", Visibility: cloud.VisibilityPrivate, ArtifactIds: []string{id}})
	ok(t, err)
	check("all services private", want{false, false})

	_, err = env.Client.UpdateService(ctx, &cloud.UpdateNestServiceRequest{ServiceId: priv.ServiceId, Whitelist: &[]string{cloudsim.SecondAccount}})
	ok(t, err)
	check("whitelist", want{true, false})
	if img := describe(t, second, "eu-west-1", copyID); img.ImageOwnerAlias != cloud.OwnerOthers {
		t.Fatalf("the whitelisted account sees %s", img.ImageOwnerAlias)
	}

	pub, err := env.Client.CreateService(ctx, &cloud.CreateServiceRequest{Name: "shop", Visibility: cloud.VisibilityPublic, ArtifactIds: []string{id}})
	ok(t, err)
	check("one public service", want{true, true})

	_, err = env.Client.UpdateService(ctx, &cloud.UpdateNestServiceRequest{ServiceId: pub.ServiceId, ArtifactIds: &[]string{}})
	ok(t, err)
	_, err = env.Client.UpdateService(ctx, &cloud.UpdateNestServiceRequest{ServiceId: priv.ServiceId, Whitelist: &[]string{}})
	ok(t, err)
	check("private again", want{false, false})

	// Deleting the version deletes the delivered copy but not the source.
	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id, VersionName: "v1_0"})
	ok(t, err)
	if st := describe(t, env.Client, "eu-west-1", copyID).Status; st != cloud.ImageDeleted {
		t.Fatalf("delivered copy is %s", st)
	}
	if st := describe(t, env.Client, cloudsim.SeedRegion, cloudsim.ImageWebappV1).Status; st != cloud.ImageAvailable {
		t.Fatalf("source image is %s", st)
	}
}
