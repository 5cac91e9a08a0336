package cloudsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// The OpenAPI RPC front: what Alibaba Cloud's RPC-style endpoints speak, and
// so what the official SDK's service clients send. A call is an HTTP GET or
// POST to / naming its action and API version (the x-acs-action and
// x-acs-version headers of the V3 signature, or the Action and Version
// parameters), with its parameters in the query string or a form body,
// lists and maps flattened (InstanceId.1, Tag.1.Key). It is signed with an
// access key (accesskeys.go) whose owner is the calling account. The answer
// is the action's JSON response with its RequestId, or the error body
// {"RequestId","HostId","Code","Message","Recommend"} with the real HTTP
// status.
//
// One endpoint serves every service: the service is told apart by the API
// version and the action, as with one endpoint override in the SDK. A route
// translates the real parameters into the simulator's request of the action
// and its answer into the real response; in between, the call runs through
// the same pipeline as POST /api/{Action} (faults, idempotency by
// ClientToken, persistence, ledger). The services not migrated yet are on
// /api/{Action} only (docs/cloud-api.md lists which).

// rpcKey names an action of one API version.
type rpcKey struct{ version, action string }

// rpcRoute is one action of the RPC front.
type rpcRoute struct {
	product  string // e.g. "Vpc", for the error's Recommend link
	internal string // the registered action it runs
	// params are the parameters the route models, flattened lists with N
	// for the index ("Tag.N.Key"). Another parameter is refused: the
	// simulator says so rather than ignore what it does not model.
	params []string
	// decode turns the parameters into the internal action's request.
	decode func(p rpcParams) (any, error)
	// encode turns the internal action's answer (JSON) into the real
	// response body.
	encode func(c *call, p rpcParams, out []byte) (any, error)
}

// registerRPC serves the registered action route.internal as version's
// action on the RPC front, and only there.
func registerRPC(s *Server, version, action string, route *rpcRoute) {
	act := s.actions[route.internal]
	if act == nil {
		panic("cloudsim: RPC route to an unregistered action: " + route.internal)
	}
	act.rpcOnly = true
	s.rpc[rpcKey{version, action}] = route
}

// systemParams are the protocol's own parameters (V1 signature, format),
// never an action's.
var systemParams = []string{"Action", "Version", "Format", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "SignatureType", "Timestamp", "SecurityToken"}

// rpcActionOf is the action r names on the RPC front, empty if none.
func rpcActionOf(r *http.Request) string {
	if a := r.Header.Get("x-acs-action"); a != "" {
		return a
	}
	return r.URL.Query().Get("Action")
}

func (s *Server) serveRPC(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{srv: s, requestID: newRequestID(), action: rpcActionOf(r)}
	product := ""
	out, err := s.runRPC(w, r, c, &product)
	status, code := http.StatusOK, ""
	if err != nil {
		status, code = writeRPCError(w, r, c.requestID, product, err)
	} else {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
	}
	if s.cfg.OnRequest != nil {
		s.cfg.OnRequest(RequestLog{
			RequestID: c.requestID, Method: r.Method, Path: r.URL.Path, Action: c.action, Account: c.account,
			Status: status, Code: code, Duration: time.Since(start), Replayed: c.replayed, Faults: c.faults,
			TraceID: traceID(r),
		})
	}
}

func (s *Server) runRPC(w http.ResponseWriter, r *http.Request, c *call, product *string) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		return nil, invalidParam("reading the request body: %v", err)
	}
	// Authentication comes first: nothing about the API is told to a caller
	// that cannot sign.
	account, err := s.authenticate(r, body, time.Now())
	if err != nil {
		return nil, err
	}
	c.account = account
	if !s.accounts[account] {
		return nil, newError(http.StatusForbidden, cloud.CodeForbidden, "account %s does not exist", account)
	}
	params := rpcParams{r.URL.Query()}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") && len(body) > 0 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, invalidParam("malformed form body: %v", err)
		}
		for k, v := range form {
			params.v[k] = append(params.v[k], v...)
		}
	}
	version := r.Header.Get("x-acs-version")
	if version == "" {
		version = params.v.Get("Version")
	}
	route := s.rpc[rpcKey{version, c.action}]
	if route == nil {
		for k := range s.rpc {
			if k.action == c.action {
				return nil, newError(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version %q is not valid for action %s.", version, c.action)
			}
		}
		return nil, newError(http.StatusNotFound, "InvalidAction.NotFound", "Specified api %s (version %s) is not found, please check your url and method.", c.action, version)
	}
	*product = route.product
	for k := range params.v {
		if slices.Contains(systemParams, k) {
			continue
		}
		if !slices.Contains(route.params, indexPattern.ReplaceAllString(k, ".N")) {
			return nil, invalidParam("parameter %s is not one the simulator models for %s %s (it models %s)", k, route.product, c.action, strings.Join(route.params, ", "))
		}
	}
	req, err := route.decode(params)
	if err != nil {
		return nil, err
	}
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return nil, internalError("encode %s request: %v", route.internal, err)
	}
	c.action = route.internal
	out, err := s.run(r, c, s.actions[route.internal], reqJSON)
	if err != nil {
		return nil, err
	}
	resp, err := route.encode(c, params, out)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

var indexPattern = regexp.MustCompile(`\.[0-9]+`)

