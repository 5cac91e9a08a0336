package cloudsim_test

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// draft is a valid request creating package "webapp" with version v1_0.
func draft() *cloud.CreateArtifactRequest {
	return &cloud.CreateArtifactRequest{
		ArtifactType:     cloud.ArtifactEcsImage,
		Name:             "webapp",
		VersionName:      "v1_0",
		Description:      "web application image",
		ArtifactProperty: cloud.ArtifactProperty{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1},
		SupportRegionIds: []string{"eu-west-1", "eu-central-1"},
		Tags:             map[string]string{"team": "web"},
	}
}

func createArtifact(t *testing.T, c *cloud.Client, req *cloud.CreateArtifactRequest) string {
	t.Helper()
	resp, err := c.CreateArtifact(t.Context(), req)
	ok(t, err)
	return resp.ArtifactId
}

// deliveredCopy makes an Available copy of webapp-v1 in region.
func deliveredCopy(t *testing.T, env *cloudsimtest.Env, clock *cloudsimtest.Clock, region string) string {
	t.Helper()
	id := copyWebapp(t, env.Client, region, "")
	clock.Advance(time.Hour)
	return id
}

func TestArtifactLifecycle(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	resp, err := env.Client.CreateArtifact(ctx, draft())
	ok(t, err)
	if !regexp.MustCompile(`^artifact-[0-9a-f]+$`).MatchString(resp.ArtifactId) || resp.Status != cloud.ArtifactDraft || resp.VersionName != "v1_0" {
		t.Fatalf("create: %+v", resp)
	}
	id := resp.ArtifactId

	byName, err := env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{Name: "webapp"})
	ok(t, err)
	byID, err := env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	ok(t, err)
	a := byName.Artifact
	if a.ArtifactId != id || byID.Artifact.Name != "webapp" || a.OwnerId != cloudsim.DefaultAccount || a.ArtifactType != cloud.ArtifactEcsImage ||
		a.Tags["team"] != "web" || len(a.Versions) != 1 || a.Versions[0].Status != cloud.ArtifactDraft ||
		a.Versions[0].ArtifactProperty.ImageId != cloudsim.ImageWebappV1 || !a.Versions[0].CreateTime.Equal(t0) {
		t.Fatalf("artifact %+v", a)
	}

	// Names are unique per account.
	_, err = env.Client.CreateArtifact(ctx, draft())
	if e := wantCode(t, err, cloud.CodeArtifactExists); !strings.Contains(e.Message, id) {
		t.Fatalf("message should name the existing package: %s", e.Message)
	}
	// ... but another account may use the same name.
	otherDraft := draft()
	otherDraft.ArtifactProperty.ImageId = cloudsim.ImageMarketplaceNginx
	createArtifact(t, env.ClientAs(cloudsim.SecondAccount), otherDraft)

	// New versions go into the package; its name cannot change.
	v2 := draft()
	v2.ArtifactId, v2.VersionName = id, "v2_0"
	createArtifact(t, env.Client, v2)
	dup := *v2
	_, err = env.Client.CreateArtifact(ctx, &dup)
	if e := wantCode(t, err, cloud.CodeInvalidParameter); !strings.Contains(e.Message, "draft") {
		t.Fatalf("duplicate draft: %s", e.Message)
	}
	renamed := *v2
	renamed.VersionName, renamed.Name = "v3_0", "webapp_renamed"
	_, err = env.Client.CreateArtifact(ctx, &renamed)
	wantCode(t, err, cloud.CodeInvalidParameter)

	// Release v1_0 with its delivered images.
	eu, de := deliveredCopy(t, env, clock, "eu-west-1"), deliveredCopy(t, env, clock, "eu-central-1")
	release := &cloud.ReleaseArtifactRequest{
		ArtifactId: id, VersionName: "v1_0",
		ImageDelivery: map[string]string{"eu-west-1": eu, "eu-central-1": de},
		Permission:    cloud.Permission{Visibility: cloud.VisibilityWhitelist, AccountIds: []string{cloudsim.ThirdAccount, cloudsim.SecondAccount}},
	}
	rel, err := env.Client.ReleaseArtifact(ctx, release)
	ok(t, err)
	if rel.Status != cloud.ArtifactAvailable {
		t.Fatalf("release: %+v", rel)
	}
	got, err := env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	ok(t, err)
	v := got.Artifact.Versions[0]
	if v.Status != cloud.ArtifactAvailable || !maps.Equal(v.ImageDelivery, release.ImageDelivery) || v.ReleaseTime.IsZero() ||
		v.Permission == nil || !slices.Equal(v.Permission.AccountIds, []string{cloudsim.SecondAccount, cloudsim.ThirdAccount}) {
		t.Fatalf("released version %+v", v)
	}

	// A released version is locked.
	_, err = env.Client.ReleaseArtifact(ctx, release)
	e := wantCode(t, err, cloud.CodeArtifactLocked)
	if want := "version v1_0 of package webapp is published and locked; create a new version to change it"; e.Message != want {
		t.Fatalf("message %q, want %q", e.Message, want)
	}
	again := draft()
	again.ArtifactId = id
	_, err = env.Client.CreateArtifact(ctx, again)
	wantCode(t, err, cloud.CodeArtifactLocked)

	// Packages are private to their account.
	_, err = env.ClientAs(cloudsim.ThirdAccount).GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	wantCode(t, err, cloud.CodeArtifactNotFound)
	_, err = env.ClientAs(cloudsim.ThirdAccount).GetArtifact(ctx, &cloud.GetArtifactRequest{Name: "webapp"})
	wantCode(t, err, cloud.CodeArtifactNotFound)
	list, err := env.Client.ListArtifacts(ctx, &cloud.ListArtifactsRequest{})
	ok(t, err)
	if len(list.Artifacts) != 1 || list.Artifacts[0].ArtifactId != id || len(list.Artifacts[0].Versions) != 2 {
		t.Fatalf("list %+v", list.Artifacts)
	}
	none, err := env.Client.ListArtifacts(ctx, &cloud.ListArtifactsRequest{Name: "other"})
	ok(t, err)
	if len(none.Artifacts) != 0 {
		t.Fatalf("filter by name: %+v", none.Artifacts)
	}

	entries := ledgerOf(env, "CreateArtifact")
	if len(entries) != 3 || entries[0].ResourceType != "Artifact" || entries[0].ResourceId != id || len(ledgerOf(env, "ReleaseArtifact")) != 1 {
		t.Fatalf("ledger %+v", env.Server.Ledger())
	}
}

