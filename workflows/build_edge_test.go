package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// Edge cases of a build: a failed distribution, a repair report whose items
// come back in another order, every instance type sold out, a Windows
// template with its defaults.

func TestBuildDistributionFailureCleansUp(t *testing.T) {
	env := newBuildEnv(t)
	req := baseTemplate("distfail")
	req.ToRegionIds = []string{buildRegion, "cn-shanghai", "eu-west-1"}
	tpl := env.template(t, req)
	env.fault(t, cloud.Fault{Kind: cloud.FaultQuota, Action: "CopyImage", Region: "eu-west-1"})
	env.RegisterDelayedCallback(func() {
		p := env.progress(t)
		require.Equal(t, model.StepDistribute, p.Step)
		pkg, version := "build_distfail", strings.ReplaceAll(p.ExecutionID, "-", "_")
		require.NoError(t, env.SignalWorkflowByID(model.DistributeWorkflowID(pkg, version), model.CommandCancel, model.CancelCommand{Reason: "no quota in eu-west-1"}))
	}, 10*time.Minute)

	env.execute(tpl, "")

	appErr, _ := buildError(t, env)
	require.Contains(t, appErr.Error(), "step Distribute failed")
	require.Contains(t, appErr.Error(), "no quota in eu-west-1")
	env.requireNothingLeft(t)
	// item 8: the draft version the distribution created is gone too.
	_, err := env.sim.Client.GetArtifact(context.Background(), &cloud.GetArtifactRequest{Name: "build_distfail"})
	if err == nil {
		got, _ := env.sim.Client.GetArtifact(context.Background(), &cloud.GetArtifactRequest{Name: "build_distfail"})
		require.Empty(t, got.Artifact.Versions, "the draft version is left behind")
	}
}

// The check after a repair is matched to the first check by item, not by
// position: a report in another order (or with another item) must neither
// give an item another item's detail nor panic the workflow.
func TestBuildRepairReportMatchedByItem(t *testing.T) {
	env := newBuildEnv(t)
	tpl := env.template(t, baseTemplate("reorder"))
	calls := 0
	env.OnActivity(env.real.CheckBuildGuestOS, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ResourceInput) ([]model.GuestOSCheck, error) {
			calls++
			switch calls {
			case 1: // the intermediate instance, before the repair
				return []model.GuestOSCheck{
					{Item: cloud.GuestOSDhcp, Result: cloud.CheckAbnormal, Detail: "dhcp is off"},
					{Item: cloud.GuestOSGrub, Result: cloud.CheckNormal},
				}, nil
			case 2: // after the repair: another order, one more item
				return []model.GuestOSCheck{
					{Item: cloud.GuestOSFstab, Result: cloud.CheckNormal},
					{Item: cloud.GuestOSGrub, Result: cloud.CheckNormal},
					{Item: cloud.GuestOSDhcp, Result: cloud.CheckNormal},
				}, nil
			}
			return nil, nil // the test instance
		})
	env.OnActivity(env.real.RepairBuildGuestOS, mock.Anything, mock.Anything).Return([]string{cloud.GuestOSDhcp}, nil)

	env.execute(tpl, "")

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.ElementsMatch(t, []model.GuestOSCheck{
		{Item: cloud.GuestOSFstab, Result: cloud.CheckNormal},
		{Item: cloud.GuestOSGrub, Result: cloud.CheckNormal},
		{Item: cloud.GuestOSDhcp, Result: cloud.CheckRepaired, Detail: "dhcp is off"},
	}, env.progress(t).Checks)
}

// item 10: with every instance type sold out, the error names the types tried.
func TestBuildAllInstanceTypesSoldOutNamesThem(t *testing.T) {
	env := newBuildEnv(t)
	env.OnActivity(env.real.ListBuildInstanceTypes, mock.Anything, mock.Anything).Return(func(ctx context.Context, region string) ([]activities.InstanceTypeStock, error) {
		types, err := env.real.ListBuildInstanceTypes(ctx, region)
		for i := range types {
			types[i].SoldOut = true
		}
		return types, err
	})
	tpl := env.template(t, baseTemplate("soldout"))
	env.execute(tpl, "")
	require.Error(t, env.GetWorkflowError())
	require.NotContains(t, env.GetWorkflowError().Error(), "tried )")
	require.Regexp(t, `tried ecs\.[a-z0-9]+\.[a-z0-9]+`, env.GetWorkflowError().Error())
	env.requireNothingLeft(t)
	// build list shows the step the build failed in, not Done.
	e := env.execution(t, tpl)
	require.Equal(t, cloud.PipelineExecutionFailed, e.Status)
	require.Equal(t, model.StepInstance, e.Step)
}

// item 9: a Windows template with default settings gets a Windows test and
// builds.
func TestBuildWindowsTemplateWithDefaults(t *testing.T) {
	env := newBuildEnv(t)
	tpl := env.template(t, cloud.CreateImagePipelineRequest{
		RegionId: buildRegion, Name: "winsvc", BaseImageType: cloud.BaseImageImage, BaseImage: cloudsim.ImageWinsvcV1,
		BuildContent: []cloud.Component{{Name: "install", Type: cloud.CommandPowerShell, Content: "Write-Output installing"}},
		ClientToken:  "template-winsvc",
	})
	env.execute(tpl, "")
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, model.StepDone, env.progress(t).Step)
}
