package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

var fiveRegions = []string{"cn-shanghai", "cn-beijing", "ap-southeast-1", "eu-central-1", "us-west-1"}

func (e *env) progress(id string) model.DistributionProgress {
	e.t.Helper()
	v, err := e.client.QueryWorkflow(e.t.Context(), id, "", model.QueryProgress)
	require.NoError(e.t, err)
	var p model.DistributionProgress
	require.NoError(e.t, v.Get(&p))
	return p
}

func TestDistributeWithStarter(t *testing.T) {
	e := newEnv(t, 0.0005)
	args := []string{"distribute", "--package", "e2e_starter", "--version", "v1_0_0",
		"--description", "end-to-end test package", "--source-region", cloudsim.SeedRegion,
		"--source-image", cloudsim.ImageWebappV1, "--regions", strings.Join(fiveRegions, ",")}

	out, code := e.starter(args...)

	require.Equal(t, 0, code)
	id := model.DistributeWorkflowID("e2e_starter", "v1_0_0")
	require.Contains(t, out, "Workflow ID: "+id)
	require.Contains(t, out, "/namespaces/default/workflows/distribute%2Fe2e_starter%2Fv1_0_0/")
	for _, r := range fiveRegions {
		require.Regexp(t, r+` +m-[a-z0-9]{20}`, out, "the table maps every region")
	}
	// Exactly one copy per region, and the version is published and locked.
	require.Equal(t, map[string]int{"cn-shanghai": 1, "cn-beijing": 1, "ap-southeast-1": 1, "eu-central-1": 1, "us-west-1": 1},
		countEntries(e.ledger(), "CopyImage"))
	art, err := e.cloudC.GetArtifact(t.Context(), &cloud.GetArtifactRequest{Name: "e2e_starter"})
	require.NoError(t, err)
	require.Equal(t, cloud.ArtifactAvailable, art.Artifact.Versions[0].Status)
	require.Len(t, art.Artifact.Versions[0].ImageDelivery, 5)

	out, code = e.starter(args...)
	require.Equal(t, 2, code, "publishing a published version is refused before anything starts")
	require.Contains(t, out, "already published and locked")

	out, code = e.starter("status", id)
	require.Equal(t, 0, code)
	require.Contains(t, out, "Published")

	// Operators find the run by its search attributes.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := e.client.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("%s = 'e2e_starter' AND %s = 'v1_0_0' AND %s = '%s' AND %s = '%s'",
				model.SAPackage.GetName(), model.SAVersion.GetName(), model.SAOperation.GetName(), model.OperationDistribute,
				model.SAState.GetName(), model.StateSucceeded),
		})
		require.NoError(c, err)
		require.Len(c, resp.Executions, 1)
	}, 20*time.Second, 200*time.Millisecond)
}

func TestDistributeRefusesBadInputBeforeStarting(t *testing.T) {
	e := newEnv(t, 0.001)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown region", []string{"--regions", "cn-beijing,moon-1"}, `unknown region(s) "moon-1"`},
		{"bad package name", []string{"--package", "no-dashes"}, "package name"},
		{"other account's image", []string{"--source-image", cloudsim.ImageOtherPrivate}, "does not exist"},
		{"system image", []string{"--source-image", cloudsim.ImageSystemUbuntu}, "a system image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"distribute", "--package", "e2e_bad", "--version", "v1_0_0", "--description", "refused at the door",
				"--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", "cn-beijing"}, tc.args...)
			out, code := e.starter(args...)
			require.Equal(t, 2, code)
			require.Contains(t, out, tc.want)
		})
	}
	require.Empty(t, countEntries(e.ledger(), "CopyImage"), "nothing started")
}

func TestDistributeOperatorRetryWithStarter(t *testing.T) {
	e := newEnv(t, 0.0005)
	// London refuses the first copy permanently.
	e.addFault(cloud.Fault{Kind: cloud.FaultQuota, Action: "CopyImage", Region: "eu-west-1", Count: 1})
	out, code := e.starter("distribute", "--package", "e2e_retry", "--version", "v1_0_0", "--description", "operator retries a region",
		"--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", "cn-shanghai,eu-west-1", "--exit-on-pause")
	require.Equal(t, 4, code, out)
	require.Contains(t, out, "waiting for operator decision for eu-west-1")
	id := model.DistributeWorkflowID("e2e_retry", "v1_0_0")

	// The same version cannot be distributed twice at once.
	out, code = e.starter("distribute", "--package", "e2e_retry", "--version", "v1_0_0", "--description", "operator retries a region",
		"--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", "cn-shanghai,eu-west-1", "--wait=false")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "already exists (workflow "+id+")")

	// Nor can its version be deleted under it.
	out, code = e.starter("package", "version", "delete", "--package", "e2e_retry", "--version", "v1_0_0")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "is being published by workflow "+id)

	out, code = e.starter("drop-region", id, "cn-shanghai")
	require.Equal(t, 3, code, "a decision for a region that did not fail is refused")
	require.Contains(t, out, "applies only to a failed region")

	out, code = e.starter("retry-region", id, "eu-west-1")
	require.Equal(t, 0, code, out)

	var result model.DistributionResult
	require.NoError(t, e.client.GetWorkflow(t.Context(), id, "").Get(t.Context(), &result))
	require.Len(t, result.ImageIDs, 2)
	p := e.progress(id)
	require.Equal(t, 2, p.Region("eu-west-1").Attempts)
	recordHistory(t, e.client, id, "distribute_retry_region.json")
}

