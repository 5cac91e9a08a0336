package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/specfile"
	"github.com/imagefleet/imagefleet/model"
)

// addGroupIn creates a scaling group of size instances of image in region
// through the cloud's admin API.
func (e *env) addGroupIn(id, region, image string, size int) {
	e.t.Helper()
	body, _ := json.Marshal(cloudsim.ScalingGroupSpec{ScalingGroupId: id, RegionId: region, ImageId: image, Size: size})
	resp, err := http.Post(e.stack.CloudEndpoint()+"/admin/scaling-groups", "application/json", bytes.NewReader(body))
	require.NoError(e.t, err)
	resp.Body.Close()
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
}

// copyImage copies image from the seed region into region and waits until
// the copy is Available.
func (e *env) copyImage(image, region string) string {
	e.t.Helper()
	ctx := e.t.Context()
	resp, err := e.cloudC.CopyImage(ctx, &cloud.CopyImageRequest{RegionId: cloudsim.SeedRegion, ImageId: image, DestinationRegionId: region,
		DestinationImageName: "e2e_base", ClientToken: "e2e-copy-" + region})
	require.NoError(e.t, err)
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		d, err := e.cloudC.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: region, ImageIds: []string{resp.ImageId}})
		if assert.NoError(c, err) && assert.Len(c, d.Images, 1) {
			assert.Equal(c, cloud.ImageAvailable, d.Images[0].Status)
		}
	}, time.Minute, 100*time.Millisecond)
	return resp.ImageId
}

// instanceImages maps every instance of the groups in region to its image.
func (e *env) instanceImages(region string, groups ...string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, g := range groups {
		resp, err := e.cloudC.DescribeScalingInstances(e.t.Context(), &cloud.DescribeScalingInstancesRequest{RegionId: region, ScalingGroupId: g})
		require.NoError(e.t, err)
		var ids []string
		for _, in := range resp.ScalingInstances {
			ids = append(ids, in.InstanceId)
		}
		inst, err := e.cloudC.DescribeInstances(e.t.Context(), &cloud.DescribeInstancesRequest{RegionId: region, InstanceIds: ids})
		require.NoError(e.t, err)
		for _, in := range inst.Instances {
			out[in.InstanceId] = in.ImageId
		}
	}
	return out
}

func (e *env) release(name, version string) (model.ReleaseProgress, error) {
	v, err := e.client.QueryWorkflow(e.t.Context(), model.ReleaseWorkflowID(name, version), "", model.QueryProgress)
	if err != nil {
		return model.ReleaseProgress{}, err
	}
	var p model.ReleaseProgress
	return p, v.Get(&p)
}

const e2eReleaseSpec = `name: e2e
source:
  image: {region: cn-hangzhou, imageId: m-webapp-v2}
package: e2e_release
version: v2_0_0
description: end-to-end release of webapp v2
regions: [cn-hangzhou, cn-shanghai]
stages:
  - name: canary
    groups: [{scalingGroupId: asg-rel-hz1, regionId: cn-hangzhou}]
    gate: {soak: 3s, verify: {every: 1s}}
  - name: regional
    groups: [{scalingGroupId: asg-rel-sh1, regionId: cn-shanghai}, {scalingGroupId: asg-rel-sh2, regionId: cn-shanghai}]
    parallelism: 1
    gate: {approval: true}
  - name: global
    groups: [{scalingGroupId: asg-rel-hz2, regionId: cn-hangzhou}]
`

