package workflows

import (
	"context"
	"slices"
	"strings"
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
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/model"
)

// The build tests run the workflow in the SDK test suite with its real
// activities against a simulated cloud, so that every assertion about what
// was created and released is read from the simulator's ledger. A test that
// needs a step to block (cancel at that step) or to fail in a way the
// simulator cannot inject wraps that one activity in a mock.

const buildRegion = cloudsim.SeedRegion

type buildEnv struct {
	*testsuite.TestWorkflowEnvironment
	sim    *cloudsimtest.Env
	real   *activities.Builds
	images *activities.Images
}

func newBuildEnv(t *testing.T) *buildEnv {
	t.Helper()
	sim := cloudsimtest.Start(t)
	var s testsuite.WorkflowTestSuite
	env := &buildEnv{TestWorkflowEnvironment: newTestEnv(&s), sim: sim}
	env.real = &activities.Builds{Cloud: sim.Client, PollInterval: 5 * time.Millisecond}
	env.images = &activities.Images{ECS: sim.Client, PollInterval: 5 * time.Millisecond}
	env.RegisterWorkflowWithOptions(ImageBuild, workflow.RegisterOptions{Name: model.BuildWorkflowType})
	env.RegisterWorkflowWithOptions(DistributeImagePackage, workflow.RegisterOptions{Name: model.DistributeWorkflowType})
	env.RegisterActivity(env.real)
	env.RegisterActivity(env.images)
	env.RegisterActivity(&activities.Packages{Nest: sim.Client})
	return env
}

// baseTemplate builds from the webapp family (its newest image is
// m-webapp-v2), keeps intermediate resources only when a test says so.
func baseTemplate(name string) cloud.CreateImagePipelineRequest {
	return cloud.CreateImagePipelineRequest{
		RegionId: buildRegion, Name: name, BaseImageType: cloud.BaseImageFamily, BaseImage: "webapp",
		BuildContent: []cloud.Component{
			{ComponentName: "acs:harden-ssh"},
			{Name: "install app", Content: "echo installing webapp 2.1\necho done"},
		},
		ClientToken: "template-" + name,
	}
}

// keepingTemplate is baseTemplate with release on failure off: a failed step
// keeps the resources and waits for retry-step.
func keepingTemplate(name string) cloud.CreateImagePipelineRequest {
	req := baseTemplate(name)
	keep := false
	req.DeleteInstanceOnFailure = &keep
	return req
}

func (env *buildEnv) template(t *testing.T, req cloud.CreateImagePipelineRequest) string {
	t.Helper()
	resp, err := env.sim.Client.CreateImagePipeline(context.Background(), &req)
	require.NoError(t, err)
	return resp.ImagePipelineId
}

func (env *buildEnv) execute(templateID, retryWindow string) {
	executeAs(env.TestWorkflowEnvironment, model.BuildWorkflowID(buildRegion, templateID), model.BuildWorkflowType, model.BuildInput{Region: buildRegion, TemplateID: templateID, RetryWindow: retryWindow})
}

func (env *buildEnv) progress(t *testing.T) model.BuildProgress {
	t.Helper()
	return queryProgress[model.BuildProgress](t, env.TestWorkflowEnvironment, model.QueryBuildProgress)
}

func (env *buildEnv) command(name string, payload any) *updateOutcome {
	return sendCommand(env.TestWorkflowEnvironment, name, payload)
}

// created lists, from the ledger, the resources of kinds created and not
// released or deleted since.
func (env *buildEnv) created(kinds ...string) []string {
	live := map[string]bool{}
	var order []string
	for _, e := range env.sim.Server.Ledger() {
		if !slices.Contains(kinds, e.ResourceType) {
			continue
		}
		switch e.Action {
		case "RunInstances", "CreateVpc", "CreateVSwitch", "CreateImage", "CopyImage":
			live[e.ResourceId] = true
			order = append(order, e.ResourceId)
		case "DeleteInstances", "DeleteVpc", "DeleteVSwitch", "DeleteImage", "CancelCopyImage",
			"DeleteArtifact": // deleting a package version deletes the copies it distributed

			delete(live, e.ResourceId)
		}
	}
	var out []string
	for _, id := range order {
		if live[id] {
			out = append(out, id)
		}
	}
	return out
}

