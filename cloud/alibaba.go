package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"
)

// Alibaba Cloud through its official Go SDK. The services migrated so far
// (docs/cloud-api.md) are called through their SDK modules, signed with the
// credentials of github.com/aliyun/credentials-go; the others still go
// through the simulator's /api/{Action} protocol (client.go).

const (
	// EnvAlibabaEndpoint overrides the endpoint of every Alibaba Cloud
	// service the SDK calls: a URL such as http://127.0.0.1:8299 (the
	// simulated cloud) sends them all there. "regional" means the SDK's own
	// regional endpoints (e.g. vpc.cn-hangzhou.aliyuncs.com), for a real
	// account.
	EnvAlibabaEndpoint = "IMAGEFLEET_ALIBABA_ENDPOINT"
	// RegionalEndpoints selects the SDK's regional endpoints.
	RegionalEndpoints = "regional"
	// CodeInvalidCredentials: no credentials could be found or fetched
	// (credentials-go's chain came up empty); nothing was sent.
	CodeInvalidCredentials = "InvalidCredentials"
)

// sdk is how a Client reaches the SDK-migrated services: credentials and
// endpoint, shared by the copies WithRetry makes.
type sdk struct {
	endpoint string // a URL, or RegionalEndpoints

	mu      sync.Mutex
	cred    credentials.Credential // nil until first use: the default chain
	credErr error
}

// credential returns the client's credential: the one given, or else the
// default chain of credentials-go (ALIBABA_CLOUD_ACCESS_KEY_ID and
// ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN for STS, the
// CLI's profile, OIDC, an ECS instance's RAM role), resolved once.
func (s *sdk) credential() (credentials.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cred == nil && s.credErr == nil {
		s.cred, s.credErr = credentials.NewCredential(nil)
	}
	return s.cred, s.credErr
}

// WithAccessKey returns a copy of the client that signs with this access
// key instead of the default credential chain.
func (c *Client) WithAccessKey(id, secret string) *Client {
	cred, err := credentials.NewCredential(new(credentials.Config).SetType("access_key").SetAccessKeyId(id).SetAccessKeySecret(secret))
	cp := *c
	cp.sdk = &sdk{endpoint: c.sdk.endpoint, cred: cred, credErr: err}
	return &cp
}

// WithAlibabaEndpoint returns a copy of the client that sends every
// SDK-migrated service to endpoint (a URL), or to the SDK's regional
// endpoints if endpoint is RegionalEndpoints.
func (c *Client) WithAlibabaEndpoint(endpoint string) *Client {
	cp := *c
	c.sdk.mu.Lock()
	cp.sdk = &sdk{endpoint: strings.TrimRight(endpoint, "/"), cred: c.sdk.cred, credErr: c.sdk.credErr}
	c.sdk.mu.Unlock()
	return &cp
}

// AlibabaEndpoint is where the SDK-migrated services are sent: a URL, or
// RegionalEndpoints.
func (c *Client) AlibabaEndpoint() string { return c.sdk.endpoint }

// openapiConfig is the SDK configuration of one call in region: the
// endpoint override or the region's, the credential, timeouts below the
// polling activities' heartbeat timeouts (as the HTTP client's).
func (c *Client) openapiConfig(region string) (*openapiutil.Config, error) {
	cred, err := c.sdk.credential()
	if err == nil {
		// Resolved here, not inside the SDK, whose failure would look like
		// a lost answer: a worker without keys is refused at once (the
		// providers cache what they fetch).
		_, err = cred.GetCredential()
	}
	if err != nil {
		return nil, &APIError{HTTPStatus: http.StatusUnauthorized, Code: CodeInvalidCredentials, Message: "no usable Alibaba Cloud credentials: " + err.Error()}
	}
	cfg := new(openapiutil.Config).SetCredential(cred).SetRegionId(region).
		SetConnectTimeout(5000).SetReadTimeout(10000).SetUserAgent("imagefleet")
	if c.sdk.endpoint != RegionalEndpoints {
		u, err := url.Parse(c.sdk.endpoint)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%s %q is not a URL (or %q)", EnvAlibabaEndpoint, c.sdk.endpoint, RegionalEndpoints)
		}
		cfg.SetEndpoint(u.Host).SetProtocol(u.Scheme)
	}
	return cfg, nil
}

// sdkHTTP sends the SDK's requests through the client's HTTP client (its
// transport traces and measures them) with the call's context.
type sdkHTTP struct {
	ctx  context.Context
	http *http.Client
}

func (h sdkHTTP) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	return h.http.Do(req.WithContext(h.ctx))
}

// sdkRuntime are the options of every SDK call: no retries (they belong to
// the caller, as with the HTTP client).
func sdkRuntime() *dara.RuntimeOptions {
	return new(dara.RuntimeOptions).SetAutoretry(false).SetMaxAttempts(0)
}

// sdkError turns an error of the SDK into an *APIError, so that callers see
// the cloud's code, HTTP status, request ID and throttling hint as from the
// HTTP client. The SDK clients are made with DisableSDKError, so that the
// answer's errors keep their type (and a throttling error its RetryAfter).
func sdkError(err error) error {
	if err == nil {
		return nil
	}
	answered := func(status *int, code, message, requestID *string, data map[string]any, retryAfterMs *int64) error {
		e := &APIError{HTTPStatus: dara.IntValue(status), Code: dara.StringValue(code), Message: dara.StringValue(message), RequestID: dara.StringValue(requestID)}
		// The SDK's Message is "code: 400, <message> request id: <id>":
		// keep the service's own.
		if m, ok := data["Message"].(string); ok && m != "" {
			e.Message = m
		}
		if ms := dara.Int64Value(retryAfterMs); ms > 0 {
			e.RetryAfter = time.Duration(ms) * time.Millisecond
		}
		return e
	}
	var (
		ce *openapi.ClientError
		se *openapi.ServerError
		th *openapi.ThrottlingError
		te *tea.SDKError
	)
	switch {
	case errors.As(err, &th):
		return answered(th.StatusCode, th.Code, th.Message, th.RequestId, th.Data, th.RetryAfter)
	case errors.As(err, &ce):
		return answered(ce.StatusCode, ce.Code, ce.Message, ce.RequestId, ce.Data, ce.RetryAfter)
	case errors.As(err, &se):
		return answered(se.StatusCode, se.Code, se.Message, se.RequestId, se.Data, se.RetryAfter)
	case errors.As(err, &te) && tea.IntValue(te.StatusCode) != 0:
		var data map[string]any
		_ = json.Unmarshal([]byte(tea.StringValue(te.Data)), &data)
		requestID, _ := data["RequestId"].(string)
		return answered(te.StatusCode, te.Code, te.Message, &requestID, data, nil)
	}
	// No answer: the service could not be reached, or the answer was lost.
	return &APIError{HTTPStatus: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: err.Error(), notSent: dialFailed(err)}
}
