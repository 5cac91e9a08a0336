package workflows

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/internal/payload"
	"github.com/imagefleet/imagefleet/model"
)

// The lifecycle tests run the workflow in the SDK test suite with its real
// activities against a simulated cloud; what a run changed is read from the
// simulator's ledger. Visibility (earlier runs of the rule, running rolling
// updates) is a fake.

// fakeVisibility answers the rule's earlier runs and the running rolling
// updates (workflow ID → spec).
type fakeVisibility struct {
	ranBefore bool
	rollouts  map[string]model.RolloutSpec
}

func (f *fakeVisibility) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	switch {
	case contains(req.GetQuery(), model.RetentionWorkflowType):
		if f.ranBefore {
			resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: "retention/x", RunId: "r0"}})
		}
	case contains(req.GetQuery(), model.RolloutWorkflowType):
		for id := range f.rollouts {
			resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "r1"}})
		}
	}
	return resp, nil
}

func contains(s, sub string) bool { return len(sub) > 0 && len(s) >= len(sub) && indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func (f *fakeVisibility) GetWorkflowHistory(_ context.Context, workflowID, _ string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	input, err := payload.Converter.ToPayloads(f.rollouts[workflowID])
	if err != nil {
		panic(err)
	}
	return &oneEvent{ev: &historypb.HistoryEvent{Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
		WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{Input: input},
	}}}
}

type oneEvent struct {
	ev   *historypb.HistoryEvent
	done bool
}

func (o *oneEvent) HasNext() bool { return !o.done }
func (o *oneEvent) Next() (*historypb.HistoryEvent, error) {
	o.done = true
	return o.ev, nil
}

type retentionFixture struct {
	sim      *cloudsimtest.Env
	clock    *cloudsimtest.Clock
	vis      *fakeVisibility
	versions []map[string]string // v1… → region → copy
	// afterFacts, if set, runs once a run has read its facts (before it
	// changes anything).
	afterFacts func()
}

const retentionPkg = "retained"

var retentionRegions = []string{"eu-west-1", "eu-central-1"}

// newRetentionFixture publishes six versions v1 (oldest) … v6 of package
// retained in two regions; v1's source image is tagged keep=forever.
func newRetentionFixture(t *testing.T) *retentionFixture {
	t.Helper()
	clock := cloudsimtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	f := &retentionFixture{clock: clock, vis: &fakeVisibility{}}
	f.sim = cloudsimtest.Start(t, cloudsimtest.WithNow(clock.Now), cloudsimtest.WithTimeScale(1))
	for i := 1; i <= 6; i++ {
		v := cloudsimtest.ImageVersion{Package: retentionPkg, Version: fmt.Sprintf("v%d_0", i), SourceRegion: cloudsim.SeedRegion,
			SourceImage: cloudsim.ImageWebappV1, Regions: retentionRegions, Wait: func() { clock.Advance(time.Hour) }}
		if i == 1 {
			v.SourceTags = map[string]string{"keep": "forever"}
		}
		_, delivery, err := cloudsimtest.PublishImageVersion(t.Context(), f.sim.Client, v)
		require.NoError(t, err)
		f.versions = append(f.versions, delivery)
		clock.Advance(time.Minute)
	}
	return f
}

// run runs one lifecycle run of spec to its end.
func (f *retentionFixture) run(t *testing.T, spec model.RetentionSpec) (*model.RetentionResult, error, *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	return f.runAs(t, model.RetentionWorkflowID(spec.Rule.Package), model.RetentionWorkflowType, spec)
}

// runAs runs workflowType under id to its end.
func (f *retentionFixture) runAs(t *testing.T, id, workflowType string, spec model.RetentionSpec) (*model.RetentionResult, error, *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := newTestEnv(&s)
	if f.afterFacts != nil {
		env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, err error) {
			if info.ActivityType.Name == "RetentionFacts" && err == nil {
				f.afterFacts()
			}
		})
	}
	env.SetStartTime(f.clock.Now()) // the workflow's clock is the cloud's
	env.RegisterWorkflowWithOptions(ImageRetention, workflow.RegisterOptions{Name: model.RetentionWorkflowType})
	env.RegisterWorkflowWithOptions(ScheduledImageRetention, workflow.RegisterOptions{Name: model.ScheduledRetentionWorkflowType})
	env.RegisterActivity(&activities.Retention{Cloud: f.sim.Client, Visibility: f.vis, DataConverter: payload.Converter})
	executeAs(env, id, workflowType, spec)
	require.True(t, env.IsWorkflowCompleted())
	if err := env.GetWorkflowError(); err != nil {
		return nil, err, env
	}
	var res model.RetentionResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return &res, nil, env
}

