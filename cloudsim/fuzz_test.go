package cloudsim_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
)

// Request bodies come from any client: whatever the body, the simulator
// answers a 2xx or a 4xx (never a 5xx without a fault rule, never a panic)
// within a second.
func FuzzAPIRequest(f *testing.F) {
	srv, err := cloudsim.New(cloudsim.Config{TimeScale: 0.001, DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = srv.Close() })
	actions := srv.Actions()
	for i := range actions {
		f.Add(uint16(i), []byte(`{}`))
	}
	seeds := map[string]string{
		"DescribeImages":    `{"RegionId":"cn-hangzhou","ImageIds":["m-webapp-v1"],"IncludeDeleted":true}`,
		"CopyImage":         `{"RegionId":"cn-hangzhou","ImageId":"m-webapp-v1","DestinationRegionId":"cn-shanghai","DestinationImageName":"copy_1","ClientToken":"t1"}`,
		"CreateArtifact":    `{"ArtifactType":"EcsImage","Name":"web_app","VersionName":"v1_0","Description":"ten chars!","ArtifactProperty":{"RegionId":"cn-hangzhou","ImageId":"m-webapp-v1"},"SupportRegionIds":["cn-shanghai"]}`,
		"RunCommand":        `{"RegionId":"cn-hangzhou","Type":"RunShellScript","CommandContent":"echo hi\nexit 3","InstanceIds":["i-webhz0001"]}`,
		"EnterStandby":      `{"RegionId":"cn-hangzhou","ScalingGroupId":"asg-web-hz","InstanceIds":["i-webhz0001"]}`,
		"ReplaceSystemDisk": `{"RegionId":"cn-hangzhou","InstanceId":"i-webhz0001","ImageId":"m-webapp-v2","ClientToken":"t2"}`,
		"PutObject":         `{"RegionId":"cn-hangzhou","Bucket":"b","Key":"k","Content":"aGVsbG8="}`,
	}
	for i, a := range actions {
		if body, ok := seeds[a]; ok {
			f.Add(uint16(i), []byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, n uint16, body []byte) {
		action := actions[int(n)%len(actions)]
		req := httptest.NewRequest(http.MethodPost, "/api/"+action, bytes.NewReader(body))
		req.Header.Set(cloud.AccountHeader, cloudsim.DefaultAccount)
		rec := httptest.NewRecorder()
		start := time.Now()
		srv.ServeHTTP(rec, req)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("%s took %s with body %q", action, d, body)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s answered %d to body %q: %s", action, rec.Code, body, rec.Body.String())
		}
	})
}

// Fault rules come from files and the admin API.
func FuzzParseFaults(f *testing.F) {
	f.Add([]byte(`[{"Kind": "throttle", "Action": "DescribeImages", "Probability": 0.2, "RetryAfter": "500ms"}, {"Kind": "outage", "Region": "eu-west-1"}]`))
	f.Add([]byte(`{"Kind": "copy-fail", "Region": "ap-southeast-1", "Count": 1}`))
	f.Add([]byte(`{"Kind": "slow", "Delay": 2000000000}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		faults, err := cloudsim.ParseFaults(data)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("parsing took %s: %q", d, data)
		}
		if err != nil {
			return
		}
		for _, fl := range faults {
			if fl.Fired != 0 && fl.ID != "" {
				continue
			}
		}
	})
}
