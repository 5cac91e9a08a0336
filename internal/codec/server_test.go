package codec_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/imagefleet/imagefleet/internal/codec"
)

const uiOrigin = "http://localhost:8233"

func serve(t *testing.T, opts codec.ServerOptions) (*httptest.Server, *codec.Codec) {
	t.Helper()
	c := codec.New(keyring(t, newLine(t)))
	if opts.AllowedOrigins == nil {
		opts.AllowedOrigins = []string{uiOrigin}
	}
	srv := httptest.NewServer(codec.NewServer(c, opts))
	t.Cleanup(srv.Close)
	return srv, c
}

func post(t *testing.T, url, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func payloadsJSON(t *testing.T, ps ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	require.NoError(t, err)
	return string(b)
}

func TestServerDecodesForTheWebUIAndTheCLI(t *testing.T) {
	srv, c := serve(t, codec.ServerOptions{})
	p, err := codec.DataConverter(nil, c).ToPayload(map[string]string{"script": "echo MARKER"})
	require.NoError(t, err)

	// As the Web UI sends it: from its origin, with X-Namespace.
	resp, body := post(t, srv.URL+"/decode", payloadsJSON(t, p), map[string]string{"Origin": uiOrigin, "X-Namespace": "default"})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(body), &out))
	require.JSONEq(t, `{"script":"echo MARKER"}`, string(out.Payloads[0].Data))
	require.Equal(t, "json/plain", string(out.Payloads[0].Metadata["encoding"]))

	// As the CLI's remote codec does (no Origin), through the SDK's client.
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{Endpoint: srv.URL})
	encoded, err := remote.Encode([]*commonpb.Payload{out.Payloads[0]})
	require.NoError(t, err)
	require.True(t, codec.IsEncrypted(encoded[0]))
	decoded, err := c.Decode(encoded)
	require.NoError(t, err)
	require.Equal(t, out.Payloads[0].Data, decoded[0].Data)
}