// issue 22: a three-stage release on the dev server, the simulated cloud
// and a worker, driven by the starter: the version is published, the
// canary soaks and is verified, the regional stage waits for its approval,
// and every group ends on the image its region received, each instance
// changed once.
func TestReleaseThreeStagesWithStarter(t *testing.T) {
	e := newEnv(t, 0.001)
	base := e.copyImage(cloudsim.ImageWebappV1, "cn-shanghai")
	e.addGroupIn("asg-rel-hz1", cloudsim.SeedRegion, cloudsim.ImageWebappV1, 2)
	e.addGroupIn("asg-rel-hz2", cloudsim.SeedRegion, cloudsim.ImageWebappV1, 2)
	e.addGroupIn("asg-rel-sh1", "cn-shanghai", base, 2)
	e.addGroupIn("asg-rel-sh2", "cn-shanghai", base, 2)
	file := filepath.Join(t.TempDir(), "release.yaml")
	require.NoError(t, os.WriteFile(file, []byte(e2eReleaseSpec), 0o600))

	// A spec with a group the cloud lacks is refused before anything starts.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(e2eReleaseSpec, "asg-rel-hz2", "asg-rel-none", 1)), 0o600))
	out, code := e.starter("release", "start", "--spec", bad)
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "asg-rel-none")

	out, code = e.starter("release", "start", "--spec", file)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Workflow ID: release/e2e/v2_0_0")

	var p model.ReleaseProgress
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		p, err = e.release("e2e", "v2_0_0")
		if assert.NoError(c, err) {
			assert.Equal(c, model.StageAwaitApproval, p.Stages[1].State)
		}
	}, 2*time.Minute, 200*time.Millisecond)
	require.Equal(t, model.StageVerified, p.Stages[0].State)
	require.GreaterOrEqual(t, p.Stages[0].Soak.Checks, 2, "checked throughout the soak")
	require.Equal(t, model.GroupPending, p.Stages[1].Groups[0].State)
	e.requireStatus(model.ReleaseWorkflowID("e2e", "v2_0_0"), enums.WORKFLOW_EXECUTION_STATUS_RUNNING)

	out, code = e.starter("release", "approve", "e2e", "v2_0_0", "--stage", "global", "--by", "e2e")
	require.Equal(t, 3, code, "the global stage does not wait: refused\n"+out)
	out, code = e.starter("release", "approve", "e2e", "v2_0_0", "--by", "e2e", "--comment", "canary clean")
	require.Equal(t, 0, code, out)

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	require.NoError(t, e.client.GetWorkflow(ctx, model.ReleaseWorkflowID("e2e", "v2_0_0"), "").Get(ctx, &p))
	require.Equal(t, model.ReleaseSucceeded, p.Phase)
	require.Equal(t, []model.Approval{{Stage: "regional", By: "e2e", Comment: "canary clean", At: p.Approvals[0].At}}, p.Approvals)
	shImage := p.Images["cn-shanghai"]
	require.NotEmpty(t, shImage)
	for id, img := range e.instanceImages(cloudsim.SeedRegion, "asg-rel-hz1", "asg-rel-hz2") {
		require.Equal(t, cloudsim.ImageWebappV2, img, id)
	}
	for id, img := range e.instanceImages("cn-shanghai", "asg-rel-sh1", "asg-rel-sh2") {
		require.Equal(t, shImage, img, id)
	}
	for id, n := range countResources(e.ledger(), "ReplaceSystemDisk") {
		require.Equal(t, 1, n, "instance %s changed once", id)
	}
	require.Len(t, countResources(e.ledger(), "ReplaceSystemDisk"), 8)

	out, code = e.starter("release", "status", "e2e", "v2_0_0")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "approved: stage regional by e2e")
}

// releaseStack is the four groups of e2eReleaseSpec: two in cn-hangzhou
// on m-webapp-v1, two in cn-shanghai on a copy of it (returned).
func releaseStack(t *testing.T) (*env, string) {
	e := newEnv(t, 0.001)
	base := e.copyImage(cloudsim.ImageWebappV1, "cn-shanghai")
	e.addGroupIn("asg-rel-hz1", cloudsim.SeedRegion, cloudsim.ImageWebappV1, 2)
	e.addGroupIn("asg-rel-hz2", cloudsim.SeedRegion, cloudsim.ImageWebappV1, 2)
	e.addGroupIn("asg-rel-sh1", "cn-shanghai", base, 2)
	e.addGroupIn("asg-rel-sh2", "cn-shanghai", base, 2)
	return e, base
}

