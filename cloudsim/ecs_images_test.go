package cloudsim_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/model"
)

func TestDescribeRegions(t *testing.T) {
	env := cloudsimtest.Start(t)
	resp, err := env.Client.DescribeRegions(t.Context(), &cloud.DescribeRegionsRequest{})
	ok(t, err)
	if len(resp.Regions) != len(model.Regions) || resp.Regions[0].RegionId != model.Regions[0].ID || resp.RequestId == "" {
		t.Fatalf("regions: %+v", resp)
	}
}

func TestSeedDataVisibility(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	resp, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion})
	ok(t, err)
	aliases := map[string]string{}
	for _, img := range resp.Images {
		aliases[img.ImageId] = img.ImageOwnerAlias
		if img.Status != cloud.ImageAvailable || img.Progress != "100%" {
			t.Errorf("%s: status %s %s", img.ImageId, img.Status, img.Progress)
		}
	}
	want := map[string]string{
		cloudsim.ImageWebappV1:         cloud.OwnerSelf,
		cloudsim.ImageWebappV2:         cloud.OwnerSelf,
		cloudsim.ImageWinsvcV1:         cloud.OwnerSelf,
		cloudsim.ImageMarketplaceNginx: cloud.OwnerMarketplace,
		cloudsim.ImageCommunityTools:   cloud.OwnerCommunity,
		cloudsim.ImageSystemAliyun:     cloud.OwnerSystem,
		cloudsim.ImageSystemUbuntu:     cloud.OwnerSystem,
	}
	for id, alias := range want {
		if aliases[id] != alias {
			t.Errorf("%s: alias %q, want %q", id, aliases[id], alias)
		}
	}
	if _, seen := aliases[cloudsim.ImageOtherPrivate]; seen || len(aliases) != len(want) {
		t.Errorf("default account sees %v", aliases)
	}

	// The owner sees its private image; the community image is its own.
	if img := describe(t, env.ClientAs(cloudsim.SecondAccount), cloudsim.SeedRegion, cloudsim.ImageOtherPrivate); img.ImageOwnerAlias != cloud.OwnerSelf {
		t.Errorf("owner sees %s as %s", img.ImageId, img.ImageOwnerAlias)
	}
	if img := describe(t, env.ClientAs(cloudsim.ThirdAccount), cloudsim.SeedRegion, cloudsim.ImageCommunityTools); img.ImageOwnerAlias != cloud.OwnerSelf {
		t.Errorf("owner sees %s as %s", img.ImageId, img.ImageOwnerAlias)
	}

	// Seeded details the rest of imagefleet relies on.
	v1 := describe(t, env.Client, cloudsim.SeedRegion, cloudsim.ImageWebappV1)
	v2 := describe(t, env.Client, cloudsim.SeedRegion, cloudsim.ImageWebappV2)
	win := describe(t, env.Client, cloudsim.SeedRegion, cloudsim.ImageWinsvcV1)
	if v1.ImageName != "webapp-v1" || v1.Size != 40 || v1.OSType != "linux" || v1.ImageFamily != "webapp" || v1.OwnerId != cloudsim.DefaultAccount {
		t.Errorf("webapp-v1: %+v", v1)
	}
	if v2.Size != 80 || !v2.CreationTime.After(v1.CreationTime) || win.OSType != "windows" || win.Size != 60 {
		t.Errorf("webapp-v2 %+v, winsvc %+v", v2, win)
	}
	mkt := describe(t, env.Client, cloudsim.SeedRegion, cloudsim.ImageMarketplaceNginx)
	if mkt.Size != 20 {
		t.Errorf("marketplace image: %+v", mkt)
	}

	// System images exist in every region; custom ones only in the seed region.
	for _, r := range model.Regions {
		resp, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: r.ID, ImageOwnerAlias: cloud.OwnerSystem})
		ok(t, err)
		if resp.TotalCount != 2 {
			t.Errorf("%s: %d system images", r.ID, resp.TotalCount)
		}
	}
	if visible(t, env.Client, "eu-west-1", cloudsim.ImageWebappV1) {
		t.Error("webapp-v1 visible outside its region")
	}

	// The newest of a family comes first.
	fam, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, ImageFamily: "webapp"})
	ok(t, err)
	if fam.TotalCount != 2 || fam.Images[0].ImageId != cloudsim.ImageWebappV2 {
		t.Errorf("family webapp: %+v", fam.Images)
	}
}