// requireNothingLeft checks the ledger: no instance, vSwitch, VPC or image
// the build made is left, and the release ran instances, then vSwitch, then
// VPC.
func (env *buildEnv) requireNothingLeft(t *testing.T) {
	t.Helper()
	require.Empty(t, env.created("Instance", "VSwitch", "Vpc", "Image"), "resources left behind")
	env.requireReleaseOrder(t)
}

func (env *buildEnv) requireReleaseOrder(t *testing.T) {
	t.Helper()
	var lastInstance, vsw, vpc int64
	for _, e := range env.sim.Server.Ledger() {
		switch e.Action {
		case "DeleteInstances":
			lastInstance = e.Seq
		case "DeleteVSwitch":
			vsw = e.Seq
		case "DeleteVpc":
			vpc = e.Seq
		}
	}
	if vsw > 0 {
		require.Less(t, lastInstance, vsw, "instances are released before the vSwitch")
		require.Less(t, vsw, vpc, "the vSwitch is deleted before the VPC")
	}
}

func (env *buildEnv) execution(t *testing.T, templateID string) cloud.ImagePipelineExecution {
	t.Helper()
	resp, err := env.sim.Client.DescribeImagePipelineExecutions(context.Background(), &cloud.DescribeImagePipelineExecutionsRequest{RegionId: buildRegion, ImagePipelineId: templateID})
	require.NoError(t, err)
	require.NotEmpty(t, resp.ImagePipelineExecutions)
	return resp.ImagePipelineExecutions[0]
}

func (env *buildEnv) problems(t *testing.T, image string, items ...string) {
	t.Helper()
	require.NoError(t, env.sim.Admin().SetGuestOSProblems(context.Background(), cloud.GuestOSProblems{RegionId: buildRegion, ImageId: image, Items: items}))
}

func (env *buildEnv) fault(t *testing.T, f cloud.Fault) {
	t.Helper()
	_, err := env.sim.Server.AddFault(f)
	require.NoError(t, err)
}

func buildError(t *testing.T, env *buildEnv) (*temporal.ApplicationError, model.BuildResult) {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	var result model.BuildResult
	require.NoError(t, appErr.Details(&result))
	return appErr, result
}

func TestBuildSucceedsWithRepairDistributionAndSharing(t *testing.T) {
	env := newBuildEnv(t)
	env.problems(t, cloudsim.ImageWebappV2, cloud.GuestOSDhcp, cloud.GuestOSGrub)
	req := baseTemplate("web")
	req.ImageName = "webapp"
	req.ToRegionIds = []string{buildRegion, "cn-shanghai"}
	req.AddAccounts = []string{cloudsim.SecondAccount}
	tpl := env.template(t, req)

	env.execute(tpl, "")

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var result model.BuildResult
	require.NoError(t, env.GetWorkflowResult(&result))
	require.Len(t, result.Images, 2)
	require.Equal(t, []string{cloudsim.SecondAccount}, result.SharedWith)
	require.Empty(t, result.Kept)
	ctx := context.Background()
	for region, id := range result.Images {
		img, err := env.sim.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: region, ImageIds: []string{id}})
		require.NoError(t, err)
		require.Len(t, img.Images, 1)
		require.Equal(t, cloud.ImageAvailable, img.Images[0].Status, region)
		require.Equal(t, "webapp_"+env.execution(t, tpl).ExecutionId, img.Images[0].ImageName, "every region's image is <prefix>_<executionId>")
		perm, err := env.sim.Client.DescribeImageSharePermission(ctx, &cloud.DescribeImageSharePermissionRequest{RegionId: region, ImageId: id})
		require.NoError(t, err)
		require.Equal(t, []string{cloudsim.SecondAccount}, perm.Accounts, region)
	}
	exec := env.execution(t, tpl)
	require.Equal(t, cloud.PipelineExecutionSuccess, exec.Status)
	require.Equal(t, result.ImageID, exec.ImageId)
	built, err := env.sim.Client.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: buildRegion, ImageIds: []string{result.ImageID}})
	require.NoError(t, err)
	require.Equal(t, "webapp_"+exec.ExecutionId, built.Images[0].ImageName)

	p := env.progress(t)
	require.Equal(t, model.StepDone, p.Step)
	require.Equal(t, cloudsim.ImageWebappV2, p.SourceImage, "the family's newest image")
	results := map[string]string{}
	for _, c := range p.Checks {
		results[c.Item] = c.Result
	}
	require.Equal(t, cloud.CheckRepaired, results[cloud.GuestOSDhcp])
	require.Equal(t, cloud.CheckRepaired, results[cloud.GuestOSGrub])
	require.Equal(t, cloud.CheckNormal, results[cloud.GuestOSFstab])
	require.Len(t, p.Components, 3) // two build components, one default test
	require.Contains(t, p.Components[1].Output, "installing webapp 2.1")
	require.Equal(t, "ecs.c7.large", p.Attempts[0].InstanceType, "the smallest type in stock")
	// Only the outputs are left: the built image and its copy.
	require.ElementsMatch(t, []string{result.Images[buildRegion], result.Images["cn-shanghai"]}, env.created("Instance", "VSwitch", "Vpc", "Image"))
	env.requireReleaseOrder(t)
	for _, r := range p.Resources {
		if r.Kind != model.ResourceImage && r.Kind != model.ResourceImageCopy && r.Kind != model.ResourcePackageVersion {
			require.Equal(t, model.ResourceReleased, r.State, r.Kind+" "+r.ID)
		}
	}
}

