package cloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/internal/clock"
)

// AccountHeader carries the calling account, standing in for request signing.
const AccountHeader = "X-Imagefleet-Account"

// Client calls the simulated cloud over HTTP. It implements every service
// interface of this package. It does not retry unless made with WithRetry:
// retries belong to the caller (Temporal activities), where they are visible
// and bounded.
type Client struct {
	endpoint  string
	accountID string
	http      *http.Client
	retry     *Retry // nil: no retries (see WithRetry)
	sdk       *sdk   // the SDK-migrated services (alibaba.go)
}

var (
	_ ECS         = (*Client)(nil)
	_ ComputeNest = (*Client)(nil)
)

// NewClient returns a client for the cloud at endpoint (e.g.
// http://127.0.0.1:8299) acting as accountID. The services migrated to the
// official SDK (alibaba.go) go to the same endpoint, signed with the default
// credential chain, unless WithAlibabaEndpoint and WithAccessKey say
// otherwise; there the account is the access key's owner.
func NewClient(endpoint, accountID string) *Client {
	endpoint = strings.TrimRight(endpoint, "/")
	return &Client{
		sdk:       &sdk{endpoint: endpoint},
		endpoint:  endpoint,
		accountID: accountID,
		// Below the polling activities' heartbeat timeouts (15 s): one hung
		// call fails fast and is retried instead of costing an attempt.
		http: &http.Client{Timeout: 10 * time.Second},
	}
}

// AccountID is the account the client acts as.
func (c *Client) AccountID() string { return c.accountID }

// Endpoint is the base URL of the cloud.
func (c *Client) Endpoint() string { return c.endpoint }

// Call invokes action with req and decodes the answer into resp. Exported so
// that tests and the admin client can reach actions this package does not wrap.
func (c *Client) Call(ctx context.Context, action string, req, resp any) error {
	return c.do(ctx, http.MethodPost, "/api/"+action, req, resp)
}

func (c *Client) do(ctx context.Context, method, path string, req, resp any) error {
	var body []byte
	if req != nil {
		b, err := json.Marshal(req)
		if err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		body = b
	}
	if c.retry == nil {
		return c.send(ctx, method, path, body, resp)
	}
	read, idempotent := isRead(method, path), false
	if !read && req != nil {
		body, idempotent = withClientToken(req, body)
	}
	for n := 1; ; n++ {
		err := c.send(ctx, method, path, body, resp)
		if err == nil || n >= c.retry.Attempts || !retryable(err, read, idempotent) {
			return err
		}
		if serr := clock.Sleep(ctx, c.retry.wait(n, err)); serr != nil {
			return err
		}
	}
}

// send makes one HTTP call.
func (c *Client) send(ctx context.Context, method, path string, body []byte, resp any) error {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	httpReq, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, reader)
	if err != nil {
		return err
	}
	httpReq.Header.Set("Content-Type", "application/json")
	if c.accountID != "" {
		httpReq.Header.Set(AccountHeader, c.accountID)
	}
	httpResp, err := c.http.Do(httpReq)
	if err != nil {
		// Connection refused or reset: the service is (temporarily) unreachable.
		return &APIError{HTTPStatus: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: err.Error(), notSent: dialFailed(err)}
	}
	defer httpResp.Body.Close()
	data, err := io.ReadAll(httpResp.Body)
	if err != nil {
		return &APIError{HTTPStatus: http.StatusServiceUnavailable, Code: CodeServiceUnavailable, Message: "read response: " + err.Error()}
	}
	if httpResp.StatusCode/100 != 2 {
		apiErr := &APIError{HTTPStatus: httpResp.StatusCode, Code: CodeInternalError, Message: strings.TrimSpace(string(data))}
		var eb ErrorBody
		if json.Unmarshal(data, &eb) == nil && eb.Code != "" {
			apiErr.Code, apiErr.Message, apiErr.RequestID = eb.Code, eb.Message, eb.RequestId
		}
		if s := httpResp.Header.Get("Retry-After"); s != "" {
			if secs, err := strconv.ParseFloat(s, 64); err == nil {
				apiErr.RetryAfter = time.Duration(secs * float64(time.Second))
			}
		}
		return apiErr
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(data, resp); err != nil {
		return fmt.Errorf("decode %s response: %w", path, err)
	}
	return nil
}

func call[Resp any](ctx context.Context, c *Client, action string, req any) (*Resp, error) {
	var resp Resp
	if err := c.Call(ctx, action, req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

func (c *Client) DescribeRegions(ctx context.Context, req *DescribeRegionsRequest) (*DescribeRegionsResponse, error) {
	return call[DescribeRegionsResponse](ctx, c, "DescribeRegions", req)
}

func (c *Client) DescribeImages(ctx context.Context, req *DescribeImagesRequest) (*DescribeImagesResponse, error) {
	return call[DescribeImagesResponse](ctx, c, "DescribeImages", req)
}

func (c *Client) CopyImage(ctx context.Context, req *CopyImageRequest) (*CopyImageResponse, error) {
	return call[CopyImageResponse](ctx, c, "CopyImage", req)
}

func (c *Client) CancelCopyImage(ctx context.Context, req *CancelCopyImageRequest) (*CancelCopyImageResponse, error) {
	return call[CancelCopyImageResponse](ctx, c, "CancelCopyImage", req)
}

func (c *Client) DeleteImage(ctx context.Context, req *DeleteImageRequest) (*DeleteImageResponse, error) {
	return call[DeleteImageResponse](ctx, c, "DeleteImage", req)
}

func (c *Client) ModifyImageSharePermission(ctx context.Context, req *ModifyImageSharePermissionRequest) (*ModifyImageSharePermissionResponse, error) {
	return call[ModifyImageSharePermissionResponse](ctx, c, "ModifyImageSharePermission", req)
}

func (c *Client) DescribeImageSharePermission(ctx context.Context, req *DescribeImageSharePermissionRequest) (*DescribeImageSharePermissionResponse, error) {
	return call[DescribeImageSharePermissionResponse](ctx, c, "DescribeImageSharePermission", req)
}

func (c *Client) CreateArtifact(ctx context.Context, req *CreateArtifactRequest) (*CreateArtifactResponse, error) {
	return call[CreateArtifactResponse](ctx, c, "CreateArtifact", req)
}

func (c *Client) GetArtifact(ctx context.Context, req *GetArtifactRequest) (*GetArtifactResponse, error) {
	return call[GetArtifactResponse](ctx, c, "GetArtifact", req)
}

func (c *Client) ListArtifacts(ctx context.Context, req *ListArtifactsRequest) (*ListArtifactsResponse, error) {
	return call[ListArtifactsResponse](ctx, c, "ListArtifacts", req)
}

func (c *Client) ReleaseArtifact(ctx context.Context, req *ReleaseArtifactRequest) (*ReleaseArtifactResponse, error) {
	return call[ReleaseArtifactResponse](ctx, c, "ReleaseArtifact", req)
}

func (c *Client) DeleteArtifact(ctx context.Context, req *DeleteArtifactRequest) (*DeleteArtifactResponse, error) {
	return call[DeleteArtifactResponse](ctx, c, "DeleteArtifact", req)
}

func (c *Client) CreateService(ctx context.Context, req *CreateServiceRequest) (*CreateServiceResponse, error) {
	return call[CreateServiceResponse](ctx, c, "CreateService", req)
}

func (c *Client) ListServices(ctx context.Context, req *ListServicesRequest) (*ListServicesResponse, error) {
	return call[ListServicesResponse](ctx, c, "ListServices", req)
}
