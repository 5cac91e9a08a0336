package cloudsim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
)

// A published version's copies are Compute Nest's: the tenant can neither
// delete nor re-share them while the version exists.
func TestDeliveredImagesAreManagedByTheService(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	id := createArtifact(t, env.Client, draft())
	img := deliveredCopy(t, env, clock, "eu-west-1")
	_, err := env.Client.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{
		ArtifactId: id, VersionName: "v1_0", ImageDelivery: map[string]string{"eu-west-1": img},
		Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate},
	})
	ok(t, err)
	before := len(env.Server.Ledger())

	_, err = env.Client.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: "eu-west-1", ImageId: img})
	wantCode(t, err, cloud.CodeImageManagedByService)
	public := true
	_, err = env.Client.ModifyImageSharePermission(ctx, &cloud.ModifyImageSharePermissionRequest{RegionId: "eu-west-1", ImageId: img, IsPublic: &public})
	wantCode(t, err, cloud.CodeImageManagedByService)
	if n := len(env.Server.Ledger()); n != before {
		t.Fatalf("refused calls left %d side effects", n-before)
	}
	if !visible(t, env.Client, "eu-west-1", img) || describe(t, env.Client, "eu-west-1", img).IsPublic {
		t.Fatal("the delivered copy changed")
	}

	// Deleting the version releases (and deletes) its copies.
	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id, VersionName: "v1_0"})
	ok(t, err)
	if visible(t, env.Client, "eu-west-1", img) {
		t.Fatal("the version's copy outlived it")
	}
}

// One publication per version: the one holding it releases it; another is
// refused while it holds the version and after it published.
func TestOnePublicationPerVersion(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	id := createArtifact(t, env.Client, draft())
	img := deliveredCopy(t, env, clock, "eu-west-1")
	hold := func(token string) error {
		_, err := env.Client.StartArtifactRelease(ctx, &cloud.StartArtifactReleaseRequest{ArtifactId: id, VersionName: "v1_0", ReleaseToken: token})
		return err
	}
	release := func(token string) error {
		_, err := env.Client.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{
			ArtifactId: id, VersionName: "v1_0", ImageDelivery: map[string]string{"eu-west-1": img},
			Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate}, ReleaseToken: token,
		})
		return err
	}
	ok(t, hold("first"))
	ok(t, hold("first")) // the same publication again
	got, err := env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	ok(t, err)
	if st := got.Artifact.Versions[0].Status; st != cloud.ArtifactDelivering {
		t.Fatalf("status %s", st)
	}
	wantCode(t, hold("second"), cloud.CodeArtifactReleasing)
	wantCode(t, release("second"), cloud.CodeArtifactReleasing)
	wantCode(t, release(""), cloud.CodeArtifactReleasing)
	_, err = env.Client.CancelArtifactRelease(ctx, &cloud.CancelArtifactReleaseRequest{ArtifactId: id, VersionName: "v1_0", ReleaseToken: "second"})
	wantCode(t, err, cloud.CodeArtifactReleasing)
	if n := len(ledgerOf(env, "StartArtifactRelease")); n != 1 {
		t.Fatalf("%d StartArtifactRelease side effects", n)
	}

	// Given up, the version is a draft another publication may take.
	_, err = env.Client.CancelArtifactRelease(ctx, &cloud.CancelArtifactReleaseRequest{ArtifactId: id, VersionName: "v1_0", ReleaseToken: "first"})
	ok(t, err)
	ok(t, hold("second"))
	ok(t, release("second"))
	wantCode(t, hold("third"), cloud.CodeArtifactLocked)
	wantCode(t, hold("second"), cloud.CodeArtifactLocked)
}

// A version a publication holds cannot be deleted under it: the cloud
// refuses the delete itself (no describe-then-delete race for a client),
// whether it names the version or the whole package, and lets the holder
// delete with its token. Once given up, anyone may delete the draft.
func TestHeldVersionIsNotDeleted(t *testing.T) {
	env, _ := startClocked(t)
	ctx := t.Context()
	id := createArtifact(t, env.Client, draft())
	_, err := env.Client.StartArtifactRelease(ctx, &cloud.StartArtifactReleaseRequest{ArtifactId: id, VersionName: "v1_0", ReleaseToken: "publication"})
	ok(t, err)
	before := len(env.Server.Ledger())

	for _, req := range []*cloud.DeleteArtifactRequest{
		{ArtifactId: id, VersionName: "v1_0"},
		{ArtifactId: id},
		{ArtifactId: id, VersionName: "v1_0", ReleaseToken: "another"},
	} {
		_, err = env.Client.DeleteArtifact(ctx, req)
		apiErr := wantCode(t, err, cloud.CodeArtifactReleasing)
		if apiErr.HTTPStatus != http.StatusConflict || !strings.Contains(apiErr.Message, "v1_0") || !strings.Contains(apiErr.Message, "cannot be deleted") {
			t.Fatalf("refusal of %+v: %d %q", req, apiErr.HTTPStatus, apiErr.Message)
		}
	}
	// The same through a raw HTTP call, as any client makes it.
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, env.URL+"/api/DeleteArtifact",
		strings.NewReader(`{"ArtifactId":"`+id+`","VersionName":"v1_0"}`))
	ok(t, err)
	httpReq.Header.Set(cloud.AccountHeader, cloudsim.DefaultAccount)
	httpResp, err := http.DefaultClient.Do(httpReq)
	ok(t, err)
	defer httpResp.Body.Close()
	var body cloud.ErrorBody
	ok(t, json.NewDecoder(httpResp.Body).Decode(&body))
	if httpResp.StatusCode != http.StatusConflict || body.Code != cloud.CodeArtifactReleasing {
		t.Fatalf("raw delete: %d %+v", httpResp.StatusCode, body)
	}
	if n := len(env.Server.Ledger()); n != before {
		t.Fatalf("refused deletes left %d side effects", n-before)
	}
	got, err := env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: id})
	ok(t, err)
	if len(got.Artifact.Versions) != 1 || got.Artifact.Versions[0].Status != cloud.ArtifactDelivering {
		t.Fatalf("the held version changed: %+v", got.Artifact.Versions)
	}

	// The holder deletes its own version (e.g. an aborted publication
	// whose give-up failed).
	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id, VersionName: "v1_0", ReleaseToken: "publication"})
	ok(t, err)

	// Given up first, the draft is anyone's to delete, package and all.
	_, err = env.Client.CreateArtifact(ctx, &cloud.CreateArtifactRequest{ArtifactId: id, VersionName: "v2_0", Description: "second version",
		ArtifactProperty: draft().ArtifactProperty, SupportRegionIds: []string{"eu-west-1"}})
	ok(t, err)
	_, err = env.Client.StartArtifactRelease(ctx, &cloud.StartArtifactReleaseRequest{ArtifactId: id, VersionName: "v2_0", ReleaseToken: "publication"})
	ok(t, err)
	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id})
	wantCode(t, err, cloud.CodeArtifactReleasing)
	_, err = env.Client.CancelArtifactRelease(ctx, &cloud.CancelArtifactReleaseRequest{ArtifactId: id, VersionName: "v2_0", ReleaseToken: "publication"})
	ok(t, err)
	_, err = env.Client.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: id})
	ok(t, err)
}
