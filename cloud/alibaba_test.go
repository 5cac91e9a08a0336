package cloud_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

type hostRecorder struct{ hosts []string }

func (h *hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.hosts = append(h.hosts, r.URL.Scheme+"://"+r.URL.Host)
	return nil, errors.New("not sent: recorded only")
}

// "regional" sends VPC to the SDK's regional endpoints over HTTPS; a URL
// sends it there.
func TestAlibabaEndpoints(t *testing.T) {
	for _, tc := range []struct{ endpoint, region, want string }{
		{cloud.RegionalEndpoints, "cn-shanghai", "https://vpc.cn-shanghai.aliyuncs.com"},
		{cloud.RegionalEndpoints, "cn-hangzhou", "https://vpc.aliyuncs.com"},
		{"http://127.0.0.1:8299", "eu-central-1", "http://127.0.0.1:8299"},
	} {
		c := cloud.NewClient("http://127.0.0.1:1", "1").WithAccessKey("id", "secret").WithAlibabaEndpoint(tc.endpoint)
		rec := &hostRecorder{}
		c.SetTransport(rec)
		_, err := c.DescribeVSwitches(context.Background(), &cloud.DescribeVSwitchesRequest{RegionId: tc.region})
		if err == nil || len(rec.hosts) != 1 || rec.hosts[0] != tc.want {
			t.Errorf("%s in %s: sent to %v (err %v), want %s", tc.endpoint, tc.region, rec.hosts, err, tc.want)
		}
	}
}

// The generic OpenAPI client (for the services without an SDK module here)
// signs and flattens as the service modules do: the simulator serves it.
func TestCallRPCGenericClient(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := context.Background()
	vpcAPI := cloud.RPCAPI{Version: cloudsim.VPCVersion, EndpointPrefix: "vpc"}
	var created struct{ RequestId, VpcId string }
	if err := env.Client.CallRPC(ctx, vpcAPI, "CreateVpc", "cn-hangzhou", map[string]any{"RegionId": "cn-hangzhou", "ClientToken": "g1"}, &created); err != nil {
		t.Fatal(err)
	}
	var list struct {
		TotalCount int
		VSwitches  struct{ VSwitch []struct{ VSwitchId string } }
	}
	if err := env.Client.CallRPC(ctx, vpcAPI, "DescribeVSwitches", "cn-hangzhou", map[string]any{"RegionId": "cn-hangzhou", "VpcId": created.VpcId, "PageSize": 50}, &list); err != nil {
		t.Fatal(err)
	}
	if created.VpcId == "" || list.TotalCount != 0 || list.VSwitches.VSwitch == nil {
		t.Fatalf("created %+v, listed %+v", created, list)
	}
	err := env.Client.CallRPC(ctx, vpcAPI, "DeleteVSwitch", "cn-hangzhou", map[string]any{"RegionId": "cn-hangzhou", "VSwitchId": "vsw-nope"}, nil)
	if apiErr, ok := cloud.AsAPIError(err); !ok || apiErr.Code != cloud.CodeVSwitchNotFound || apiErr.HTTPStatus != http.StatusNotFound {
		t.Fatalf("DeleteVSwitch of a missing vSwitch: %v", err)
	}
	err = env.Client.CallRPC(ctx, cloud.RPCAPI{Version: "2022-02-22"}, "DescribeScalingGroups", "cn-hangzhou", map[string]any{"RegionId": "cn-hangzhou"}, nil)
	if !cloud.IsCode(err, "InvalidAction.NotFound") {
		t.Fatalf("an action not on the RPC front: %v", err)
	}
}
