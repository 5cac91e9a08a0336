package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/model"
)

// TestRetentionRuleOverTwelveVersions applies a lifecycle rule (keep the
// newest 3, no grace period) to a package of 12 versions in 5 regions
// through the starter: the rule's first run is a dry run that lists, region
// by region, what it would deprecate and delete and changes nothing; the
// second run applies it, with a worker SIGKILLed in the middle of the
// deletions. The versions in use (one launched by a scaling group's active
// configuration, one a running instance was created from) are kept; every
// copy of the 7 others is deleted exactly once (the cloud's ledger), and
// the versions are gone.
func TestRetentionRuleOverTwelveVersions(t *testing.T) {
	e := newEnv(t, 0.001)
	ctx := t.Context()
	const pkg = "e2e_retention"
	regions := []string{"cn-shanghai", "cn-beijing", "ap-southeast-1", "eu-west-1", "eu-central-1"}
	version := func(i int) string { return fmt.Sprintf("v%02d_0", i) }

	// 12 published versions, made through the cloud's API, their copies at
	// once, released in order (v12_0 is the newest).
	var versions []cloudsimtest.ImageVersion
	for i := 1; i <= 12; i++ {
		versions = append(versions, cloudsimtest.ImageVersion{Package: pkg, Version: version(i),
			SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: regions, Wait: func() { time.Sleep(200 * time.Millisecond) }})
	}
	_, published, err := cloudsimtest.PublishImageVersions(ctx, e.cloudC, versions...)
	require.NoError(t, err)
	deliveries := append([]map[string]string{nil}, published...) // deliveries[i] is version(i)'s

	// In use: v02's copy in eu-west-1 is what a scaling group's active
	// configuration launches; v04's copy in ap-southeast-1 runs an instance.
	body, _ := json.Marshal(cloudsim.ScalingGroupSpec{ScalingGroupId: "asg-retention", RegionId: "eu-west-1", ImageId: deliveries[2]["eu-west-1"]})
	resp, err := http.Post(e.stack.CloudEndpoint()+"/admin/scaling-groups", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = e.cloudC.RunInstances(ctx, &cloud.RunInstancesRequest{RegionId: "ap-southeast-1", ImageId: deliveries[4]["ap-southeast-1"], InstanceType: "ecs.g7.large", ClientToken: "retention-instance"})
	require.NoError(t, err)

	rule := []string{"package", "retention", "run", "--package", pkg, "--keep-newest", "3", "--grace-period", "0s"}
	retired := []int{1, 3, 5, 6, 7, 8, 9}

	// Bad input is refused before anything starts.
	out, code := e.starter("package", "retention", "run", "--package", pkg, "--grace-period", "0s")
	require.Equal(t, 2, code, out)

	// 1: the rule's first run is a dry run: the plan, nothing changed.
	before := e.ledger()
	out, code = e.starter(append(rule, "--wait")...)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "DRY RUN")
	require.Contains(t, out, "scaling group asg-retention")
	require.Contains(t, out, "instance i-")
	for _, i := range retired {
		for _, r := range regions {
			require.Contains(t, out, deliveries[i][r], "the plan lists %s's copy in %s", version(i), r)
		}
	}
	require.Contains(t, out, "Would deprecate 7 version(s) and delete 7 version(s) (35 copies, 1400 GiB); keep 5.")
	require.Equal(t, len(before), len(e.ledger()), "a dry run changes nothing in the cloud")

	// Visibility knows the rule's completed dry run: the next run applies it.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := e.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf(
			"WorkflowType = '%s' AND ImagefleetPackage = '%s' AND ExecutionStatus = 'Completed'", model.RetentionWorkflowType, pkg)})
		assert.NoError(c, err)
		assert.Len(c, resp.GetExecutions(), 1)
	}, time.Minute, 200*time.Millisecond)

	// 2: applied, with each deletion slowed down so that a worker can be
	// killed between them.
	e.addFault(cloud.Fault{Kind: cloud.FaultSlow, Action: "DeleteArtifactDelivery", Delay: 700 * time.Millisecond})
	out, code = e.starter(rule...)
	require.Equal(t, 0, code, out)
	worker := e.stack.Processes("worker")[0]
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.GreaterOrEqual(c, len(deletedImages(e.ledger())), 5)
	}, 2*time.Minute, 50*time.Millisecond)
	require.NoError(t, worker.Kill(), "SIGKILL mid-deletion")
	require.Less(t, len(deletedImages(e.ledger())), 35, "the worker was killed before the run ended")
	e.startWorker()

	var res model.RetentionResult
	require.NoError(t, e.client.GetWorkflow(ctx, model.RetentionWorkflowID(pkg), "").Get(ctx, &res))
	require.False(t, res.DryRun)
	require.Equal(t, 7, res.Deleted)
	require.Equal(t, 7, res.Deprecated)
	require.Equal(t, 35, res.CopiesDeleted)
	require.Equal(t, 5, res.Kept)
	recordHistory(t, e.client, model.RetentionWorkflowID(pkg), "retention_worker_kill.json")

	// Every copy of the retired versions deleted exactly once, nothing else.
	entries := e.ledger()
	deleted := deletedImages(entries)
	var want []string
	for _, i := range retired {
		for _, r := range regions {
			want = append(want, deliveries[i][r])
		}
	}
	slices.Sort(want)
	got := make([]string, 0, len(deleted))
	for id, n := range deleted {
		require.Equal(t, 1, n, "%s deleted once", id)
		got = append(got, id)
	}
	slices.Sort(got)
	require.Equal(t, want, got)
	require.Equal(t, 7, countAll(entries, "ModifyArtifactVersion"), "each retired version deprecated once")
	require.Zero(t, countAll(entries, "DeleteImage"))

	// What is left: the newest three and the two in use, all their copies.
	art, err := e.cloudC.GetArtifact(ctx, &cloud.GetArtifactRequest{Name: pkg})
	require.NoError(t, err)
	var left []string
	for _, v := range art.Artifact.Versions {
		left = append(left, v.VersionName)
		require.Len(t, v.ImageDelivery, 5, v.VersionName)
		require.False(t, v.Deprecated, v.VersionName)
	}
	slices.Sort(left)
	require.Equal(t, []string{version(2), version(4), version(10), version(11), version(12)}, left)
	kept := map[string]model.RetentionVersion{}
	for _, v := range res.Versions {
		kept[v.Version] = v
	}
	require.Contains(t, kept[version(2)].Reason, "scaling group asg-retention")
	require.Contains(t, kept[version(4)].Reason, "ap-southeast-1: instance")

	out, code = e.starter("status", model.RetentionWorkflowID(pkg))
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Done")
}

