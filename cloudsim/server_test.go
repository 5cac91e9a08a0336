package cloudsim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

func TestPipelineErrors(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()

	e := wantCode(t, env.Client.Call(ctx, "LaunchRocket", struct{}{}, nil), cloud.CodeUnknownAction)
	if e.HTTPStatus != 404 || e.RequestID == "" {
		t.Fatalf("unknown action: %+v", e)
	}
	_, err := env.ClientAs("").DescribeRegions(ctx, &cloud.DescribeRegionsRequest{})
	if e := wantCode(t, err, cloud.CodeMissingAccountID); e.HTTPStatus != 400 {
		t.Fatalf("missing account: %+v", e)
	}
	_, err = env.ClientAs("999").DescribeRegions(ctx, &cloud.DescribeRegionsRequest{})
	wantCode(t, err, cloud.CodeForbidden)
	// Misspelt parameters are refused rather than ignored.
	err = env.Client.Call(ctx, "DescribeImages", map[string]any{"RegionId": cloudsim.SeedRegion, "ImageID": []string{"x"}}, nil)
	wantCode(t, err, cloud.CodeInvalidParameter)
	err = env.Client.Call(ctx, "DescribeImages", map[string]any{"RegionId": 7}, nil)
	wantCode(t, err, cloud.CodeInvalidParameter)

	// Wrong method and unknown paths answer an error body too.
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/api/DescribeRegions", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nowhere", http.StatusNotFound},
		{http.MethodPut, "/admin/ledger", http.StatusNotFound},
	} {
		req, _ := http.NewRequestWithContext(ctx, tc.method, env.URL+tc.path, nil)
		req.Header.Set(cloud.AccountHeader, cloudsim.DefaultAccount)
		resp, err := http.DefaultClient.Do(req)
		ok(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var eb cloud.ErrorBody
		if resp.StatusCode != tc.status || json.Unmarshal(body, &eb) != nil || eb.Code == "" || eb.RequestId == "" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, body)
		}
	}

	ok(t, env.Admin().Health(ctx))
	ledger, err := env.Admin().Ledger(ctx)
	ok(t, err)
	if len(ledger) != 0 {
		t.Fatalf("a fresh simulator has ledger %+v", ledger)
	}
}

func TestRequestLogHook(t *testing.T) {
	var logs []cloudsim.RequestLog
	env := cloudsimtest.Start(t, cloudsimtest.WithConfig(func(c *cloudsim.Config) {
		c.OnRequest = func(r cloudsim.RequestLog) { logs = append(logs, r) }
	}))
	copyWebapp(t, env.Client, "eu-west-1", "tok")
	copyWebapp(t, env.Client, "eu-west-1", "tok")
	if len(logs) != 2 || logs[0].Action != "CopyImage" || logs[0].Account != cloudsim.DefaultAccount || logs[0].Status != 200 ||
		logs[0].Replayed || !logs[1].Replayed {
		t.Fatalf("logs %+v", logs)
	}
}

func TestClosedServerIsUnavailable(t *testing.T) {
	env := cloudsimtest.Start(t)
	ok(t, env.Server.Close())
	_, err := env.Client.DescribeRegions(t.Context(), &cloud.DescribeRegionsRequest{})
	wantCode(t, err, cloud.CodeServiceUnavailable)
	wantCode(t, env.Admin().Health(t.Context()), cloud.CodeServiceUnavailable)
	ok(t, env.Server.Close()) // twice is fine
}

func TestInMemoryServer(t *testing.T) {
	srv, err := cloudsim.New(cloudsim.Config{TimeScale: 0.001})
	ok(t, err)
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c := cloud.NewClient(hs.URL, cloudsim.DefaultAccount)
	copyWebapp(t, c, "eu-west-1", "")
	if len(srv.Ledger()) != 1 {
		t.Fatalf("ledger %+v", srv.Ledger())
	}
	entries, _ := os.ReadDir(".")
	for _, e := range entries {
		if e.Name() == "state.json" || e.Name() == "journal.jsonl" || e.Name() == "ledger.jsonl" {
			t.Fatalf("in-memory server wrote %s", e.Name())
		}
	}

	if _, err := cloudsim.New(cloudsim.Config{TimeScale: -1}); err == nil {
		t.Fatal("negative TimeScale accepted")
	}
}

func TestAdminEndpointsRaw(t *testing.T) {
	env := cloudsimtest.Start(t)
	resp, err := http.Post(env.URL+"/admin/faults", "application/json", bytes.NewBufferString(`{"Kind":"throttle","Bogus":1}`))
	ok(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown field in a fault rule: %d", resp.StatusCode)
	}
	resp, err = http.Get(env.URL + "/admin/health")
	ok(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "{}" {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}
}