func (e *env) awaitRelease(what string, cond func(model.ReleaseProgress) bool) model.ReleaseProgress {
	e.t.Helper()
	var p model.ReleaseProgress
	require.EventuallyWithT(e.t, func(c *assert.CollectT) {
		var err error
		p, err = e.release("e2e", "v2_0_0")
		if assert.NoError(c, err) {
			assert.True(c, cond(p), "%s: release is %s, waiting for %q", what, p.Phase, p.WaitingFor)
		}
	}, 3*time.Minute, 200*time.Millisecond)
	return p
}

// issue 22: a rollback after the second stage: every group of the first
// two stages goes back to the image it had (the regional groups, then the
// canary), each instance changed twice in all (update, rollback), the third
// stage untouched; a second rollback is refused.
func TestReleaseRollbackAfterSecondStage(t *testing.T) {
	e, base := releaseStack(t)
	spec := strings.Replace(e2eReleaseSpec, "    groups: [{scalingGroupId: asg-rel-hz2, regionId: cn-hangzhou}]\n",
		"    groups: [{scalingGroupId: asg-rel-hz2, regionId: cn-hangzhou}]\n    gate: {approval: true}\n", 1)
	file := filepath.Join(t.TempDir(), "release.yaml")
	require.NoError(t, os.WriteFile(file, []byte(spec), 0o600))
	out, code := e.starter("release", "start", "--spec", file)
	require.Equal(t, 0, code, out)
	e.awaitRelease("the regional stage waits", func(p model.ReleaseProgress) bool { return p.Stages[1].State == model.StageAwaitApproval })
	out, code = e.starter("release", "approve", "e2e", "v2_0_0", "--by", "e2e")
	require.Equal(t, 0, code, out)
	e.awaitRelease("the global stage waits", func(p model.ReleaseProgress) bool { return p.Stages[2].State == model.StageAwaitApproval })

	out, code = e.starter("release", "rollback", "e2e", "v2_0_0", "--reason", "error rate up")
	require.Equal(t, 0, code, out)
	out, code = e.starter("release", "rollback", "e2e", "v2_0_0")
	require.Contains(t, []int{1, 3}, code, "a second rollback is refused, or finds the release ended\n"+out)

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	err := e.client.GetWorkflow(ctx, model.ReleaseWorkflowID("e2e", "v2_0_0"), "").Get(ctx, nil)
	require.ErrorContains(t, err, "the release was rolled back: error rate up")
	p, err := e.release("e2e", "v2_0_0")
	require.NoError(t, err)
	require.Equal(t, model.ReleaseRolledBack, p.Phase)
	for id, img := range e.instanceImages(cloudsim.SeedRegion, "asg-rel-hz1", "asg-rel-hz2") {
		require.Equal(t, cloudsim.ImageWebappV1, img, id)
	}
	for id, img := range e.instanceImages("cn-shanghai", "asg-rel-sh1", "asg-rel-sh2") {
		require.Equal(t, base, img, id)
	}
	changes := countResources(e.ledger(), "ReplaceSystemDisk")
	require.Len(t, changes, 6, "the global stage's instances are never touched")
	for id, n := range changes {
		require.Equal(t, 2, n, "instance %s: updated once, rolled back once", id)
	}
	// Reverse order: every change in cn-shanghai (the regional stage,
	// updated then rolled back) comes before the canary's rollback (the
	// third and fourth change in cn-hangzhou).
	lastSh, hz := -1, []int{}
	for i, en := range e.ledger() {
		switch {
		case en.Action != "ReplaceSystemDisk":
		case en.Region == "cn-shanghai":
			lastSh = i
		case en.Region == cloudsim.SeedRegion:
			hz = append(hz, i)
		}
	}
	require.Len(t, hz, 4)
	require.Less(t, lastSh, hz[2], "the regional stage is rolled back before the canary")
	for _, g := range append(p.Stages[0].Groups, p.Stages[1].Groups...) {
		require.Equal(t, model.GroupRolledBack, g.State, g.ScalingGroupID)
	}
	require.Equal(t, model.GroupPending, p.Stages[2].Groups[0].State)
}

