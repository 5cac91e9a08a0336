package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// startWaitingBuild creates a template distributing to cn-shanghai and
// eu-west-1, whose eu-west-1 copy the cloud refuses: the build's
// distribution child waits for an operator, and the build shows it (issue
// 18, item 3): the starter's --exit-on-pause fires, naming the child and
// its commands. It returns the build's and the child's workflow IDs.
func startWaitingBuild(t *testing.T, e *env, name string) (buildID, childID string) {
	t.Helper()
	e.addFault(cloud.Fault{Kind: cloud.FaultQuota, Action: "CopyImage", Region: "eu-west-1"})
	spec := writeTemplate(t, "name: "+name+"\nsourceFamily: webapp\ncomponents:\n  - name: install\n    content: echo installed\nregions: [cn-hangzhou, cn-shanghai, eu-west-1]\n")
	out, code := e.starter("build-template", "create", "--spec", spec, "--wait", "--exit-on-pause")
	require.Equal(t, 4, code, "the build waits for its distribution's operator decision: %s", out)
	m := templateIDRE.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	buildID = model.BuildWorkflowID(cloudsim.SeedRegion, m[1])
	p, err := e.buildProgress(buildID)
	require.NoError(t, err)
	require.Equal(t, model.StepDistribute, p.Step)
	childID = p.WaitingOn
	require.Equal(t, model.DistributeWorkflowID("build_"+strings.ReplaceAll(name, "-", "_"), strings.ReplaceAll(p.ExecutionID, "-", "_")), childID)
	require.Contains(t, out, "operator decision for eu-west-1: retry-region, drop-region or cancel")
	require.Contains(t, out, "sent to child workflow "+childID)
	require.Contains(t, out, "starter retry-region "+childID+" <region>")
	require.Equal(t, model.StateWaitingForOperator, e.state(buildID), "the build is listed as waiting for an operator")

	out, code = e.starter("build", "show", m[1])
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Waiting:   operator decision for eu-west-1")
	require.Contains(t, out, "e.g. starter retry-region "+childID)
	return buildID, childID
}

// state is the ImagefleetState search attribute of id's latest run.
func (e *env) state(id string) string {
	e.t.Helper()
	desc, err := e.client.DescribeWorkflowExecution(e.t.Context(), id, "")
	require.NoError(e.t, err)
	var s string
	p := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[model.SAState.GetName()]
	require.NotNil(e.t, p)
	require.NoError(e.t, converter.GetDefaultDataConverter().FromPayload(p, &s))
	return s
}

// The operator's retry-region, sent to the child the build names, resolves
// the build's wait: the build runs on (it is no longer WaitingForOperator).
func TestBuildShowsItsDistributionsWaitUntilTheChildIsRetried(t *testing.T) {
	e := newEnv(t, 0.001)
	buildID, childID := startWaitingBuild(t, e, "e2e-wait")
	require.NoError(t, e.cloudC.Admin().ClearFaults(t.Context()))
	out, code := e.starter("retry-region", childID, "eu-west-1")
	require.Equal(t, 0, code, out)
	require.NoError(t, e.client.GetWorkflow(t.Context(), buildID, "").Get(t.Context(), nil))
	require.Equal(t, model.StateSucceeded, e.state(buildID))
	p, err := e.buildProgress(buildID)
	require.NoError(t, err)
	require.Empty(t, p.WaitingFor)
	require.Empty(t, p.WaitingOn)
	recordHistory(t, e.client, buildID, "build_child_wait.json")
	recordHistory(t, e.client, childID, "distribute_build_child_wait.json")
}

// A build that is terminated asks its distribution child to cancel (parent
// close policy RequestCancel): the child deletes its copy, gives up its hold
// on the version and deletes its draft. Issue 18, item 24.
func TestTerminatedBuildsDistributionCompensates(t *testing.T) {
	e := newEnv(t, 0.001)
	buildID, childID := startWaitingBuild(t, e, "e2e-term")
	require.NoError(t, e.client.TerminateWorkflow(t.Context(), buildID, "", "e2e: the build is terminated"))

	err := e.client.GetWorkflow(t.Context(), childID, "").Get(t.Context(), nil)
	require.Error(t, err, "the child is cancelled")
	e.requireStatus(childID, enums.WORKFLOW_EXECUTION_STATUS_CANCELED)
	requireDistributionUndone(t, e, childID)
}

// A distribution child that is terminated itself (it cannot compensate)
// still holds its version: the build, whose step failed, deletes the
// version with the hold's token (the cloud refuses anyone else). Issue 18,
// item 24.
func TestBuildDeletesTheVersionItsTerminatedDistributionHeld(t *testing.T) {
	e := newEnv(t, 0.001)
	buildID, childID := startWaitingBuild(t, e, "e2e-child")
	require.NoError(t, e.client.TerminateWorkflow(t.Context(), childID, "", "e2e: the distribution is terminated"))

	err := e.client.GetWorkflow(t.Context(), buildID, "").Get(t.Context(), nil)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "could not be released")
	p, err := e.buildProgress(buildID)
	require.NoError(t, err)
	for _, r := range p.Resources {
		if r.Kind == model.ResourcePackageVersion {
			require.Equal(t, model.ResourceReleased, r.State, "%s: %s", r.ID, r.Error)
		}
	}
	parts := strings.Split(childID, "/")
	requireVersionGone(t, e, parts[1], parts[2])
}

// requireDistributionUndone checks in the cloud that the distribution id
// left nothing: no live copy, its version (draft) gone.
func requireDistributionUndone(t *testing.T, e *env, id string) {
	t.Helper()
	parts := strings.Split(id, "/")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		live := map[string]bool{}
		for _, en := range e.ledger() {
			switch en.Action {
			case "CopyImage":
				live[en.ResourceId] = true
			case "CancelCopyImage", "DeleteImage":
				delete(live, en.ResourceId)
			}
		}
		assert.Empty(c, live, "every copy is deleted")
	}, time.Minute, 200*time.Millisecond)
	requireVersionGone(t, e, parts[1], parts[2])
}

func requireVersionGone(t *testing.T, e *env, pkg, version string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		art, err := e.cloudC.GetArtifact(t.Context(), &cloud.GetArtifactRequest{Name: pkg})
		if cloud.IsCode(err, cloud.CodeArtifactNotFound) {
			return
		}
		if !assert.NoError(c, err) {
			return
		}
		for _, v := range art.Artifact.Versions {
			assert.NotEqual(c, version, v.VersionName, "version %s is left (%s)", version, v.Status)
		}
	}, time.Minute, 200*time.Millisecond)
}
