package cloudsim_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

func describeHangzhou(env *cloudsimtest.Env, t *testing.T) error {
	_, err := env.Client.DescribeImages(t.Context(), &cloud.DescribeImagesRequest{RegionId: cloudsim.SeedRegion})
	return err
}

func addFault(t *testing.T, env *cloudsimtest.Env, f cloud.Fault) cloud.Fault {
	t.Helper()
	f, err := env.Admin().AddFault(t.Context(), f)
	ok(t, err)
	return f
}

func TestFaultThrottle(t *testing.T) {
	env := cloudsimtest.Start(t)
	f := addFault(t, env, cloud.Fault{Kind: cloud.FaultThrottle, Action: "DescribeImages", Count: 2, RetryAfter: 250 * time.Millisecond})
	if f.ID == "" {
		t.Fatal("fault without ID")
	}
	for range 2 {
		e := wantCode(t, describeHangzhou(env, t), cloud.CodeThrottling)
		if e.HTTPStatus != http.StatusTooManyRequests || e.RetryAfter != 250*time.Millisecond || !e.Retryable() || e.RequestID == "" {
			t.Fatalf("throttled: %+v", e)
		}
	}
	ok(t, describeHangzhou(env, t))
	if faults, err := env.Admin().Faults(t.Context()); err != nil || len(faults) != 0 {
		t.Fatalf("spent rule still listed: %+v %v", faults, err)
	}

	// Other actions are not affected; RetryAfter defaults to one second.
	addFault(t, env, cloud.Fault{Kind: cloud.FaultThrottle, Action: "CopyImage"})
	ok(t, describeHangzhou(env, t))
	_, err := env.Client.CopyImage(t.Context(), &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1"})
	if e := wantCode(t, err, cloud.CodeThrottling); e.RetryAfter != time.Second {
		t.Fatalf("default Retry-After %s", e.RetryAfter)
	}
	if len(env.Server.Ledger()) != 0 {
		t.Fatal("a throttled call had a side effect")
	}
}

func TestFaultTransient(t *testing.T) {
	env := cloudsimtest.Start(t)
	addFault(t, env, cloud.Fault{Kind: cloud.FaultTransient, Count: 2})
	e1 := wantCode(t, describeHangzhou(env, t), cloud.CodeServiceUnavailable)
	e2 := wantCode(t, describeHangzhou(env, t), cloud.CodeInternalError)
	if e1.HTTPStatus != 503 || e2.HTTPStatus != 500 || !e1.Retryable() || !e2.Retryable() {
		t.Fatalf("transient: %+v, %+v", e1, e2)
	}
	ok(t, describeHangzhou(env, t))
}

func TestFaultSlow(t *testing.T) {
	env := cloudsimtest.Start(t)
	addFault(t, env, cloud.Fault{Kind: cloud.FaultSlow, Action: "DescribeImages", Count: 1, Delay: 100 * time.Millisecond})
	start := time.Now()
	ok(t, describeHangzhou(env, t)) // slow, but it succeeds
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Fatalf("slow call took only %s", took)
	}
	if len(env.Server.Faults()) != 0 {
		t.Fatal("slow rule not spent")
	}
}

func TestFaultOutageHitsOnlyItsRegion(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	addFault(t, env, cloud.Fault{Kind: cloud.FaultOutage, Region: "eu-west-1"})

	_, err := env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "eu-west-1"})
	if e := wantCode(t, err, cloud.CodeServiceUnavailable); e.HTTPStatus != 503 || !strings.Contains(e.Message, "region eu-west-1 is unavailable") {
		t.Fatalf("outage: %+v", e)
	}
	ok(t, describeHangzhou(env, t))
	// A copy into the region touches it; a copy elsewhere does not.
	_, err = env.Client.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1"})
	wantCode(t, err, cloud.CodeServiceUnavailable)
	copyWebapp(t, env.Client, "eu-central-1", "")
	// The outage lasts until the rule is removed.
	_, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "eu-west-1"})
	wantCode(t, err, cloud.CodeServiceUnavailable)
	ok(t, env.Admin().ClearFaults(ctx))
	_, err = env.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: "eu-west-1"})
	ok(t, err)
}

func TestFaultQuotaIsPermanent(t *testing.T) {
	env := cloudsimtest.Start(t)
	addFault(t, env, cloud.Fault{Kind: cloud.FaultQuota, Region: "eu-west-1"})
	for range 2 {
		_, err := env.Client.CopyImage(t.Context(), &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: "eu-west-1"})
		if e := wantCode(t, err, cloud.CodeQuotaExceeded); e.HTTPStatus != 400 || e.Retryable() {
			t.Fatalf("quota: %+v", e)
		}
	}
	// Reads are not limited by a quota.
	_, err := env.Client.DescribeImages(t.Context(), &cloud.DescribeImagesRequest{RegionId: "eu-west-1"})
	ok(t, err)
	copyWebapp(t, env.Client, "eu-central-1", "")
}

