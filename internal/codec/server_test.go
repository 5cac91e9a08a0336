package codec_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