func TestCreateArtifactValidation(t *testing.T) {
	env := cloudsimtest.Start(t)
	tooManyTags := map[string]string{}
	for i := range 21 {
		tooManyTags[string(rune('a'+i))] = "x"
	}
	for name, tc := range map[string]struct {
		change func(*cloud.CreateArtifactRequest)
		code   string
	}{
		"type":             {func(r *cloud.CreateArtifactRequest) { r.ArtifactType = "Vm" }, cloud.CodeInvalidParameter},
		"short name":       {func(r *cloud.CreateArtifactRequest) { r.Name = "ab" }, cloud.CodeInvalidParameter},
		"name chars":       {func(r *cloud.CreateArtifactRequest) { r.Name = "web-app" }, cloud.CodeInvalidParameter},
		"long name":        {func(r *cloud.CreateArtifactRequest) { r.Name = strings.Repeat("a", 129) }, cloud.CodeInvalidParameter},
		"version":          {func(r *cloud.CreateArtifactRequest) { r.VersionName = "v1.0" }, cloud.CodeInvalidParameter},
		"long version":     {func(r *cloud.CreateArtifactRequest) { r.VersionName = strings.Repeat("v", 51) }, cloud.CodeInvalidParameter},
		"description":      {func(r *cloud.CreateArtifactRequest) { r.Description = "too short" }, cloud.CodeInvalidParameter},
		"long description": {func(r *cloud.CreateArtifactRequest) { r.Description = strings.Repeat("d", 501) }, cloud.CodeInvalidParameter},
		"tags":             {func(r *cloud.CreateArtifactRequest) { r.Tags = tooManyTags }, cloud.CodeInvalidParameter},
		"no regions":       {func(r *cloud.CreateArtifactRequest) { r.SupportRegionIds = nil }, cloud.CodeInvalidParameter},
		"unknown region":   {func(r *cloud.CreateArtifactRequest) { r.SupportRegionIds = []string{"eu-west-1", "mars-1"} }, cloud.CodeInvalidParameter},
		"repeated region":  {func(r *cloud.CreateArtifactRequest) { r.SupportRegionIds = []string{"eu-west-1", "eu-west-1"} }, cloud.CodeInvalidParameter},
		"system image":     {func(r *cloud.CreateArtifactRequest) { r.ArtifactProperty.ImageId = cloudsim.ImageSystemAliyun }, cloud.CodeInvalidParameter},
		"community image":  {func(r *cloud.CreateArtifactRequest) { r.ArtifactProperty.ImageId = cloudsim.ImageCommunityTools }, cloud.CodeInvalidParameter},
		"private image":    {func(r *cloud.CreateArtifactRequest) { r.ArtifactProperty.ImageId = cloudsim.ImageOtherPrivate }, cloud.CodeImageNotAuthorized},
		"missing image":    {func(r *cloud.CreateArtifactRequest) { r.ArtifactProperty.ImageId = "m-missing" }, cloud.CodeImageNotFound},
		"image region":     {func(r *cloud.CreateArtifactRequest) { r.ArtifactProperty.RegionId = "mars-1" }, cloud.CodeInvalidRegion},
		"unknown package":  {func(r *cloud.CreateArtifactRequest) { r.ArtifactId = "artifact-0000" }, cloud.CodeArtifactNotFound},
	} {
		req := draft()
		tc.change(req)
		_, err := env.Client.CreateArtifact(t.Context(), req)
		if apiErr, isAPI := cloud.AsAPIError(err); !isAPI || apiErr.Code != tc.code || apiErr.HTTPStatus/100 != 4 {
			t.Errorf("%s: want %s, got %v", name, tc.code, err)
		}
	}
	// A marketplace image and a 3-character name are fine; so is a File
	// package, whose content is an uploaded object rather than an image.
	ok := draft()
	ok.Name, ok.ArtifactProperty.ImageId = "abc", cloudsim.ImageMarketplaceNginx
	createArtifact(t, env.Client, ok)
	bucket, err := env.Client.GetArtifactBucket(t.Context(), &cloud.GetArtifactBucketRequest{RegionId: cloudsim.SeedRegion})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Client.PutObject(t.Context(), &cloud.PutObjectRequest{RegionId: cloudsim.SeedRegion, Bucket: bucket.Bucket, Key: "f/app.tar.gz", Content: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	file := draft()
	file.Name, file.ArtifactType = "files", cloud.ArtifactFile
	file.ArtifactProperty = cloud.ArtifactProperty{RegionId: cloudsim.SeedRegion, Bucket: bucket.Bucket, ObjectKey: "f/app.tar.gz"}
	createArtifact(t, env.Client, file)
	if n := len(ledgerOf(env, "CreateArtifact")); n != 2 {
		t.Fatalf("%d ledger entries, only the valid calls count", n)
	}
}

func TestReleaseArtifactValidation(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	id := createArtifact(t, env.Client, draft())
	available := deliveredCopy(t, env, clock, "eu-central-1")
	us := deliveredCopy(t, env, clock, "us-east-1")
	base := func() *cloud.ReleaseArtifactRequest {
		return &cloud.ReleaseArtifactRequest{
			ArtifactId: id, VersionName: "v1_0",
			ImageDelivery: map[string]string{"eu-central-1": available},
			Permission:    cloud.Permission{Visibility: cloud.VisibilityPrivate},
		}
	}

	for name, tc := range map[string]struct {
		change func(*cloud.ReleaseArtifactRequest)
		code   string
	}{
		"unknown package": {func(r *cloud.ReleaseArtifactRequest) { r.ArtifactId = "artifact-none" }, cloud.CodeArtifactNotFound},
		"unknown version": {func(r *cloud.ReleaseArtifactRequest) { r.VersionName = "v9_9" }, cloud.CodeArtifactNotFound},
		"visibility":      {func(r *cloud.ReleaseArtifactRequest) { r.Permission.Visibility = "Everyone" }, cloud.CodeInvalidParameter},
		"empty whitelist": {func(r *cloud.ReleaseArtifactRequest) { r.Permission.Visibility = cloud.VisibilityWhitelist }, cloud.CodeInvalidParameter},
		"unknown account": {func(r *cloud.ReleaseArtifactRequest) {
			r.Permission = cloud.Permission{Visibility: cloud.VisibilityWhitelist, AccountIds: []string{"42"}}
		}, cloud.CodeInvalidParameter},
		"accounts on public": {func(r *cloud.ReleaseArtifactRequest) {
			r.Permission = cloud.Permission{Visibility: cloud.VisibilityPublic, AccountIds: []string{cloudsim.SecondAccount}}
		}, cloud.CodeInvalidParameter},
		"no delivery":          {func(r *cloud.ReleaseArtifactRequest) { r.ImageDelivery = nil }, cloud.CodeInvalidParameter},
		"unsupported region":   {func(r *cloud.ReleaseArtifactRequest) { r.ImageDelivery = map[string]string{"us-east-1": us} }, cloud.CodeInvalidParameter},
		"missing image":        {func(r *cloud.ReleaseArtifactRequest) { r.ImageDelivery["eu-west-1"] = "m-missing" }, cloud.CodeImageNotFound},
		"image in wrong place": {func(r *cloud.ReleaseArtifactRequest) { r.ImageDelivery["eu-west-1"] = available }, cloud.CodeImageNotFound},
	} {
		req := base()
		tc.change(req)
		_, err := env.Client.ReleaseArtifact(ctx, req)
		if apiErr, isAPI := cloud.AsAPIError(err); !isAPI || apiErr.Code != tc.code {
			t.Errorf("%s: want %s, got %v", name, tc.code, err)
		}
	}

	// An image still being copied cannot be delivered.
	running := copyWebapp(t, env.Client, "eu-west-1", "")
	req := base()
	req.ImageDelivery["eu-west-1"] = running
	_, err := env.Client.ReleaseArtifact(ctx, req)
	wantCode(t, err, cloud.CodeIncorrectStatus)

	// A region may be left out (dropped); the release then succeeds.
	_, err = env.Client.ReleaseArtifact(ctx, base())
	ok(t, err)
}

func TestReleaseArtifactIdempotentRetry(t *testing.T) {
	env, clock := startClocked(t)
	id := createArtifact(t, env.Client, draft())
	img := deliveredCopy(t, env, clock, "eu-west-1")
	req := &cloud.ReleaseArtifactRequest{
		ArtifactId: id, VersionName: "v1_0", ImageDelivery: map[string]string{"eu-west-1": img},
		Permission: cloud.Permission{Visibility: cloud.VisibilityPublic}, ClientToken: "release-1",
	}
	first, err := env.Client.ReleaseArtifact(t.Context(), req)
	ok(t, err)
	// A retry after a lost answer gets the same answer, not VersionLocked.
	second, err := env.Client.ReleaseArtifact(t.Context(), req)
	ok(t, err)
	if *first != *second || len(ledgerOf(env, "ReleaseArtifact")) != 1 {
		t.Fatalf("answers %+v %+v, ledger %+v", first, second, ledgerOf(env, "ReleaseArtifact"))
	}
	req.ClientToken = "release-2"
	_, err = env.Client.ReleaseArtifact(t.Context(), req)
	wantCode(t, err, cloud.CodeArtifactLocked)
}

func TestDeleteArtifact(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	id := createArtifact(t, env.Client, draft())
	v2 := draft()
	v2.ArtifactId, v2.VersionName = id, "v2_0"
	createArtifact(t, env.Client, v2)

	_, err := env.ClientAs(cloudsim.SecondAccount).DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id})
	wantCode(t, err, cloud.CodeArtifactNotFound)
	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id, VersionName: "v9_9"})
	wantCode(t, err, cloud.CodeArtifactNotFound)

	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id, VersionName: "v1_0"})
	ok(t, err)
	got, err := env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	ok(t, err)
	if len(got.Artifact.Versions) != 1 || got.Artifact.Versions[0].VersionName != "v2_0" {
		t.Fatalf("versions %+v", got.Artifact.Versions)
	}

	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id})
	ok(t, err)
	_, err = env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	wantCode(t, err, cloud.CodeArtifactNotFound)
	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id})
	wantCode(t, err, cloud.CodeArtifactNotFound)
	// The name is free again.
	if createArtifact(t, env.Client, draft()) == id {
		t.Fatal("a new package reused the deleted package's ID")
	}
	if n := len(ledgerOf(env, "DeleteArtifact")); n != 2 {
		t.Fatalf("%d DeleteArtifact entries", n)
	}
}

