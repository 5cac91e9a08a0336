package cloudsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// Defaults of fault rules that leave them zero.
const (
	DefaultThrottleRetryAfter = time.Second
	DefaultSlowDelay          = time.Second
)

var faultKinds = []string{cloud.FaultThrottle, cloud.FaultTransient, cloud.FaultSlow, cloud.FaultOutage, cloud.FaultQuota, cloud.FaultCopyFail, cloud.FaultInstanceFail, cloud.FaultUnhealthyTasks}

// faultSet holds the active fault rules, in the order they were added.
type faultSet struct {
	mu     sync.Mutex
	rules  []*cloud.Fault
	nextID int
}

// faultTarget is what a rule is matched against.
type faultTarget struct {
	action   string
	mutating bool
	regions  []string // the call's RegionId and DestinationRegionId
	// instance is set when a handler asks about one instance it operates on
	// (see call.instanceFault); only instance-fail rules match then, and
	// only then.
	instance string
}

func (fs *faultSet) add(f cloud.Fault) cloud.Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	f.ID = "fault-" + strconv.Itoa(fs.nextID)
	f.Fired = 0
	fs.rules = append(fs.rules, &f)
	return f
}

func (fs *faultSet) list() []cloud.Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]cloud.Fault, len(fs.rules))
	for i, r := range fs.rules {
		out[i] = *r
	}
	return out
}

func (fs *faultSet) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
}

func (fs *faultSet) remove(id string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := len(fs.rules)
	fs.rules = slices.DeleteFunc(fs.rules, func(r *cloud.Fault) bool { return r.ID == id })
	return len(fs.rules) < n
}

// fire returns the rules that fire for one call, counting them and dropping
// spent ones. Rules are tried in order; the first that answers an error ends
// the evaluation, so a later counted rule is not used up by a call it could
// not affect.
func (fs *faultSet) fire(t faultTarget) []cloud.Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var fired []cloud.Fault
	stopped := false
	kept := fs.rules[:0]
	for _, r := range fs.rules {
		if !stopped && ruleApplies(r, t) && roll(r.Probability) {
			r.Fired++
			fired = append(fired, *r)
			stopped = answersError(r.Kind)
		}
		if r.Count > 0 && r.Fired >= r.Count {
			continue // spent
		}
		kept = append(kept, r)
	}
	clear(fs.rules[len(kept):])
	fs.rules = kept
	return fired
}

func roll(p float64) bool { return p <= 0 || p >= 1 || rand.Float64() < p }

func answersError(kind string) bool {
	return kind != cloud.FaultSlow && kind != cloud.FaultCopyFail && kind != cloud.FaultUnhealthyTasks
}

// ruleApplies reports whether rule r concerns the call t.
func ruleApplies(r *cloud.Fault, t faultTarget) bool {
	if r.Action != "" && r.Action != t.action {
		return false
	}
	if r.Region != "" && !slices.Contains(t.regions, r.Region) {
		return false
	}
	if (r.Kind == cloud.FaultInstanceFail) != (t.instance != "") {
		return false
	}
	switch r.Kind {
	case cloud.FaultInstanceFail:
		return t.mutating && r.InstanceId == t.instance
	case cloud.FaultCopyFail:
		return t.action == "CopyImage" // only a copy can fail later
	case cloud.FaultUnhealthyTasks:
		// Handlers read it from call.faults (containers.go, elb.go).
		return t.action == cloud.ActionCreateTaskSet || t.action == cloud.ActionDescribeTargetHealth
	case cloud.FaultQuota:
		return t.mutating // quotas limit creation, not reads
	}
	return true
}

