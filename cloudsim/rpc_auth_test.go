package cloudsim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// Signature and account tests of the RPC front: the official SDK's requests
// (through cloud.Client's VPC, which is the SDK) and raw HTTP requests
// signed by hand, refused with Alibaba Cloud's codes and statuses, and
// nothing in the ledger from a refused request.

// rawCall is one hand-signed V3 request.
type rawCall struct {
	action, version string
	params          url.Values
	keyID, secret   string
	date            time.Time
	nonce           string
	unsigned        bool // no Authorization header
	noSignature     bool // Authorization without its Signature
}

func (rc rawCall) send(t *testing.T, base string) (int, []byte) {
	t.Helper()
	u, err := url.Parse(base + "/?" + rc.params.Encode())
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, u.String(), nil)
	require.NoError(t, err)
	sum := sha256.Sum256(nil)
	payload := hex.EncodeToString(sum[:])
	req.Header.Set("x-acs-action", rc.action)
	req.Header.Set("x-acs-version", cmpOr(rc.version, cloudsim.VPCVersion))
	req.Header.Set("x-acs-date", rc.date.UTC().Format("2006-01-02T15:04:05Z"))
	req.Header.Set("x-acs-signature-nonce", rc.nonce)
	req.Header.Set("x-acs-content-sha256", payload)
	signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	sig := cloudsim.SignV3(rc.secret, http.MethodPost, "/", u.Query(), func(h string) string {
		if h == "host" {
			return u.Host
		}
		return req.Header.Get(h)
	}, signed, payload)
	switch {
	case rc.unsigned:
	case rc.noSignature:
		req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+rc.keyID+",SignedHeaders="+strings.Join(signed, ";"))
	default:
		req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+rc.keyID+",SignedHeaders="+strings.Join(signed, ";")+",Signature="+sig)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

// wantRPCError checks an error answer: the status, the code, and the real
// error body with exactly its five fields.
func wantRPCError(t *testing.T, status int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	require.Equal(t, wantStatus, status, "body: %s", body)
	var eb cloudsim.RPCErrorBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&eb), "error body %s", body)
	require.Equal(t, wantCode, eb.Code)
	require.NotEmpty(t, eb.RequestId)
	require.NotEmpty(t, eb.HostId)
	require.NotEmpty(t, eb.Message)
	require.Contains(t, eb.Recommend, "q="+url.QueryEscape(wantCode))
}

func TestRPCSignatureRefusalsRaw(t *testing.T) {
	env := cloudsimtest.Start(t)
	id, secret := cloudsim.AccessKey(cloudsim.DefaultAccount)
	now := time.Now()
	create := url.Values{"RegionId": {"cn-hangzhou"}, "VpcName": {"raw"}}
	good := rawCall{action: "CreateVpc", params: create, keyID: id, secret: secret, date: now, nonce: "n-good"}

	cases := []struct {
		name   string
		call   rawCall
		status int
		code   string
	}{
		{"unsigned", rawCall{action: "CreateVpc", params: create, date: now, nonce: "n1", unsigned: true}, 400, cloudsim.CodeMissingAccessKeyID},
		{"no signature", rawCall{action: "CreateVpc", params: create, keyID: id, secret: secret, date: now, nonce: "n2", noSignature: true}, 400, cloudsim.CodeMissingSignature},
		{"wrong secret", rawCall{action: "CreateVpc", params: create, keyID: id, secret: secret + "x", date: now, nonce: "n3"}, 400, cloudsim.CodeSignatureDoesNotMatch},
		{"unknown key", rawCall{action: "CreateVpc", params: create, keyID: "LTAI5tNoSuchKey", secret: secret, date: now, nonce: "n4"}, 404, cloudsim.CodeAccessKeyNotFound},
		{"stale timestamp", rawCall{action: "CreateVpc", params: create, keyID: id, secret: secret, date: now.Add(-16 * time.Minute), nonce: "n5"}, 400, cloudsim.CodeTimeStampExpired},
		{"future timestamp", rawCall{action: "CreateVpc", params: create, keyID: id, secret: secret, date: now.Add(16 * time.Minute), nonce: "n6"}, 400, cloudsim.CodeTimeStampExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.call.send(t, env.URL)
			wantRPCError(t, status, body, tc.status, tc.code)
		})
	}
	require.Empty(t, env.Server.Ledger(), "a refused request reached the ledger")

	// A signed request succeeds once; the same request again (its nonce
	// replayed) is refused, and the ledger holds the first only.
	status, body := good.send(t, env.URL)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Len(t, env.Server.Ledger(), 1)
	status, body = good.send(t, env.URL)
	wantRPCError(t, status, body, 400, cloudsim.CodeSignatureNonceUsed)
	require.Len(t, env.Server.Ledger(), 1, "a replayed request reached the ledger")

	// A parameter changed after signing: the signature covers the query.
	tampered := good
	tampered.nonce = "n8"
	tampered.params = url.Values{"RegionId": {"cn-hangzhou"}, "VpcName": {"other"}}
	status, body = tamperedSend(t, env.URL, tampered, create)
	wantRPCError(t, status, body, 400, cloudsim.CodeSignatureDoesNotMatch)
	require.Len(t, env.Server.Ledger(), 1)
}