func TestDescribeImagesFiltersAndPaging(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	_, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "xx-nowhere-1"})
	wantCode(t, err, cloud.CodeInvalidRegion)
	_, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{})
	wantCode(t, err, cloud.CodeInvalidParameter)
	_, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, PageSize: 101})
	wantCode(t, err, cloud.CodeInvalidParameter)
	_, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, ImageOwnerAlias: "mine"})
	wantCode(t, err, cloud.CodeInvalidParameter)

	var all []string
	for page := 1; ; page++ {
		resp, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, PageNumber: page, PageSize: 3})
		ok(t, err)
		if resp.TotalCount != 7 || resp.PageSize != 3 || resp.PageNumber != page {
			t.Fatalf("page %d: %+v", page, resp)
		}
		if len(resp.Images) == 0 {
			break
		}
		for _, img := range resp.Images {
			all = append(all, img.ImageId)
		}
	}
	if len(all) != 7 || len(slices.Compact(slices.Sorted(slices.Values(all)))) != 7 {
		t.Fatalf("pages gave %v", all)
	}

	byName, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, ImageName: "webapp*"})
	ok(t, err)
	exact, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, ImageName: "webapp-v1"})
	ok(t, err)
	self, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, ImageOwnerAlias: cloud.OwnerSelf})
	ok(t, err)
	if byName.TotalCount != 2 || exact.TotalCount != 1 || self.TotalCount != 3 {
		t.Fatalf("name prefix %d, exact %d, self %d", byName.TotalCount, exact.TotalCount, self.TotalCount)
	}

	id := copyWebapp(t, env.Client, "cn-shanghai", "")
	creating, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", Status: "Creating,CreateFailed"})
	ok(t, err)
	available, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", Status: cloud.ImageAvailable, ImageOwnerAlias: cloud.OwnerSelf})
	ok(t, err)
	if creating.TotalCount != 1 || creating.Images[0].ImageId != id || available.TotalCount != 0 {
		t.Fatalf("status filter: creating %+v, available %+v", creating.Images, available.Images)
	}
}