// issue 22: a soak whose verification fails (an instance of the canary
// made unhealthy through the cloud's admin API) stops promotion: the
// regional stage never starts, the release waits for a decision, and a
// rollback restores the canary.
func TestReleaseVerificationFailureStopsPromotion(t *testing.T) {
	e, _ := releaseStack(t)
	spec := strings.Replace(e2eReleaseSpec, "gate: {soak: 3s, verify: {every: 1s}}", "gate: {soak: 10m, verify: {every: 1s}}", 1)
	file := filepath.Join(t.TempDir(), "release.yaml")
	require.NoError(t, os.WriteFile(file, []byte(spec), 0o600))
	out, code := e.starter("release", "start", "--spec", file)
	require.Equal(t, 0, code, out)
	e.awaitRelease("the canary soaks", func(p model.ReleaseProgress) bool {
		return p.Stages[0].State == model.StageSoaking && p.Stages[0].Soak.Checks > 0
	})
	resp, err := e.cloudC.DescribeScalingInstances(t.Context(), &cloud.DescribeScalingInstancesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: "asg-rel-hz1"})
	require.NoError(t, err)
	sick := resp.ScalingInstances[0].InstanceId
	require.NoError(t, e.cloudC.Admin().SetInstanceHealth(t.Context(), cloud.InstanceHealth{ScalingGroupId: "asg-rel-hz1", InstanceIds: []string{sick}, Unhealthy: true}))

	p := e.awaitRelease("the verification fails", func(p model.ReleaseProgress) bool { return p.Stages[0].State == model.StageFailed })
	require.Contains(t, p.Stages[0].Soak.Failure, "instance "+sick+" of asg-rel-hz1 is Unhealthy")
	require.Contains(t, p.WaitingFor, "stage canary failed its verification")
	// Operators find it among the runs that wait for them.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := e.client.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("%s = 'e2e/v2_0_0' AND %s = '%s'", model.SARelease.GetName(), model.SAState.GetName(), model.StateWaitingForOperator),
		})
		if assert.NoError(c, err) {
			assert.Len(c, resp.Executions, 1)
		}
	}, 20*time.Second, 200*time.Millisecond)
	out, code = e.starter("release", "status", "e2e", "v2_0_0")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Resolve:   rollback, or cancel")
	out, code = e.starter("release", "approve", "e2e", "v2_0_0", "--by", "e2e")
	require.Equal(t, 3, code, "nothing waits for approval\n"+out)

	out, code = e.starter("release", "rollback", "e2e", "v2_0_0", "--reason", "canary unhealthy")
	require.Equal(t, 0, code, out)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	err = e.client.GetWorkflow(ctx, model.ReleaseWorkflowID("e2e", "v2_0_0"), "").Get(ctx, nil)
	require.ErrorContains(t, err, "rolled back: canary unhealthy")
	changes := countResources(e.ledger(), "ReplaceSystemDisk")
	require.Len(t, changes, 2, "only the canary was ever changed")
	for id, img := range e.instanceImages(cloudsim.SeedRegion, "asg-rel-hz1") {
		require.Equal(t, cloudsim.ImageWebappV1, img, id)
	}
}