// tamperedSend signs rc for signedParams and sends rc.params.
func tamperedSend(t *testing.T, base string, rc rawCall, signedParams url.Values) (int, []byte) {
	t.Helper()
	u, _ := url.Parse(base + "/")
	sum := sha256.Sum256(nil)
	payload := hex.EncodeToString(sum[:])
	h := http.Header{}
	h.Set("x-acs-action", rc.action)
	h.Set("x-acs-version", cloudsim.VPCVersion)
	h.Set("x-acs-date", rc.date.UTC().Format("2006-01-02T15:04:05Z"))
	h.Set("x-acs-signature-nonce", rc.nonce)
	h.Set("x-acs-content-sha256", payload)
	signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	sig := cloudsim.SignV3(rc.secret, http.MethodPost, "/", signedParams, func(n string) string {
		if n == "host" {
			return u.Host
		}
		return h.Get(n)
	}, signed, payload)
	req, err := http.NewRequest(http.MethodPost, base+"/?"+rc.params.Encode(), nil)
	require.NoError(t, err)
	req.Header = h
	req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+rc.keyID+",SignedHeaders="+strings.Join(signed, ";")+",Signature="+sig)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func TestRPCSignatureRefusalsThroughSDK(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := context.Background()
	id, secret := cloudsim.AccessKey(cloudsim.DefaultAccount)
	req := &cloud.CreateVpcRequest{RegionId: "cn-hangzhou", VpcName: "sdk", ClientToken: "t-sdk"}

	_, err := cloud.NewClient(env.URL, cloudsim.DefaultAccount).WithAccessKey(id, secret+"x").CreateVpc(ctx, req)
	apiErr := wantCode(t, err, cloudsim.CodeSignatureDoesNotMatch)
	require.Equal(t, http.StatusBadRequest, apiErr.HTTPStatus)
	require.NotEmpty(t, apiErr.RequestID)

	_, err = cloud.NewClient(env.URL, cloudsim.DefaultAccount).WithAccessKey("LTAI5tNoSuchKey", secret).CreateVpc(ctx, req)
	apiErr = wantCode(t, err, cloudsim.CodeAccessKeyNotFound)
	require.Equal(t, http.StatusNotFound, apiErr.HTTPStatus)
	require.Empty(t, env.Server.Ledger(), "a refused request reached the ledger")

	// The right key: the same request is made.
	resp, err := env.Client.CreateVpc(ctx, req)
	ok(t, err)
	require.NotEmpty(t, resp.VpcId)
	require.Len(t, env.Server.Ledger(), 1)
}

