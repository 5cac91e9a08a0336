package cloudsim

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/clock"
	"github.com/imagefleet/imagefleet/model"
)

// DefaultImageQuota is how many custom images an account may have per region.
const DefaultImageQuota = 100

// Config configures a Server. The zero value is usable: in-memory state,
// real durations, seeded demo data.
type Config struct {
	// DataDir holds state.json, journal.jsonl and ledger.jsonl; state is
	// loaded from it on start. Empty: state lives in memory only.
	DataDir string
	// TimeScale multiplies the duration of asynchronous operations: 1 (or 0,
	// the default) is real durations, 0.002 makes a 40-minute copy take about
	// 5 seconds. It applies when an operation starts.
	TimeScale float64
	// Faults are fault rules installed at start. Rules are not persisted:
	// a restarted server starts with these again.
	Faults []cloud.Fault
	// Now is the clock (default time.Now); tests pass a fake one.
	Now func() time.Time
	// NoSeed skips the demo data that is otherwise created on first start
	// (when DataDir has no state yet).
	NoSeed bool
	// Accounts are the accounts that exist (default Accounts). A call from
	// any other account is refused.
	Accounts []string
	// ImageQuota is the number of custom images an account may have per
	// region (default DefaultImageQuota).
	ImageQuota int
	// VerifyJournal makes every mutating call check, before it is
	// committed, that its journal line holds all it changed: the state a
	// restart would load must equal the state in memory. Tests turn it on
	// (cloudsimtest does) to find a handler's missing call.touch; it costs
	// two encodings of the whole state per call.
	VerifyJournal bool
	// OnRequest, if set, is called after every request, e.g. to log it.
	OnRequest func(RequestLog)
}

// RequestLog describes one answered request.
type RequestLog struct {
	RequestID string
	Method    string
	Path      string
	Action    string // empty for the admin API
	Account   string
	Status    int
	Code      string // the error code, empty on success
	Duration  time.Duration
	Replayed  bool     // answered from an idempotency record
	Faults    []string // fault rules that fired, as "ID:kind"
	TraceID   string   // from the request's W3C traceparent header; empty without one
}

// Server is the simulated cloud. It is an http.Handler; Close it to release
// the ledger file.
type Server struct {
	cfg      Config
	now      func() time.Time
	actions  map[string]*action
	accounts map[string]bool
	faults   faultSet
	mux      *http.ServeMux
	calls    callCounter

	mu     sync.RWMutex // guards everything below
	st     *state
	store  *store // st as last saved: the rollback point of a failed mutation
	shadow *state // with Config.VerifyJournal: the state a restart would load
	ledger *ledger
	closed bool
}