// issue 22: a worker SIGKILLed during each phase (the publication, a
// stage's rolling updates, a soak, the rollback) changes nothing twice:
// one copy per region, every instance updated once and rolled back once.
func TestReleaseSurvivesWorkerKills(t *testing.T) {
	e, base := releaseStack(t)
	spec := strings.Replace(e2eReleaseSpec, "gate: {soak: 3s, verify: {every: 1s}}", "gate: {soak: 6s, verify: {every: 1s}}", 1)
	file := filepath.Join(t.TempDir(), "release.yaml")
	require.NoError(t, os.WriteFile(file, []byte(spec), 0o600))
	workers := e.stack.Processes("worker")
	worker := workers[len(workers)-1]
	kill := func(what string) {
		t.Helper()
		t.Log("SIGKILL the worker during", what)
		require.NoError(t, worker.Kill())
		worker = e.startWorker()
	}
	out, code := e.starter("release", "start", "--spec", file)
	require.Equal(t, 0, code, out)
	e.awaitRelease("the publication", func(p model.ReleaseProgress) bool {
		return p.Phase == model.ReleaseDistributing || p.Phase == model.ReleasePromoting
	})
	kill("the publication")
	e.awaitRelease("the canary's rolling update", func(p model.ReleaseProgress) bool {
		return p.Stages[0].Groups[0].State == model.GroupUpdating && p.Stages[0].Groups[0].Rollout != nil && p.Stages[0].Groups[0].Rollout.RunID != ""
	})
	kill("the canary's rolling update")
	e.awaitRelease("the soak", func(p model.ReleaseProgress) bool { return p.Stages[0].State == model.StageSoaking })
	kill("the soak")
	e.awaitRelease("the approval", func(p model.ReleaseProgress) bool { return p.Stages[1].State == model.StageAwaitApproval })
	out, code = e.starter("release", "approve", "e2e", "v2_0_0", "--by", "e2e")
	require.Equal(t, 0, code, out)
	e.awaitRelease("the regional stage's updates", func(p model.ReleaseProgress) bool {
		return p.Stages[1].Groups[0].State == model.GroupUpdated && p.Stages[1].Groups[1].State == model.GroupUpdating
	})
	out, code = e.starter("release", "rollback", "e2e", "v2_0_0", "--reason", "drill")
	require.Equal(t, 0, code, out)
	e.awaitRelease("the rollback", func(p model.ReleaseProgress) bool { return p.Phase == model.ReleaseRollingBack })
	kill("the rollback")

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	err := e.client.GetWorkflow(ctx, model.ReleaseWorkflowID("e2e", "v2_0_0"), "").Get(ctx, nil)
	require.ErrorContains(t, err, "rolled back: drill")
	ledger := e.ledger()
	require.Equal(t, map[string]int{"cn-shanghai": 2}, countEntries(ledger, "CopyImage"), "the test's base image and one copy of the release's")
	changes := countResources(ledger, "ReplaceSystemDisk")
	for id, n := range changes {
		require.LessOrEqual(t, n, 2, "instance %s changed at most twice (update, rollback)", id)
	}
	for id, img := range e.instanceImages(cloudsim.SeedRegion, "asg-rel-hz1", "asg-rel-hz2") {
		require.Equal(t, cloudsim.ImageWebappV1, img, id)
	}
	for id, img := range e.instanceImages("cn-shanghai", "asg-rel-sh1", "asg-rel-sh2") {
		require.Equal(t, base, img, id)
	}
	p, err := e.release("e2e", "v2_0_0")
	require.NoError(t, err)
	require.Equal(t, model.ReleaseRolledBack, p.Phase)
	for _, g := range p.Stages[0].Groups {
		require.Equal(t, model.GroupRolledBack, g.State)
	}
}