// deletedImages counts the copies DeleteArtifactDelivery deleted, by image.
func deletedImages(entries []cloud.LedgerEntry) map[string]int {
	n := map[string]int{}
	for _, en := range entries {
		if en.Action == "DeleteArtifactDelivery" && en.ResourceType == "Image" {
			n[en.ResourceId]++
		}
	}
	return n
}

// TestRetentionSchedule puts a rule on a Temporal Schedule through the
// starter: the first firing is a dry run, a later one deletes the retired
// version's copies once each, and the firings after it change nothing; the
// schedule is listed, paused and deleted.
func TestRetentionSchedule(t *testing.T) {
	e := newEnv(t, 0.001)
	ctx := t.Context()
	const pkg = "e2e_retention_schedule"
	regions := []string{"eu-west-1", "eu-central-1"}
	var versions []cloudsimtest.ImageVersion
	for i := 1; i <= 3; i++ {
		versions = append(versions, cloudsimtest.ImageVersion{Package: pkg, Version: fmt.Sprintf("v%d_0", i),
			SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: regions, Wait: func() { time.Sleep(200 * time.Millisecond) }})
	}
	_, published, err := cloudsimtest.PublishImageVersions(ctx, e.cloudC, versions...)
	require.NoError(t, err)

	out, code := e.starter("package", "retention", "schedule", "create", "--package", pkg, "--keep-newest", "2", "--grace-period", "0s", "--every", "3s", "--cron", "0 3 * * *")
	require.Equal(t, 2, code, out)
	out, code = e.starter("package", "retention", "schedule", "create", "--package", pkg, "--keep-newest", "2", "--grace-period", "0s", "--every", "3s")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "a dry run")
	t.Cleanup(func() { // a schedule outlives its test on the shared dev server
		_ = e.client.ScheduleClient().GetHandle(context.Background(), model.RetentionScheduleID(pkg)).Delete(context.Background())
	})

	runs := func(c *assert.CollectT) []*workflowpb.WorkflowExecutionInfo {
		resp, err := e.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf(
			"WorkflowType = '%s' AND ImagefleetPackage = '%s' AND ExecutionStatus = 'Completed'", model.ScheduledRetentionWorkflowType, pkg)})
		assert.NoError(c, err)
		return resp.GetExecutions()
	}
	// Firings until the retired version is gone, then two more.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, deletedImages(e.ledger()), 2)
	}, 3*time.Minute, 500*time.Millisecond)
	var after int
	require.EventuallyWithT(t, func(c *assert.CollectT) { after = len(runs(c)); assert.GreaterOrEqual(c, after, 2) }, time.Minute, 500*time.Millisecond)
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.GreaterOrEqual(c, len(runs(c)), after+2) }, 2*time.Minute, 500*time.Millisecond)

	entries := e.ledger()
	deleted := deletedImages(entries)
	require.Equal(t, map[string]int{published[0]["eu-west-1"]: 1, published[0]["eu-central-1"]: 1}, deleted)
	require.Equal(t, 1, countAll(entries, "ModifyArtifactVersion"))

	// The first firing was the rule's dry run.
	first, err := e.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf(
		"WorkflowType = '%s' AND ImagefleetPackage = '%s' AND ExecutionStatus = 'Completed' ORDER BY StartTime ASC", model.RetentionWorkflowType, pkg)})
	if err == nil && len(first.GetExecutions()) > 0 { // ORDER BY needs advanced visibility
		var res model.RetentionResult
		ex := first.GetExecutions()[0].GetExecution()
		require.NoError(t, e.client.GetWorkflow(ctx, ex.GetWorkflowId(), ex.GetRunId()).Get(ctx, &res))
		require.True(t, res.DryRun)
	}

	out, code = e.starter("package", "retention", "status", "--package", pkg)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, published[2]["eu-west-1"]) // the latest run's plan: v3_0 kept
	require.NotContains(t, out, published[0]["eu-west-1"])
	out, code = e.starter("package", "retention", "schedule", "list", pkg)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, model.RetentionScheduleID(pkg))
	out, code = e.starter("package", "retention", "schedule", "pause", pkg)
	require.Equal(t, 0, code, out)
	out, code = e.starter("package", "retention", "schedule", "delete", pkg)
	require.Equal(t, 0, code, out)
	out, code = e.starter("package", "retention", "schedule", "pause", pkg)
	require.Equal(t, 2, code, out)
}