// New starts a simulated cloud on cfg.DataDir, loading its state if present.
func New(cfg Config) (*Server, error) {
	if cfg.TimeScale < 0 || math.IsNaN(cfg.TimeScale) || math.IsInf(cfg.TimeScale, 0) {
		return nil, fmt.Errorf("cloudsim: TimeScale %v must be a positive number", cfg.TimeScale)
	}
	if cfg.TimeScale == 0 {
		cfg.TimeScale = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	clock := cfg.Now
	if len(cfg.Accounts) == 0 {
		cfg.Accounts = Accounts
	}
	if cfg.ImageQuota <= 0 {
		cfg.ImageQuota = DefaultImageQuota
	}
	s := &Server{
		cfg: cfg,
		// In UTC, as the API answers, and without the monotonic reading, so
		// that times in memory equal those reloaded.
		now:      func() time.Time { return clock().UTC() },
		actions:  map[string]*action{},
		accounts: map[string]bool{},
	}
	for _, a := range cfg.Accounts {
		s.accounts[a] = true
	}
	// Every service registers its actions here.
	s.registerECSImages()
	s.registerComputeNest()
	s.registerOSS()
	s.registerACR()
	s.registerECSInstances()
	s.registerCloudAssistant()
	s.registerAutoScaling()
	s.registerOOS()
	s.registerContainers()
	s.registerELB()
	s.registerImageBuilder()

	for _, f := range cfg.Faults {
		if _, err := s.AddFault(f); err != nil {
			return nil, fmt.Errorf("cloudsim: %w", err)
		}
	}
	if err := s.open(); err != nil {
		return nil, fmt.Errorf("cloudsim: %w", err)
	}
	s.routes()
	return s, nil
}

// open loads or creates the state and the ledger.
func (s *Server) open() error {
	dir := s.cfg.DataDir
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	store, st, found, err := openStore(dir)
	if err != nil {
		return err
	}
	l, err := openLedger(dir)
	if err != nil {
		store.close()
		return err
	}
	if err := l.recover(st); err != nil {
		store.close()
		l.close()
		return err
	}
	s.st, s.store, s.ledger = st, store, l
	if !found && !s.cfg.NoSeed {
		seed(st, s.now())
	}
	giveGroupsASource(st) // a state saved before groups had one (ess_scaling.go)
	// Save at once: a new state exists on disk from the start, and a
	// recovered one becomes the snapshot, with an empty journal.
	if err := s.save(); err != nil {
		store.close()
		l.close()
		return err
	}
	return nil
}

// save writes the whole state as the snapshot (compaction); it becomes the
// rollback point. Mutating calls append to the journal instead (commit);
// save is for the rare changes made outside the pipeline. Called with mu
// held.
func (s *Server) save() error {
	s.shadow = nil
	return s.store.compact(s.st)
}

// commit persists a successful mutating call: one journal line with the
// records it touched. eventsBefore is len(s.st.Events) before it ran.
func (s *Server) commit(c *call, eventsBefore int) error {
	line, err := journalLineOf(s.st, c, eventsBefore)
	if err != nil {
		return err
	}
	s.st.JournalSeq = line.Seq // a failure below rolls it back with the rest
	if s.cfg.VerifyJournal {
		if s.shadow == nil {
			if s.shadow, err = s.store.load(); err != nil {
				return err
			}
		}
		if err := verify(s.shadow, s.st, line, c.action); err != nil {
			s.shadow = nil
			return err
		}
	}
	if err := s.store.append(line); err != nil {
		s.shadow = nil
		return err
	}
	if s.store.needsCompaction() {
		// The call is saved already; a failed compaction is retried after
		// the next one.
		_ = s.save()
	}
	return nil
}

// rollback restores the state last saved, undoing a failed mutation. It
// decodes the whole state, but only when a call fails.
func (s *Server) rollback() {
	st, err := s.store.load()
	if err != nil {
		panic("cloudsim: cannot decode the state it saved: " + err.Error())
	}
	s.st = st
}

// Close stops serving (later calls answer 503) and closes the ledger file.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return errors.Join(s.store.close(), s.ledger.close())
}

// Ledger returns every side effect recorded since the state began.
func (s *Server) Ledger() []cloud.LedgerEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ledger.snapshot()
}

// Calls returns how many requests each action has received since the
// server started, answered or refused (throttled, failed) alike: the cloud's
// call rate, as a provider's API metering would count it. Not persisted: a
// restarted server counts from zero.
func (s *Server) Calls() map[string]int64 { return s.calls.snapshot() }

// AddFault installs a fault rule and returns it with its ID.
func (s *Server) AddFault(f cloud.Fault) (cloud.Fault, error) {
	if err := validateFault(f, s.actions); err != nil {
		return cloud.Fault{}, err
	}
	return s.faults.add(f), nil
}

// Faults returns the active fault rules.
func (s *Server) Faults() []cloud.Fault { return s.faults.list() }

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() { s.faults.clear() }

