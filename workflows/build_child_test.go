package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// A build whose distribution child waits for an operator shows that wait
// as its own, naming the child the command goes to; the child's retry-region
// resolves it and the build completes. Issue 18, item 3.
func TestBuildShowsItsDistributionsOperatorWait(t *testing.T) {
	env := newBuildEnv(t)
	// The cloud refuses the copy into cn-shanghai once: the region waits.
	env.fault(t, cloud.Fault{Kind: cloud.FaultQuota, Action: "CopyImage", Region: "cn-shanghai", Count: 1})
	req := baseTemplate("web")
	req.ToRegionIds = []string{buildRegion, "cn-shanghai"}
	tpl := env.template(t, req)

	var waiting, resumed model.BuildProgress
	var child string
	var check func()
	check = func() {
		p := env.progress(t)
		if p.WaitingOn == "" {
			env.RegisterDelayedCallback(check, time.Minute)
			return
		}
		waiting, child = p, p.WaitingOn
		env.SignalWorkflowByID(child, model.CommandRetryRegion, model.RegionCommand{Region: "cn-shanghai"})
		env.RegisterDelayedCallback(func() { resumed = env.progress(t) }, time.Second)
	}
	env.RegisterDelayedCallback(check, time.Minute)

	env.execute(tpl, "")

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, model.StepDistribute, waiting.Step)
	require.Equal(t, model.DistributeWorkflowID("build_web", strings.ReplaceAll(waiting.ExecutionID, "-", "_")), child, "the wait names the child")
	require.Contains(t, waiting.WaitingFor, "operator decision for cn-shanghai: retry-region, drop-region or cancel")
	require.Contains(t, waiting.WaitingFor, "sent to child workflow "+child)
	require.Empty(t, resumed.WaitingFor, "the child's retry ends the build's wait")
	require.Empty(t, env.progress(t).WaitingOn)
}

// A wait report from a run that is not the build's child (any client can
// send the signal) is ignored: the build shows no wait it does not have.
func TestBuildIgnoresAWaitReportFromARunThatIsNotItsChild(t *testing.T) {
	env := newBuildEnv(t)
	req := baseTemplate("web")
	req.ToRegionIds = []string{buildRegion, "cn-shanghai"}
	tpl := env.template(t, req)
	var after model.BuildProgress
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(model.SignalChildWaiting, model.ChildWait{WorkflowID: "distribute/other/v1", Operation: model.OperationDistribute, WaitingFor: "operator decision for eu-west-1"})
		env.RegisterDelayedCallback(func() { after = env.progress(t) }, time.Millisecond)
	}, time.Millisecond)

	env.execute(tpl, "")

	require.NoError(t, env.GetWorkflowError())
	require.NotEmpty(t, after.Step, "the build was still running when the report came")
	require.Empty(t, after.WaitingFor)
	require.Empty(t, after.WaitingOn)
}