// A poller asks about many images at once: ImageId is a list of up to 100
// IDs (ECS takes it comma-separated), combined with the other filters and
// paged with TotalCount like any listing; the simulator counts the calls.
func TestDescribeImagesByIDList(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	var ids []string
	for i := range 5 {
		ids = append(ids, copyWebapp(t, env.Client, "cn-shanghai", fmt.Sprintf("list-%d", i)))
	}
	clock.Advance(env.Server.CopyDuration(cloudsim.SeedRegion, "cn-shanghai", 40) / 2)
	// Another region's image is not in the region's answer.
	elsewhere := copyWebapp(t, env.Client, "eu-west-1", "list-eu")
	before := env.Server.Calls()["DescribeImages"]

	asked := slices.Concat(ids, []string{"m-doesnotexist", elsewhere})
	resp, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", ImageIds: asked, PageSize: 100})
	ok(t, err)
	got := []string{}
	for _, img := range resp.Images {
		got = append(got, img.ImageId)
		if img.Status != cloud.ImageCreating || img.Progress != "50%" {
			t.Errorf("%s: %s %s", img.ImageId, img.Status, img.Progress)
		}
	}
	if resp.TotalCount != 5 || !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(ids))) {
		t.Fatalf("by ID list: total %d, %v; want %v", resp.TotalCount, got, ids)
	}

	// Paged: TotalCount counts all matches, each page holds its part.
	var paged []string
	for page := 1; page <= 3; page++ {
		resp, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", ImageIds: ids, PageNumber: page, PageSize: 2})
		ok(t, err)
		if resp.TotalCount != 5 || len(resp.Images) != min(2, 5-2*(page-1)) {
			t.Fatalf("page %d: total %d, %d images", page, resp.TotalCount, len(resp.Images))
		}
		for _, img := range resp.Images {
			paged = append(paged, img.ImageId)
		}
	}
	if !slices.Equal(slices.Sorted(slices.Values(paged)), slices.Sorted(slices.Values(ids))) {
		t.Fatalf("pages gave %v", paged)
	}

	// The comma-separated form, and the Status filter on top of the list.
	resp, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", ImageIds: []string{ids[0] + "," + ids[1], ids[2]}})
	ok(t, err)
	if resp.TotalCount != 3 {
		t.Fatalf("comma-separated IDs: total %d", resp.TotalCount)
	}
	resp, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", ImageIds: ids, Status: cloud.ImageAvailable})
	ok(t, err)
	if resp.TotalCount != 0 {
		t.Fatalf("none is Available yet: total %d", resp.TotalCount)
	}
	clock.Advance(env.Server.CopyDuration(cloudsim.SeedRegion, "cn-shanghai", 40))
	resp, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", ImageIds: ids, Status: "Available,CreateFailed"})
	ok(t, err)
	if resp.TotalCount != 5 {
		t.Fatalf("all Available now: total %d", resp.TotalCount)
	}

	// At most 100 IDs a call; 100 is fine, also when none exists.
	hundred := make([]string, 100)
	for i := range hundred {
		hundred[i] = fmt.Sprintf("m-missing%03d", i)
	}
	resp, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", ImageIds: hundred})
	ok(t, err)
	if resp.TotalCount != 0 || len(resp.Images) != 0 {
		t.Fatalf("missing IDs: %+v", resp)
	}
	_, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", ImageIds: append(hundred, "m-one-more")})
	wantCode(t, err, cloud.CodeInvalidParameter)
	_, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "cn-shanghai", ImageIds: []string{ids[0] + ",,"}})
	wantCode(t, err, cloud.CodeInvalidParameter)

	// Every call was counted, refused ones too, over the admin API as well.
	calls, err := env.Client.Admin().Calls(ctx)
	ok(t, err)
	if n := calls["DescribeImages"] - before; n != 10 {
		t.Fatalf("counted %d DescribeImages calls, made 10", n)
	}
	if calls["CopyImage"] != 6 {
		t.Fatalf("counted %d CopyImage calls, made 6", calls["CopyImage"])
	}
}

func TestCopyImageProgressFollowsTime(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	resp, err := env.Client.CopyImage(ctx, &cloud.CopyImageRequest{
		RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1",
		DestinationImageName: "webapp-eu", Tags: map[string]string{"app": "webapp"}, ClientToken: "copy-1",
	})
	ok(t, err)
	if !regexp.MustCompile(`^m-[a-z0-9]{20}$`).MatchString(resp.ImageId) || resp.RequestId == "" {
		t.Fatalf("response %+v", resp)
	}

	img := describe(t, env.Client, "eu-west-1", resp.ImageId)
	// A 40 GiB copy across zones: (30s + 40×30s) × 2.5 = 51m15s.
	const want = 3075 * time.Second
	if d := img.ReadyTime.Sub(img.CreationTime); d != want || env.Server.CopyDuration(cloudsim.SeedRegion, "eu-west-1", 40) != want {
		t.Fatalf("copy takes %s, want %s", d, want)
	}
	if img.Status != cloud.ImageCreating || img.Progress != "0%" || img.ImageOwnerAlias != cloud.OwnerSelf ||
		img.OwnerId != cloudsim.DefaultAccount || img.ImageName != "webapp-eu" || img.Size != 40 || img.ImageFamily != "webapp" ||
		img.SourceImageId != cloudsim.ImageWebappV1 || img.SourceRegionId != cloudsim.SeedRegion || img.Tags["app"] != "webapp" {
		t.Fatalf("new copy: %+v", img)
	}

	clock.Advance(want / 2)
	if img := describe(t, env.Client, "eu-west-1", resp.ImageId); img.Status != cloud.ImageCreating || img.Progress != "50%" {
		t.Fatalf("half way: %s %s", img.Status, img.Progress)
	}
	clock.Advance(want/2 - time.Second)
	if img := describe(t, env.Client, "eu-west-1", resp.ImageId); img.Status != cloud.ImageCreating || img.Progress != "99%" {
		t.Fatalf("just before ready: %s %s", img.Status, img.Progress)
	}
	clock.Advance(time.Second)
	if img := describe(t, env.Client, "eu-west-1", resp.ImageId); img.Status != cloud.ImageAvailable || img.Progress != "100%" {
		t.Fatalf("at ready time: %s %s", img.Status, img.Progress)
	}
}

