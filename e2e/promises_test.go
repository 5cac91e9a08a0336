package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// The promises hold for any client: these tests drive imagefleet the way a
// new user would, through the temporal CLI, a raw Temporal client (the
// SDK's default, lenient data converter) and the cloud's HTTP API, never the
// starter. Each case ends in a clear refusal or a correct result, and a
// refused attempt leaves nothing in the cloud's ledger.

// cli runs the temporal CLI against this stack.
func (e *env) cli(args ...string) (string, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), time.Minute)
	defer cancel()
	args = append(args, "--address", e.stack.TemporalAddress())
	out, err := exec.CommandContext(ctx, temporalCLI, args...).CombinedOutput()
	e.t.Logf("temporal %s\n%s", strings.Join(args, " "), out)
	return string(out), err
}

// runEnd waits for the run of id and returns its error (nil: it completed).
func (e *env) runEnd(id string, result any) error {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), 2*time.Minute)
	defer cancel()
	return e.client.GetWorkflow(ctx, id, "").Get(ctx, result)
}

func requireAppError(t *testing.T, err error, typ, contains string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, typ, appErr.Type(), "%v", err)
	require.False(t, appErr.NonRetryable() == false && typ != "", "refusals are not retryable: %v", err)
	require.Contains(t, err.Error(), contains)
}

func TestDistributionPromisesForAnyClient(t *testing.T) {
	e := newEnv(t, 0.0005)
	ctx := t.Context()
	spec := map[string]any{"package": "anyclient", "version": "v1_0_0", "description": "published by any client",
		"sourceRegion": cloudsim.SeedRegion, "sourceImage": cloudsim.ImageWebappV1, "regions": []string{"cn-shanghai", "eu-west-1"}}
	canonical := model.DistributeWorkflowID("anyclient", "v1_0_0")
	before := len(e.ledger())

	// 1, 2: another workflow ID, through the temporal CLI: refused before
	// any copy, and the run answers progress with why.
	input, err := json.Marshal(spec)
	require.NoError(t, err)
	_, err = e.cli("workflow", "start", "--task-queue", model.TaskQueue, "--type", model.DistributeWorkflowType,
		"--workflow-id", "my-distribution", "--input", string(input))
	require.NoError(t, err)
	requireAppError(t, e.runEnd("my-distribution", nil), "WrongWorkflowID", canonical)
	// (The CLI answers; payloads are encrypted, so the content is read
	// through the test client, which has the codec.)
	out, err := e.cli("workflow", "query", "--workflow-id", "my-distribution", "--name", model.QueryProgress)
	require.NoError(t, err, out)
	require.Contains(t, out, "QueryResult")
	require.Contains(t, e.progress("my-distribution").Error, "this operation runs only as")

	// 5: a misspelled field, through a raw client: refused by name.
	typo := map[string]any{}
	for k, v := range spec {
		typo[k] = v
	}
	typo["descripton"] = typo["description"]
	delete(typo, "description")
	rawStart(t, e, canonical, model.DistributeWorkflowType, typo)
	err = e.runEnd(canonical, nil)
	require.ErrorContains(t, err, `unknown field "descripton"`)
	out, err = e.cli("workflow", "query", "--workflow-id", canonical, "--name", model.QueryProgress)
	require.NoError(t, err, "progress answers a run whose input was refused: %s", out)
	require.Equal(t, model.PhaseFailed, e.progress(canonical).Phase)

	// 6, 7: a description the copies cannot carry: refused up front, and
	// the failed run answers progress.
	long := map[string]any{}
	for k, v := range spec {
		long[k] = v
	}
	long["description"] = strings.Repeat("d", 300)
	rawStart(t, e, canonical, model.DistributeWorkflowType, long)
	requireAppError(t, e.runEnd(canonical, nil), "InvalidSpec", "at most 256 characters")
	p := e.progress(canonical)
	require.Equal(t, model.PhaseFailed, p.Phase)
	require.Contains(t, p.Error, "256")
	require.Len(t, e.ledger(), before, "refused attempts leave no side effect")

	// The canonical ID publishes.
	rawStart(t, e, canonical, model.DistributeWorkflowType, spec)
	var res model.DistributionResult
	require.NoError(t, e.runEnd(canonical, &res))
	require.Len(t, res.ImageIDs, 2)
	copies := len(countEntriesAll(e.ledger(), "CopyImage"))

	// 3: starting the published version's canonical ID again answers with
	// the existing result; nothing is copied and nothing turns Failed.
	rawStart(t, e, canonical, model.DistributeWorkflowType, spec)
	var again model.DistributionResult
	require.NoError(t, e.runEnd(canonical, &again))
	require.True(t, again.AlreadyPublished)
	require.Equal(t, res.ImageIDs, again.ImageIDs)
	require.Len(t, countEntriesAll(e.ledger(), "CopyImage"), copies)
	e.requireStatus(canonical, enums.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	require.Equal(t, model.PhasePublished, e.progress(canonical).Phase)

	// 4: through the cloud's API, the published copies are the service's,
	// and the version cannot be published a second time.
	before = len(e.ledger())
	img := res.ImageIDs["eu-west-1"]
	_, err = e.cloudC.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: "eu-west-1", ImageId: img})
	requireCode(t, err, cloud.CodeImageManagedByService)
	public := true
	_, err = e.cloudC.ModifyImageSharePermission(ctx, &cloud.ModifyImageSharePermissionRequest{RegionId: "eu-west-1", ImageId: img, IsPublic: &public})
	requireCode(t, err, cloud.CodeImageManagedByService)
	_, err = e.cloudC.StartArtifactRelease(ctx, &cloud.StartArtifactReleaseRequest{ArtifactId: res.ArtifactID, VersionName: "v1_0_0", ReleaseToken: "someone-else"})
	requireCode(t, err, cloud.CodeArtifactLocked)
	require.Len(t, e.ledger(), before, "refused calls leave no side effect")
}