func TestDistributeAbortDeletesCopiesEndToEnd(t *testing.T) {
	e := newEnv(t, 0.0005)
	e.addFault(cloud.Fault{Kind: cloud.FaultQuota, Action: "CopyImage", Region: "eu-west-1", Count: 1})
	_, code := e.starter("distribute", "--package", "e2e_abort", "--version", "v1_0_0", "--description", "operator aborts",
		"--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", "cn-shanghai,cn-beijing,eu-west-1", "--exit-on-pause")
	require.Equal(t, 4, code)
	id := model.DistributeWorkflowID("e2e_abort", "v1_0_0")

	out, code := e.starter("abort", id, "--reason", "quota in London")
	require.Equal(t, 0, code, out)

	err := e.client.GetWorkflow(t.Context(), id, "").Get(t.Context(), nil)
	require.ErrorContains(t, err, "quota in London")
	// Every copy made is gone.
	for region, imageID := range map[string]string{"cn-shanghai": e.progress(id).Region("cn-shanghai").ImageID, "cn-beijing": e.progress(id).Region("cn-beijing").ImageID} {
		resp, err := e.cloudC.DescribeImages(t.Context(), &cloud.DescribeImagesRequest{RegionId: region, ImageIds: []string{imageID}, IncludeDeleted: true})
		require.NoError(t, err)
		require.Equal(t, cloud.ImageDeleted, resp.Images[0].Status, region)
	}
	// So is the draft version the run created, deleted once.
	art, err := e.cloudC.GetArtifact(t.Context(), &cloud.GetArtifactRequest{Name: "e2e_abort"})
	require.NoError(t, err)
	for _, v := range art.Artifact.Versions {
		require.NotEqual(t, "v1_0_0", v.VersionName, "the aborted run's draft is deleted")
	}
	var draftDeletes int
	for _, en := range countEntriesAll(e.ledger(), "DeleteArtifact") {
		if en.ResourceId == art.Artifact.ArtifactId && strings.HasPrefix(en.Detail, "version v1_0_0 ") {
			draftDeletes++
		}
	}
	require.Equal(t, 1, draftDeletes, "the ledger shows the draft deleted once")
	recordHistory(t, e.client, id, "distribute_abort.json")
	// An aborted version may be distributed again.
	_, code = e.starter("distribute", "--package", "e2e_abort", "--version", "v1_0_0", "--description", "operator aborts",
		"--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", "cn-shanghai")
	require.Equal(t, 0, code)
}

// TestWorkerCrashMidDistribution kills the worker with SIGKILL while copies
// run, starts another, and checks that the run completes with exactly one
// image created per region.
func TestWorkerCrashMidDistribution(t *testing.T) {
	e := newEnv(t, 0.003) // copies take 3–10 s
	worker := e.stack
	id := model.DistributeWorkflowID("e2e_crash", "v1_0_0")
	spec := model.DistributeSpec{Package: "e2e_crash", Version: "v1_0_0", Description: "worker killed mid-copy",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: fiveRegions}
	rawStart(t, e, id, model.DistributeWorkflowType, spec)

	// Wait until every copy has started, then crash the worker.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p := e.progress(id)
		for _, r := range p.Regions {
			require.NotEmpty(c, r.ImageID, r.Region)
		}
	}, time.Minute, 100*time.Millisecond)
	killWorkers(t, worker)
	e.startWorker()

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var result model.DistributionResult
	require.NoError(t, e.client.GetWorkflow(ctx, id, "").Get(ctx, &result))
	require.Len(t, result.ImageIDs, 5)
	copies := countEntries(e.ledger(), "CopyImage")
	for _, r := range fiveRegions {
		require.Equal(t, 1, copies[r], "exactly one image created in %s", r)
	}
	e.requireStatus(id, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	recordHistory(t, e.client, id, "distribute_worker_crash.json")
}

// recordHistory writes the run's history to workflows/testdata when
// IMAGEFLEET_RECORD_HISTORY is set (`go tool task record-histories`), for
// the replay tests.
func recordHistory(t *testing.T, c client.Client, id, file string) {
	if os.Getenv("IMAGEFLEET_RECORD_HISTORY") == "" {
		return
	}
	require.NoError(t, writeHistory(t.Context(), c, id, "", "../workflows/testdata/"+file))
}
