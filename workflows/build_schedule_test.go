package workflows

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

// The scheduled-build tests run ScheduledBuild with its real children
// (ImageBuild, DistributeImagePackage) and real activities against the
// simulated cloud; the schedule's last completion result is what
// SetLastCompletionResult hands the run, as the server does.

const testSchedule = "nightly"

func newScheduledBuildEnv(t *testing.T) *buildEnv {
	env := newBuildEnv(t)
	env.RegisterWorkflowWithOptions(ScheduledBuild, workflow.RegisterOptions{Name: model.ScheduledBuildWorkflowType})
	return env
}

// executeScheduled runs the schedule's action as the server starts it: the
// action's workflow ID with the firing's time appended.
func (env *buildEnv) executeScheduled(in model.ScheduledBuildInput) {
	id := model.ScheduledBuildWorkflowID(in.Region, in.TemplateID, in.ScheduleName) + "-2026-12-08T03:00:00Z"
	executeAs(env.TestWorkflowEnvironment, id, model.ScheduledBuildWorkflowType, in)
}

func (env *buildEnv) scheduledResult(t *testing.T) model.ScheduledBuildResult {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res model.ScheduledBuildResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res
}

func (env *buildEnv) count(action string) int {
	n := 0
	for _, e := range env.sim.Server.Ledger() {
		if e.Action == action {
			n++
		}
	}
	return n
}

func TestScheduledBuildSkipsWhenTheSourceIsUnchanged(t *testing.T) {
	env := newScheduledBuildEnv(t)
	tpl := env.template(t, baseTemplate("sched-skip"))
	// The last successful scheduled build started from the family's newest
	// image, m-webapp-v2; a skipped run after it carried it forward.
	env.SetLastCompletionResult(model.ScheduledBuildResult{Outcome: model.OutcomeSkipped, Source: cloudsim.ImageWebappV2, LastBuiltSource: cloudsim.ImageWebappV2})

	env.executeScheduled(model.ScheduledBuildInput{Region: buildRegion, TemplateID: tpl, ScheduleName: testSchedule})

	res := env.scheduledResult(t)
	require.Equal(t, model.OutcomeSkipped, res.Outcome)
	require.Contains(t, res.Reason, "unchanged")
	require.Equal(t, cloudsim.ImageWebappV2, res.Source)
	require.Equal(t, cloudsim.ImageWebappV2, res.LastBuiltSource, "carried forward for the next run")
	for _, action := range []string{"StartImagePipelineExecution", "RunInstances", "CreateVpc", "CreateImage"} {
		require.Zero(t, env.count(action), "%s: a skipped run launches nothing", action)
	}
	p := queryProgress[model.ScheduledBuildProgress](t, env.TestWorkflowEnvironment, model.QueryScheduledBuildProgress)
	require.Equal(t, model.ScheduledStepDone, p.Step)
	require.Equal(t, model.OutcomeSkipped, p.Outcome)
}

func TestScheduledBuildBuildsWhenTheSourceChanged(t *testing.T) {
	env := newScheduledBuildEnv(t)
	tpl := env.template(t, baseTemplate("sched-build"))
	// The last scheduled build started from m-webapp-v1; the family's newest
	// image is m-webapp-v2 now.
	env.SetLastCompletionResult(model.ScheduledBuildResult{Outcome: model.OutcomeBuilt, Source: cloudsim.ImageWebappV1, LastBuiltSource: cloudsim.ImageWebappV1})

	env.executeScheduled(model.ScheduledBuildInput{Region: buildRegion, TemplateID: tpl, ScheduleName: testSchedule})

	res := env.scheduledResult(t)
	require.Equal(t, model.OutcomeBuilt, res.Outcome)
	require.Equal(t, cloudsim.ImageWebappV2, res.Source)
	require.Equal(t, cloudsim.ImageWebappV2, res.LastBuiltSource)
	require.NotEmpty(t, res.ExecutionID)
	require.NotEmpty(t, res.ImageID)
	require.Equal(t, 1, env.count("StartImagePipelineExecution"))
	require.Equal(t, 1, env.count("CreateImage"))
	require.Equal(t, cloud.PipelineExecutionSuccess, env.execution(t, tpl).Status)
	require.Empty(t, env.created("Instance", "VSwitch", "Vpc"), "intermediate resources released")
	require.Zero(t, env.count("CreateArtifact"), "nothing published when not asked")
}

