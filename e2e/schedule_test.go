package e2e

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// scheduledOutcome is one completed run of a build schedule.
type scheduledOutcome struct {
	WorkflowID, RunID string
	Actual            time.Time
	model.ScheduledBuildResult
}

// scheduledOutcomes reads, through the schedule client, the schedule's
// recent runs and the results of those that completed.
func (e *env) scheduledOutcomes(c *assert.CollectT, id string) []scheduledOutcome {
	ctx := e.t.Context()
	desc, err := e.client.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	require.NoError(c, err)
	var out []scheduledOutcome
	for _, a := range desc.Info.RecentActions {
		w := a.StartWorkflowResult
		if w == nil {
			continue
		}
		d, err := e.client.DescribeWorkflowExecution(ctx, w.WorkflowID, w.FirstExecutionRunID)
		require.NoError(c, err)
		if d.GetWorkflowExecutionInfo().GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			continue
		}
		o := scheduledOutcome{WorkflowID: w.WorkflowID, RunID: w.FirstExecutionRunID, Actual: a.ActualTime}
		require.NoError(c, e.client.GetWorkflow(ctx, w.WorkflowID, w.FirstExecutionRunID).Get(ctx, &o.ScheduledBuildResult))
		out = append(out, o)
	}
	return out
}

// awaitOutcome waits (generously: the machine may be slow) until a run of
// the schedule that started after since completed as match says.
func (e *env) awaitOutcome(id string, since time.Time, what string, match func(model.ScheduledBuildResult) bool) scheduledOutcome {
	e.t.Helper()
	var found scheduledOutcome
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		for _, o := range e.scheduledOutcomes(c, id) {
			if o.Actual.After(since) && match(o.ScheduledBuildResult) {
				found = o
				return
			}
		}
		c.Errorf("no run of %s since %s: %s", id, since.Format(time.RFC3339), what)
	}, 5*time.Minute, 250*time.Millisecond)
	e.t.Logf("%s: %s %+v", what, found.WorkflowID, found.ScheduledBuildResult)
	return found
}

