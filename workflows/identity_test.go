package workflows

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
)

// operations lists every top-level workflow with a valid input and its
// canonical workflow ID.
func operations() []struct {
	typ, id string
	input   any
} {
	d, r, bg := validSpec(), rolloutSpec(2, model.PauseNone), blueGreenSpec(model.ShiftStrategy{Type: model.StrategyAllAtOnce})
	return []struct {
		typ, id string
		input   any
	}{
		{model.DistributeWorkflowType, model.DistributeWorkflowID(d.Package, d.Version), d},
		{model.PublishWorkflowType, model.PublishWorkflowID("files", "v1_0"), model.PublishSpec{Package: "files", Version: "v1_0"}},
		{model.BuildWorkflowType, model.BuildWorkflowID("cn-hangzhou", "ip-1"), model.BuildInput{Region: "cn-hangzhou", TemplateID: "ip-1"}},
		{model.RolloutWorkflowType, model.RolloutWorkflowID(r.ScalingGroupID), r},
		{model.BlueGreenWorkflowType, model.BlueGreenWorkflowID(bg.Cluster, bg.Service), bg},
	}
}

// bareEnv registers every workflow and no activity implementation: a test
// fails if the workflow calls any activity.
func bareEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *[]string) {
	var s testsuite.WorkflowTestSuite
	env := newTestEnv(&s)
	Register(env)
	var called []string
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		// Recording the run's metrics touches nothing outside the worker.
		if info.ActivityType.Name != metrics.RecordActivity {
			called = append(called, info.ActivityType.Name)
		}
	})
	return env, &called
}

func TestEveryWorkflowRefusesANonCanonicalWorkflowID(t *testing.T) {
	for _, op := range operations() {
		t.Run(op.typ, func(t *testing.T) {
			env, called := bareEnv(t)
			executeAs(env, "my-own-id", op.typ, op.input)
			require.True(t, env.IsWorkflowCompleted())
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, env.GetWorkflowError(), &appErr)
			require.Equal(t, ErrTypeWrongWorkflowID, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.Contains(t, appErr.Error(), op.id, "the error names the ID to use")
			require.Empty(t, *called, "refused before any activity")

			// progress answers, with the refusal.
			v, err := env.QueryWorkflow(model.QueryProgress)
			require.NoError(t, err)
			var p map[string]any
			require.NoError(t, v.Get(&p))
			require.Contains(t, p["error"], "my-own-id")
		})
	}
}

func TestRolloutBatchRefusesToRunOutsideItsRollout(t *testing.T) {
	env, called := bareEnv(t)
	executeAs(env, "rollout/asg-web-hz/batch-1/x", model.RolloutBatchWorkflowType, model.RolloutBatchInput{
		Change: model.ChangeSpec{Group: "asg-web-hz", TaskType: model.TaskScript}, Instances: []model.BatchInstance{{InstanceID: "i-1", Attempt: 1}},
	})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, env.GetWorkflowError(), &appErr)
	require.Equal(t, ErrTypeWrongWorkflowID, appErr.Type())
	require.Empty(t, *called)
}

