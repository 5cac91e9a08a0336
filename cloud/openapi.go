package cloud

import (
	"context"
	"encoding/json"
	"fmt"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
)

// RPCAPI names an RPC-style Alibaba Cloud API for the SDK's generic OpenAPI
// client: the way to call a service whose SDK module the Go module proxy
// does not serve (Auto Scaling 2022-02-22, the Compute Nest supplier API,
// OOS), as Alibaba Cloud's own CLI calls every service. Prefer the service's
// module where there is one (VPC: vpc_sdk.go).
type RPCAPI struct {
	// Version is the API version, e.g. "2022-02-22".
	Version string
	// EndpointPrefix names the regional endpoint, <prefix>.<region>.aliyuncs.com
	// (e.g. "ess"), used with RegionalEndpoints.
	EndpointPrefix string
}

// CallRPC calls action of api in region through darabonba-openapi's CallApi,
// signed as every SDK call is. params are the action's parameters, lists and
// maps flattened by the SDK (a []map[string]any under "Tag" becomes
// Tag.1.Key, Tag.1.Value); pass a JSON string where the API takes one. The
// answer's body is decoded into out (nil: discarded). Errors are *APIError.
func (c *Client) CallRPC(ctx context.Context, api RPCAPI, action, region string, params map[string]any, out any) error {
	cfg, err := c.openapiConfig(region)
	if err != nil {
		return err
	}
	if c.sdk.endpoint == RegionalEndpoints {
		cfg.SetEndpoint(api.EndpointPrefix + "." + region + ".aliyuncs.com")
	}
	oc, err := openapi.NewClient(cfg)
	if err != nil {
		return err
	}
	oc.HttpClient = sdkHTTP{ctx: ctx, http: c.http}
	oc.DisableSDKError = dara.Bool(true)
	res, err := oc.CallApi(&openapiutil.Params{
		Action: dara.String(action), Version: dara.String(api.Version), Protocol: dara.String("HTTPS"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
	}, &openapiutil.OpenApiRequest{Query: openapiutil.Query(params)}, sdkRuntime())
	if err != nil {
		return sdkError(err)
	}
	if out == nil {
		return nil
	}
	b, err := json.Marshal(res["body"])
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode the %s answer: %w", action, err)
	}
	return nil
}
