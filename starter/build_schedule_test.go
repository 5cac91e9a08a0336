package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/specfile"
	"github.com/imagefleet/imagefleet/model"
)

// Bad input to `build schedule create` exits 2 before the cloud or the
// Temporal server is asked anything (the mocked client fails the test on
// any call; the cloud does not answer).
func TestBuildScheduleCreateRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no spec", nil, "needs a cron expression or an interval"},
		{"both", []string{"--cron", "@daily", "--every", "1h"}, "not both"},
		{"bad cron", []string{"--cron", "61 * * * *"}, "minute field"},
		{"six fields", []string{"--cron", "0 0 3 * * 1"}, "must have 5 fields"},
		{"time zone", []string{"--cron", "@daily", "--time-zone", "Mars/Olympus"}, "not an IANA time zone"},
		{"overlap", []string{"--every", "1h", "--overlap", "Sometimes"}, "overlap \"Sometimes\" must be one of"},
		{"jitter", []string{"--every", "1m", "--jitter", "5m"}, "jitter 5m0s must be shorter"},
		{"catch-up", []string{"--every", "1h", "--catchup-window", "2s"}, "at least 10s"},
		{"interval", []string{"--every", "500ms"}, "at least 1s"},
		{"name", []string{"--every", "1h", "--name", "Nightly Build"}, "schedule name"},
		{"same version", []string{"--every", "1h", "--publish-package", "webapp", "--version-pattern", "v1_0_0", "--publish-description", "nightly web image"}, "names every run"},
		{"bad version", []string{"--every", "1h", "--publish-package", "webapp", "--version-pattern", "v-{{.Date}}", "--publish-description", "nightly web image"}, "letters, digits or underscores"},
		{"pattern field", []string{"--every", "1h", "--publish-package", "webapp", "--version-pattern", "v{{.Week}}", "--publish-description", "nightly web image"}, "version pattern"},
		{"description", []string{"--every", "1h", "--publish-package", "webapp", "--publish-description", "short"}, "publish description"},
		{"region", []string{"--every", "1h", "--region", "moon-1"}, "region \"moon-1\" is unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{cloud: unavailableCloud(t), temporal: &mocks.Client{}, namespace: "default"}
			cmd := buildScheduleCommand(a)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			cmd.SetArgs(append([]string{"create", "ip-abc123"}, tc.args...))
			err := cmd.ExecuteContext(context.Background())
			require.Equal(t, exitInvalid, exitCode(t, err), "%v", err)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// The schedule spec maps to the SDK's schedule options field by field, with
// Skip and a one-hour catch-up window by default.
func TestScheduleOptionsMapping(t *testing.T) {
	action := &client.ScheduleWorkflowAction{ID: "x", Workflow: model.ScheduledBuildWorkflowType}
	opts, err := scheduleOptions("build-schedule/cn-hangzhou/ip-a/default", model.ScheduleSpec{
		Cron: "0 3 * * MON", TimeZone: "Europe/Berlin", Jitter: "10m", Note: "weekly",
	}, action)
	require.NoError(t, err)
	require.Equal(t, client.ScheduleSpec{CronExpressions: []string{"0 3 * * MON"}, TimeZoneName: "Europe/Berlin", Jitter: 10 * time.Minute}, opts.Spec)
	require.Equal(t, enums.SCHEDULE_OVERLAP_POLICY_SKIP, opts.Overlap)
	require.Equal(t, time.Hour, opts.CatchupWindow)
	require.Equal(t, "weekly", opts.Note)
	require.Same(t, action, opts.Action)

	opts, err = scheduleOptions("id", model.ScheduleSpec{Every: "24h", Offset: "3h", Overlap: model.OverlapBufferOne, CatchupWindow: "15m", Paused: true}, action)
	require.NoError(t, err)
	require.Equal(t, []client.ScheduleIntervalSpec{{Every: 24 * time.Hour, Offset: 3 * time.Hour}}, opts.Spec.Intervals)
	require.Empty(t, opts.Spec.CronExpressions)
	require.Equal(t, enums.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE, opts.Overlap)
	require.Equal(t, 15*time.Minute, opts.CatchupWindow)
	require.True(t, opts.Paused)
	for _, p := range model.OverlapPolicies {
		require.Contains(t, overlapPolicies, p, "every overlap policy of the contract maps to the SDK's")
	}
}

// The spec file of docs/schedules.md decodes strictly into the contract and
// is valid.
func TestBuildScheduleSpecFileOfTheDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/schedules.md")
	require.NoError(t, err)
	text := string(doc)
	start := strings.Index(text, "```yaml\n")
	require.GreaterOrEqual(t, start, 0)
	body := text[start+len("```yaml\n"):]
	body = body[:strings.Index(body, "```")]
	var s model.BuildScheduleSpec
	require.NoError(t, specfile.Decode("schedule.yaml", []byte(body), &s))
	require.NoError(t, s.Validate())
	require.Equal(t, "nightly", s.ScheduleName)
	require.Equal(t, "24h", s.Schedule.Every)
	require.Equal(t, "webapp", s.Publish.Package)
	require.Error(t, specfile.Decode("schedule.yaml", []byte(body+"cronn: \"@daily\"\n"), &s), "a misspelled field is refused")
}

// A schedule that would publish into a package of another type is refused
// before the schedule is created (the mocked Temporal client fails the test
// on any call).
func TestBuildScheduleCreateRefusesAPackageOfAnotherType(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/DescribeImagePipelines":
			_ = json.NewEncoder(w).Encode(cloud.DescribeImagePipelinesResponse{ImagePipelines: []cloud.ImagePipeline{{ImagePipelineId: "ip-abc123", Name: "web", RegionId: "cn-hangzhou"}}})
		case "/api/GetArtifact":
			_ = json.NewEncoder(w).Encode(cloud.GetArtifactResponse{Artifact: cloud.Artifact{ArtifactId: "artifact-1", Name: "files", ArtifactType: cloud.ArtifactFile}})
		default:
			http.Error(w, `{"Code":"Unexpected"}`, http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	a := &app{cloud: cloud.NewClient(srv.URL, "1000000000000001"), temporal: &mocks.Client{}, namespace: "default"}
	cmd := buildScheduleCommand(a)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetArgs([]string{"create", "ip-abc123", "--every", "24h", "--publish-package", "files", "--publish-description", "nightly web image"})
	err := cmd.ExecuteContext(context.Background())
	require.Equal(t, exitInvalid, exitCode(t, err), "%v", err)
	require.ErrorContains(t, err, "package files holds File versions")
}