// Actions returns the names of all registered actions, sorted.
func (s *Server) Actions() []string {
	names := make([]string, 0, len(s.actions))
	for n := range s.actions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// CopyDuration is how long copying an image of sizeGiB from one region to
// another takes at this server's TimeScale: (30s + 30s per GiB), times 0.3
// inside a region, 1 between regions of one zone, 2.5 across zones.
func (s *Server) CopyDuration(fromRegion, toRegion string, sizeGiB int) time.Duration {
	base := 30*time.Second + time.Duration(sizeGiB)*30*time.Second
	factor := 2.5
	from, _ := model.LookupRegion(fromRegion)
	to, _ := model.LookupRegion(toRegion)
	switch {
	case fromRegion == toRegion:
		factor = 0.3
	case from.Zone != "" && from.Zone == to.Zone:
		factor = 1
	}
	return time.Duration(float64(base) * factor * s.cfg.TimeScale)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/api/{action}", s.serveAPI)
	s.mux.HandleFunc("GET /admin/health", s.admin(s.adminHealth))
	s.mux.HandleFunc("GET /admin/faults", s.admin(s.adminListFaults))
	s.mux.HandleFunc("POST /admin/faults", s.admin(s.adminAddFault))
	s.mux.HandleFunc("DELETE /admin/faults", s.admin(s.adminClearFaults))
	s.mux.HandleFunc("DELETE /admin/faults/{id}", s.admin(s.adminRemoveFault))
	s.mux.HandleFunc("GET /admin/ledger", s.admin(s.adminLedger))
	s.mux.HandleFunc("GET /admin/calls", s.admin(s.adminCalls))
	s.mux.HandleFunc("GET /admin/events", s.admin(s.adminEvents))
	s.mux.HandleFunc("POST /admin/scaling-groups", s.admin(s.adminAddScalingGroup))
	s.mux.HandleFunc("POST /admin/stock", s.admin(s.adminSetStock))
	s.mux.HandleFunc("POST /admin/guestos-problems", s.admin(s.adminSetGuestOSProblems))
	s.mux.HandleFunc("/", s.admin(func(r *http.Request) (any, error) {
		return nil, newError(http.StatusNotFound, cloud.CodeUnknownAction, "no such endpoint: %s %s (actions are POST /api/{Action})", r.Method, r.URL.Path)
	}))
}

// serveAPI is the pipeline every action goes through.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{
		srv:       s,
		requestID: newRequestID(),
		action:    r.PathValue("action"),
		account:   r.Header.Get(cloud.AccountHeader),
	}
	if s.actions[c.action] != nil {
		s.calls.add(c.action)
	}
	body, err := s.runAPI(w, r, c)
	status, code := http.StatusOK, ""
	if err != nil {
		status, code = writeError(w, c.requestID, err)
	} else {
		writeJSON(w, http.StatusOK, body)
	}
	if s.cfg.OnRequest != nil {
		s.cfg.OnRequest(RequestLog{
			RequestID: c.requestID, Method: r.Method, Path: r.URL.Path, Action: c.action, Account: c.account,
			Status: status, Code: code, Duration: time.Since(start), Replayed: c.replayed, Faults: c.faults,
			TraceID: traceID(r),
		})
	}
}

func (s *Server) runAPI(w http.ResponseWriter, r *http.Request, c *call) ([]byte, error) {
	act := s.actions[c.action]
	switch {
	case act == nil:
		return nil, newError(http.StatusNotFound, cloud.CodeUnknownAction, "action %q does not exist; the simulator serves %s", c.action, strings.Join(s.Actions(), ", "))
	case r.Method != http.MethodPost:
		return nil, newError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "actions are called with POST, not %s", r.Method)
	case c.account == "":
		return nil, newError(http.StatusBadRequest, cloud.CodeMissingAccountID, "the %s header naming the calling account is required", cloud.AccountHeader)
	case !s.accounts[c.account]:
		return nil, newError(http.StatusForbidden, cloud.CodeForbidden, "account %s does not exist", c.account)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return nil, invalidParam("reading the request body: %v", err)
	}
	req, err := act.decode(body)
	if err != nil {
		return nil, err
	}
	fields := peekFields(body)
	c.clientToken = fields.ClientToken

	// Faults come before idempotency: a throttled retry is throttled again,
	// as with a real service's front end.
	for _, f := range s.faults.fire(faultTarget{action: c.action, mutating: act.mutating, regions: []string{fields.RegionId, fields.DestinationRegionId}}) {
		c.faults = append(c.faults, f.ID+":"+f.Kind)
		switch f.Kind {
		case cloud.FaultSlow:
			delay := f.Delay
			if delay <= 0 {
				delay = DefaultSlowDelay
			}
			if err := clock.Sleep(r.Context(), delay); err != nil {
				return nil, unavailable("request abandoned: %v", err)
			}
		case cloud.FaultCopyFail:
			c.copyFail = true
		default:
			if e := faultError(f); e != nil {
				return nil, e
			}
		}
	}
	if act.mutating {
		return s.mutate(c, req)
	}
	return s.query(c, req)
}

