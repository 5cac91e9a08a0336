package cloudsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Access keys and request signatures. The RPC front (rpc.go) accepts only
// requests signed as Alibaba Cloud's official SDK signs them: the V3
// signature, ACS3-HMAC-SHA256 (darabonba-openapi's DoRequest, the path every
// generated service client takes by default), with the key's secret. The
// calling account is the owner of the access key; nothing in the request
// names it otherwise.

// accessKeyRecord is one access key of an account, persisted with the state.
type accessKeyRecord struct {
	AccessKeyId     string
	AccessKeySecret string
	OwnerId         string
}

// Error codes of authentication, as Alibaba Cloud's gateways answer them.
const (
	CodeMissingAccessKeyID     = "MissingAccessKeyId"
	CodeMissingSignature       = "MissingSignature"
	CodeSignatureDoesNotMatch  = "SignatureDoesNotMatch"
	CodeAccessKeyNotFound      = "InvalidAccessKeyId.NotFound"
	CodeTimeStampExpired       = "InvalidTimeStamp.Expired"
	CodeTimeStampFormat        = "InvalidTimeStamp.Format"
	CodeMissingSignatureNonce  = "MissingSignatureNonce"
	CodeSignatureNonceUsed     = "SignatureNonceUsed"
	CodeUnsupportedSignature   = "InvalidSignatureMethod"
	CodeIncompleteSignature    = "IncompleteSignature"
	CodeContentSHA256NotMatch  = "InvalidParameter.ContentSHA256"
	signatureAlgorithmV3       = "ACS3-HMAC-SHA256"
	signatureWindow            = 15 * time.Minute
	signatureTimestampLayoutV3 = "2006-01-02T15:04:05Z"
)

// AccessKey returns the access key the simulator seeds for account: the
// same on every start, so that the local stack can hand it to the worker and
// the starter (like LocalStack's fixed test keys, they protect nothing on
// a real account and must never be used on one).
func AccessKey(account string) (id, secret string) {
	sum := sha256.Sum256([]byte("imagefleet cloudsim access key secret for " + account))
	return "LTAI5tSim" + account, hex.EncodeToString(sum[:15])
}

// seedAccessKeys gives every account its seeded key if it has none.
func seedAccessKeys(st *state, accounts []string) {
	for _, a := range accounts {
		id, secret := AccessKey(a)
		if _, ok := st.AccessKeys[id]; !ok {
			st.AccessKeys[id] = &accessKeyRecord{AccessKeyId: id, AccessKeySecret: secret, OwnerId: a}
		}
	}
}

// nonces remembers the signature nonces of the signature window, per access
// key, to refuse a replayed request (SignatureNonceUsed). In memory only: a
// restarted simulator accepts a nonce seen before the restart.
type nonces struct {
	mu   sync.Mutex
	seen map[string]time.Time // key id + "/" + nonce → when it expires
}

// use records nonce; false if it was used within the window.
func (n *nonces) use(keyID, nonce string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen == nil {
		n.seen = map[string]time.Time{}
	}
	k := keyID + "/" + nonce
	if exp, ok := n.seen[k]; ok && now.Before(exp) {
		return false
	}
	if len(n.seen) > 10000 {
		for key, exp := range n.seen {
			if !now.Before(exp) {
				delete(n.seen, key)
			}
		}
	}
	n.seen[k] = now.Add(2 * signatureWindow)
	return true
}

