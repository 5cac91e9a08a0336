package cloudsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// action is one registered API action.
type action struct {
	name     string
	mutating bool
	// rpcOnly: served on the OpenAPI RPC front only (a migrated service),
	// refused on /api/{Action}.
	rpcOnly bool
	// decode parses a request body into a call ready to run.
	decode func(body []byte) (*decodedRequest, error)
}

// decodedRequest is a typed request bound to its handler.
type decodedRequest struct {
	// hash identifies the request's parameters for idempotency: the sha256
	// of the typed request re-encoded, so that field order, spacing and
	// omitted defaults do not matter.
	hash string
	run  func(c *call) (any, error)
}

// call is one API call as its handler sees it.
type call struct {
	srv         *Server
	requestID   string
	account     string // the caller
	action      string
	clientToken string
	now         time.Time // one instant for the whole call
	st          *state    // locked by the pipeline: read for queries, written for mutations

	copyFail bool     // a copy-fail fault fired: a copy started now must fail
	replayed bool     // answered from an idempotency record
	faults   []string // fired fault rules, for the request log

	effects []cloud.LedgerEntry // side effects, appended to the ledger on success
	touched []touchedRecord     // records changed, persisted on success (touch)
}

// record notes a side effect of a mutating call for the ledger. The pipeline
// fills in Seq, Time, Account and ClientToken.
func (c *call) record(region, resourceType, resourceID, detail string) {
	c.effects = append(c.effects, cloud.LedgerEntry{
		Action:       c.action,
		Region:       region,
		ResourceType: resourceType,
		ResourceId:   resourceID,
		Detail:       detail,
	})
}

// registerQuery registers a read-only action: it runs under the read lock and
// must not change c.st.
func registerQuery[Req, Resp any](s *Server, name string, h func(*call, *Req) (*Resp, error)) {
	register(s, name, false, h)
}

// registerMutation registers an action that changes state: it runs under the
// write lock, is idempotent through the request's ClientToken, and the
// records it touches (call.touch) are saved before it is answered (or its
// changes are rolled back if it fails).
func registerMutation[Req, Resp any](s *Server, name string, h func(*call, *Req) (*Resp, error)) {
	register(s, name, true, h)
}

func register[Req, Resp any](s *Server, name string, mutating bool, h func(*call, *Req) (*Resp, error)) {
	if _, dup := s.actions[name]; dup {
		panic("cloudsim: action registered twice: " + name)
	}
	s.actions[name] = &action{
		name:     name,
		mutating: mutating,
		decode: func(body []byte) (*decodedRequest, error) {
			req := new(Req)
			if err := decodeStrict(body, req); err != nil {
				return nil, invalidParam("malformed %s request: %v", name, err)
			}
			canonical, err := json.Marshal(req)
			if err != nil {
				return nil, internalError("encode %s request: %v", name, err)
			}
			sum := sha256.Sum256(canonical)
			return &decodedRequest{
				hash: hex.EncodeToString(sum[:]),
				run: func(c *call) (any, error) {
					resp, err := h(c, req)
					if err != nil {
						return nil, err
					}
					setRequestID(resp, c.requestID)
					return resp, nil
				},
			}, nil
		},
	}
}

// decodeStrict decodes one JSON value, refusing unknown fields so that a
// misspelt parameter is an error rather than silently ignored. An empty body
// is an empty request.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after the JSON object")
	}
	return nil
}

// setRequestID fills the RequestId field every response type has, so that
// handlers need not.
func setRequestID(resp any, id string) {
	v := reflect.ValueOf(resp)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	if f := v.FieldByName("RequestId"); f.IsValid() && f.Kind() == reflect.String && f.CanSet() {
		f.SetString(id)
	}
}

// requestFields are the fields the pipeline reads from any request, decoded
// generically: regions for fault matching, the token for idempotency.
type requestFields struct {
	RegionId            string
	DestinationRegionId string
	ClientToken         string
}

func peekFields(body []byte) requestFields {
	var f requestFields
	// Case-insensitive like the typed decoding; a field of another type is
	// skipped (the typed decoding has refused such a request already).
	_ = json.Unmarshal(body, &f)
	return f
}