func TestRPCAccountIsTheKeysOwner(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := context.Background()
	second := env.ClientAs(cloudsim.SecondAccount)
	vpc, err := second.CreateVpc(ctx, &cloud.CreateVpcRequest{RegionId: "cn-hangzhou", ClientToken: "t-2"})
	ok(t, err)
	sw, err := second.CreateVSwitch(ctx, &cloud.CreateVSwitchRequest{RegionId: "cn-hangzhou", VpcId: vpc.VpcId, ClientToken: "t-2sw"})
	ok(t, err)
	before := len(env.Server.Ledger())
	require.Equal(t, cloudsim.SecondAccount, env.Server.Ledger()[0].Account)

	// The default account's key, whatever account the client names, sees
	// none of it and can change none of it.
	mine := cloud.NewClient(env.URL, cloudsim.SecondAccount).WithAccessKey(cloudsim.AccessKey(cloudsim.DefaultAccount))
	list, err := mine.DescribeVSwitches(ctx, &cloud.DescribeVSwitchesRequest{RegionId: "cn-hangzhou"})
	ok(t, err)
	require.Empty(t, list.VSwitches)
	_, err = mine.DescribeVSwitches(ctx, &cloud.DescribeVSwitchesRequest{RegionId: "cn-hangzhou", VSwitchId: sw.VSwitchId})
	ok(t, err)
	_, err = mine.DeleteVSwitch(ctx, &cloud.DeleteVSwitchRequest{RegionId: "cn-hangzhou", VSwitchId: sw.VSwitchId})
	wantCode(t, err, cloud.CodeVSwitchNotFound)
	_, err = mine.DeleteVpc(ctx, &cloud.DeleteVpcRequest{RegionId: "cn-hangzhou", VpcId: vpc.VpcId})
	wantCode(t, err, cloud.CodeVpcNotFound)
	// Nor can it replay the owner's client token into the owner's answer.
	other, err := mine.CreateVpc(ctx, &cloud.CreateVpcRequest{RegionId: "cn-hangzhou", ClientToken: "t-2"})
	ok(t, err)
	require.NotEqual(t, vpc.VpcId, other.VpcId)

	led := env.Server.Ledger()
	require.Len(t, led, before+1)
	require.Equal(t, cloudsim.DefaultAccount, led[len(led)-1].Account)
	still, err := second.DescribeVSwitches(ctx, &cloud.DescribeVSwitchesRequest{RegionId: "cn-hangzhou", VSwitchId: sw.VSwitchId})
	ok(t, err)
	require.Len(t, still.VSwitches, 1)
}

func TestRPCAccessKeysPersist(t *testing.T) {
	env := cloudsimtest.Start(t)
	env.Restart()
	_, err := env.Client.CreateVpc(context.Background(), &cloud.CreateVpcRequest{RegionId: "cn-hangzhou", ClientToken: "t"})
	ok(t, err)
	data, err := readState(env.Config.DataDir)
	require.NoError(t, err)
	id, _ := cloudsim.AccessKey(cloudsim.ThirdAccount)
	require.True(t, slices.Contains(data, id), "state.json does not hold the access key %s", id)
}

// readState returns the access key IDs in the state snapshot of dir.
func readState(dir string) ([]string, error) {
	b, err := os.ReadFile(dir + "/state.json")
	if err != nil {
		return nil, err
	}
	var st struct{ AccessKeys map[string]json.RawMessage }
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	var ids []string
	for id := range st.AccessKeys {
		ids = append(ids, id)
	}
	return ids, nil
}