func TestCopyDurationByDistance(t *testing.T) {
	env, _ := startClocked(t)
	took := func(region string) time.Duration {
		img := describe(t, env.Client, region, copyWebapp(t, env.Client, region, ""))
		return img.ReadyTime.Sub(img.CreationTime)
	}
	sameRegion, sameZone, crossZone := took(cloudsim.SeedRegion), took("cn-beijing"), took("us-east-1")
	if sameRegion != 369*time.Second || sameZone != 1230*time.Second || crossZone != 3075*time.Second {
		t.Fatalf("same region %s, same zone %s, cross zone %s", sameRegion, sameZone, crossZone)
	}

	// TimeScale shortens copies proportionally.
	scaled := cloudsimtest.Start(t, cloudsimtest.WithTimeScale(0.002))
	if d := scaled.Server.CopyDuration(cloudsim.SeedRegion, "us-east-1", 40); d != 6150*time.Millisecond {
		t.Fatalf("scaled duration %s", d)
	}
}

func TestCopyImageValidation(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	cp := func(c *cloud.Client, region, image, dest string) error {
		_, err := c.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: region, ImageId: image, DestinationRegionId: dest})
		return err
	}
	wantCode(t, cp(env.Client, cloudsim.SeedRegion, cloudsim.ImageWebappV1, "mars-1"), cloud.CodeInvalidRegion)
	wantCode(t, cp(env.Client, "mars-1", cloudsim.ImageWebappV1, "eu-west-1"), cloud.CodeInvalidRegion)
	wantCode(t, cp(env.Client, cloudsim.SeedRegion, "m-doesnotexist", "eu-west-1"), cloud.CodeImageNotFound)
	wantCode(t, cp(env.Client, "eu-west-1", cloudsim.ImageWebappV1, "cn-hangzhou"), cloud.CodeImageNotFound)
	wantCode(t, cp(env.Client, cloudsim.SeedRegion, "", "eu-west-1"), cloud.CodeInvalidParameter)
	e := wantCode(t, cp(env.Client, cloudsim.SeedRegion, cloudsim.ImageOtherPrivate, "eu-west-1"), cloud.CodeImageNotAuthorized)
	if e.HTTPStatus != 403 || e.Retryable() {
		t.Fatalf("not authorized: %+v", e)
	}

	// Marketplace, community and system images can be copied.
	for _, id := range []string{cloudsim.ImageMarketplaceNginx, cloudsim.ImageCommunityTools, cloudsim.ImageSystemUbuntu} {
		ok(t, cp(env.Client, cloudsim.SeedRegion, id, "eu-west-1"))
	}

	// A copy still being made cannot be the source of another.
	copyID := copyWebapp(t, env.Client, "eu-west-1", "")
	wantCode(t, cp(env.Client, "eu-west-1", copyID, "eu-central-1"), cloud.CodeIncorrectStatus)
	clock.Advance(time.Hour)
	ok(t, cp(env.Client, "eu-west-1", copyID, "eu-central-1"))
}

