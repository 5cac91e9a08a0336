package cloudsim_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

func TestRestartKeepsStateLedgerAndTokens(t *testing.T) {
	env, clock := startClocked(t)
	ctx := t.Context()

	// Make one of everything.
	copyReq := &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1", ClientToken: "persist-copy"}
	copied, err := env.Client.CopyImage(ctx, copyReq)
	ok(t, err)
	artifactID := createArtifact(t, env.Client, draft())
	svc, err := env.Client.CreateService(ctx, &cloud.CreateServiceRequest{Name: "shop", Visibility: cloud.VisibilityPublic, ArtifactIds: []string{artifactID}})
	ok(t, err)
	ok(t, func() error {
		_, err := env.Client.ModifyImageSharePermission(ctx, &cloud.ModifyImageSharePermissionRequest{
			RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV2, AddAccount: []string{cloudsim.SecondAccount},
		})
		return err
	}())
	_, err = env.Client.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV2, Force: true})
	ok(t, err)
	clock.Advance(10 * time.Minute)
	before := describe(t, env.Client, "eu-west-1", copied.ImageId)
	ledgerBefore := env.Server.Ledger()
	addFault(t, env, cloud.Fault{Kind: cloud.FaultThrottle})

	env.Restart()

	// Fault rules are not persisted.
	if faults := env.Server.Faults(); len(faults) != 0 {
		t.Fatalf("faults survived a restart: %+v", faults)
	}
	// The ledger is intact.
	if got := env.Server.Ledger(); !reflect.DeepEqual(got, ledgerBefore) || len(got) != 5 {
		t.Fatalf("ledger after restart:\n%+v\nbefore:\n%+v", got, ledgerBefore)
	}
	// Images, shares, deletions, packages and services are intact.
	if after := describe(t, env.Client, "eu-west-1", copied.ImageId); !reflect.DeepEqual(after, before) || after.Status != cloud.ImageCreating {
		t.Fatalf("copy after restart %+v, before %+v", after, before)
	}
	if img := describe(t, env.ClientAs(cloudsim.SecondAccount), cloudsim.SeedRegion, cloudsim.ImageWebappV2); img.ImageOwnerAlias != cloud.OwnerOthers {
		t.Fatalf("share lost: %+v", img)
	}
	if img := describe(t, env.Client, cloudsim.SeedRegion, cloudsim.ImageWebappV2); img.Status != cloud.ImageDeleted {
		t.Fatalf("deletion lost: %s", img.Status)
	}
	if _, err := env.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{ArtifactId: artifactID}); err != nil {
		t.Fatal(err)
	}
	services, err := env.Client.ListServices(ctx, &cloud.ListServicesRequest{ArtifactId: artifactID})
	ok(t, err)
	if len(services.Services) != 1 || services.Services[0].ServiceId != svc.ServiceId {
		t.Fatalf("services %+v", services.Services)
	}

	// Idempotency records survive: the same token answers the same copy.
	replay, err := env.Client.CopyImage(ctx, copyReq)
	ok(t, err)
	if *replay != *copied {
		t.Fatalf("replay after restart %+v, first %+v", replay, copied)
	}
	mismatch := *copyReq
	mismatch.DestinationRegionId = "eu-central-1"
	_, err = env.Client.CopyImage(ctx, &mismatch)
	wantCode(t, err, cloud.CodeIdempotentMismatch)

	// The copy continues; new entries continue the ledger's sequence.
	clock.Advance(time.Hour)
	if img := describe(t, env.Client, "eu-west-1", copied.ImageId); img.Status != cloud.ImageAvailable {
		t.Fatalf("copy after an hour: %s", img.Status)
	}
	copyWebapp(t, env.Client, "eu-central-1", "")
	ledger := env.Server.Ledger()
	if len(ledger) != 6 || ledger[5].Seq != ledger[4].Seq+1 {
		t.Fatalf("ledger %+v", ledger)
	}
}

func TestCopyProgressesWhileDown(t *testing.T) {
	// Real clock: a copy advances in wall time, also while no server runs.
	env := cloudsimtest.Start(t, cloudsimtest.WithTimeScale(0.0002)) // a 40 GiB cross-zone copy: ~0.6s
	id := copyWebapp(t, env.Client, "eu-west-1", "")
	img := describe(t, env.Client, "eu-west-1", id)
	if img.Status != cloud.ImageCreating {
		t.Fatalf("new copy is %s", img.Status)
	}
	ok(t, env.Server.Close()) // down: nothing runs, no timers
	time.Sleep(time.Until(img.ReadyTime) + 10*time.Millisecond)
	env.Restart()
	if img := describe(t, env.Client, "eu-west-1", id); img.Status != cloud.ImageAvailable {
		t.Fatalf("after the down time the copy is %s", img.Status)
	}
}

func TestSeedOnlyOnFirstStart(t *testing.T) {
	dir := t.TempDir()
	env := cloudsimtest.Start(t, cloudsimtest.WithDataDir(dir))
	_, err := env.Client.DeleteImage(t.Context(), &cloud.DeleteImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV2, Force: true})
	ok(t, err)
	env.Restart()
	if visible(t, env.Client, cloudsim.SeedRegion, cloudsim.ImageWebappV2) {
		t.Fatal("restart seeded a deleted image again")
	}
	if !visible(t, env.Client, cloudsim.SeedRegion, cloudsim.ImageWebappV1) {
		t.Fatal("seed data lost")
	}

	bare := cloudsimtest.Start(t, cloudsimtest.WithoutSeed())
	resp, err := bare.Client.DescribeImages(t.Context(), &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion})
	ok(t, err)
	if resp.TotalCount != 0 {
		t.Fatalf("unseeded simulator has %d images", resp.TotalCount)
	}
}

func TestLedgerSurvivesCrashes(t *testing.T) {
	dir := t.TempDir()
	env := cloudsimtest.Start(t, cloudsimtest.WithDataDir(dir))
	for _, region := range []string{"eu-west-1", "eu-central-1", "us-east-1"} {
		copyWebapp(t, env.Client, region, "")
	}
	want := env.Server.Ledger()
	ok(t, env.Server.Close())
	path := filepath.Join(dir, "ledger.jsonl")
	data, err := os.ReadFile(path)
	ok(t, err)
	lines := bytes.SplitAfter(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(lines) != 3 {
		t.Fatalf("ledger file has %d lines", len(lines))
	}

	// A crash after state.json was saved but before the ledger append: the
	// last entry is missing and half of it was written.
	torn := append(bytes.Join(lines[:2], nil), lines[2][:len(lines[2])/2]...)
	ok(t, os.WriteFile(path, torn, 0o644))

	env.Restart()
	if got := env.Server.Ledger(); !reflect.DeepEqual(got, want) {
		t.Fatalf("recovered ledger\n%+v\nwant\n%+v", got, want)
	}
	copyWebapp(t, env.Client, "ap-southeast-1", "")
	ok(t, env.Server.Close())

	// Every line of the file parses and the sequence has no gaps.
	data, err = os.ReadFile(path)
	ok(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	for seq := int64(1); dec.More(); seq++ {
		var e cloud.LedgerEntry
		ok(t, dec.Decode(&e))
		if e.Seq != seq {
			t.Fatalf("entry %d has Seq %d", seq, e.Seq)
		}
	}
}
