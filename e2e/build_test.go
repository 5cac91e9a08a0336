package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

func (e *env) buildProgress(id string) (model.BuildProgress, error) {
	var p model.BuildProgress
	v, err := e.client.QueryWorkflow(e.t.Context(), id, "", model.QueryBuildProgress)
	if err == nil {
		err = v.Get(&p)
	}
	return p, err
}

// leftovers lists, from the ledger, the instances, vSwitches and VPCs
// created and not released.
func leftovers(entries []cloud.LedgerEntry) []string {
	live := map[string]bool{}
	for _, en := range entries {
		switch en.Action {
		case "RunInstances", "CreateVpc", "CreateVSwitch":
			live[en.ResourceId] = true
		case "DeleteInstances", "DeleteVpc", "DeleteVSwitch":
			delete(live, en.ResourceId)
		}
	}
	var out []string
	for id := range live {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// writeTemplate writes a template spec for the starter.
func writeTemplate(t *testing.T, yaml string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "template.yaml")
	require.NoError(t, os.WriteFile(f, []byte(yaml), 0o644))
	return f
}

var templateIDRE = regexp.MustCompile(`Created template (ip-[a-z0-9]+)`)

// TestBuildEndToEnd creates a template whose first build runs at once,
// repairs the guest OS, distributes to two regions and shares with an
// account; then checks the refusals of the starter.
func TestBuildEndToEnd(t *testing.T) {
	e := newEnv(t, 0.001)
	ctx := t.Context()
	require.NoError(t, e.cloudC.Admin().SetGuestOSProblems(ctx, cloud.GuestOSProblems{RegionId: cloudsim.SeedRegion, ImageId: cloudsim.ImageWebappV2, Items: []string{cloud.GuestOSDhcp}}))

	// Refused before anything is created.
	_, code := e.starter("template", "create", "--spec", writeTemplate(t, "name: mkt\nsourceImage: "+cloudsim.ImageMarketplaceNginx+"\n"))
	require.Equal(t, 2, code, "a marketplace source is refused")
	tooMany := "name: many\nsourceFamily: webapp\nregions: [" + strings.Join(model.RegionIDs()[:21], ",") + "]\n"
	out, code := e.starter("template", "create", "--spec", writeTemplate(t, tooMany))
	require.Equal(t, 2, code)
	require.Contains(t, out, "at most 20 distribution regions")

	spec := writeTemplate(t, `name: e2e-web
sourceFamily: webapp
components:
  - component: acs:harden-ssh
  - name: install
    content: echo installed
imageNamePrefix: web
regions: [cn-hangzhou, cn-shanghai]
accounts: ["`+cloudsim.SecondAccount+`"]
`)
	out, code = e.starter("template", "create", "--spec", spec, "--wait")
	require.Equal(t, 0, code, out)
	m := templateIDRE.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	tpl := m[1]
	id := model.BuildWorkflowID(cloudsim.SeedRegion, tpl)

	var result model.BuildResult
	require.NoError(t, e.client.GetWorkflow(ctx, id, "").Get(ctx, &result))
	require.Len(t, result.Images, 2)
	for region, img := range result.Images {
		resp, err := e.cloudC.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: region, ImageIds: []string{img}})
		require.NoError(t, err)
		require.Equal(t, cloud.ImageAvailable, resp.Images[0].Status, region)
		perm, err := e.cloudC.DescribeImageSharePermission(ctx, &cloud.DescribeImageSharePermissionRequest{RegionId: region, ImageId: img})
		require.NoError(t, err)
		require.Equal(t, []string{cloudsim.SecondAccount}, perm.Accounts, region)
	}
	require.Empty(t, leftovers(e.ledger()))
	out, code = e.starter("build", "list", tpl)
	require.Equal(t, 0, code)
	require.Contains(t, out, cloud.PipelineExecutionSuccess)
	out, code = e.starter("build", "show", tpl)
	require.Equal(t, 0, code)
	require.Contains(t, out, "GUESTOS.Dhcp")
	require.Contains(t, out, "Repaired")

	// A second build while one runs is refused, naming it; cancel ends it
	// and releases what it made.
	// The second build cannot finish (listing the instance types takes 20 s)
	// before it is refused and cancelled.
	e.addFault(cloud.Fault{Kind: cloud.FaultSlow, Action: "DescribeInstanceTypes", Count: 1, Delay: 20 * time.Second})
	_, code = e.starter("build", "start", tpl)
	require.Equal(t, 0, code)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := e.buildProgress(id)
		require.NoError(c, err)
		require.NotEmpty(c, p.ExecutionID)
	}, time.Minute, 50*time.Millisecond)
	p, err := e.buildProgress(id)
	require.NoError(t, err)
	out, code = e.starter("build", "start", tpl)
	require.Equal(t, 2, code)
	require.Contains(t, out, "already has build "+p.ExecutionID)
	out, code = e.starter("build", "cancel", tpl, "--execution", "exec-other")
	require.Equal(t, 3, code, "a cancel meant for another build is refused")
	require.Contains(t, out, "is not this run")
	for range 2 { // cancel may be sent more than once
		out, code = e.starter("build", "cancel", tpl, "--reason", "e2e")
		require.Equal(t, 0, code, out)
	}
	err = e.client.GetWorkflow(ctx, id, "").Get(ctx, nil)
	require.ErrorContains(t, err, "build cancelled during")
	require.ErrorContains(t, err, ": e2e")
	require.Empty(t, leftovers(e.ledger()))
	out, code = e.starter("build", "list", tpl)
	require.Equal(t, 0, code)
	require.Contains(t, out, cloud.PipelineExecutionCancelled)
	recordHistory(t, e.client, id, "build_model_cancel.json")
}

// TestWorkerCrashMidBuild kills the worker while the build runs its
// components, starts another, and checks that the build completes with one
// build instance, one test instance and one image, and nothing left.
func TestWorkerCrashMidBuild(t *testing.T) {
	e := newEnv(t, 0.003)
	ctx := t.Context()
	resp, err := e.cloudC.CreateImagePipeline(ctx, &cloud.CreateImagePipelineRequest{
		RegionId: cloudsim.SeedRegion, Name: "crash", BaseImageType: cloud.BaseImageImage, BaseImage: cloudsim.ImageWebappV1,
		BuildContent: []cloud.Component{{Name: "slow", Content: "echo compiling\nsleep 2000\necho done"}},
		ClientToken:  "crash",
	})
	require.NoError(t, err)
	id := model.BuildWorkflowID(cloudsim.SeedRegion, resp.ImagePipelineId)
	rawStart(t, e, id, model.BuildWorkflowType, model.BuildInput{Region: cloudsim.SeedRegion, TemplateID: resp.ImagePipelineId})

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := e.buildProgress(id)
		require.NoError(c, err)
		require.Equal(c, model.StepComponents, p.Step)
	}, time.Minute, 50*time.Millisecond)
	killWorkers(t, e.stack)
	e.startWorker()

	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var result model.BuildResult
	require.NoError(t, e.client.GetWorkflow(wctx, id, "").Get(wctx, &result))
	entries := e.ledger()
	require.Len(t, countEntriesAll(entries, "RunInstances"), 2, "one build instance and one test instance")
	require.Equal(t, 1, countEntries(entries, "CreateImage")[cloudsim.SeedRegion])
	require.Empty(t, leftovers(entries))
	e.requireStatus(id, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	recordHistory(t, e.client, id, "build_model_worker_crash.json")
}