// writeRPCError answers err as Alibaba Cloud's gateways do.
func writeRPCError(w http.ResponseWriter, r *http.Request, requestID, product string, err error) (int, string) {
	e := asAPIError(err)
	if e.retryAfter > 0 {
		// The gateway's rate-limit header, whose TimeLeft (ms) the SDK
		// reads into its ThrottlingError's RetryAfter.
		ms := e.retryAfter.Milliseconds()
		w.Header().Set("x-ratelimit-user-api", fmt.Sprintf("Limit:0,Remain:0,TimeLeft:%d,Reset:%d", ms, time.Now().Add(e.retryAfter).UnixMilli()))
		w.Header().Set("Retry-After", strconv.FormatFloat(e.retryAfter.Seconds(), 'f', -1, 64))
	}
	body, _ := json.Marshal(RPCErrorBody{
		RequestId: requestID,
		HostId:    r.Host,
		Code:      e.code,
		Message:   e.msg,
		Recommend: fmt.Sprintf("https://api.aliyun.com/troubleshoot?q=%s&product=%s&requestId=%s", url.QueryEscape(e.code), url.QueryEscape(product), requestID),
	})
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
	return e.status, e.code
}

// RPCErrorBody is the body of an error answered on the RPC front.
type RPCErrorBody struct {
	RequestId string
	HostId    string
	Code      string
	Message   string
	Recommend string
}

// rpcParams are a call's flattened parameters.
type rpcParams struct{ v url.Values }

func (p rpcParams) str(name string) string { return p.v.Get(name) }

// required is a parameter that must be present.
func (p rpcParams) required(name string) (string, error) {
	v := p.v.Get(name)
	if v == "" {
		return "", newError(http.StatusBadRequest, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
	}
	return v, nil
}

// int is an integer parameter within [min, max], def when absent.
func (p rpcParams) int(name string, def, min, max int) (int, error) {
	s := p.v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, newError(http.StatusBadRequest, "InvalidParameter", "The specified parameter %q (%q) is not valid: an integer from %d to %d.", name, s, min, max)
	}
	return n, nil
}

// page cuts items to the page that PageNumber and PageSize ask for (the
// convention of Describe* actions: PageNumber from 1, PageSize up to max).
func rpcPage[T any](p rpcParams, items []T, def, max int) (pageItems []T, number, size int, err error) {
	if number, err = p.int("PageNumber", 1, 1, 1<<30); err != nil {
		return nil, 0, 0, err
	}
	if size, err = p.int("PageSize", def, 1, max); err != nil {
		return nil, 0, 0, err
	}
	from := (number - 1) * size
	if from >= len(items) {
		return []T{}, number, size, nil
	}
	return items[from:min(from+size, len(items))], number, size, nil
}

// decodeOut decodes the internal action's answer.
func decodeOut[T any](out []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(out, v); err != nil {
		return nil, internalError("decode the answer: %v", err)
	}
	return v, nil
}

// RPCAction describes an action served on the RPC front.
type RPCAction struct {
	Product, Version, Action string
	// Params are the parameters it models, a list's index written N
	// ("Tag.N.Key").
	Params []string
}

// RPCActions lists the actions of the RPC front, sorted by version and
// action.
func (s *Server) RPCActions() []RPCAction {
	out := make([]RPCAction, 0, len(s.rpc))
	for k, r := range s.rpc {
		out = append(out, RPCAction{Product: r.product, Version: k.version, Action: k.action, Params: slices.Clone(r.params)})
	}
	slices.SortFunc(out, func(a, b RPCAction) int {
		return strings.Compare(a.Version+" "+a.Action, b.Version+" "+b.Action)
	})
	return out
}

// list is a repeated parameter, name.1 … name.N (e.g. InstanceId.N), in
// index order; a gap in the numbering is refused.
func (p rpcParams) list(name string) ([]string, error) {
	var out []string
	for i := 1; ; i++ {
		v, ok := p.v[name+"."+strconv.Itoa(i)]
		if !ok {
			break
		}
		out = append(out, v[0])
	}
	for k := range p.v {
		if rest, ok := strings.CutPrefix(k, name+"."); ok && !strings.Contains(rest, ".") {
			if n, err := strconv.Atoi(rest); err != nil || n < 1 || n > len(out) {
				return nil, invalidParam("parameter %s is out of the sequence %s.1 … %s.%d", k, name, name, len(out))
			}
		}
	}
	return out, nil
}

// tags are Tag.N.Key / Tag.N.Value, in index order.
func (p rpcParams) tags() (map[string]string, error) {
	out := map[string]string{}
	for i := 1; ; i++ {
		key, ok := p.v["Tag."+strconv.Itoa(i)+".Key"]
		if !ok {
			return out, nil
		}
		if key[0] == "" {
			return nil, invalidParam("Tag.%d.Key is empty", i)
		}
		out[key[0]] = p.v.Get("Tag." + strconv.Itoa(i) + ".Value")
	}
}

// jsonStrings is a parameter the API takes as a JSON array of strings
// (e.g. DescribeInstances' InstanceIds: "[\"i-1\",\"i-2\"]").
func (p rpcParams) jsonStrings(name string) ([]string, error) {
	s := p.v.Get(name)
	if s == "" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, invalidParam("parameter %s must be a JSON array of strings, not %q", name, s)
	}
	return out, nil
}