func TestScheduledBuildFirstRunBuilds(t *testing.T) {
	env := newScheduledBuildEnv(t)
	tpl := env.template(t, baseTemplate("sched-first"))

	env.executeScheduled(model.ScheduledBuildInput{Region: buildRegion, TemplateID: tpl, ScheduleName: testSchedule})

	res := env.scheduledResult(t)
	require.Equal(t, model.OutcomeBuilt, res.Outcome)
	require.Equal(t, cloudsim.ImageWebappV2, res.LastBuiltSource)
	require.Equal(t, 1, env.count("CreateImage"))
}

func TestScheduledBuildAlwaysBuildsAnUnchangedSource(t *testing.T) {
	env := newScheduledBuildEnv(t)
	tpl := env.template(t, baseTemplate("sched-always"))
	env.SetLastCompletionResult(model.ScheduledBuildResult{Outcome: model.OutcomeBuilt, Source: cloudsim.ImageWebappV2, LastBuiltSource: cloudsim.ImageWebappV2})

	env.executeScheduled(model.ScheduledBuildInput{Region: buildRegion, TemplateID: tpl, ScheduleName: testSchedule, Always: true})

	require.Equal(t, model.OutcomeBuilt, env.scheduledResult(t).Outcome)
	require.Equal(t, 1, env.count("CreateImage"))
}

func TestScheduledBuildPublishesAVersionNamedFromThePattern(t *testing.T) {
	env := newScheduledBuildEnv(t)
	req := baseTemplate("sched-publish")
	req.ToRegionIds = []string{buildRegion, "cn-shanghai"}
	tpl := env.template(t, req)
	// 20:30 UTC on 7 December is 04:30 on 8 December in Shanghai.
	env.SetStartTime(time.Date(2026, 12, 7, 20, 30, 0, 0, time.UTC))

	env.executeScheduled(model.ScheduledBuildInput{Region: buildRegion, TemplateID: tpl, ScheduleName: testSchedule, Publish: &model.ScheduledPublish{
		Package: "webapp_nightly", VersionPattern: "v{{.Date}}", TimeZone: "Asia/Shanghai",
		Description: "nightly web application image",
	}})

	res := env.scheduledResult(t)
	require.Equal(t, model.OutcomeBuilt, res.Outcome)
	require.Equal(t, "webapp_nightly", res.Package)
	require.Equal(t, "v20261208", res.Version)
	arts, err := env.sim.Client.ListArtifacts(context.Background(), &cloud.ListArtifactsRequest{Name: "webapp_nightly"})
	require.NoError(t, err)
	require.Len(t, arts.Artifacts, 1)
	var found *cloud.ArtifactVersion
	for i, v := range arts.Artifacts[0].Versions {
		if v.VersionName == "v20261208" {
			found = &arts.Artifacts[0].Versions[i]
		}
	}
	require.NotNil(t, found, "version v20261208 published: %+v", arts.Artifacts[0].Versions)
	require.ElementsMatch(t, []string{buildRegion, "cn-shanghai"}, mapsKeys(found.ImageDelivery), "published in the template's regions")
	imgs, err := env.sim.Client.DescribeImages(context.Background(), &cloud.DescribeImagesRequest{RegionId: buildRegion, ImageIds: []string{found.ImageDelivery[buildRegion]}})
	require.NoError(t, err)
	require.Len(t, imgs.Images, 1)
	require.Equal(t, res.ImageID, imgs.Images[0].SourceImageId, "the version's image is a copy of the built one")
}

func mapsKeys(m map[string]string) []string {
	return slices.Collect(maps.Keys(m))
}

func TestScheduledBuildRefusesBadInputAndForeignIDs(t *testing.T) {
	env := newScheduledBuildEnv(t)
	env.executeScheduled(model.ScheduledBuildInput{Region: buildRegion, TemplateID: "ip-abc", ScheduleName: testSchedule, Publish: &model.ScheduledPublish{
		Package: "webapp_nightly", VersionPattern: "v1_0_0", Description: "nightly web application image",
	}})
	require.True(t, env.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, env.GetWorkflowError(), &appErr)
	require.Equal(t, "InvalidSpec", appErr.Type())
	require.Contains(t, appErr.Message(), "names every run")

	env = newScheduledBuildEnv(t)
	executeAs(env.TestWorkflowEnvironment, "my-own-id", model.ScheduledBuildWorkflowType,
		model.ScheduledBuildInput{Region: buildRegion, TemplateID: "ip-abc", ScheduleName: testSchedule})
	require.ErrorAs(t, env.GetWorkflowError(), &appErr)
	require.Equal(t, "WrongWorkflowID", appErr.Type())
	require.Empty(t, env.sim.Server.Ledger())
}

