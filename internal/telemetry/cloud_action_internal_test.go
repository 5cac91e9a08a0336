package telemetry

import (
	"net/http"
	"testing"
)

func TestRequestActionOfRPCCalls(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://cloud/?RegionId=cn-hangzhou", nil)
	req.Header["x-acs-action"] = []string{"CreateVpc"} // as the SDK sets it
	if got := requestAction(req); got != "CreateVpc" {
		t.Fatalf("requestAction = %q, want CreateVpc", got)
	}
	req.Header["x-acs-action"] = []string{"Create Vpc/../x"}
	if got := requestAction(req); got != "other" {
		t.Fatalf("requestAction of a malformed action = %q, want other", got)
	}
	old, _ := http.NewRequest(http.MethodPost, "http://cloud/api/CopyImage", nil)
	if got := requestAction(old); got != "CopyImage" {
		t.Fatalf("requestAction = %q, want CopyImage", got)
	}
}