// A version being published is held in the cloud: a second publication
// through the cloud's API, and a delete of the version, are refused while
// the first runs.
func TestPublicationHoldsItsVersionInTheCloud(t *testing.T) {
	e := newEnv(t, 0.0005)
	ctx := t.Context()
	e.addFault(cloud.Fault{Kind: cloud.FaultOutage, Region: "eu-west-1"})
	spec := model.DistributeSpec{Package: "held", Version: "v1_0_0", Description: "held by its publication",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: []string{"cn-shanghai", "eu-west-1"}, CopyAttempts: 1}
	id := model.DistributeWorkflowID(spec.Package, spec.Version)
	rawStart(t, e, id, model.DistributeWorkflowType, spec)
	var art *cloud.Artifact
	require.Eventually(t, func() bool {
		resp, err := e.cloudC.GetArtifact(ctx, &cloud.GetArtifactRequest{Name: "held"})
		if err != nil || resp.Artifact.Versions[0].Status != cloud.ArtifactDelivering {
			return false
		}
		art = &resp.Artifact
		return true
	}, time.Minute, 100*time.Millisecond)
	// The run's own copies go on meanwhile: count only what the refused
	// calls could have done.
	releases := func() int {
		n := 0
		for _, en := range e.ledger() {
			if en.Action == "StartArtifactRelease" || en.Action == "ReleaseArtifact" {
				n++
			}
		}
		return n
	}
	before := releases()
	_, err := e.cloudC.StartArtifactRelease(ctx, &cloud.StartArtifactReleaseRequest{ArtifactId: art.ArtifactId, VersionName: "v1_0_0", ReleaseToken: "another"})
	requireCode(t, err, cloud.CodeArtifactReleasing)
	_, err = e.cloudC.ReleaseArtifact(ctx, &cloud.ReleaseArtifactRequest{ArtifactId: art.ArtifactId, VersionName: "v1_0_0",
		ImageDelivery: map[string]string{"cn-hangzhou": cloudsim.ImageWebappV1}, Permission: cloud.Permission{Visibility: cloud.VisibilityPrivate}})
	requireCode(t, err, cloud.CodeArtifactReleasing)
	// Nor can any client delete the version under the publication.
	_, err = e.cloudC.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: art.ArtifactId, VersionName: "v1_0_0"})
	requireCode(t, err, cloud.CodeArtifactReleasing)
	require.Equal(t, before, releases(), "refused calls leave no side effect")

	// Aborted, the run lets go of the version: it deletes the draft it
	// created, so nothing holds or keeps v1_0_0 any more.
	//lint:ignore SA1019 the deprecated name is still accepted: this is where it is kept working
	require.NoError(t, e.client.SignalWorkflow(ctx, id, "", model.CommandAbort, model.CancelCommand{Reason: "test"}))
	requireAppError(t, e.runEnd(id, nil), "Aborted", "test")
	resp, err := e.cloudC.GetArtifact(ctx, &cloud.GetArtifactRequest{Name: "held"})
	require.NoError(t, err)
	for _, v := range resp.Artifact.Versions {
		require.NotEqual(t, "v1_0_0", v.VersionName, "the aborted run's own draft is deleted")
	}
}