func TestServices(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	webapp := createArtifact(t, env.Client, draft())
	tools := draft()
	tools.Name = "tools"
	toolsID := createArtifact(t, env.Client, tools)

	create := func(c *cloud.Client, req cloud.CreateServiceRequest) (string, error) {
		resp, err := c.CreateService(ctx, &req)
		if err != nil {
			return "", err
		}
		return resp.ServiceId, nil
	}
	public, err := create(env.Client, cloud.CreateServiceRequest{Name: "shop", Visibility: cloud.VisibilityPublic, ArtifactIds: []string{webapp}})
	ok(t, err)
	private, err := create(env.Client, cloud.CreateServiceRequest{Name: "internal", Visibility: cloud.VisibilityPrivate,
		Whitelist: []string{cloudsim.ThirdAccount, cloudsim.SecondAccount}, ArtifactIds: []string{webapp, toolsID}})
	ok(t, err)
	_, err = create(env.Client, cloud.CreateServiceRequest{Name: "lonely", Visibility: cloud.VisibilityPrivate})
	ok(t, err)
	if !strings.HasPrefix(public, "service-") {
		t.Fatalf("service ID %s", public)
	}

	ids := func(req cloud.ListServicesRequest) []string {
		resp, err := env.Client.ListServices(ctx, &req)
		ok(t, err)
		var out []string
		for _, s := range resp.Services {
			out = append(out, s.ServiceId)
		}
		return out
	}
	if got := ids(cloud.ListServicesRequest{ArtifactId: webapp}); !slices.Equal(got, []string{public, private}) {
		t.Fatalf("services of webapp: %v", got)
	}
	if got := ids(cloud.ListServicesRequest{ArtifactId: toolsID}); !slices.Equal(got, []string{private}) {
		t.Fatalf("services of tools: %v", got)
	}
	if got := ids(cloud.ListServicesRequest{}); len(got) != 3 {
		t.Fatalf("all services: %v", got)
	}
	resp, err := env.Client.ListServices(ctx, &cloud.ListServicesRequest{ArtifactId: toolsID})
	ok(t, err)
	if s := resp.Services[0]; s.Visibility != cloud.VisibilityPrivate || !slices.Equal(s.Whitelist, []string{cloudsim.SecondAccount, cloudsim.ThirdAccount}) || s.OwnerId != cloudsim.DefaultAccount {
		t.Fatalf("service %+v", s)
	}
	theirs, err := env.ClientAs(cloudsim.SecondAccount).ListServices(ctx, &cloud.ListServicesRequest{})
	ok(t, err)
	if len(theirs.Services) != 0 {
		t.Fatalf("another account sees %+v", theirs.Services)
	}

	for _, bad := range []struct {
		req  cloud.CreateServiceRequest
		code string
	}{
		{cloud.CreateServiceRequest{Name: "x", Visibility: "Internal"}, cloud.CodeInvalidParameter},
		{cloud.CreateServiceRequest{Name: "", Visibility: cloud.VisibilityPublic}, cloud.CodeInvalidParameter},
		{cloud.CreateServiceRequest{Name: "x", Visibility: cloud.VisibilityPublic, Whitelist: []string{cloudsim.SecondAccount}}, cloud.CodeInvalidParameter},
		{cloud.CreateServiceRequest{Name: "x", Visibility: cloud.VisibilityPrivate, Whitelist: []string{"42"}}, cloud.CodeInvalidParameter},
		{cloud.CreateServiceRequest{Name: "x", Visibility: cloud.VisibilityPrivate, ArtifactIds: []string{"artifact-none"}}, cloud.CodeArtifactNotFound},
	} {
		_, err := create(env.Client, bad.req)
		wantCode(t, err, bad.code)
	}
	// Another account cannot associate our package.
	_, err = create(env.ClientAs(cloudsim.SecondAccount), cloud.CreateServiceRequest{Name: "x", Visibility: cloud.VisibilityPublic, ArtifactIds: []string{webapp}})
	wantCode(t, err, cloud.CodeArtifactNotFound)

	if n := len(ledgerOf(env, "CreateService")); n != 3 {
		t.Fatalf("%d CreateService entries", n)
	}
}