func TestBuildWithRepairOffFailsTheTestAndCleansUp(t *testing.T) {
	env := newBuildEnv(t)
	env.problems(t, cloudsim.ImageWebappV2, cloud.GuestOSFstab)
	req := baseTemplate("norepair")
	off := false
	req.RepairMode = &off
	tpl := env.template(t, req)

	env.execute(tpl, "")

	appErr, _ := buildError(t, env)
	require.Equal(t, ErrTypeBuildFailed, appErr.Type())
	require.Contains(t, appErr.Error(), "step Test failed")
	require.Contains(t, appErr.Error(), cloud.GuestOSFstab)
	p := env.progress(t)
	require.Equal(t, model.StepTest, p.FailedStep)
	require.Contains(t, p.Checks, model.GuestOSCheck{Item: cloud.GuestOSFstab, Result: cloud.CheckAbnormal, Detail: "/etc/fstab names a device by a path that changes between boots"})
	env.requireNothingLeft(t)
	require.Equal(t, cloud.PipelineExecutionFailed, env.execution(t, tpl).Status)
}

func TestBuildFallsBackToTheNextInstanceType(t *testing.T) {
	env := newBuildEnv(t)
	ctx := context.Background()
	// ecs.c7.large is listed as in stock but sold out when launched; the
	// listing shows ecs.g7.large sold out.
	require.NoError(t, env.sim.Admin().SetStock(ctx, cloud.StockRule{RegionId: buildRegion, InstanceType: "ecs.c7.large", SoldOut: true}))
	require.NoError(t, env.sim.Admin().SetStock(ctx, cloud.StockRule{RegionId: buildRegion, InstanceType: "ecs.g7.large", SoldOut: true}))
	env.OnActivity(env.real.ListBuildInstanceTypes, mock.Anything, mock.Anything).Return(func(ctx context.Context, region string) ([]activities.InstanceTypeStock, error) {
		types, err := env.real.ListBuildInstanceTypes(ctx, region)
		types[0].SoldOut = false // stale listing
		return types, err
	})
	tpl := env.template(t, baseTemplate("fallback"))

	env.execute(tpl, "")

	require.NoError(t, env.GetWorkflowError())
	p := env.progress(t)
	require.Len(t, p.Attempts, 3)
	require.Equal(t, model.InstanceTypeAttempt{InstanceType: "ecs.g7.large", Result: "SoldOut", Error: "sold out (DescribeInstanceTypes)"}, p.Attempts[0])
	require.Equal(t, "ecs.c7.large", p.Attempts[1].InstanceType)
	require.Equal(t, "SoldOut", p.Attempts[1].Result)
	require.Contains(t, p.Attempts[1].Error, "sold out")
	require.Equal(t, model.InstanceTypeAttempt{InstanceType: "ecs.c7.xlarge", Result: "Launched"}, p.Attempts[2])
}