// TestBuildScheduleEndToEnd creates a build schedule that fires every few
// seconds on the dev server: its first run builds, the next ones skip while
// the source family's newest image is the one built from, a new image in the
// family (made through the cloud's API) makes a run build again; pause,
// trigger, list (starter and `temporal schedule list`), unpause and delete
// answer truthfully, and the cloud's ledger holds one build per built run.
func TestBuildScheduleEndToEnd(t *testing.T) {
	e := newEnv(t, 0.001)
	ctx := t.Context()
	resp, err := e.cloudC.CreateImagePipeline(ctx, &cloud.CreateImagePipelineRequest{
		RegionId: cloudsim.SeedRegion, Name: "scheduled", BaseImageType: cloud.BaseImageFamily, BaseImage: "webapp",
		BuildContent: []cloud.Component{{Name: "install", Content: "echo installed"}},
		ClientToken:  "scheduled",
	})
	require.NoError(t, err)
	tpl := resp.ImagePipelineId
	id := model.BuildScheduleID(cloudsim.SeedRegion, tpl, model.DefaultScheduleName)
	builds := func() int { return len(countEntriesAll(e.ledger(), "StartImagePipelineExecution")) }

	// Refused before anything is created.
	_, code := e.starter("build", "schedule", "create", tpl, "--every", "5s", "--jitter", "10s")
	require.Equal(t, 2, code, "jitter longer than the interval")
	out, code := e.starter("build", "schedule", "create", "ip-missing", "--every", "5s")
	require.Equal(t, 2, code)
	require.Contains(t, out, "no build template ip-missing")
	out, code = e.starter("build", "schedule", "pause", tpl)
	require.Equal(t, 2, code)
	require.Contains(t, out, "no schedule "+id)

	start := time.Now()
	out, code = e.starter("build", "schedule", "create", tpl, "--every", "5s", "--jitter", "1s", "--catchup-window", "1m", "--note", "e2e",
		"--publish-package", "scheduled_webapp", "--version-pattern", "v{{.Date}}_{{.Execution}}", "--publish-description", "scheduled web application image")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Created schedule "+id)
	_, code = e.starter("build", "schedule", "create", tpl, "--every", "5s")
	require.Equal(t, 2, code, "the schedule exists")

	// The first run has no last build: it builds from the family's newest
	// image. The next runs find the same source and skip, launching nothing.
	first := e.awaitOutcome(id, start, "first run builds", func(r model.ScheduledBuildResult) bool {
		return r.Outcome == model.OutcomeBuilt
	})
	require.Equal(t, cloudsim.ImageWebappV2, first.Source)
	require.NotEmpty(t, first.ImageID)
	require.Equal(t, "scheduled_webapp", first.Package)
	require.Regexp(t, `^v\d{8}_exec_[a-z0-9]+$`, first.Version)
	e.recordScheduledRun(first, "scheduled_build_built_published.json")
	skipped := e.awaitOutcome(id, first.Actual, "unchanged source skips", func(r model.ScheduledBuildResult) bool {
		return r.Outcome == model.OutcomeSkipped && r.Source == cloudsim.ImageWebappV2 && r.LastBuiltSource == cloudsim.ImageWebappV2
	})
	require.Equal(t, 1, builds(), "skipped runs start no build")
	e.recordScheduledRun(skipped, "scheduled_build_skipped.json")

	// A new image in the family (a copy of the newest, through the cloud's
	// API) changes the source: the next run builds from it.
	cp, err := e.cloudC.CopyImage(ctx, &cloud.CopyImageRequest{
		RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV2, DestinationRegionId: cloudsim.SeedRegion,
		DestinationImageName: "webapp-v3", ClientToken: "webapp-v3",
	})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		fam, err := e.cloudC.DescribeImageFromFamily(ctx, &cloud.DescribeImageFromFamilyRequest{RegionId: cloudsim.SeedRegion, ImageFamily: "webapp"})
		require.NoError(c, err)
		require.Equal(c, cp.ImageId, fam.Image.ImageId)
	}, 2*time.Minute, 100*time.Millisecond)
	changed := time.Now()
	second := e.awaitOutcome(id, changed, "changed source builds", func(r model.ScheduledBuildResult) bool {
		return r.Outcome == model.OutcomeBuilt && r.Source == cp.ImageId
	})
	require.Equal(t, cp.ImageId, second.LastBuiltSource)
	require.NotEqual(t, first.ExecutionID, second.ExecutionID)

	// Paused: nothing fires on its own; trigger still runs it (and it skips:
	// the source is the one just built from).
	out, code = e.starter("build", "schedule", "pause", tpl, "--note", "maintenance")
	require.Equal(t, 0, code, out)
	out, code = e.starter("build", "schedule", "pause", tpl)
	require.Equal(t, 0, code)
	require.Contains(t, out, "already paused")
	h := e.client.ScheduleClient().GetHandle(ctx, id)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		desc, err := h.Describe(ctx)
		require.NoError(c, err)
		require.True(c, desc.Schedule.State.Paused)
		require.Empty(c, desc.Info.RunningWorkflows, "the last firing's run has ended")
	}, 3*time.Minute, 250*time.Millisecond)
	triggered := time.Now()
	out, code = e.starter("build", "schedule", "trigger", tpl)
	require.Equal(t, 0, code, out)
	e.awaitOutcome(id, triggered, "triggered run skips", func(r model.ScheduledBuildResult) bool {
		return r.Outcome == model.OutcomeSkipped && r.Source == cp.ImageId && r.LastBuiltSource == cp.ImageId
	})
	require.Equal(t, 2, builds(), "one build per run that built")
	arts, err := e.cloudC.ListArtifacts(ctx, &cloud.ListArtifactsRequest{Name: "scheduled_webapp"})
	require.NoError(t, err)
	require.Len(t, arts.Artifacts, 1)
	var versions []string
	for _, v := range arts.Artifacts[0].Versions {
		versions = append(versions, v.VersionName)
	}
	require.ElementsMatch(t, []string{first.Version, second.Version}, versions, "one version per build")

	// Listed by the starter and by the temporal CLI (the server's list is
	// eventually consistent).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		out, code := e.starter("build", "schedule", "list", tpl)
		require.Equal(c, 0, code)
		require.Contains(c, out, id)
		require.Contains(c, out, "paused (maintenance)")
		require.Contains(c, out, "Skipped: source "+cp.ImageId+" unchanged", "the last run's outcome")
		cli, err := exec.CommandContext(ctx, temporalCLI, "schedule", "list", "--address", e.stack.TemporalAddress(), "--namespace", "default").CombinedOutput()
		require.NoError(c, err, string(cli))
		require.Contains(c, string(cli), id)
	}, 2*time.Minute, time.Second)

	// A firing while a build of the template runs (started by hand) skips,
	// naming it: one build per template holds for scheduled builds too.
	out, code = e.starter("build", "schedule", "create", tpl, "--name", "always", "--every", "1h", "--always", "--paused")
	require.Equal(t, 0, code, out)
	e.addFault(cloud.Fault{Kind: cloud.FaultSlow, Action: "DescribeInstanceTypes", Count: 1, Delay: 30 * time.Second})
	_, code = e.starter("build", "start", tpl)
	require.Equal(t, 0, code)
	buildID := model.BuildWorkflowID(cloudsim.SeedRegion, tpl)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := e.buildProgress(buildID)
		require.NoError(c, err)
		require.NotEmpty(c, p.ExecutionID)
	}, 2*time.Minute, 100*time.Millisecond)
	triggered = time.Now()
	out, code = e.starter("build", "schedule", "trigger", tpl, "--name", "always")
	require.Equal(t, 0, code, out)
	alwaysID := model.BuildScheduleID(cloudsim.SeedRegion, tpl, "always")
	e.awaitOutcome(alwaysID, triggered, "a firing while a build runs skips", func(r model.ScheduledBuildResult) bool {
		return r.Outcome == model.OutcomeSkipped && strings.Contains(r.Reason, "already running (workflow "+buildID+")")
	})
	out, code = e.starter("build", "cancel", tpl, "--reason", "e2e")
	require.Equal(t, 0, code, out)
	require.Error(t, e.client.GetWorkflow(ctx, buildID, "").Get(ctx, nil), "the hand-started build was cancelled")
	require.Equal(t, 3, builds(), "the skipped firing started no build")
	out, code = e.starter("build", "schedule", "delete", tpl, "--name", "always")
	require.Equal(t, 0, code, out)

	out, code = e.starter("build", "schedule", "unpause", tpl)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Next run:")
	out, code = e.starter("build", "schedule", "delete", tpl)
	require.Equal(t, 0, code, out)
	_, err = h.Describe(ctx)
	var notFound *serviceerror.NotFound
	require.True(t, errors.As(err, &notFound), "deleted: %v", err)
	_, code = e.starter("build", "schedule", "delete", tpl)
	require.Equal(t, 2, code, "no such schedule any more")
	require.Empty(t, leftovers(e.ledger()))
}

// recordScheduledRun writes a run's history to workflows/testdata when
// IMAGEFLEET_RECORD_HISTORY is set, for the replay tests (its started event
// holds the schedule's last completion result).
func (e *env) recordScheduledRun(o scheduledOutcome, file string) {
	if os.Getenv("IMAGEFLEET_RECORD_HISTORY") == "" {
		return
	}
	require.NoError(e.t, writeHistory(e.t.Context(), e.client, o.WorkflowID, o.RunID, "../workflows/testdata/"+file))
}