func TestFaultCopyFail(t *testing.T) {
	env, clock := startClocked(t)
	rule := addFault(t, env, cloud.Fault{Kind: cloud.FaultCopyFail, Count: 1})

	// Other calls do not use the rule up.
	ok(t, describeHangzhou(env, t))
	if faults := env.Server.Faults(); len(faults) != 1 || faults[0].Fired != 0 || faults[0].ID != rule.ID {
		t.Fatalf("faults %+v", faults)
	}

	failing := copyWebapp(t, env.Client, "eu-west-1", "") // the call itself succeeds
	fine := copyWebapp(t, env.Client, "eu-west-1", "")
	if img := describe(t, env.Client, "eu-west-1", failing); img.Status != cloud.ImageCreating {
		t.Fatalf("failing copy starts %s", img.Status)
	}
	clock.Advance(time.Hour)
	if img := describe(t, env.Client, "eu-west-1", failing); img.Status != cloud.ImageCreateFailed {
		t.Fatalf("failing copy ends %s", img.Status)
	}
	if img := describe(t, env.Client, "eu-west-1", fine); img.Status != cloud.ImageAvailable {
		t.Fatalf("second copy ends %s", img.Status)
	}
	// A failed copy can be deleted.
	_, err := env.Client.DeleteImage(t.Context(), &cloud.DeleteImageRequest{RegionId: "eu-west-1", ImageId: failing})
	ok(t, err)
}

func TestFaultCountAndProbability(t *testing.T) {
	env := cloudsimtest.Start(t)
	addFault(t, env, cloud.Fault{Kind: cloud.FaultTransient, Count: 3})
	failures := 0
	for range 5 {
		if describeHangzhou(env, t) != nil {
			failures++
		}
	}
	if failures != 3 {
		t.Fatalf("Count 3 fired %d times", failures)
	}

	// Probability 1 always fires; 0.5 fires sometimes.
	always := addFault(t, env, cloud.Fault{Kind: cloud.FaultThrottle, Probability: 1})
	for range 3 {
		wantCode(t, describeHangzhou(env, t), cloud.CodeThrottling)
	}
	env.Server.ClearFaults()
	addFault(t, env, cloud.Fault{Kind: cloud.FaultThrottle, Probability: 0.5})
	failures = 0
	const calls = 200
	for range calls {
		if describeHangzhou(env, t) != nil {
			failures++
		}
	}
	if failures == 0 || failures == calls { // fails with probability 2^-199
		t.Fatalf("probability 0.5 fired %d of %d times", failures, calls)
	}
	if f := env.Server.Faults()[0]; f.Fired != failures || f.ID == always.ID {
		t.Fatalf("rule %+v after %d failures", f, failures)
	}
}

func TestFaultOrderStopsAtFirstError(t *testing.T) {
	env := cloudsimtest.Start(t)
	addFault(t, env, cloud.Fault{Kind: cloud.FaultThrottle, Count: 1})
	addFault(t, env, cloud.Fault{Kind: cloud.FaultTransient, Count: 1})
	wantCode(t, describeHangzhou(env, t), cloud.CodeThrottling)
	wantCode(t, describeHangzhou(env, t), cloud.CodeServiceUnavailable)
	ok(t, describeHangzhou(env, t))
}

func TestFaultsFromConfig(t *testing.T) {
	env := cloudsimtest.Start(t, cloudsimtest.WithFaults(cloud.Fault{Kind: cloud.FaultOutage, Region: cloudsim.SeedRegion, Count: 1}))
	wantCode(t, describeHangzhou(env, t), cloud.CodeServiceUnavailable)
	ok(t, describeHangzhou(env, t))

	_, err := cloudsim.New(cloudsim.Config{Faults: []cloud.Fault{{Kind: "meteor"}}})
	if err == nil {
		t.Fatal("an unknown fault kind was accepted")
	}
}

func TestAdminFaultValidation(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	for _, f := range []cloud.Fault{
		{Kind: "meteor"},
		{Kind: cloud.FaultThrottle, Action: "CopyImages"},
		{Kind: cloud.FaultOutage, Region: "mars-1"},
		{Kind: cloud.FaultThrottle, Probability: 1.5},
		{Kind: cloud.FaultThrottle, Count: -1},
	} {
		_, err := env.Admin().AddFault(ctx, f)
		wantCode(t, err, cloud.CodeInvalidParameter)
	}

	// Durations may be written as strings; one rule can be removed by ID.
	resp, err := http.Post(env.URL+"/admin/faults", "application/json", bytes.NewBufferString(`{"Kind":"slow","Delay":"20ms"}`))
	ok(t, err)
	resp.Body.Close()
	faults, err := env.Admin().Faults(ctx)
	ok(t, err)
	if resp.StatusCode != 200 || len(faults) != 1 || faults[0].Delay != 20*time.Millisecond {
		t.Fatalf("status %d, faults %+v", resp.StatusCode, faults)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, env.URL+"/admin/faults/"+faults[0].ID, nil)
	resp, err = http.DefaultClient.Do(req)
	ok(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(env.Server.Faults()) != 0 {
		t.Fatalf("delete by ID: status %d, %+v", resp.StatusCode, env.Server.Faults())
	}
}

func TestParseFaults(t *testing.T) {
	faults, err := cloudsim.ParseFaults([]byte(`[
		{"Kind": "throttle", "Action": "CopyImage", "RetryAfter": "1.5s", "Probability": 0.2},
		{"Kind": "slow", "Delay": 2000000000},
		{"Kind": "outage", "Region": "eu-west-1", "Count": 3}
	]`))
	ok(t, err)
	if len(faults) != 3 || faults[0].RetryAfter != 1500*time.Millisecond || faults[1].Delay != 2*time.Second || faults[2].Count != 3 {
		t.Fatalf("parsed %+v", faults)
	}
	one, err := cloudsim.ParseFaults([]byte(`{"Kind":"quota"}`))
	ok(t, err)
	if len(one) != 1 || one[0].Kind != cloud.FaultQuota {
		t.Fatalf("parsed %+v", one)
	}
	for _, bad := range []string{`[{"Kind":"slow","Dealy":"1s"}]`, `[{"Kind":"slow","Delay":"soon"}]`, `nonsense`} {
		if _, err := cloudsim.ParseFaults([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
