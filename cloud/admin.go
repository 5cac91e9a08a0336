package cloud

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// The admin API is the simulator's own: fault injection and the side-effect
// ledger. A real provider has no such API; tests and the starter's `cloud`
// commands use it.

// Fault kinds.
const (
	FaultThrottle  = "throttle"  // 429 Throttling.User with Retry-After
	FaultTransient = "transient" // 500/503 InternalError / ServiceUnavailable
	FaultSlow      = "slow"      // the call succeeds after Delay
	FaultOutage    = "outage"    // every call touching Region answers 503
	FaultQuota     = "quota"     // permanent QuotaExceed.Image (400)
	FaultCopyFail  = "copy-fail" // a started copy ends in CreateFailed
	// FaultInstanceFail makes the next Count operations that change instance
	// InstanceId fail (optionally only those of Action): ReplaceSystemDisk,
	// RunCommand, StartExecution (OOS), DeleteInstances. A command or package
	// execution ends Failed there (exit code 1), any other operation answers
	// OperationFailed.InstanceFault (400) and changes nothing. Scaling-group
	// membership (EnterStandby, ExitStandby) is not affected.
	FaultInstanceFail = "instance-fail"
	// FaultUnhealthyTasks makes tasks fail their load balancer health
	// checks: a task set created by AmazonECS.CreateTaskSet while the rule
	// fires has unhealthy tasks for good; an AmazonELB.DescribeTargetHealth
	// call it fires on answers every running target unhealthy.
	FaultUnhealthyTasks = "unhealthy-tasks"
)

// Fault is one fault-injection rule. A call matches a rule when Action (empty:
// any) and Region (empty: any; matched against the call's RegionId or
// DestinationRegionId) match. A rule with Count > 0 fires on the next Count
// matching calls and is then spent; with Probability in (0,1] it fires at
// random; with neither it fires on every matching call.
type Fault struct {
	ID          string `json:",omitempty"` // assigned by the simulator
	Kind        string
	Action      string        `json:",omitempty"`
	Region      string        `json:",omitempty"`
	InstanceId  string        `json:",omitempty"` // instance-fail: the instance
	Count       int           `json:",omitempty"`
	Probability float64       `json:",omitempty"`
	Delay       time.Duration `json:",omitempty"` // slow: added latency
	RetryAfter  time.Duration `json:",omitempty"` // throttle: the Retry-After hint
	Fired       int           // how often the rule fired so far
}

// LedgerEntry is one side effect, appended when a mutating call changes state.
// A call replayed through its client token appends nothing.
type LedgerEntry struct {
	Seq          int64
	Time         time.Time
	Action       string
	Account      string
	Region       string `json:",omitempty"`
	ResourceType string // Image, Artifact, Service, ...
	ResourceId   string
	ClientToken  string `json:",omitempty"`
	Detail       string `json:",omitempty"`
}

// Admin is the simulator's admin API.
type Admin struct{ c *Client }

// Admin returns the admin API on the same endpoint.
func (c *Client) Admin() *Admin { return &Admin{c: c} }

// Faults lists the active fault rules.
func (a *Admin) Faults(ctx context.Context) ([]Fault, error) {
	var out []Fault
	err := a.c.do(ctx, http.MethodGet, "/admin/faults", nil, &out)
	return out, err
}

// AddFault installs a rule and returns it with its ID.
func (a *Admin) AddFault(ctx context.Context, f Fault) (Fault, error) {
	var out Fault
	err := a.c.do(ctx, http.MethodPost, "/admin/faults", f, &out)
	return out, err
}

// ClearFaults removes every rule.
func (a *Admin) ClearFaults(ctx context.Context) error {
	return a.c.do(ctx, http.MethodDelete, "/admin/faults", nil, nil)
}

// Ledger returns every side effect recorded since the simulator's state began.
func (a *Admin) Ledger(ctx context.Context) ([]LedgerEntry, error) {
	var out []LedgerEntry
	err := a.c.do(ctx, http.MethodGet, "/admin/ledger", nil, &out)
	return out, err
}

// Calls returns how many requests each action has received since the
// simulator started (answered or refused alike).
func (a *Admin) Calls(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := a.c.do(ctx, http.MethodGet, "/admin/calls", nil, &out)
	return out, err
}

// Health answers nil once the simulator serves requests.
func (a *Admin) Health(ctx context.Context) error {
	return a.c.do(ctx, http.MethodGet, "/admin/health", nil, nil)
}

// RemoveFault removes the rule with the given ID (lifting an outage, say).
func (a *Admin) RemoveFault(ctx context.Context, id string) error {
	return a.c.do(ctx, http.MethodDelete, "/admin/faults/"+url.PathEscape(id), nil, nil)
}