func TestEveryWorkflowAnswersProgressAfterFailedValidation(t *testing.T) {
	invalid := map[string]any{
		model.DistributeWorkflowType: model.DistributeSpec{Package: "webapp", Version: "v1_0_0"},
		model.PublishWorkflowType:    model.PublishSpec{Package: "files", Version: "v1_0", CopyAttempts: -1},
		model.BuildWorkflowType:      model.BuildInput{Region: "cn-hangzhou", TemplateID: "ip-1", RetryWindow: "soon"},
		model.RolloutWorkflowType:    model.RolloutSpec{ScalingGroupID: "asg-web-hz"},
		model.BlueGreenWorkflowType:  model.BlueGreenSpec{Cluster: "demo", Service: "web"},
	}
	// A distribution or a publication looks its version up (read only)
	// before refusing it: a published version answers with its publication
	// (TestRefusedRestartOfAPublishedVersionAnswersWithItsPublication).
	lookups := map[string]string{model.DistributeWorkflowType: "FindPublishedVersion", model.PublishWorkflowType: "FindPublishedContentVersion"}
	for _, op := range operations() {
		t.Run(op.typ, func(t *testing.T) {
			env, called := bareEnv(t)
			switch op.typ {
			case model.DistributeWorkflowType:
				env.RegisterActivity(&activities.Packages{})
				env.OnActivity(packages.FindPublishedVersion, mock.Anything, mock.Anything).Return(nil, nil)
			case model.PublishWorkflowType:
				env.RegisterActivity(&activities.PackageContent{})
				env.OnActivity(content.FindPublishedContentVersion, mock.Anything, mock.Anything).Return(nil, nil)
			}
			executeAs(env, op.id, op.typ, invalid[op.typ])
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, env.GetWorkflowError(), &appErr)
			require.Equal(t, ErrTypeInvalidSpec, appErr.Type())
			if lookup, ok := lookups[op.typ]; ok {
				require.Equal(t, []string{lookup}, *called, "only the read-only lookup")
			} else {
				require.Empty(t, *called)
			}
			v, err := env.QueryWorkflow(model.QueryProgress)
			require.NoError(t, err)
			var p map[string]any
			require.NoError(t, v.Get(&p))
			require.NotEmpty(t, p["error"], "progress says why: %v", p)
		})
	}
}

// A misspelled field (e.g. "bacthes") is refused with its name rather than
// dropped while the run goes on with defaults.
func TestMisspelledInputFieldIsRefusedByName(t *testing.T) {
	for _, op := range operations() {
		t.Run(op.typ, func(t *testing.T) {
			var fields map[string]any
			raw, err := json.Marshal(op.input)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &fields))
			fields["bacthes"] = 3
			env, called := bareEnv(t)
			executeAs(env, op.id, op.typ, fields)
			require.ErrorContains(t, env.GetWorkflowError(), `unknown field "bacthes"`)
			require.Empty(t, *called)
			// progress answers even though the workflow never started.
			v, err := env.QueryWorkflow(model.QueryProgress)
			require.NoError(t, err)
			var p InputRefused
			require.NoError(t, v.Get(&p))
			require.Equal(t, model.PhaseFailed, p.Phase)
		})
	}
}

func TestDistributionOfAPublishedVersionAnswersWithItsResult(t *testing.T) {
	env := newDistributionEnv(t)
	published := &model.DistributionResult{Package: "webapp", Version: "v1_0_0", ArtifactID: "artifact-1",
		ImageIDs:   map[string]string{"cn-shanghai": "m-1", "ap-southeast-1": "m-2", "eu-west-1": "m-3"},
		Permission: model.Permission{Visibility: model.VisibilityPrivate}, AlreadyPublished: true}
	env.OnActivity(packages.FindPublishedImageVersion, mock.Anything, mock.Anything).Return(published, nil)
	env.OnActivity(packages.PrepareDraftVersion, mock.Anything, mock.Anything).Panic("a published version is not prepared again")
	env.execute(validSpec())
	require.NoError(t, env.GetWorkflowError())
	var res model.DistributionResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, *published, res)
	p := env.progress(t)
	require.Equal(t, model.PhasePublished, p.Phase)
	require.Equal(t, "m-2", p.Region("ap-southeast-1").ImageID)
}

func TestPublicationOfAPublishedVersionAnswersWithItsResult(t *testing.T) {
	env := newPublishEnv(t)
	published := &model.PublishResult{Package: "files", Version: "v1_0", Type: model.PackageFile, ArtifactID: "artifact-1",
		Delivery: map[string]string{"cn-hangzhou": "https://x"}, Endpoint: model.EndpointInternal, AlreadyPublished: true}
	env.OnActivity(content.FindPublishedContentVersion, mock.Anything, mock.Anything).Return(published, nil)
	env.OnActivity(content.LoadDraftVersion, mock.Anything, mock.Anything).Panic("a published version is not loaded as a draft")
	executeAs(env.TestWorkflowEnvironment, model.PublishWorkflowID("files", "v1_0"), model.PublishWorkflowType, model.PublishSpec{Package: "files", Version: "v1_0"})
	require.NoError(t, env.GetWorkflowError())
	var res model.PublishResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.True(t, res.AlreadyPublished)
}