func TestImageQuota(t *testing.T) {
	env, clock := startClocked(t, cloudsimtest.WithConfig(func(c *cloudsim.Config) { c.ImageQuota = 2 }))
	ctx := t.Context()
	first := copyWebapp(t, env.Client, "eu-west-1", "")
	copyWebapp(t, env.Client, "eu-west-1", "")
	_, err := env.Client.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1"})
	if e := wantCode(t, err, cloud.CodeQuotaExceeded); e.Retryable() {
		t.Fatal("quota errors are permanent")
	}
	copyWebapp(t, env.Client, "eu-central-1", "") // other regions have their own quota
	_, err = env.ClientAs(cloudsim.SecondAccount).CopyImage(ctx, &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageMarketplaceNginx, DestinationRegionId: "eu-west-1"})
	ok(t, err) // and so have other accounts

	// Deleting an image frees its place.
	clock.Advance(time.Hour)
	_, err = env.Client.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: "eu-west-1", ImageId: first})
	ok(t, err)
	copyWebapp(t, env.Client, "eu-west-1", "")
}

func TestCopyImageIdempotency(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	req := &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1", ClientToken: "tok-1"}
	first, err := env.Client.CopyImage(ctx, req)
	ok(t, err)
	again, err := env.Client.CopyImage(ctx, req)
	ok(t, err)
	if *again != *first {
		t.Fatalf("replay answered %+v, first call %+v", again, first)
	}
	self, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "eu-west-1", ImageOwnerAlias: cloud.OwnerSelf})
	ok(t, err)
	copies := ledgerOf(env, "CopyImage")
	if self.TotalCount != 1 || len(copies) != 1 || copies[0].ResourceId != first.ImageId || copies[0].ClientToken != "tok-1" ||
		copies[0].ResourceType != "Image" || copies[0].Region != "eu-west-1" || copies[0].Account != cloudsim.DefaultAccount {
		t.Fatalf("%d images, ledger %+v", self.TotalCount, copies)
	}

	// The same token with other parameters is refused.
	other := *req
	other.DestinationRegionId = "eu-central-1"
	_, err = env.Client.CopyImage(ctx, &other)
	if e := wantCode(t, err, cloud.CodeIdempotentMismatch); e.HTTPStatus != 400 {
		t.Fatalf("mismatch: %+v", e)
	}

	// Tokens are scoped by account and action.
	theirs, err := env.ClientAs(cloudsim.SecondAccount).CopyImage(ctx, &cloud.CopyImageRequest{
		RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageMarketplaceNginx, DestinationRegionId: "eu-west-1", ClientToken: "tok-1",
	})
	ok(t, err)
	if theirs.ImageId == first.ImageId {
		t.Fatal("another account's token returned our image")
	}
	if len(ledgerOf(env, "CopyImage")) != 2 {
		t.Fatalf("ledger: %+v", env.Server.Ledger())
	}

	// Without a token every call is a new copy.
	a, b := copyWebapp(t, env.Client, "eu-west-1", ""), copyWebapp(t, env.Client, "eu-west-1", "")
	if a == b {
		t.Fatal("calls without a token returned the same image")
	}
}

func TestConcurrentCallsWithOneToken(t *testing.T) {
	env := cloudsimtest.Start(t)
	req := &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "ap-southeast-1", ClientToken: "race"}
	ids := make([]string, 16)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			resp, err := env.Client.CopyImage(context.Background(), req)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = resp.ImageId
		})
	}
	wg.Wait()
	if ids[0] == "" || slices.ContainsFunc(ids, func(id string) bool { return id != ids[0] }) {
		t.Fatalf("concurrent replays gave %v", ids)
	}
	if n := len(ledgerOf(env, "CopyImage")); n != 1 {
		t.Fatalf("%d ledger entries", n)
	}
}

