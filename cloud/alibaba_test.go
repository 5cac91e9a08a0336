package cloud_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
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