func TestBuildStepFailuresCleanUp(t *testing.T) {
	cases := []struct {
		step  string
		setup func(t *testing.T, env *buildEnv, req *cloud.CreateImagePipelineRequest)
		after func(t *testing.T, env *buildEnv) // after the template exists
		want  string
	}{
		{step: model.StepResolve, setup: func(t *testing.T, env *buildEnv, req *cloud.CreateImagePipelineRequest) {
			// webapp-v2: no instance or scaling group uses it, so it can be deleted.
			req.BaseImageType, req.BaseImage = cloud.BaseImageImage, cloudsim.ImageWebappV2
		}, after: func(t *testing.T, env *buildEnv) {
			_, err := env.sim.Client.DeleteImage(context.Background(), &cloud.DeleteImageRequest{RegionId: buildRegion, ImageId: cloudsim.ImageWebappV2})
			require.NoError(t, err)
		}, want: "does not exist"},
		{step: model.StepNetwork, setup: func(t *testing.T, env *buildEnv, _ *cloud.CreateImagePipelineRequest) {
			env.fault(t, cloud.Fault{Kind: cloud.FaultQuota, Action: "CreateVSwitch"})
		}, want: "quota"},
		{step: model.StepInstance, setup: func(t *testing.T, env *buildEnv, _ *cloud.CreateImagePipelineRequest) {
			for _, typ := range []string{"ecs.c7.large", "ecs.g7.large", "ecs.c7.xlarge", "ecs.g7.xlarge", "ecs.c7.2xlarge", "ecs.g7.2xlarge"} {
				require.NoError(t, env.sim.Admin().SetStock(context.Background(), cloud.StockRule{RegionId: buildRegion, InstanceType: typ, SoldOut: true}))
			}
		}, want: "no instance type is in stock"},
		{step: model.StepCheck, setup: func(t *testing.T, env *buildEnv, _ *cloud.CreateImagePipelineRequest) {
			env.problems(t, cloudsim.ImageWebappV2, cloud.GuestOSGrub)
			env.fault(t, cloud.Fault{Kind: cloud.FaultQuota, Action: "RepairGuestOS"})
		}, want: "quota"},
		{step: model.StepComponents, setup: func(t *testing.T, env *buildEnv, req *cloud.CreateImagePipelineRequest) {
			req.BuildContent = append(req.BuildContent, cloud.Component{Name: "broken", Content: "echo compiling\nexit 3"})
		}, want: "build component broken failed: exit code 3"},
		{step: model.StepComponents + " (no internet)", setup: func(t *testing.T, env *buildEnv, req *cloud.CreateImagePipelineRequest) {
			req.BuildContent = []cloud.Component{{ComponentName: "acs:update-os"}}
		}, want: "needs internet access, but the intermediate instance has no public bandwidth"},
		{step: model.StepCreateImage, setup: func(t *testing.T, env *buildEnv, _ *cloud.CreateImagePipelineRequest) {
			env.fault(t, cloud.Fault{Kind: cloud.FaultQuota, Action: "CreateImage"})
		}, want: "quota"},
		{step: model.StepTest, setup: func(t *testing.T, env *buildEnv, req *cloud.CreateImagePipelineRequest) {
			req.TestContent = []cloud.Component{{Name: "smoke", Content: "echo GET / 500\nexit 1"}}
		}, want: "test component smoke failed"},
		{step: model.StepShare, setup: func(t *testing.T, env *buildEnv, req *cloud.CreateImagePipelineRequest) {
			req.ToRegionIds = []string{buildRegion, "cn-shanghai"}
			req.AddAccounts = []string{cloudsim.SecondAccount}
			// Only in the build's region: the distribution shares its copies too.
			env.fault(t, cloud.Fault{Kind: cloud.FaultQuota, Action: "ModifyImageSharePermission", Region: buildRegion})
		}, want: "share in"},
	}
	for _, tc := range cases {
		t.Run(tc.step, func(t *testing.T) {
			env := newBuildEnv(t)
			req := baseTemplate("fails")
			tc.setup(t, env, &req)
			tpl := env.template(t, req)
			if tc.after != nil {
				tc.after(t, env)
			}

			env.execute(tpl, "")

			appErr, result := buildError(t, env)
			require.Equal(t, ErrTypeBuildFailed, appErr.Type())
			step, _, _ := strings.Cut(tc.step, " ")
			require.Contains(t, appErr.Error(), "step "+step+" failed")
			require.Contains(t, strings.ToLower(appErr.Error()), strings.ToLower(tc.want))
			require.Empty(t, result.Kept)
			env.requireNothingLeft(t)
			exec := env.execution(t, tpl)
			require.Equal(t, cloud.PipelineExecutionFailed, exec.Status)
			require.Contains(t, exec.Message, step)
			// No package version is left published by the distribution.
			if art, err := env.sim.Client.GetArtifact(context.Background(), &cloud.GetArtifactRequest{Name: "build_fails"}); err == nil {
				require.Empty(t, art.Artifact.Versions, "the distribution's package version is deleted")
			}
		})
	}
}