func TestCancelCopyImage(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	id := copyWebapp(t, env.Client, "eu-west-1", "")
	clock.Advance(10 * time.Minute)

	_, err := env.ClientAs(cloudsim.SecondAccount).CancelCopyImage(ctx, &cloud.CancelCopyImageRequest{RegionId: "eu-west-1", ImageId: id})
	wantCode(t, err, cloud.CodeImageNotAuthorized)
	_, err = env.Client.CancelCopyImage(ctx, &cloud.CancelCopyImageRequest{RegionId: "eu-central-1", ImageId: id})
	wantCode(t, err, cloud.CodeImageNotFound)

	_, err = env.Client.CancelCopyImage(ctx, &cloud.CancelCopyImageRequest{RegionId: "eu-west-1", ImageId: id})
	ok(t, err)
	if img := describe(t, env.Client, "eu-west-1", id); img.Status != cloud.ImageDeleted {
		t.Fatalf("cancelled copy is %s", img.Status)
	}
	if visible(t, env.Client, "eu-west-1", id) {
		t.Fatal("a cancelled copy is listed without IncludeDeleted")
	}
	clock.Advance(2 * time.Hour) // a cancelled copy never becomes Available
	if img := describe(t, env.Client, "eu-west-1", id); img.Status != cloud.ImageDeleted {
		t.Fatalf("cancelled copy later is %s", img.Status)
	}
	_, err = env.Client.CancelCopyImage(ctx, &cloud.CancelCopyImageRequest{RegionId: "eu-west-1", ImageId: id})
	wantCode(t, err, cloud.CodeImageNotFound)

	// Only a running copy can be cancelled.
	done := copyWebapp(t, env.Client, "eu-west-1", "")
	clock.Advance(2 * time.Hour)
	_, err = env.Client.CancelCopyImage(ctx, &cloud.CancelCopyImageRequest{RegionId: "eu-west-1", ImageId: done})
	wantCode(t, err, cloud.CodeIncorrectStatus)
	_, err = env.Client.CancelCopyImage(ctx, &cloud.CancelCopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1})
	wantCode(t, err, cloud.CodeIncorrectStatus)

	wantOneEntry(t, env, "CancelCopyImage", id)
}

func TestDeleteImage(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	del := func(c *cloud.Client, region, id string) error {
		_, err := c.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: region, ImageId: id})
		return err
	}
	id := copyWebapp(t, env.Client, "eu-west-1", "")
	e := wantCode(t, del(env.Client, "eu-west-1", id), cloud.CodeIncorrectStatus)
	if !strings.Contains(e.Message, "CancelCopyImage") {
		t.Errorf("message should point to CancelCopyImage: %s", e.Message)
	}
	clock.Advance(time.Hour)

	wantCode(t, del(env.ClientAs(cloudsim.SecondAccount), "eu-west-1", id), cloud.CodeImageNotAuthorized)
	wantCode(t, del(env.Client, cloudsim.SeedRegion, cloudsim.ImageSystemAliyun), cloud.CodeImageNotAuthorized)
	wantCode(t, del(env.Client, cloudsim.SeedRegion, cloudsim.ImageMarketplaceNginx), cloud.CodeImageNotAuthorized)
	wantCode(t, del(env.Client, cloudsim.SeedRegion, cloudsim.ImageOtherPrivate), cloud.CodeImageNotAuthorized)
	wantCode(t, del(env.Client, "eu-west-1", "m-nosuchimage"), cloud.CodeImageNotFound)
	wantCode(t, del(env.Client, "mars-1", id), cloud.CodeInvalidRegion)

	ok(t, del(env.Client, "eu-west-1", id))
	if img := describe(t, env.Client, "eu-west-1", id); img.Status != cloud.ImageDeleted {
		t.Fatalf("deleted image is %s", img.Status)
	}
	wantCode(t, del(env.Client, "eu-west-1", id), cloud.CodeImageNotFound)
	_, err := env.Client.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: "eu-west-1", ImageId: id, DestinationRegionId: "eu-central-1"})
	wantCode(t, err, cloud.CodeImageNotFound)

	wantOneEntry(t, env, "DeleteImage", id)
}

