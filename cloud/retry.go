package cloud

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Retry is how a client outside Temporal (the starter, the chaos harness)
// retries the cloud's transient errors. Activities do not use it: their
// retries belong to Temporal, where they are visible and bounded.
//
// Retried are: throttling (429, after its Retry-After: the call was refused
// before it ran), a connection that could not be made (the call never
// left), and server errors (5xx, a lost answer) of reads and of mutating
// calls that carry a ClientToken. A mutating call whose request has an empty
// ClientToken field gets one, the same for every try, so that a retry after a
// lost answer cannot repeat the side effect.
type Retry struct {
	// Attempts is the number of tries, the first included.
	Attempts int
	// Backoff is the wait before the second try; it doubles up to MaxWait.
	Backoff time.Duration
	// MaxWait bounds one wait, a Retry-After hint included.
	MaxWait time.Duration
}

// DefaultRetry rides out a few seconds of throttling or a restarting cloud
// (about 40 s at most), then gives the error to the user.
var DefaultRetry = Retry{Attempts: 8, Backoff: 500 * time.Millisecond, MaxWait: 10 * time.Second}

// WithRetry returns a copy of the client that retries as r says.
func (c *Client) WithRetry(r Retry) *Client {
	cp := *c
	cp.retry = &r
	return &cp
}

// retryable reports whether a failed call may be sent again.
func retryable(err error, read, idempotent bool) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch {
	case apiErr.HTTPStatus == http.StatusTooManyRequests:
		return true
	case apiErr.notSent:
		return true
	case apiErr.HTTPStatus >= 500:
		return read || idempotent
	}
	return false
}

// wait is how long to wait before try n+1 (n ≥ 1).
func (r Retry) wait(n int, err error) time.Duration {
	d := r.Backoff << (n - 1)
	if apiErr, ok := AsAPIError(err); ok && apiErr.RetryAfter > 0 {
		d = apiErr.RetryAfter
	}
	if d > r.MaxWait || d <= 0 {
		d = r.MaxWait
	}
	return d
}

// readPrefixes name the actions that change nothing.
var readPrefixes = []string{"Describe", "List", "Get", "Head", "Check", "Pull", "AmazonECS.Describe", "AmazonELB.Describe"}

func isRead(method, path string) bool {
	if method == http.MethodGet {
		return true
	}
	action, ok := strings.CutPrefix(path, "/api/")
	if !ok {
		return false
	}
	for _, p := range readPrefixes {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// withClientToken gives a mutating request an idempotency token if its type
// has an empty ClientToken field; body is the request's JSON. It reports
// whether the request carries a token now.
func withClientToken(req any, body []byte) ([]byte, bool) {
	v := reflect.ValueOf(req)
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return body, false
	}
	f := v.FieldByName("ClientToken")
	if !f.IsValid() || f.Kind() != reflect.String {
		return body, false
	}
	if f.String() != "" {
		return body, true
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return body, false
	}
	token, _ := json.Marshal(uuid.NewString())
	fields["ClientToken"] = token
	out, err := json.Marshal(fields)
	if err != nil {
		return body, false
	}
	return out, true
}

// dialFailed reports whether err says no connection was made, so the request
// never reached the cloud.
func dialFailed(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