// authenticate verifies r's V3 signature over params (the query string) and
// body, and returns the account owning the key. now is the wall clock the
// SDK stamps requests with.
func (s *Server) authenticate(r *http.Request, body []byte, now time.Time) (string, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if r.URL.Query().Get("Signature") != "" || r.URL.Query().Get("AccessKeyId") != "" {
			return "", newError(http.StatusBadRequest, CodeUnsupportedSignature, "the simulator verifies the V3 signature (%s) the official SDK sends, not the V1 query signature", signatureAlgorithmV3)
		}
		return "", newError(http.StatusBadRequest, CodeMissingAccessKeyID, "AccessKeyId is mandatory for this action.")
	}
	algo, rest, _ := strings.Cut(auth, " ")
	if algo != signatureAlgorithmV3 {
		return "", newError(http.StatusBadRequest, CodeUnsupportedSignature, "Specified signature method %q is not supported; use %s.", algo, signatureAlgorithmV3)
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	keyID := fields["Credential"]
	if keyID == "" {
		return "", newError(http.StatusBadRequest, CodeMissingAccessKeyID, "AccessKeyId is mandatory for this action.")
	}
	if fields["Signature"] == "" {
		return "", newError(http.StatusBadRequest, CodeMissingSignature, "Signature is mandatory for this action.")
	}
	if fields["SignedHeaders"] == "" {
		return "", newError(http.StatusBadRequest, CodeIncompleteSignature, "The request signature does not name its SignedHeaders.")
	}
	s.mu.RLock()
	key := s.st.AccessKeys[keyID]
	s.mu.RUnlock()
	if key == nil {
		return "", newError(http.StatusNotFound, CodeAccessKeyNotFound, "Specified access key is not found.")
	}
	date := r.Header.Get("x-acs-date")
	ts, err := time.Parse(signatureTimestampLayoutV3, date)
	if err != nil {
		return "", newError(http.StatusBadRequest, CodeTimeStampFormat, "Specified time stamp or date value %q is not well formatted (yyyy-MM-ddTHH:mm:ssZ, UTC).", date)
	}
	if d := now.Sub(ts); d > signatureWindow || d < -signatureWindow {
		return "", newError(http.StatusBadRequest, CodeTimeStampExpired, "Specified time stamp or date value is expired.")
	}
	nonce := r.Header.Get("x-acs-signature-nonce")
	if nonce == "" {
		return "", newError(http.StatusBadRequest, CodeMissingSignatureNonce, "SignatureNonce is mandatory for this action.")
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if h := r.Header.Get("x-acs-content-sha256"); h != "" && h != payload {
		return "", newError(http.StatusBadRequest, CodeContentSHA256NotMatch, "The x-acs-content-sha256 header does not match the request body.")
	}
	signedHeaders := strings.Split(fields["SignedHeaders"], ";")
	for _, required := range []string{"host", "x-acs-action", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"} {
		if !slices.Contains(signedHeaders, required) {
			return "", newError(http.StatusBadRequest, CodeIncompleteSignature, "The request signature must cover the %s header.", required)
		}
	}
	want := signV3(key.AccessKeySecret, r.Method, r.URL.EscapedPath(), r.URL.Query(), func(name string) string {
		if name == "host" {
			return r.Host
		}
		return strings.Join(r.Header.Values(name), ",")
	}, signedHeaders, payload)
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return "", newError(http.StatusBadRequest, CodeSignatureDoesNotMatch, "Specified signature is not matched with our calculation.")
	}
	if !s.nonces.use(keyID, nonce, now) {
		return "", newError(http.StatusBadRequest, CodeSignatureNonceUsed, "Specified signature nonce was used already.")
	}
	return key.OwnerId, nil
}

// SignV3 computes the hex ACS3-HMAC-SHA256 signature of a request, as the
// SDK's openapi-util GetAuthorization does: header names lower case and
// sorted, values trimmed, query keys sorted with values percent-encoded
// (RFC 3986: space %20, * %2A, ~ kept). Exported for tests that sign raw
// requests.
func SignV3(secret, method, path string, query url.Values, header func(name string) string, signedHeaders []string, payloadHash string) string {
	return signV3(secret, method, path, query, header, signedHeaders, payloadHash)
}

func signV3(secret, method, path string, query url.Values, header func(string) string, signedHeaders []string, payloadHash string) string {
	if path == "" {
		path = "/"
	}
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var q []string
	for _, k := range keys {
		q = append(q, percentEncode(k)+"="+percentEncode(query.Get(k)))
	}
	hs := slices.Clone(signedHeaders)
	slices.Sort(hs)
	var canonHeaders strings.Builder
	for _, h := range hs {
		canonHeaders.WriteString(h + ":" + strings.TrimSpace(header(h)) + "\n")
	}
	canonical := method + "\n" + path + "\n" + strings.Join(q, "&") + "\n" + canonHeaders.String() + "\n" + strings.Join(hs, ";") + "\n" + payloadHash
	sum := sha256.Sum256([]byte(canonical))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signatureAlgorithmV3 + "\n" + hex.EncodeToString(sum[:])))
	return hex.EncodeToString(mac.Sum(nil))
}

func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}
