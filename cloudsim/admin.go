package cloudsim

import (
	"io"
	"maps"
	"net/http"
	"sync"

	"github.com/imagefleet/imagefleet/cloud"
)

// The admin API: fault rules and the ledger (see cloud/admin.go). It needs no
// account: it belongs to whoever runs the simulator.

func (s *Server) adminHealth(*http.Request) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, unavailable("the simulator is shut down")
	}
	return struct{}{}, nil
}

func (s *Server) adminListFaults(*http.Request) (any, error) {
	return s.Faults(), nil
}

// adminAddFault takes one cloud.Fault; Delay and RetryAfter may also be
// written as duration strings ("2s"), see ParseFaults.
func (s *Server) adminAddFault(r *http.Request) (any, error) {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return nil, invalidParam("reading the request body: %v", err)
	}
	faults, err := ParseFaults(data)
	if err != nil {
		return nil, invalidParam("malformed fault rule: %v", err)
	}
	if len(faults) != 1 {
		return nil, invalidParam("post one fault rule at a time, got %d", len(faults))
	}
	f, err := s.AddFault(faults[0])
	if err != nil {
		return nil, invalidParam("%v", err)
	}
	return f, nil
}

func (s *Server) adminClearFaults(*http.Request) (any, error) {
	s.ClearFaults()
	return struct{}{}, nil
}

func (s *Server) adminRemoveFault(r *http.Request) (any, error) {
	id := r.PathValue("id")
	if !s.faults.remove(id) {
		return nil, newError(http.StatusNotFound, cloud.CodeResourceNotFound, "no active fault rule %q", id)
	}
	return struct{}{}, nil
}

func (s *Server) adminLedger(*http.Request) (any, error) {
	entries := s.Ledger()
	if entries == nil {
		entries = []cloud.LedgerEntry{}
	}
	return entries, nil
}

func (s *Server) adminCalls(*http.Request) (any, error) {
	return s.Calls(), nil
}

// callCounter counts requests per action.
type callCounter struct {
	mu sync.Mutex
	n  map[string]int64
}

func (cc *callCounter) add(action string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.n == nil {
		cc.n = map[string]int64{}
	}
	cc.n[action]++
}

func (cc *callCounter) snapshot() map[string]int64 {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	out := make(map[string]int64, len(cc.n))
	maps.Copy(out, cc.n)
	return out
}