// A start of a published version's canonical workflow ID whose input is
// refused (by the temporal CLI, say) answers with the publication: the
// version's status is still its publication, and the refusal says why,
// pointing to it; nothing is prepared. Issue 18, item 7.
func TestRefusedRestartOfAPublishedVersionAnswersWithItsPublication(t *testing.T) {
	t.Run("distribution", func(t *testing.T) {
		env := newDistributionEnv(t)
		published := &model.DistributionResult{Package: "webapp", Version: "v1_0_0", ArtifactID: "artifact-1",
			ImageIDs: map[string]string{"cn-shanghai": "m-1", "eu-west-1": "m-3"}, Dropped: []string{"ap-southeast-1"},
			Permission: model.Permission{Visibility: model.VisibilityPrivate}, AlreadyPublished: true}
		env.OnActivity(packages.FindPublishedVersion, mock.Anything, activities.PackageVersionInput{Package: "webapp", Version: "v1_0_0"}).Return(published, nil)
		env.OnActivity(images.CheckSourceImage, mock.Anything, mock.Anything).Panic("a refused start checks nothing")
		env.OnActivity(packages.PrepareDraftVersion, mock.Anything, mock.Anything).Panic("a published version is not prepared again")
		spec := validSpec()
		spec.Description = "short"

		env.execute(spec)

		require.NoError(t, env.GetWorkflowError())
		var res model.DistributionResult
		require.NoError(t, env.GetWorkflowResult(&res))
		require.Equal(t, *published, res)
		p := env.progress(t)
		require.Equal(t, model.PhasePublished, p.Phase)
		require.Equal(t, "m-3", p.Region("eu-west-1").ImageID)
		require.Equal(t, model.RegionDropped, p.Region("ap-southeast-1").State)
		require.Contains(t, p.LastRefusal, "input refused (invalid spec: description")
		require.Contains(t, p.LastRefusal, "version v1_0_0 of package webapp is published")
		require.Empty(t, p.Error)
	})
	t.Run("publication", func(t *testing.T) {
		env := newPublishEnv(t)
		published := &model.PublishResult{Package: "files", Version: "v1_0", Type: model.PackageFile, ArtifactID: "artifact-1",
			Delivery: map[string]string{"cn-hangzhou": "https://x"}, Endpoint: model.EndpointInternal, AlreadyPublished: true}
		env.OnActivity(content.FindPublishedContentVersion, mock.Anything, mock.Anything).Return(published, nil)
		env.OnActivity(content.LoadDraftVersion, mock.Anything, mock.Anything).Panic("a published version is not loaded as a draft")

		executeAs(env.TestWorkflowEnvironment, model.PublishWorkflowID("files", "v1_0"), model.PublishWorkflowType, model.PublishSpec{Package: "files", Version: "v1_0", CopyAttempts: -1})

		require.NoError(t, env.GetWorkflowError())
		var res model.PublishResult
		require.NoError(t, env.GetWorkflowResult(&res))
		require.Equal(t, *published, res)
		p := env.progress(t)
		require.Equal(t, model.PhasePublished, p.Phase)
		require.Contains(t, p.LastRefusal, "input refused (invalid spec: copyAttempts")
	})
}

// A valid restart asking for other regions shows the publication's own
// regions, not the asked ones as dropped, and names the asked ones the
// version lacks.
func TestRestartOfAPublishedVersionWithOtherRegionsShowsThePublication(t *testing.T) {
	env := newDistributionEnv(t)
	published := &model.DistributionResult{Package: "webapp", Version: "v1_0_0", ArtifactID: "artifact-1",
		ImageIDs: map[string]string{"cn-shanghai": "m-1", "eu-west-1": "m-3"}, AlreadyPublished: true}
	env.OnActivity(packages.FindPublishedImageVersion, mock.Anything, mock.Anything).Return(published, nil)
	spec := validSpec()
	spec.Regions = []string{"cn-beijing"}

	env.execute(spec)

	require.NoError(t, env.GetWorkflowError())
	p := env.progress(t)
	require.Len(t, p.Regions, 2)
	for _, r := range p.Regions {
		require.Equal(t, model.RegionAvailable, r.State, r.Region)
	}
	require.Nil(t, p.Region("cn-beijing"))
	require.Contains(t, p.LastRefusal, "published without cn-beijing")
}