// faultError is the answer of a fired rule that answers an error, nil for
// slow and copy-fail rules.
func faultError(f cloud.Fault) *apiError {
	switch f.Kind {
	case cloud.FaultThrottle:
		retry := f.RetryAfter
		if retry <= 0 {
			retry = DefaultThrottleRetryAfter
		}
		e := newError(http.StatusTooManyRequests, cloud.CodeThrottling, "request was denied due to request throttling, retry after %s (fault %s)", retry, f.ID)
		e.retryAfter = retry
		return e
	case cloud.FaultTransient:
		// Alternate between the two server errors real services answer.
		if f.Fired%2 == 1 {
			return unavailable("the request has failed due to a temporary failure of the server (fault %s)", f.ID)
		}
		return internalError("the request processing has failed due to some unknown error (fault %s)", f.ID)
	case cloud.FaultOutage:
		if f.Region == "" {
			return unavailable("the service is unavailable (fault %s)", f.ID)
		}
		return unavailable("region %s is unavailable (fault %s)", f.Region, f.ID)
	case cloud.FaultQuota:
		return newError(http.StatusBadRequest, cloud.CodeQuotaExceeded, "the image quota of the account is exceeded (fault %s)", f.ID)
	}
	return nil
}

// validateFault checks a rule before it is installed; actions are the
// registered action names, so that a misspelt Action is refused instead of
// never firing.
func validateFault(f cloud.Fault, actions map[string]*action) error {
	var errs []string
	if !slices.Contains(faultKinds, f.Kind) {
		errs = append(errs, fmt.Sprintf("Kind %q must be one of %s", f.Kind, strings.Join(faultKinds, ", ")))
	}
	if f.Action != "" && actions[f.Action] == nil {
		errs = append(errs, fmt.Sprintf("Action %q is not an action of the simulator", f.Action))
	}
	if f.Region != "" {
		if _, ok := model.LookupRegion(f.Region); !ok {
			errs = append(errs, fmt.Sprintf("Region %q is unknown", f.Region))
		}
	}
	if f.Kind == cloud.FaultInstanceFail && f.InstanceId == "" {
		errs = append(errs, "an instance-fail rule needs InstanceId")
	}
	if f.Kind != cloud.FaultInstanceFail && f.InstanceId != "" {
		errs = append(errs, "InstanceId applies only to instance-fail rules")
	}
	if f.Count < 0 {
		errs = append(errs, "Count must not be negative")
	}
	if f.Probability < 0 || f.Probability > 1 {
		errs = append(errs, "Probability must be in [0,1]")
	}
	if f.Delay < 0 || f.RetryAfter < 0 {
		errs = append(errs, "Delay and RetryAfter must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid fault rule: %s", strings.Join(errs, "; "))
	}
	return nil
}

// ParseFaults decodes fault rules from JSON: an array of cloud.Fault or a
// single one. Delay and RetryAfter may be nanoseconds (as cloud.Fault
// marshals them) or Go duration strings such as "2s" or "500ms", which is
// easier to write by hand. Unknown fields are refused, to catch typos.
func ParseFaults(data []byte) ([]cloud.Fault, error) {
	data = bytes.TrimSpace(data)
	var raws []map[string]json.RawMessage
	if len(data) > 0 && data[0] == '{' {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(data, &one); err != nil {
			return nil, err
		}
		raws = append(raws, one)
	} else if err := json.Unmarshal(data, &raws); err != nil {
		return nil, err
	}
	faults := make([]cloud.Fault, 0, len(raws))
	for i, raw := range raws {
		for key, val := range raw {
			if !strings.EqualFold(key, "Delay") && !strings.EqualFold(key, "RetryAfter") {
				continue
			}
			var s string
			if json.Unmarshal(val, &s) != nil {
				continue // a number: nanoseconds
			}
			d, err := time.ParseDuration(s)
			if err != nil {
				return nil, fmt.Errorf("fault %d: %s: %w", i, key, err)
			}
			raw[key] = json.RawMessage(strconv.FormatInt(int64(d), 10))
		}
		norm, err := json.Marshal(raw)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(norm))
		dec.DisallowUnknownFields()
		var f cloud.Fault
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("fault %d: %w", i, err)
		}
		faults = append(faults, f)
	}
	return faults, nil
}
