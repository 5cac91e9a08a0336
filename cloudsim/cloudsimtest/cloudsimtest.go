// Package cloudsimtest starts a simulated cloud for tests: a cloudsim.Server
// on a temporary directory behind an httptest server, with clients for it.
//
//	env := cloudsimtest.Start(t)
//	resp, err := env.Client.CopyImage(ctx, &cloud.CopyImageRequest{...})
package cloudsimtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
)

// DefaultTimeScale makes a 40 GiB cross-zone copy take about 3 seconds.
const DefaultTimeScale = 0.001

// Env is a running simulated cloud.
type Env struct {
	// Server is the current server; Restart replaces it.
	Server *cloudsim.Server
	// URL is the endpoint; it stays the same across Restart.
	URL string
	// Client acts as cloudsim.DefaultAccount.
	Client *cloud.Client
	// Config is what Server was started with (DataDir filled in).
	Config cloudsim.Config

	t       testing.TB
	handler atomic.Pointer[cloudsim.Server]
}

// Option changes the configuration of Start.
type Option func(*cloudsim.Config)

// WithTimeScale sets Config.TimeScale (default DefaultTimeScale).
func WithTimeScale(scale float64) Option { return func(c *cloudsim.Config) { c.TimeScale = scale } }

// WithFaults installs fault rules at start.
func WithFaults(faults ...cloud.Fault) Option {
	return func(c *cloudsim.Config) { c.Faults = append(c.Faults, faults...) }
}

// WithDataDir uses dir instead of a fresh t.TempDir(), e.g. to start a second
// server on the state of a first one.
func WithDataDir(dir string) Option { return func(c *cloudsim.Config) { c.DataDir = dir } }

// WithNow sets the server's clock, e.g. a Clock's Now.
func WithNow(now func() time.Time) Option { return func(c *cloudsim.Config) { c.Now = now } }

// WithoutJournalCheck turns off Config.VerifyJournal, e.g. for benchmarks.
func WithoutJournalCheck() Option { return func(c *cloudsim.Config) { c.VerifyJournal = false } }

// WithoutSeed starts without demo data.
func WithoutSeed() Option { return func(c *cloudsim.Config) { c.NoSeed = true } }

// WithConfig changes any other setting.
func WithConfig(f func(*cloudsim.Config)) Option { return Option(f) }

// Start runs a simulated cloud until the test ends.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := cloudsim.Config{TimeScale: DefaultTimeScale, VerifyJournal: true}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	srv, err := cloudsim.New(cfg)
	if err != nil {
		t.Fatalf("cloudsimtest: start: %v", err)
	}
	env := &Env{Server: srv, Config: cfg, t: t}
	env.handler.Store(srv)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.handler.Load().ServeHTTP(w, r)
	}))
	env.URL = hs.URL
	env.Client = env.ClientAs(cloudsim.DefaultAccount)
	t.Cleanup(func() {
		hs.Close()
		_ = env.handler.Load().Close()
	})
	return env
}

// ClientAs returns a client acting as account: the services on the RPC
// front are signed with the account's seeded access key.
func (e *Env) ClientAs(account string) *cloud.Client {
	return cloud.NewClient(e.URL, account).WithAccessKey(cloudsim.AccessKey(account))
}

// Admin returns the admin API client.
func (e *Env) Admin() *cloud.Admin { return e.Client.Admin() }

// Restart closes the server and starts a new one on the same data directory
// and URL, as a process restart would. Fault rules start again from
// Config.Faults. Calls in flight during the switch may answer 503.
func (e *Env) Restart() {
	e.t.Helper()
	old := e.handler.Load()
	if err := old.Close(); err != nil {
		e.t.Fatalf("cloudsimtest: close: %v", err)
	}
	srv, err := cloudsim.New(e.Config)
	if err != nil {
		e.t.Fatalf("cloudsimtest: restart: %v", err)
	}
	e.handler.Store(srv)
	e.Server = srv
}

// Clock is a fake clock for Config.Now: time moves only when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// WithOnRequest calls f after every request the server answers (Config.OnRequest).
func WithOnRequest(f func(cloudsim.RequestLog)) Option {
	return func(c *cloudsim.Config) { c.OnRequest = f }
}