// A scheduled run cancelled while its build runs (a client's cancel, or the
// overlap policy CancelOther) cancels the build, which releases what it
// made; the run ends cancelled, not failed.
func TestScheduledBuildCancelledCancelsItsBuild(t *testing.T) {
	env := newScheduledBuildEnv(t)
	tpl := env.template(t, baseTemplate("sched-cancel"))
	env.OnActivity(env.real.RunComponent, mock.Anything, mock.Anything).After(time.Hour).Return(env.real.RunComponent)
	env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Minute)

	env.executeScheduled(model.ScheduledBuildInput{Region: buildRegion, TemplateID: tpl, ScheduleName: testSchedule})

	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.True(t, temporal.IsCanceledError(err), "%v", err)
	require.False(t, lifecycle.IsType(err, model.ErrTypeScheduledBuildFailed), "cancelled, not failed: %v", err)
	env.requireNothingLeft(t)
	require.Equal(t, cloud.PipelineExecutionCancelled, env.execution(t, tpl).Status)
}

// A version pattern that names a build like an earlier published version
// (v{{.Date}} of two templates publishing into one package the same day):
// the run fails ScheduledPublishFailed, saying the image was built and kept;
// the published version is untouched.
func TestScheduledBuildPublishOfATakenVersionFails(t *testing.T) {
	env := newScheduledBuildEnv(t)
	tpl := env.template(t, baseTemplate("sched-taken"))
	start := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	in := model.ScheduledBuildInput{Region: buildRegion, TemplateID: tpl, ScheduleName: testSchedule, Always: true, Publish: &model.ScheduledPublish{
		Package: "webapp_daily", VersionPattern: "v{{.Date}}", Description: "daily web application image",
	}}
	env.SetStartTime(start)
	env.executeScheduled(in)
	first := env.scheduledResult(t)
	require.Equal(t, "v20261208", first.Version)

	// The same day, later: another template's scheduled build, on the same
	// cloud, into the same package. (Another template: the test suite's run
	// IDs, and so the build's client tokens, would repeat the first build's.)
	in.TemplateID = env.template(t, baseTemplate("sched-taken-2"))
	var s testsuite.WorkflowTestSuite
	second := &buildEnv{TestWorkflowEnvironment: newTestEnv(&s), sim: env.sim, real: env.real, images: env.images}
	second.RegisterWorkflowWithOptions(ScheduledBuild, workflow.RegisterOptions{Name: model.ScheduledBuildWorkflowType})
	second.RegisterWorkflowWithOptions(ImageBuild, workflow.RegisterOptions{Name: model.BuildWorkflowType})
	second.RegisterWorkflowWithOptions(DistributeImagePackage, workflow.RegisterOptions{Name: model.DistributeWorkflowType})
	second.RegisterActivity(env.real)
	second.RegisterActivity(env.images)
	second.RegisterActivity(&activities.Packages{Nest: env.sim.Client})
	second.SetStartTime(start.Add(6 * time.Hour))
	second.executeScheduled(in)

	require.True(t, second.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, second.GetWorkflowError(), &appErr)
	require.Equal(t, model.ErrTypeScheduledPublishFailed, appErr.Type())
	require.Contains(t, appErr.Message(), "was built (image m-")
	require.Contains(t, appErr.Message(), "v20261208")
	var res model.ScheduledBuildResult
	require.NoError(t, appErr.Details(&res))
	require.NotEqual(t, first.ImageID, res.ImageID)
	imgs, err := env.sim.Client.DescribeImages(context.Background(), &cloud.DescribeImagesRequest{RegionId: buildRegion, ImageIds: []string{res.ImageID}})
	require.NoError(t, err)
	require.Len(t, imgs.Images, 1, "the second build's image is kept")
	arts, err := env.sim.Client.ListArtifacts(context.Background(), &cloud.ListArtifactsRequest{Name: "webapp_daily"})
	require.NoError(t, err)
	require.Len(t, arts.Artifacts[0].Versions, 1)
	require.Equal(t, cloud.ArtifactAvailable, arts.Artifacts[0].Versions[0].Status, "the first version stays published")
}