func TestImageSharing(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()
	second, third := env.ClientAs(cloudsim.SecondAccount), env.ClientAs(cloudsim.ThirdAccount)
	share := func(c *cloud.Client, req cloud.ModifyImageSharePermissionRequest) error {
		req.RegionId, req.ImageId = cmpOr(req.RegionId, cloudsim.SeedRegion), cmpOr(req.ImageId, cloudsim.ImageWebappV1)
		_, err := c.ModifyImageSharePermission(ctx, &req)
		return err
	}
	copyFrom := func(c *cloud.Client) error {
		_, err := c.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1"})
		return err
	}

	// Private: invisible and unusable for other accounts.
	if visible(t, second, cloudsim.SeedRegion, cloudsim.ImageWebappV1) {
		t.Fatal("private image visible to another account")
	}
	wantCode(t, copyFrom(second), cloud.CodeImageNotAuthorized)

	ok(t, share(env.Client, cloud.ModifyImageSharePermissionRequest{AddAccount: []string{cloudsim.SecondAccount}}))
	if img := describe(t, second, cloudsim.SeedRegion, cloudsim.ImageWebappV1); img.ImageOwnerAlias != cloud.OwnerOthers {
		t.Fatalf("shared image seen as %s", img.ImageOwnerAlias)
	}
	others, err := second.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion, ImageOwnerAlias: cloud.OwnerOthers})
	ok(t, err)
	if others.TotalCount != 1 || visible(t, third, cloudsim.SeedRegion, cloudsim.ImageWebappV1) {
		t.Fatalf("others: %+v", others.Images)
	}
	ok(t, copyFrom(second))
	perm, err := env.Client.DescribeImageSharePermission(ctx, &cloud.DescribeImageSharePermissionRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1})
	ok(t, err)
	if perm.IsPublic || !slices.Equal(perm.Accounts, []string{cloudsim.SecondAccount}) || perm.ImageId != cloudsim.ImageWebappV1 {
		t.Fatalf("permission %+v", perm)
	}

	// Only the owner manages sharing; accounts must exist.
	wantCode(t, share(second, cloud.ModifyImageSharePermissionRequest{AddAccount: []string{cloudsim.ThirdAccount}}), cloud.CodeImageNotAuthorized)
	_, err = second.DescribeImageSharePermission(ctx, &cloud.DescribeImageSharePermissionRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1})
	wantCode(t, err, cloud.CodeImageNotAuthorized)
	wantCode(t, share(env.Client, cloud.ModifyImageSharePermissionRequest{AddAccount: []string{"999"}}), cloud.CodeInvalidParameter)
	wantCode(t, share(env.Client, cloud.ModifyImageSharePermissionRequest{AddAccount: []string{cloudsim.DefaultAccount}}), cloud.CodeInvalidParameter)

	// A no-op change records no side effect.
	before := len(ledgerOf(env, "ModifyImageSharePermission"))
	ok(t, share(env.Client, cloud.ModifyImageSharePermissionRequest{AddAccount: []string{cloudsim.SecondAccount}}))
	if after := len(ledgerOf(env, "ModifyImageSharePermission")); after != before || before != 1 {
		t.Fatalf("ledger entries %d then %d", before, after)
	}

	// Public: a community image for everyone else.
	public := true
	ok(t, share(env.Client, cloud.ModifyImageSharePermissionRequest{IsPublic: &public, RemoveAccount: []string{cloudsim.SecondAccount}}))
	if img := describe(t, third, cloudsim.SeedRegion, cloudsim.ImageWebappV1); img.ImageOwnerAlias != cloud.OwnerCommunity || !img.IsPublic {
		t.Fatalf("public image seen as %s", img.ImageOwnerAlias)
	}
	public = false
	ok(t, share(env.Client, cloud.ModifyImageSharePermissionRequest{IsPublic: &public}))
	if visible(t, second, cloudsim.SeedRegion, cloudsim.ImageWebappV1) || visible(t, third, cloudsim.SeedRegion, cloudsim.ImageWebappV1) {
		t.Fatal("unshared image still visible")
	}

	// Only an Available image can be shared.
	id := copyWebapp(t, env.Client, "eu-west-1", "")
	wantCode(t, share(env.Client, cloud.ModifyImageSharePermissionRequest{RegionId: "eu-west-1", ImageId: id, AddAccount: []string{cloudsim.SecondAccount}}), cloud.CodeIncorrectStatus)
	clock.Advance(time.Hour)
	ok(t, share(env.Client, cloud.ModifyImageSharePermissionRequest{RegionId: "eu-west-1", ImageId: id, AddAccount: []string{cloudsim.SecondAccount}}))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
