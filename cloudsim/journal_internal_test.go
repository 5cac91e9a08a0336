package cloudsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
)

func openServer(t *testing.T, dir string) *Server {
	t.Helper()
	s, err := New(Config{DataDir: dir, ImageQuota: 1000, VerifyJournal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// do calls action with req as the default account; it answers the status
// and body.
func do(s *Server, action string, req any) (int, string) {
	body, _ := json.Marshal(req)
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/api/"+action, bytes.NewReader(body))
	r.Header.Set(cloud.AccountHeader, DefaultAccount)
	s.ServeHTTP(rec, r)
	return rec.Code, rec.Body.String()
}

func mustDo(t *testing.T, s *Server, action string, req any) string {
	t.Helper()
	code, body := do(s, action, req)
	if code != http.StatusOK {
		t.Fatalf("%s: %d %s", action, code, body)
	}
	return body
}

// stateOf is s's state as it would be saved.
func stateOf(t *testing.T, s *Server) string {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	data, err := json.Marshal(s.st)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// mutateAll makes calls that add, change and delete records of several
// tables, with and without client tokens, and events.
func mutateAll(t *testing.T, s *Server) {
	t.Helper()
	for i, region := range []string{"eu-west-1", "eu-central-1", "us-east-1"} {
		mustDo(t, s, "CopyImage", &cloud.CopyImageRequest{RegionId: SeedRegion, ImageId: ImageWebappV1, DestinationRegionId: region, ClientToken: "copy-" + region})
		if i == 0 {
			mustDo(t, s, "CopyImage", &cloud.CopyImageRequest{RegionId: SeedRegion, ImageId: ImageWebappV1, DestinationRegionId: region, ClientToken: "copy-" + region}) // replay
		}
	}
	mustDo(t, s, "ModifyImageSharePermission", &cloud.ModifyImageSharePermissionRequest{RegionId: SeedRegion, ImageId: ImageWebappV2, AddAccount: []string{SecondAccount}})
	mustDo(t, s, "DeleteImage", &cloud.DeleteImageRequest{RegionId: SeedRegion, ImageId: ImageWebappV2, Force: true})
	var run cloud.RunInstancesResponse
	if err := json.Unmarshal([]byte(mustDo(t, s, "RunInstances", &cloud.RunInstancesRequest{RegionId: SeedRegion, ImageId: ImageWebappV1, InstanceType: "ecs.g7.large", Amount: 3})), &run); err != nil {
		t.Fatal(err)
	}
	mustDo(t, s, "DeleteInstances", &cloud.DeleteInstancesRequest{RegionId: SeedRegion, InstanceIds: run.InstanceIdSets[:1], Force: true})
	mustDo(t, s, "PutCustomEvent", &cloud.PutCustomEventRequest{EventInfo: []cloud.Event{{EventName: "e1", Level: "INFO", Content: "one"}, {EventName: "e2", Level: "WARN", Content: "two"}}})
	// Entries of maps inside records (touchEntry).
	s.mu.RLock()
	members := slices.Sorted(maps.Keys(s.st.ScalingGroups[GroupWeb].Members))
	s.mu.RUnlock()
	mustDo(t, s, "EnterStandby", &cloud.EnterStandbyRequest{RegionId: SeedRegion, ScalingGroupId: GroupWeb, InstanceIds: members[:2]})
	mustDo(t, s, "SetBackendServers", &cloud.SetBackendServersRequest{RegionId: SeedRegion, LoadBalancerId: LBWeb, BackendServers: []cloud.SLBBackendServer{{ServerId: members[2], Weight: 30}}})
}

// A restart after a kill (no Close) replays the journal onto the snapshot
// and restores the state exactly, ledger included.
func TestJournalReplayRestoresState(t *testing.T) {
	dir := t.TempDir()
	s1 := openServer(t, dir)
	mutateAll(t, s1)
	want, wantLedger := stateOf(t, s1), s1.Ledger()
	journal, err := os.ReadFile(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(journal, []byte("\n")); n != 10 { // the replayed copy adds no line
		t.Fatalf("journal has %d lines, want 10:\n%s", n, journal)
	}
	if !bytes.Contains(journal, []byte(`"Field":"Members"`)) || !bytes.Contains(journal, []byte(`"Field":"Weights"`)) {
		t.Fatalf("standby and weights saved whole records:\n%s", journal)
	}

	s2 := openServer(t, dir) // s1 is not closed: as after kill -9
	if got := stateOf(t, s2); got != want {
		t.Fatalf("state after replay:\n%s\nwant\n%s", got, want)
	}
	if got := s2.Ledger(); len(got) != len(wantLedger) || got[len(got)-1] != wantLedger[len(wantLedger)-1] {
		t.Fatalf("ledger after replay: %d entries, want %d", len(got), len(wantLedger))
	}
	// The token survived: the same copy is answered again, no new entry.
	mustDo(t, s2, "CopyImage", &cloud.CopyImageRequest{RegionId: SeedRegion, ImageId: ImageWebappV1, DestinationRegionId: "eu-west-1", ClientToken: "copy-eu-west-1"})
	if len(s2.Ledger()) != len(wantLedger) {
		t.Fatal("a replayed call after the restart added ledger entries")
	}
}

// A state.json written before the journal existed (no JournalSeq, no
// journal file) loads as it is.
func TestStateWithoutJournalLoads(t *testing.T) {
	dir := t.TempDir()
	s1 := openServer(t, dir)
	mutateAll(t, s1)
	want := stateOf(t, s1)
	old := strings.Replace(want, `,"JournalSeq":10`, "", 1)
	if old == want {
		t.Fatal("no JournalSeq in the state")
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, journalFile)); err != nil {
		t.Fatal(err)
	}
	loadsAndGoesOn(t, dir, old, "the old state")
}

// loadsAndGoesOn checks that the state in dir loads as want, and that a
// call made on it survives a restart.
func loadsAndGoesOn(t *testing.T, dir, want, what string) {
	t.Helper()
	s := openServer(t, dir)
	if got := stateOf(t, s); got != want {
		t.Fatalf("%s loaded as\n%s\nwant\n%s", what, got, want)
	}
	mustDo(t, s, "PutCustomEvent", &cloud.PutCustomEventRequest{EventInfo: []cloud.Event{{EventName: "e3", Level: "INFO", Content: "after the restart"}}})
	want = stateOf(t, s)
	if got := stateOf(t, openServer(t, dir)); got != want {
		t.Fatalf("state after a call on %s and a restart:\n%s\nwant\n%s", what, got, want)
	}
}

// The journal is folded into the snapshot once it outgrows it; lines the
// snapshot already holds (a crash before the journal was emptied) are
// skipped on load.
func TestJournalCompaction(t *testing.T) {
	dir := t.TempDir()
	s1 := openServer(t, dir)
	s1.store.minCompact = 0
	snapshot0, _ := os.ReadFile(filepath.Join(dir, stateFile))
	compacted := false
	for i := range 120 {
		region := []string{"eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-1"}[i%4]
		mustDo(t, s1, "CopyImage", &cloud.CopyImageRequest{RegionId: SeedRegion, ImageId: ImageWebappV1, DestinationRegionId: region})
		snapshot, _ := os.ReadFile(filepath.Join(dir, stateFile))
		journal, _ := os.ReadFile(filepath.Join(dir, journalFile))
		if len(journal) > len(snapshot) {
			t.Fatalf("after call %d the journal (%d bytes) is larger than the snapshot (%d)", i, len(journal), len(snapshot))
		}
		compacted = compacted || len(snapshot) > len(snapshot0)
	}
	if !compacted {
		j, _ := os.ReadFile(filepath.Join(dir, journalFile))
		t.Fatalf("the snapshot (%d bytes) was never rewritten; journal %d bytes", len(snapshot0), len(j))
	}
	want := stateOf(t, s1)
	if got := stateOf(t, openServer(t, dir)); got != want {
		t.Fatalf("state after compactions and a restart:\n%s\nwant\n%s", got, want)
	}

	// A crash between writing the snapshot and emptying the journal: the
	// journal still holds a line that set an image to an older value.
	s2 := openServer(t, dir)
	share := &cloud.ModifyImageSharePermissionRequest{RegionId: SeedRegion, ImageId: ImageWebappV1, AddAccount: []string{SecondAccount}}
	mustDo(t, s2, "ModifyImageSharePermission", share)
	stale, _ := os.ReadFile(filepath.Join(dir, journalFile))
	share.AddAccount, share.RemoveAccount = nil, share.AddAccount
	mustDo(t, s2, "ModifyImageSharePermission", share)
	s2.mu.Lock()
	err := s2.save()
	s2.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, journalFile), stale, 0o644); err != nil {
		t.Fatal(err)
	}
	mustDo(t, s2, "DeleteImage", &cloud.DeleteImageRequest{RegionId: SeedRegion, ImageId: ImageWebappV2, Force: true})
	want = stateOf(t, s2)
	s3 := openServer(t, dir)
	if got := stateOf(t, s3); got != want {
		t.Fatalf("state after a stale journal:\n%s\nwant\n%s", got, want)
	}
	if img := s3.st.Images[imageKey(SeedRegion, ImageWebappV1)]; len(img.SharedWith) != 0 {
		t.Fatalf("a stale journal line was replayed: shared with %v", img.SharedWith)
	}
}

// A torn last line (a kill mid-append) belongs to a call that was not
// answered: it is ignored, and later calls start on a line of their own.
// A corrupt line before the last is an error.
func TestJournalTornLastLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, journalFile)
	s1 := openServer(t, dir)
	mutateAll(t, s1)
	want := stateOf(t, s1)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"Seq":9,"Set":{"Images":{"cn-hangzhou/m-x":{"Ima`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	loadsAndGoesOn(t, dir, want, "the state with a torn line")

	if err := os.WriteFile(path, []byte("{\"Seq\":\n{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{DataDir: dir, VerifyJournal: true}); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("a corrupt journal line loaded: %v", err)
	}
}

// With Config.VerifyJournal (on in tests), a handler that changes a record without
// touching it fails, and its change is rolled back: a restart would lose it.
func TestUntouchedChangeIsCaught(t *testing.T) {
	s := openServer(t, t.TempDir())
	want := stateOf(t, s)
	registerMutation(s, "ForgetTouch", func(c *call, _ *struct{}) (*struct{ RequestId string }, error) {
		c.st.Images[imageKey(SeedRegion, ImageWebappV1)].Deleted = true
		return &struct{ RequestId string }{}, nil
	})
	code, body := do(s, "ForgetTouch", struct{}{})
	if code != http.StatusInternalServerError || !strings.Contains(body, "without call.touch") || !strings.Contains(body, imageKey(SeedRegion, ImageWebappV1)) {
		t.Fatalf("untouched change: %d %s", code, body)
	}
	if got := stateOf(t, s); got != want {
		t.Fatal("the untouched change was not rolled back")
	}
}

// Without a data directory the snapshot and journal live in memory: a
// failed call is rolled back all the same.
func TestInMemoryRollback(t *testing.T) {
	s, err := New(Config{VerifyJournal: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mutateAll(t, s)
	want := stateOf(t, s)
	registerMutation(s, "Fail", func(c *call, _ *struct{}) (*struct{ RequestId string }, error) {
		delete(c.st.Images, imageKey(SeedRegion, ImageWebappV1))
		c.touch(c.st.Images, imageKey(SeedRegion, ImageWebappV1))
		return nil, errors.New("no")
	})
	if code, body := do(s, "Fail", struct{}{}); code != http.StatusInternalServerError {
		t.Fatalf("failing call: %d %s", code, body)
	}
	if got := stateOf(t, s); got != want {
		t.Fatalf("state after rollback:\n%s\nwant\n%s", got, want)
	}
}