func TestServerCORSPreflight(t *testing.T) {
	srv, _ := serve(t, codec.ServerOptions{Token: "s3cret"})
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	req.Header.Set("Origin", uiOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace,authorization")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "a preflight carries no token and must pass")
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace")
	require.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), "POST")

	resp, body := post(t, srv.URL+"/decode", `{"payloads":[]}`, map[string]string{"Origin": "http://evil.example"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
}

func TestServerRefusesMissingOrWrongToken(t *testing.T) {
	srv, _ := serve(t, codec.ServerOptions{Token: "s3cret"})
	for name, header := range map[string]map[string]string{
		"missing":    nil,
		"wrong":      {"Authorization": "Bearer nope"},
		"not bearer": {"Authorization": "Basic czNjcmV0"},
	} {
		resp, body := post(t, srv.URL+"/decode", `{"payloads":[]}`, header)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
		require.Contains(t, body, "bearer token", name)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer", name)
	}
	resp, body := post(t, srv.URL+"/decode", `{"payloads":[]}`, map[string]string{"Authorization": "Bearer s3cret"})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
}

func TestServerExplainsBadRequests(t *testing.T) {
	srv, _ := serve(t, codec.ServerOptions{MaxBodyBytes: 1024, Namespaces: []string{"default"}})
	errorOf := func(body string) string {
		var e struct{ Error string }
		require.NoError(t, json.Unmarshal([]byte(body), &e), body)
		return e.Error
	}
	for body, want := range map[string]string{
		``:                            "empty body",
		`not json`:                    "malformed body",
		`{"payload":[]}`:              "malformed body",
		`{"payloads":[{"data":"!"}]}`: "malformed body",
	} {
		resp, out := post(t, srv.URL+"/decode", body, map[string]string{"X-Namespace": "default"})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		require.Contains(t, errorOf(out), want, body)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	}

	resp, out := post(t, srv.URL+"/decode", `{"payloads":[{"data":"`+strings.Repeat("A", 2000)+`"}]}`, map[string]string{"X-Namespace": "default"})
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Contains(t, errorOf(out), "exceeds 1024 bytes")

	resp, out = post(t, srv.URL+"/decode", `{"payloads":[]}`, map[string]string{"X-Namespace": "other"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, errorOf(out), `namespace "other"`)

	resp, _ = post(t, srv.URL+"/other", `{"payloads":[]}`, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	get, err := http.Get(srv.URL + "/decode")
	require.NoError(t, err)
	get.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, get.StatusCode)

	// A payload of an unknown key: the codec's error, not a crash.
	other := codec.New(keyring(t, newLine(t)))
	enc, err := other.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	resp, out = post(t, srv.URL+"/decode", payloadsJSON(t, enc...), map[string]string{"X-Namespace": "default"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, errorOf(out), "not among the configured keys")
}

// The temporal CLI sends an empty X-Namespace unless given --namespace: it
// means the default namespace, and is served where "default" is.
func TestServerTakesAnEmptyNamespaceAsDefault(t *testing.T) {
	srv, _ := serve(t, codec.ServerOptions{Namespaces: []string{"default"}})
	for _, ns := range []string{"", "default"} {
		resp, body := post(t, srv.URL+"/decode", `{"payloads":[]}`, map[string]string{"X-Namespace": ns})
		require.Equal(t, http.StatusOK, resp.StatusCode, "X-Namespace %q: %s", ns, body)
	}
	srv, _ = serve(t, codec.ServerOptions{Namespaces: []string{"prod"}})
	resp, body := post(t, srv.URL+"/decode", `{"payloads":[]}`, map[string]string{"X-Namespace": ""})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, body, `namespace \"default\" is not served here`)
	require.Contains(t, body, "--namespace")
}

// The scheme of an Authorization header is case-insensitive.
func TestServerAcceptsBearerInAnyCase(t *testing.T) {
	srv, _ := serve(t, codec.ServerOptions{Token: "s3cret"})
	for _, auth := range []string{"Bearer s3cret", "bearer s3cret", "BEARER s3cret", "bEaReR  s3cret"} {
		resp, body := post(t, srv.URL+"/decode", `{"payloads":[]}`, map[string]string{"Authorization": auth})
		require.Equal(t, http.StatusOK, resp.StatusCode, "%q: %s", auth, body)
	}
	resp, _ := post(t, srv.URL+"/decode", `{"payloads":[]}`, map[string]string{"Authorization": "bearer S3CRET"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the token itself is case-sensitive")
}

// A browser signs in once at /login with the token; the session cookie it
// gets authorizes the Web UI's cross-origin requests (sent with
// credentials), until it expires or the token changes.
func TestServerLoginSetsASessionCookieForTheWebUI(t *testing.T) {
	srv, c := serve(t, codec.ServerOptions{Token: "s3cret"})
	p, err := codec.DataConverter(nil, c).ToPayload("MARKER")
	require.NoError(t, err)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	form, err := noRedirect.Get(srv.URL + codec.LoginPath)
	require.NoError(t, err)
	page, _ := io.ReadAll(form.Body)
	form.Body.Close()
	require.Equal(t, http.StatusOK, form.StatusCode)
	require.Contains(t, string(page), `name="token"`)
	require.Empty(t, form.Cookies())

	wrong, err := noRedirect.PostForm(srv.URL+codec.LoginPath, url.Values{"token": {"nope"}})
	require.NoError(t, err)
	wrong.Body.Close()
	require.Equal(t, http.StatusUnauthorized, wrong.StatusCode)
	require.Empty(t, wrong.Cookies())

	ok, err := noRedirect.PostForm(srv.URL+codec.LoginPath, url.Values{"token": {"s3cret"}})
	require.NoError(t, err)
	ok.Body.Close()
	require.Equal(t, http.StatusOK, ok.StatusCode)
	var session *http.Cookie
	for _, ck := range ok.Cookies() {
		if ck.Name == codec.SessionCookie {
			session = ck
		}
	}
	require.NotNil(t, session)
	require.True(t, session.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, session.SameSite, "plain HTTP: Lax, sent by a Web UI on the same host")
	require.NotContains(t, session.Value, "s3cret")

	// As the Web UI sends it with "include cross-origin credentials".
	withCookie := func(value string) (*http.Response, string) {
		return post(t, srv.URL+"/decode", payloadsJSON(t, p),
			map[string]string{"Origin": uiOrigin, "X-Namespace": "default", "Cookie": codec.SessionCookie + "=" + value})
	}
	resp, body := withCookie(session.Value)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, base64.StdEncoding.EncodeToString([]byte(`"MARKER"`)))
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
	require.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))

	// A forged, altered or expired cookie, or one from before a new token: refused.
	exp, _, _ := strings.Cut(session.Value, ".")
	for name, value := range map[string]string{
		"forged":  exp + ".AAAA",
		"later":   "99999999999." + strings.SplitN(session.Value, ".", 2)[1],
		"expired": "1." + strings.SplitN(session.Value, ".", 2)[1],
		"garbage": "s3cret",
	} {
		resp, _ := withCookie(value)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, name)
	}
	other, _ := serve(t, codec.ServerOptions{Token: "rotated"})
	resp, _ = post(t, other.URL+"/decode", `{"payloads":[]}`, map[string]string{"Cookie": codec.SessionCookie + "=" + session.Value})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a new token voids the sessions of the old")

	// Over HTTPS (here: behind a TLS proxy) the cookie may cross sites.
	req, err := http.NewRequest(http.MethodPost, srv.URL+codec.LoginPath, strings.NewReader("token=s3cret"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	secure, err := noRedirect.Do(req)
	require.NoError(t, err)
	secure.Body.Close()
	require.Len(t, secure.Cookies(), 1)
	require.True(t, secure.Cookies()[0].Secure)
	require.Equal(t, http.SameSiteNoneMode, secure.Cookies()[0].SameSite)
}
