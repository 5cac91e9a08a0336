package codec

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

// DefaultMaxBodyBytes bounds a request: Temporal refuses payloads above
// 2 MB, and the Web UI sends a few at a time.
const DefaultMaxBodyBytes = 8 << 20

// ServerOptions configure the codec server.
type ServerOptions struct {
	// AllowedOrigins are the Web UI origins (scheme://host:port) allowed to
	// call from a browser. Requests without an Origin header (the temporal
	// CLI, curl) are not affected.
	AllowedOrigins []string
	// Token, when set, must come as "Authorization: Bearer <token>" (the
	// scheme in any case), or as the session cookie that POST /login sets
	// for it: the Web UI can send cookies ("include cross-origin
	// credentials") but not a static token.
	Token string
	// SessionTTL is how long a login's cookie is valid (DefaultSessionTTL
	// when 0).
	SessionTTL time.Duration
	// Namespaces, when set, are the only values of X-Namespace served. An
	// empty X-Namespace is taken as "default": the temporal CLI sends an
	// empty one unless it is given --namespace, and means the default
	// namespace.
	Namespaces []string
	// MaxBodyBytes bounds a request body (DefaultMaxBodyBytes when 0).
	MaxBodyBytes int64
	Logger       zerolog.Logger
}

// NewServer returns the HTTP handler of Temporal's codec server protocol:
// POST /encode and POST /decode take and return {"payloads":[...]} in
// protojson form (the paths may have a prefix, as in /codec/decode);
// GET /health answers 200. Browsers get CORS headers for AllowedOrigins.
func NewServer(c converter.PayloadCodec, opts ServerOptions) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &server{codec: c, opts: opts}
}

type server struct {
	codec converter.PayloadCodec
	opts  ServerOptions
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" && r.Method == http.MethodGet {
		w.WriteHeader(http.StatusOK)
		return
	}
	switch r.URL.Path {
	case LoginPath:
		s.login(w, r)
		return
	case LogoutPath:
		s.logout(w, r)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if !slices.Contains(s.opts.AllowedOrigins, origin) {
			s.fail(w, r, http.StatusForbidden, "origin %s is not allowed (codecserver --web-ui-origin)", origin)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization")
		h.Set("Access-Control-Max-Age", "600")
		h.Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions { // CORS preflight: it carries no token
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var decode bool
	switch {
	case strings.HasSuffix(r.URL.Path, "/decode"):
		decode = true
	case strings.HasSuffix(r.URL.Path, "/encode"):
	default:
		s.fail(w, r, http.StatusNotFound, "unknown path %s: use POST /encode or POST /decode", r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		s.fail(w, r, http.StatusMethodNotAllowed, "%s needs POST, got %s", r.URL.Path, r.Method)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="imagefleet codec"`)
		s.fail(w, r, http.StatusUnauthorized, "missing or wrong bearer token, and no valid session cookie (open %s in the browser)", LoginPath)
		return
	}
	if ns := namespaceOf(r); len(s.opts.Namespaces) > 0 && !slices.Contains(s.opts.Namespaces, ns) {
		s.fail(w, r, http.StatusForbidden, "namespace %q is not served here (served: %s; the temporal CLI sends the namespace of --namespace, none means %q)",
			ns, strings.Join(s.opts.Namespaces, ", "), DefaultNamespace)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		s.fail(w, r, http.StatusRequestEntityTooLarge, "request body exceeds %d bytes", s.opts.MaxBodyBytes)
		return
	}
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "read request body: %v", err)
		return
	}
	var in commonpb.Payloads
	if len(body) == 0 {
		s.fail(w, r, http.StatusBadRequest, `empty body: send {"payloads":[...]} (Temporal payloads in protojson form)`)
		return
	}
	if err := protojson.Unmarshal(body, &in); err != nil {
		s.fail(w, r, http.StatusBadRequest, `malformed body: want {"payloads":[{"metadata":{...},"data":"<base64>"}]} (Temporal payloads in protojson form): %v`, err)
		return
	}
	var out []*commonpb.Payload
	if decode {
		out, err = s.codec.Decode(in.GetPayloads())
	} else {
		out, err = s.codec.Encode(in.GetPayloads())
	}
	if err != nil {
		s.fail(w, r, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	resp, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "marshal response: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(resp)
	s.opts.Logger.Debug().Str("path", r.URL.Path).Str("namespace", namespaceOf(r)).Int("payloads", len(out)).Msg("served")
}

// DefaultNamespace is what an empty X-Namespace means.
const DefaultNamespace = "default"

// namespaceOf is the request's namespace: its X-Namespace, or "default"
// when empty (the temporal CLI without --namespace).
func namespaceOf(r *http.Request) string {
	if ns := strings.TrimSpace(r.Header.Get("X-Namespace")); ns != "" {
		return ns
	}
	return DefaultNamespace
}

func (s *server) authorized(r *http.Request) bool {
	if s.opts.Token == "" {
		return true
	}
	if got, ok := bearer(r.Header.Get("Authorization")); ok && s.tokenMatches(got) {
		return true
	}
	return s.validSession(r)
}

// bearer is the credentials of an "Authorization: Bearer <token>" header;
// the scheme is case-insensitive (RFC 9110 §11.1).
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func (s *server) tokenMatches(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) == 1
}

// fail answers with a JSON error {"error": "..."} and logs it.
func (s *server) fail(w http.ResponseWriter, r *http.Request, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.opts.Logger.Warn().Str("path", r.URL.Path).Str("method", r.Method).Int("status", status).Msg(msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