// The parameters may come in the query string of a GET or in a form body,
// as with the real endpoints; a form body is covered by the signature.
func TestRPCFormBodyAndGet(t *testing.T) {
	env := cloudsimtest.Start(t)
	id, secret := cloudsim.AccessKey(cloudsim.DefaultAccount)
	send := func(method, query string, form url.Values, nonce string, tamper bool) (int, []byte) {
		t.Helper()
		var body []byte
		if form != nil {
			body = []byte(form.Encode())
		}
		req, err := http.NewRequest(method, env.URL+"/?"+query, bytes.NewReader(body))
		require.NoError(t, err)
		sum := sha256.Sum256(body)
		payload := hex.EncodeToString(sum[:])
		req.Header.Set("x-acs-action", "DescribeVSwitches")
		req.Header.Set("x-acs-version", cloudsim.VPCVersion)
		req.Header.Set("x-acs-date", time.Now().UTC().Format("2006-01-02T15:04:05Z"))
		req.Header.Set("x-acs-signature-nonce", nonce)
		req.Header.Set("x-acs-content-sha256", payload)
		signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			signed = append(signed, "content-type")
		}
		sig := cloudsim.SignV3(secret, method, "/", req.URL.Query(), func(h string) string {
			if h == "host" {
				return req.URL.Host
			}
			return req.Header.Get(h)
		}, signed, payload)
		req.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential="+id+",SignedHeaders="+strings.Join(signed, ";")+",Signature="+sig)
		if tamper {
			// Another body than the one signed, with its own hash header.
			other := []byte(url.Values{"RegionId": {"cn-shanghai"}}.Encode())
			s2 := sha256.Sum256(other)
			req.Header.Set("x-acs-content-sha256", hex.EncodeToString(s2[:]))
			req.Body = io.NopCloser(bytes.NewReader(other))
			req.ContentLength = int64(len(other))
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	status, body := send(http.MethodGet, "RegionId=cn-hangzhou&PageSize=5", nil, "g1", false)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Contains(t, string(body), `"PageSize":5`)
	status, body = send(http.MethodPost, "", url.Values{"RegionId": {"cn-hangzhou"}, "PageSize": {"7"}}, "f1", false)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.Contains(t, string(body), `"PageSize":7`)
	status, body = send(http.MethodPost, "", url.Values{"RegionId": {"cn-hangzhou"}}, "f2", true)
	wantRPCError(t, status, body, http.StatusBadRequest, cloudsim.CodeSignatureDoesNotMatch)
	// Another version of the action, or an action the front does not serve.
	status, body = rawCall{action: "DescribeVSwitches", version: "2014-05-26", params: url.Values{"RegionId": {"cn-hangzhou"}}, keyID: id, secret: secret, date: time.Now(), nonce: "v1"}.send(t, env.URL)
	wantRPCError(t, status, body, http.StatusBadRequest, "InvalidVersion")
	status, body = rawCall{action: "CreateVpcs", params: url.Values{}, keyID: id, secret: secret, date: time.Now(), nonce: "v2"}.send(t, env.URL)
	wantRPCError(t, status, body, http.StatusNotFound, "InvalidAction.NotFound")
}

// A throttled call answers the real code with the rate-limit header the SDK
// reads: the caller learns when to retry, and nothing is made.
func TestRPCThrottlingThroughSDK(t *testing.T) {
	env := cloudsimtest.Start(t, cloudsimtest.WithConfig(func(c *cloudsim.Config) {
		c.Faults = []cloud.Fault{{Kind: cloud.FaultThrottle, Action: "CreateVpc", Count: 1, RetryAfter: 1500 * time.Millisecond}}
	}))
	_, err := env.Client.CreateVpc(context.Background(), &cloud.CreateVpcRequest{RegionId: "cn-hangzhou", ClientToken: "t-th"})
	apiErr := wantCode(t, err, cloud.CodeThrottling)
	require.Equal(t, http.StatusTooManyRequests, apiErr.HTTPStatus)
	require.Equal(t, 1500*time.Millisecond, apiErr.RetryAfter)
	require.True(t, apiErr.Retryable())
	require.NotEmpty(t, apiErr.RequestID)
	require.NotContains(t, apiErr.Message, "request id", "the service's message, not the SDK's wrapping")
	require.Empty(t, env.Server.Ledger())
	_, err = env.Client.CreateVpc(context.Background(), &cloud.CreateVpcRequest{RegionId: "cn-hangzhou", ClientToken: "t-th"})
	ok(t, err)
}