func TestRolloutPromisesForAnyClient(t *testing.T) {
	e := newEnv(t, 0.002)
	ctx := t.Context()
	const group = cloudsim.GroupWeb
	spec := model.RolloutSpec{ScalingGroupID: group, RegionID: cloudsim.SeedRegion, TaskType: model.TaskScript,
		Script: &model.ScriptChange{Script: "echo hi", Type: cloud.CommandShell}, Batches: 2, Description: "any client"}
	before := len(e.ledger())

	// 1: another workflow ID: refused before the group is touched.
	rawStart(t, e, "my-rollout", model.RolloutWorkflowType, spec)
	requireAppError(t, e.runEnd("my-rollout", nil), "WrongWorkflowID", model.RolloutWorkflowID(group))

	// 5: a misspelled field ("bacthes") is refused by name.
	raw, err := json.Marshal(spec)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(raw, &fields))
	fields["bacthes"] = 5
	rawStart(t, e, model.RolloutWorkflowID(group), model.RolloutWorkflowType, fields)
	require.ErrorContains(t, e.runEnd(model.RolloutWorkflowID(group), nil), `unknown field "bacthes"`)
	require.Len(t, e.ledger(), before)

	// One task per group, enforced by the cloud: a task another client
	// started there refuses the workflow before any instance changes.
	task, err := e.cloudC.CreateRollingUpdateTask(ctx, &cloud.CreateRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group, Description: "console"})
	require.NoError(t, err)
	before = len(e.ledger())
	rawStart(t, e, model.RolloutWorkflowID(group), model.RolloutWorkflowType, spec)
	requireAppError(t, e.runEnd(model.RolloutWorkflowID(group), nil), cloud.CodeRollingUpdateRunning, task.TaskId)
	for _, entry := range e.ledger()[before:] {
		require.NotContains(t, []string{"EnterStandby", "SuspendProcesses", "RunCommand", "ReplaceSystemDisk"}, entry.Action, "the refused run changed the group")
	}

	// Once that task ends, the workflow runs, under its own task.
	_, err = e.cloudC.FinishRollingUpdateTask(ctx, &cloud.FinishRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, TaskId: task.TaskId})
	require.NoError(t, err)
	rawStart(t, e, model.RolloutWorkflowID(group), model.RolloutWorkflowType, spec)
	require.NoError(t, e.runEnd(model.RolloutWorkflowID(group), nil))
	tasks, err := e.cloudC.DescribeRollingUpdateTasks(ctx, &cloud.DescribeRollingUpdateTasksRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: group})
	require.NoError(t, err)
	require.Len(t, tasks.Tasks, 2)
	require.Equal(t, cloud.RollingUpdateFinished, tasks.Tasks[1].Status, "the workflow's task ended with it")
}

func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	apiErr, ok := cloud.AsAPIError(err)
	require.True(t, ok, "want %s, got %v", code, err)
	require.Equal(t, code, apiErr.Code, "%v", err)
}

func countEntriesAll(entries []cloud.LedgerEntry, action string) []cloud.LedgerEntry {
	var out []cloud.LedgerEntry
	for _, e := range entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// A service's deployment is locked while one runs: by the cloud (another
// deployment's task set is refused) and by the workflow (which refuses a
// foreign workflow ID, and a service with another deployment's task set).
func TestBlueGreenPromisesForAnyClient(t *testing.T) {
	e := newEnv(t, 0.01)
	ctx := t.Context()
	d, err := cloudsim.SetupBlueGreenDemo(ctx, e.cloudC, "e2e", "web")
	require.NoError(t, err)
	spec := model.BlueGreenSpec{
		Cluster: d.Cluster, Service: d.Service, TaskDefinition: "web:2", Subnets: d.Subnets,
		ContainerName: d.ContainerName, ContainerPort: d.ContainerPort, TargetGroups: d.TargetGroups[:],
		ProductionListener: d.ProductionListener, TestListener: d.TestListener,
		Strategy: model.ShiftStrategy{Type: model.StrategyAllAtOnce}, TerminationWait: "1s", HealthCheckInterval: "1s",
	}
	before := len(e.ledger())
	rawStart(t, e, "my-deployment", model.BlueGreenWorkflowType, spec)
	requireAppError(t, e.runEnd("my-deployment", nil), "WrongWorkflowID", model.BlueGreenWorkflowID(d.Cluster, d.Service))
	require.Len(t, e.ledger(), before)

	// Another deployment (say, a script) has started a task set.
	create := func(externalID string) error {
		_, err := e.cloudC.Containers().CreateTaskSet(ctx, &cloud.CreateTaskSetRequest{
			Cluster: d.Cluster, Service: d.Service, ExternalId: externalID, TaskDefinition: "web:3", LaunchType: cloud.LaunchTypeFargate,
			NetworkConfiguration: &cloud.NetworkConfiguration{AwsvpcConfiguration: &cloud.AwsVpcConfiguration{Subnets: d.Subnets}},
			LoadBalancers:        []cloud.TaskSetLoadBalancer{{TargetGroupArn: d.TargetGroups[1], ContainerName: d.ContainerName, ContainerPort: d.ContainerPort}},
		})
		return err
	}
	require.NoError(t, create("script-1"))
	before = len(e.ledger())
	requireCode(t, create("script-2"), cloud.CodeDeploymentInProgress)
	id := model.BlueGreenWorkflowID(d.Cluster, d.Service)
	rawStart(t, e, id, model.BlueGreenWorkflowType, spec)
	requireAppError(t, e.runEnd(id, nil), "ServiceNotReady", "another deployment runs")
	for _, entry := range e.ledger()[before:] {
		require.NotEqual(t, "CreateTaskSet", entry.Action, "the refused deployment created a task set")
	}
}
