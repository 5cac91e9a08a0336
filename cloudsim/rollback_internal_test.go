package cloudsim

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
)

// A mutating handler that fails after changing state leaves no trace: the
// pipeline restores the state last saved, in memory and on disk.
func TestFailedMutationIsRolledBack(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{DataDir: dir, VerifyJournal: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustDo(t, s, "DeleteImage", &cloud.DeleteImageRequest{RegionId: SeedRegion, ImageId: ImageWebappV2, Force: true})
	before := stateOf(t, s)
	registerMutation(s, "BreakHalfway", func(c *call, _ *struct{ ClientToken string }) (*struct{ RequestId string }, error) {
		c.st.Images[imageKey(SeedRegion, ImageWebappV1)].Deleted = true
		delete(c.st.Images, imageKey(SeedRegion, ImageWebappV2))
		c.touch(c.st.Images, imageKey(SeedRegion, ImageWebappV1), imageKey(SeedRegion, ImageWebappV2))
		c.record(SeedRegion, "Image", ImageWebappV1, "half done")
		return nil, errors.New("disk on fire")
	})

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/BreakHalfway", bytes.NewBufferString(`{"ClientToken":"t"}`))
	req.Header.Set(cloud.AccountHeader, DefaultAccount)
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}

	if got := stateOf(t, s); got != before {
		t.Fatalf("state after the failed call:\n%s\nwant\n%s", got, before)
	}
	if got := stateOf(t, openServer(t, dir)); got != before {
		t.Fatalf("state after the failed call and a restart:\n%s\nwant\n%s", got, before)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v1, v2 := s.st.Images[imageKey(SeedRegion, ImageWebappV1)], s.st.Images[imageKey(SeedRegion, ImageWebappV2)]
	if v1 == nil || v1.Deleted || v2 == nil {
		t.Fatalf("state not rolled back: v1 %+v, v2 %+v", v1, v2)
	}
	if len(s.st.Idempotency) != 0 || len(s.ledger.entries) != 1 || s.st.LedgerSeq != 1 {
		t.Fatalf("failed call left idempotency %v, ledger %v", s.st.Idempotency, s.ledger.entries)
	}
}