// issue 22: a release driven through the temporal CLI, as any client: a
// wrong workflow ID and an invalid spec are refused with nothing in the
// cloud's ledger; an approval with a misspelled field is refused into
// lastRefusal; a correct one, sent as a signal, lets the release finish.
func TestReleaseThroughTheTemporalCLI(t *testing.T) {
	e, _ := releaseStack(t)
	var spec model.ReleaseSpec
	require.NoError(t, specfile.Decode("release.yaml", []byte(e2eReleaseSpec), &spec))
	spec.Stages[0].Gate = model.ReleaseGate{}
	input, err := json.Marshal(spec)
	require.NoError(t, err)
	id := model.ReleaseWorkflowID("e2e", "v2_0_0")
	before := len(e.ledger())

	_, err = e.cli("workflow", "start", "--task-queue", model.TaskQueue, "--type", model.ReleaseWorkflowType, "--workflow-id", "my-release", "--input", string(input))
	require.NoError(t, err)
	requireAppError(t, e.runEnd("my-release", nil), "WrongWorkflowID", id)

	bad := spec
	bad.Stages = append([]model.ReleaseStage(nil), spec.Stages...)
	bad.Stages[2].Groups = []model.ReleaseGroup{{ScalingGroupID: "asg-rel-hz2", RegionID: "eu-west-1"}}
	badInput, err := json.Marshal(bad)
	require.NoError(t, err)
	_, err = e.cli("workflow", "start", "--task-queue", model.TaskQueue, "--type", model.ReleaseWorkflowType, "--workflow-id", id, "--input", string(badInput))
	require.NoError(t, err)
	requireAppError(t, e.runEnd(id, nil), "InvalidSpec", "not one of the publication's regions")
	require.Len(t, e.ledger(), before, "a refused release changes nothing")

	_, err = e.cli("workflow", "start", "--task-queue", model.TaskQueue, "--type", model.ReleaseWorkflowType, "--workflow-id", id, "--input", string(input))
	require.NoError(t, err)
	e.awaitRelease("the approval", func(p model.ReleaseProgress) bool { return p.Stages[1].State == model.StageAwaitApproval })
	out, err := e.cli("workflow", "signal", "--workflow-id", id, "--name", model.CommandApprove, "--input", `{"by":"cli","commnet":"typo"}`)
	require.NoError(t, err, out)
	p := e.awaitRelease("the refusal", func(p model.ReleaseProgress) bool { return p.LastRefusal != "" })
	require.Contains(t, p.LastRefusal, "commnet")
	require.Equal(t, model.StageAwaitApproval, p.Stages[1].State)
	out, err = e.cli("workflow", "signal", "--workflow-id", id, "--name", model.CommandApprove, "--input", `{"by":"cli","comment":"from the CLI"}`)
	require.NoError(t, err, out)
	require.NoError(t, e.runEnd(id, &p))
	require.Equal(t, model.ReleaseSucceeded, p.Phase)
	require.Equal(t, "cli", p.Approvals[0].By)
	recordHistory(t, e.client, id, "release_cli.json")
}

// issue 22: a group whose rolling update waits for its operator (an
// instance's system disk replacement fails) holds its stage; the release
// shows the group's wait and the rolling update's command, and goes on
// once the operator retried the instance on the rolling update.
func TestReleaseShowsAGroupWaitingForItsOperator(t *testing.T) {
	e, _ := releaseStack(t)
	resp, err := e.cloudC.DescribeScalingInstances(t.Context(), &cloud.DescribeScalingInstancesRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: "asg-rel-hz1"})
	require.NoError(t, err)
	failing := resp.ScalingInstances[0].InstanceId
	e.addFault(cloud.Fault{Kind: cloud.FaultInstanceFail, InstanceId: failing, Action: "ReplaceSystemDisk", Count: 1})
	spec := strings.Replace(e2eReleaseSpec, "    gate: {approval: true}\n", "", 1)
	file := filepath.Join(t.TempDir(), "release.yaml")
	require.NoError(t, os.WriteFile(file, []byte(spec), 0o600))
	out, code := e.starter("release", "start", "--spec", file)
	require.Equal(t, 0, code, out)

	p := e.awaitRelease("the canary's rolling update waits", func(p model.ReleaseProgress) bool {
		return strings.HasPrefix(p.Stages[0].Groups[0].WaitingFor, "its rolling update's operator")
	})
	require.Contains(t, p.Stages[0].Groups[0].Resolve, "starter rollout resume|retry|skip|rollback asg-rel-hz1")
	require.Equal(t, model.StagePending, p.Stages[1].State, "the stage holds")
	out, code = e.starter("release", "status", "e2e", "v2_0_0")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "operator: 1 failed instance(s) exceed the error threshold 0")
	require.Contains(t, out, "(starter rollout retry|skip|resume|rollback asg-rel-hz1)")

	out, code = e.starter("rollout", "retry", "asg-rel-hz1", failing)
	require.Equal(t, 0, code, out)
	e.awaitRollout("asg-rel-hz1", "the retry ends", func(st model.RolloutState) bool { return st.Failures == 0 && st.Counts.Updating == 0 })
	out, code = e.starter("rollout", "resume", "asg-rel-hz1")
	require.Equal(t, 0, code, out)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var final model.ReleaseProgress
	require.NoError(t, e.client.GetWorkflow(ctx, model.ReleaseWorkflowID("e2e", "v2_0_0"), "").Get(ctx, &final))
	require.Equal(t, model.ReleaseSucceeded, final.Phase)
	require.Empty(t, final.Stages[0].Groups[0].WaitingFor)
}