func (s *Server) query(c *call, req *decodedRequest) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.bind(c); err != nil {
		return nil, err
	}
	resp, err := req.run(c)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

func (s *Server) mutate(c *call, req *decodedRequest) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.bind(c); err != nil {
		return nil, err
	}
	eventsBefore := len(s.st.Events)

	key := ""
	if c.clientToken != "" {
		key = idempotencyKey(c.account, c.action, c.clientToken)
		if rec := s.st.Idempotency[key]; rec != nil {
			if rec.RequestHash != req.hash {
				return nil, newError(http.StatusBadRequest, cloud.CodeIdempotentMismatch,
					"client token %q was already used for a %s call with different parameters", c.clientToken, c.action)
			}
			c.replayed = true
			return rec.Response, nil
		}
	}

	resp, err := req.run(c)
	if err != nil {
		s.rollback()
		return nil, err
	}
	out, err := json.Marshal(resp)
	if err != nil {
		s.rollback()
		return nil, internalError("encode response: %v", err)
	}
	if key != "" {
		s.st.Idempotency[key] = &idempotencyRecord{RequestHash: req.hash, Response: out, Time: c.now}
		c.touch(s.st.Idempotency, key)
	}
	entries := make([]cloud.LedgerEntry, len(c.effects))
	for i, e := range c.effects {
		s.st.LedgerSeq++
		e.Seq, e.Time, e.Account, e.ClientToken = s.st.LedgerSeq, c.now, c.account, c.clientToken
		entries[i] = e
	}
	s.st.LastLedger = entries
	if err := s.commit(c, eventsBefore); err != nil {
		s.rollback()
		return nil, internalError("saving state: %v", err)
	}
	if err := s.ledger.append(entries); err != nil {
		// The change is saved; a retry with the same token gets its answer.
		return nil, internalError("the change was made but recording it in the ledger failed: %v", err)
	}
	return out, nil
}

// bind gives c the state and the time of its call; with mu held.
func (s *Server) bind(c *call) error {
	if s.closed {
		return unavailable("the simulator is shut down")
	}
	c.now, c.st = s.now(), s.st
	return nil
}

// admin adapts an admin endpoint: JSON answer or error body.
func (s *Server) admin(h func(r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		status, code := http.StatusOK, ""
		resp, err := h(r)
		if err == nil {
			var body []byte
			if body, err = json.Marshal(resp); err == nil {
				writeJSON(w, http.StatusOK, body)
			}
		}
		if err != nil {
			status, code = writeError(w, id, err)
		}
		if s.cfg.OnRequest != nil {
			s.cfg.OnRequest(RequestLog{RequestID: id, Method: r.Method, Path: r.URL.Path, Status: status, Code: code, Duration: time.Since(start), TraceID: traceID(r)})
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, requestID string, err error) (status int, code string) {
	e := asAPIError(err)
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatFloat(e.retryAfter.Seconds(), 'f', -1, 64))
	}
	body, _ := json.Marshal(cloud.ErrorBody{RequestId: requestID, Code: e.code, Message: e.msg})
	writeJSON(w, e.status, body)
	return e.status, e.code
}

// newRequestID returns an uppercase UUID, as Alibaba Cloud's request IDs are.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
}

// randomID returns prefix followed by n characters of alphabet.
func randomID(prefix string, n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	lowerHex   = "0123456789abcdef"
)