func (f *retentionFixture) ledger(action string) []cloud.LedgerEntry {
	var out []cloud.LedgerEntry
	for _, e := range f.sim.Server.Ledger() {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func byVersion(res *model.RetentionResult) map[string]model.RetentionVersion {
	out := map[string]model.RetentionVersion{}
	for _, v := range res.Versions {
		out[v.Version] = v
	}
	return out
}

// A rule's first run lists what it would do and changes nothing; the next
// run deletes the retired versions' copies in every region, once, and keeps
// the newest, the excluded, the one an instance uses and the one a running
// rolling update rolls to; a third run finds nothing more to do.
func TestRetentionFirstRunIsDryThenApplies(t *testing.T) {
	f := newRetentionFixture(t)
	ctx := t.Context()
	// v2's copy in eu-west-1 runs an instance; a rolling update to v3's copy
	// in eu-central-1 is running.
	_, err := f.sim.Client.RunInstances(ctx, &cloud.RunInstancesRequest{RegionId: "eu-west-1", ImageId: f.versions[1]["eu-west-1"], InstanceType: "ecs.g7.large", ClientToken: "run-v2"})
	require.NoError(t, err)
	f.vis.rollouts = map[string]model.RolloutSpec{"rollout/eu-central-1/asg-x": {ScalingGroupID: "asg-x", RegionID: "eu-central-1", TaskType: model.TaskImage,
		Image: &model.ImageChange{ImageID: f.versions[2]["eu-central-1"]}, Batches: 1}}
	rule := model.RetentionRule{Package: retentionPkg, KeepNewest: 2, GracePeriod: "0s", ExcludeTags: []string{"keep"}}
	before := len(f.sim.Server.Ledger())

	res, err, env := f.run(t, model.RetentionSpec{Rule: rule})
	require.NoError(t, err)
	require.True(t, res.DryRun, "the rule's first run is dry")
	require.Contains(t, res.DryRunWhy, "first run")
	require.Len(t, f.sim.Server.Ledger(), before, "a dry run changes nothing")
	got := byVersion(res)
	for v, want := range map[string]string{"v6_0": model.RetentionKeep, "v5_0": model.RetentionKeep, "v4_0": model.RetentionDelete,
		"v3_0": model.RetentionKeep, "v2_0": model.RetentionKeep, "v1_0": model.RetentionKeep} {
		require.Equal(t, want, got[v].Action, "%s: %s", v, got[v].Reason)
	}
	require.Contains(t, got["v1_0"].Reason, "excluded by tag keep")
	require.Contains(t, got["v2_0"].Reason, "in use: eu-west-1: instance")
	require.Contains(t, got["v3_0"].Reason, "running rolling update rollout/eu-central-1/asg-x")
	require.Equal(t, 1, res.Deleted)
	require.Equal(t, 2, res.CopiesDeleted)
	require.Equal(t, 80, res.FreedGiB)
	p := queryProgress[model.RetentionProgress](t, env, model.QueryProgress)
	require.True(t, p.DryRun)
	require.Equal(t, model.RetentionPhaseDone, p.Phase)

	// The rule ran before: this run applies it.
	f.vis.ranBefore = true
	res, err, _ = f.run(t, model.RetentionSpec{Rule: rule})
	require.NoError(t, err)
	require.False(t, res.DryRun)
	require.Equal(t, model.RetentionDone, byVersion(res)["v4_0"].State)
	require.Equal(t, 2, res.CopiesDeleted)
	deleted := map[string]int{}
	for _, e := range f.ledger("DeleteArtifactDelivery") {
		if e.ResourceType == "Image" {
			deleted[e.ResourceId]++
		}
	}
	require.Equal(t, map[string]int{f.versions[3]["eu-west-1"]: 1, f.versions[3]["eu-central-1"]: 1}, deleted)
	require.Len(t, f.ledger("ModifyArtifactVersion"), 1)
	require.Len(t, f.ledger("DeleteArtifact"), 1)
	pkg, err := f.sim.Client.GetArtifact(ctx, &cloud.GetArtifactRequest{Name: retentionPkg})
	require.NoError(t, err)
	require.Len(t, pkg.Artifact.Versions, 5)

	// Again: nothing left to do, nothing changes.
	before = len(f.sim.Server.Ledger())
	res, err, _ = f.run(t, model.RetentionSpec{Rule: rule})
	require.NoError(t, err)
	require.Zero(t, res.Deleted)
	require.Len(t, f.sim.Server.Ledger(), before)
}

// With a grace period, a run deprecates the retired versions and deletes
// nothing; an explicit dry run changes nothing even after the rule ran.
func TestRetentionGracePeriodDeprecatesFirst(t *testing.T) {
	f := newRetentionFixture(t)
	rule := model.RetentionRule{Package: retentionPkg, KeepNewest: 4, GracePeriod: "72h"}
	f.vis.ranBefore = true
	dry := true
	before := len(f.sim.Server.Ledger())
	res, err, _ := f.run(t, model.RetentionSpec{Rule: rule, DryRun: &dry})
	require.NoError(t, err)
	require.True(t, res.DryRun)
	require.Equal(t, 2, res.Deprecated)
	require.Len(t, f.sim.Server.Ledger(), before)

	res, err, _ = f.run(t, model.RetentionSpec{Rule: rule})
	require.NoError(t, err)
	got := byVersion(res)
	require.Equal(t, model.RetentionDeprecate, got["v1_0"].Action)
	require.Equal(t, model.RetentionDone, got["v2_0"].State)
	require.Equal(t, 2, res.Deprecated)
	require.Zero(t, res.CopiesDeleted)
	require.Len(t, f.ledger("ModifyArtifactVersion"), 2)
	require.Empty(t, f.ledger("DeleteArtifactDelivery"))

	// Within the grace period the next run waits.
	res, err, _ = f.run(t, model.RetentionSpec{Rule: rule})
	require.NoError(t, err)
	require.Equal(t, model.RetentionWait, byVersion(res)["v1_0"].Action)
	require.Len(t, f.ledger("ModifyArtifactVersion"), 2)
}

// A bad rule is refused before anything is read or changed.
func TestRetentionRefusesBadRule(t *testing.T) {
	f := newRetentionFixture(t)
	before := len(f.sim.Server.Ledger())
	_, err, _ := f.run(t, model.RetentionSpec{Rule: model.RetentionRule{Package: retentionPkg, GracePeriod: "soon"}})
	require.ErrorContains(t, err, "give at least one")
	require.ErrorContains(t, err, `gracePeriod "soon"`)
	require.Len(t, f.sim.Server.Ledger(), before)
}

// A schedule's firing (its workflow ID with the server's time suffix)
// applies the rule as the package's canonical lifecycle run; any other ID
// is refused before anything is read.
func TestScheduledRetentionRunsTheRuleAsTheCanonicalRun(t *testing.T) {
	f := newRetentionFixture(t)
	f.vis.ranBefore = true
	rule := model.RetentionRule{Package: retentionPkg, KeepNewest: 5, GracePeriod: "0s"}
	res, err, _ := f.runAs(t, model.ScheduledRetentionWorkflowID(retentionPkg)+"-2026-01-01T03:00:00Z", model.ScheduledRetentionWorkflowType, model.RetentionSpec{Rule: rule})
	require.NoError(t, err)
	require.Empty(t, res.Skipped)
	require.Equal(t, model.RetentionWorkflowID(retentionPkg), res.WorkflowID)
	require.Equal(t, 1, res.Deleted)
	require.Equal(t, model.RetentionDone, byVersion(res)["v1_0"].State)
	require.Len(t, f.ledger("ModifyArtifactVersion"), 1)

	before := len(f.sim.Server.Ledger())
	_, err, _ = f.runAs(t, "scheduled-retention/other", model.ScheduledRetentionWorkflowType, model.RetentionSpec{Rule: rule})
	require.ErrorContains(t, err, "refused")
	require.Len(t, f.sim.Server.Ledger(), before)
}

// A copy that comes into use between the plan and its deletion is refused
// by the cloud: it stays, marked Kept with the cloud's reason, the version
// stays (deprecated), and the run goes on with the other versions.
func TestRetentionKeepsACopyThatCameIntoUse(t *testing.T) {
	f := newRetentionFixture(t)
	f.vis.ranBefore = true
	f.afterFacts = func() {
		_, err := f.sim.Client.RunInstances(context.Background(), &cloud.RunInstancesRequest{RegionId: "eu-west-1", ImageId: f.versions[1]["eu-west-1"],
			InstanceType: "ecs.g7.large", ClientToken: "late-instance"})
		require.NoError(t, err)
	}
	rule := model.RetentionRule{Package: retentionPkg, KeepNewest: 4, GracePeriod: "0s"}
	res, err, _ := f.run(t, model.RetentionSpec{Rule: rule})
	require.NoError(t, err)
	got := byVersion(res)
	v2 := got["v2_0"]
	require.Equal(t, model.RetentionKept, v2.State, v2.Reason)
	require.Contains(t, v2.Reason, "came into use")
	for _, r := range v2.Regions {
		if r.Region == "eu-west-1" {
			require.Equal(t, model.RetentionKept, r.State)
			require.Contains(t, r.UsedBy[len(r.UsedBy)-1], "has been used to create instance")
		} else {
			require.Equal(t, model.RetentionDone, r.State)
		}
	}
	require.Equal(t, model.RetentionDone, got["v1_0"].State)
	require.Equal(t, 1, res.Deleted)
	require.Equal(t, 3, res.CopiesDeleted)

	pkg, err := f.sim.Client.GetArtifact(context.Background(), &cloud.GetArtifactRequest{Name: retentionPkg})
	require.NoError(t, err)
	var names []string
	for _, v := range pkg.Artifact.Versions {
		names = append(names, v.VersionName)
		if v.VersionName == "v2_0" {
			require.True(t, v.Deprecated)
			require.Equal(t, map[string]string{"eu-west-1": f.versions[1]["eu-west-1"]}, v.ImageDelivery)
		}
	}
	require.ElementsMatch(t, []string{"v2_0", "v3_0", "v4_0", "v5_0", "v6_0"}, names)
}

// cancel stops a run before its next action: nothing more changes in the
// cloud, the run ends Aborted; a second cancel is refused.
func TestRetentionCancel(t *testing.T) {
	f := newRetentionFixture(t)
	f.vis.ranBefore = true
	before := len(f.sim.Server.Ledger())
	var s testsuite.WorkflowTestSuite
	env := newTestEnv(&s)
	env.SetStartTime(f.clock.Now())
	env.RegisterWorkflowWithOptions(ImageRetention, workflow.RegisterOptions{Name: model.RetentionWorkflowType})
	env.RegisterActivity(&activities.Retention{Cloud: f.sim.Client, Visibility: f.vis, DataConverter: payload.Converter})
	var first, second *updateOutcome
	env.RegisterDelayedCallback(func() {
		first = sendCommand(env, model.CommandCancel, model.CancelCommand{Reason: "wrong rule"})
	}, 0)
	env.RegisterDelayedCallback(func() {
		second = sendCommand(env, model.CommandCancel, model.CancelCommand{Reason: "again"})
	}, 0)
	rule := model.RetentionRule{Package: retentionPkg, KeepNewest: 2, GracePeriod: "0s"}
	executeAs(env, model.RetentionWorkflowID(retentionPkg), model.RetentionWorkflowType, model.RetentionSpec{Rule: rule})
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.ErrorContains(t, err, "cancelled by the operator: wrong rule")
	first.requireAccepted(t)
	second.requireRejected(t, "already cancelled")
	p := queryProgress[model.RetentionProgress](t, env, model.QueryProgress)
	require.Equal(t, model.RetentionPhaseAborted, p.Phase)
	require.Len(t, f.sim.Server.Ledger(), before, "a cancelled run changes nothing more")
}

// A rule on a build template's images: the newest build's image is kept,
// an older one that a package version holds (as its source) is kept and
// the run says so, the oldest is deleted once; its first run was dry.
func TestRetentionOfABuildTemplatesImages(t *testing.T) {
	sim := cloudsimtest.Start(t)
	ctx := context.Background()
	tplResp, err := sim.Client.CreateImagePipeline(ctx, ptr(baseTemplate("retained")))
	require.NoError(t, err)
	tpl := tplResp.ImagePipelineId
	// Three successful builds of the template, oldest first, as the build
	// workflow leaves them: an execution that ended SUCCESS with its image.
	var images []string
	for i := range 3 {
		exec, err := sim.Client.StartImagePipelineExecution(ctx, &cloud.StartImagePipelineExecutionRequest{RegionId: buildRegion, ImagePipelineId: tpl, ClientToken: fmt.Sprint("build-", i)})
		require.NoError(t, err)
		img, err := sim.Client.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: buildRegion, ImageId: cloudsim.ImageWebappV1, DestinationRegionId: buildRegion, ClientToken: fmt.Sprint("image-", i)})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			resp, err := sim.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: buildRegion, ImageIds: []string{img.ImageId}})
			return err == nil && len(resp.Images) == 1 && resp.Images[0].Status == cloud.ImageAvailable
		}, time.Minute, 20*time.Millisecond)
		_, err = sim.Client.UpdateImagePipelineExecution(ctx, &cloud.UpdateImagePipelineExecutionRequest{RegionId: buildRegion, ExecutionId: exec.ExecutionId,
			Status: cloud.PipelineExecutionSuccess, ImageId: img.ImageId})
		require.NoError(t, err)
		images = append(images, img.ImageId)
		time.Sleep(5 * time.Millisecond) // distinct creation times
	}
	_, err = sim.Client.CreateArtifact(ctx, &cloud.CreateArtifactRequest{ArtifactType: cloud.ArtifactEcsImage, Name: "from_builds",
		VersionName: "v1_0", Description: "the second build's image", ArtifactProperty: cloud.ArtifactProperty{RegionId: buildRegion, ImageId: images[1]},
		SupportRegionIds: []string{"eu-west-1"}})
	require.NoError(t, err)

	f := &retentionFixture{sim: sim, clock: cloudsimtest.NewClock(time.Now()), vis: &fakeVisibility{}}
	rule := model.RetentionRule{BuildTemplate: tpl, Region: buildRegion, KeepNewest: 1}
	before := len(sim.Server.Ledger())
	res, err, _ := f.runAs(t, model.RetentionBuildWorkflowID(buildRegion, tpl), model.RetentionWorkflowType, model.RetentionSpec{Rule: rule})
	require.NoError(t, err)
	require.True(t, res.DryRun)
	require.Len(t, sim.Server.Ledger(), before)

	f.vis.ranBefore = true
	res, err, _ = f.runAs(t, model.RetentionBuildWorkflowID(buildRegion, tpl), model.RetentionWorkflowType, model.RetentionSpec{Rule: rule})
	require.NoError(t, err)
	require.Equal(t, tpl, res.BuildTemplate)
	require.Equal(t, 1, res.Deleted)
	require.Equal(t, 2, res.Kept)
	require.Zero(t, res.Deprecated)
	byImage := map[string]model.RetentionVersion{}
	for _, v := range res.Versions {
		byImage[v.Regions[0].ImageID] = v
	}
	require.Contains(t, byImage[images[2]].Reason, "among the newest 1")
	require.Contains(t, byImage[images[1]].Reason, "the source of version v1_0 of package from_builds")
	require.Equal(t, model.RetentionDone, byImage[images[0]].State)
	deleted := 0
	for _, e := range sim.Server.Ledger()[before:] {
		if e.Action == "DeleteImage" {
			require.Equal(t, images[0], e.ResourceId)
			deleted++
		}
	}
	require.Equal(t, 1, deleted)
	require.False(t, visible(t, sim.Client, images[0]))
	require.True(t, visible(t, sim.Client, images[1]))

	// A build rule takes no grace period, and a package rule and a template at once is refused.
	_, err, _ = f.runAs(t, model.RetentionBuildWorkflowID(buildRegion, tpl), model.RetentionWorkflowType, model.RetentionSpec{Rule: model.RetentionRule{
		BuildTemplate: tpl, Region: buildRegion, KeepNewest: 1, GracePeriod: "1d"}})
	require.ErrorContains(t, err, "gracePeriod applies to package versions")
}

func visible(t *testing.T, c *cloud.Client, id string) bool {
	t.Helper()
	resp, err := c.DescribeImages(context.Background(), &cloud.DescribeImagesRequest{RegionId: buildRegion, ImageIds: []string{id}})
	require.NoError(t, err)
	return len(resp.Images) == 1
}

func ptr[T any](v T) *T { return &v }
