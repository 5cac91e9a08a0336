package e2e

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

func (e *env) blueGreenProgress(id string) model.BlueGreenProgress {
	e.t.Helper()
	v, err := e.client.QueryWorkflow(e.t.Context(), id, "", model.QueryProgress)
	require.NoError(e.t, err)
	var p model.BlueGreenProgress
	require.NoError(e.t, v.Get(&p))
	return p
}

func blueGreenArgs(d *cloudsim.BlueGreenDemo, extra ...string) []string {
	return append([]string{"bluegreen", "start", "--cluster", d.Cluster, "--service", d.Service,
		"--task-definition", d.Service + ":2", "--subnets", strings.Join(d.Subnets, ","),
		"--container-name", d.ContainerName, "--container-port", "8080",
		"--target-groups", d.TargetGroups[0] + "," + d.TargetGroups[1],
		"--production-listener", d.ProductionListener, "--test-listener", d.TestListener,
		"--termination-wait", "2s", "--health-check-interval", "1s"}, extra...)
}

// liveTaskSets are the service's task sets that are not draining.
func (e *env) liveTaskSets(d *cloudsim.BlueGreenDemo) []cloud.TaskSet {
	e.t.Helper()
	resp, err := e.cloudC.Containers().DescribeServices(e.t.Context(), &cloud.DescribeServicesRequest{Cluster: d.Cluster, Services: []string{d.Service}})
	require.NoError(e.t, err)
	var live []cloud.TaskSet
	for _, ts := range resp.Services[0].TaskSets {
		if ts.Status != cloud.TaskSetDraining {
			live = append(live, ts)
		}
	}
	return live
}

func (e *env) weights(listener string) map[string]int {
	e.t.Helper()
	resp, err := e.cloudC.ELB().DescribeListeners(e.t.Context(), &cloud.DescribeListenersRequest{ListenerArns: []string{listener}})
	require.NoError(e.t, err)
	return resp.Listeners[0].Weights()
}

func (e *env) awaitResult(id string) error {
	ctx, cancel := context.WithTimeout(e.t.Context(), 2*time.Minute)
	defer cancel()
	return e.client.GetWorkflow(ctx, id, "").Get(ctx, nil)
}

func TestBlueGreenWithStarter(t *testing.T) {
	e := newEnv(t, 0.01) // a task set settles in 0.6 s
	d, err := cloudsim.SetupBlueGreenDemo(t.Context(), e.cloudC, "e2e", "web")
	require.NoError(t, err)
	id := model.BlueGreenWorkflowID(d.Cluster, d.Service)

	out, code := e.starter(blueGreenArgs(d, "--steps", "25,pause,100", "--exit-on-pause")...)
	require.Equal(t, 4, code, "the run stops at the manual gate")
	require.Contains(t, out, "Workflow ID: "+id)
	require.Contains(t, out, "waiting for promote")

	out, code = e.starter("bluegreen", "status", d.Cluster, d.Service)
	require.Equal(t, 0, code)
	require.Contains(t, out, "step 2/3: pause until promote")
	require.Contains(t, out, "blue 75% / green 25%")
	require.Equal(t, map[string]int{d.TargetGroups[0]: 75, d.TargetGroups[1]: 25}, e.weights(d.ProductionListener))
	out, code = e.starter("status", id)
	require.Equal(t, 0, code)
	require.Contains(t, out, "blue 75% / green 25%", "the generic status command dispatches by workflow type")

	out, code = e.starter(blueGreenArgs(d, "--strategy", "all-at-once")...)
	require.Equal(t, 2, code, "one deployment per service")
	require.Contains(t, out, "task sets besides its primary")

	out, code = e.starter("bluegreen", "promote", d.Cluster, d.Service, "--full")
	require.Equal(t, 0, code, out)
	out, code = e.starter("bluegreen", "promote", d.Cluster, d.Service, "--full")
	require.Equal(t, 3, code, "a second promote-full is refused with the reason")
	require.Contains(t, out, "promote-full")

	require.NoError(t, e.awaitResult(id))
	live := e.liveTaskSets(d)
	require.Len(t, live, 1, "blue removed")
	require.Equal(t, cloud.TaskSetPrimary, live[0].Status)
	require.Equal(t, "web:2", live[0].TaskDefinition)
	require.Equal(t, map[string]int{d.TargetGroups[0]: 0, d.TargetGroups[1]: 100}, e.weights(d.ProductionListener))
	require.Equal(t, 2, countEntries(e.ledger(), cloud.ActionCreateTaskSet)[""], "the demo's task set and green, nothing more")
	p := e.blueGreenProgress(id)
	require.Equal(t, model.BGPhaseSucceeded, p.Phase)

	// The next deployment alternates target groups: green goes to the first.
	out, code = e.starter(blueGreenArgs(d, "--task-definition", "web:3", "--strategy", "all-at-once")...)
	require.Equal(t, 0, code, out)
	live = e.liveTaskSets(d)
	require.Len(t, live, 1)
	require.Equal(t, "web:3", live[0].TaskDefinition)
	require.Equal(t, d.TargetGroups[0], live[0].LoadBalancers[0].TargetGroupArn)
}

func TestBlueGreenUnhealthyGreenRollsBackEndToEnd(t *testing.T) {
	e := newEnv(t, 0.01)
	d, err := cloudsim.SetupBlueGreenDemo(t.Context(), e.cloudC, "e2e", "web")
	require.NoError(t, err)
	e.addFault(cloud.Fault{Kind: cloud.FaultUnhealthyTasks, Action: cloud.ActionCreateTaskSet, Count: 1})

	out, code := e.starter(blueGreenArgs(d, "--strategy", "canary", "--percent", "10", "--interval", "1m")...)
	require.Equal(t, 1, code)
	require.Contains(t, out, "unhealthy")

	p := e.blueGreenProgress(model.BlueGreenWorkflowID(d.Cluster, d.Service))
	require.Equal(t, model.BGPhaseRolledBack, p.Phase)
	live := e.liveTaskSets(d)
	require.Len(t, live, 1, "green removed")
	require.Equal(t, d.BlueTaskSet, live[0].Id)
	require.Equal(t, cloud.TaskSetPrimary, live[0].Status)
	require.Equal(t, map[string]int{d.TargetGroups[0]: 1, d.TargetGroups[1]: 0}, e.weights(d.ProductionListener), "production never saw green")
	require.Equal(t, map[string]int{d.TargetGroups[0]: 1, d.TargetGroups[1]: 0}, e.weights(d.TestListener), "test listener restored")
}

// TestWorkerCrashMidShift kills the worker with SIGKILL while traffic is
// being shifted, starts another, and checks that the deployment completes
// (or, aborted after the crash, rolls back) with no task set left behind.
func TestWorkerCrashMidShift(t *testing.T) {
	for _, abort := range []bool{false, true} {
		name := map[bool]string{false: "completes", true: "rolls back"}[abort]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 0.01)
			d, err := cloudsim.SetupBlueGreenDemo(t.Context(), e.cloudC, "e2e", "web")
			require.NoError(t, err)
			id := model.BlueGreenWorkflowID(d.Cluster, d.Service)
			spec := model.BlueGreenSpec{
				Cluster: d.Cluster, Service: d.Service, TaskDefinition: "web:2", Subnets: d.Subnets,
				ContainerName: d.ContainerName, ContainerPort: d.ContainerPort, TargetGroups: d.TargetGroups[:],
				ProductionListener: d.ProductionListener, TestListener: d.TestListener,
				Strategy:        model.ShiftStrategy{Type: model.StrategyLinear, Percent: 20, Interval: "2s"},
				TerminationWait: "1s", HealthCheckInterval: "1s",
			}
			rawStart(t, e, id, model.BlueGreenWorkflowType, spec)

			require.EventuallyWithT(t, func(c *assert.CollectT) {
				require.Equal(c, 40, e.weights(d.ProductionListener)[d.TargetGroups[1]])
			}, time.Minute, 100*time.Millisecond)
			killWorkers(t, e.stack)
			if abort {
				// A signal: it is recorded while no worker runs.
				require.NoError(t, e.client.SignalWorkflow(t.Context(), id, "", model.CommandCancel, model.CancelCommand{Reason: "crash test"}))
			}
			e.startWorker()

			err = e.awaitResult(id)
			live := e.liveTaskSets(d)
			require.Len(t, live, 1, "no task set left behind")
			require.Equal(t, cloud.TaskSetPrimary, live[0].Status)
			if abort {
				require.Error(t, err)
				require.Equal(t, d.BlueTaskSet, live[0].Id)
				require.Equal(t, map[string]int{d.TargetGroups[0]: 1, d.TargetGroups[1]: 0}, e.weights(d.ProductionListener))
			} else {
				require.NoError(t, err)
				require.Equal(t, "web:2", live[0].TaskDefinition)
				require.Equal(t, 100, e.weights(d.ProductionListener)[d.TargetGroups[1]])
			}
			require.Equal(t, 2, countEntries(e.ledger(), cloud.ActionCreateTaskSet)[""], "green created once")
			want := enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
			if abort {
				want = enums.WORKFLOW_EXECUTION_STATUS_FAILED
			}
			e.requireStatus(id, want)
			recordHistory(t, e.client, id, map[bool]string{false: "bluegreen_model_worker_crash.json", true: "bluegreen_model_cancel_after_crash.json"}[abort])
		})
	}
}

func TestBlueGreenAbortWithStarter(t *testing.T) {
	e := newEnv(t, 0.01)
	d, err := cloudsim.SetupBlueGreenDemo(t.Context(), e.cloudC, "e2e", "web")
	require.NoError(t, err)
	id := model.BlueGreenWorkflowID(d.Cluster, d.Service)

	_, code := e.starter(blueGreenArgs(d, "--steps", "30,pause", "--wait=false")...)
	require.Equal(t, 0, code)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.NotEmpty(c, e.blueGreenProgress(id).WaitingFor)
	}, time.Minute, 100*time.Millisecond)
	out, code := e.starter("bluegreen", "abort", d.Cluster, d.Service, "--reason", "e2e abort")
	require.Equal(t, 0, code, out)
	require.Error(t, e.awaitResult(id))
	out, code = e.starter("bluegreen", "abort", d.Cluster, d.Service)
	require.Equal(t, 3, code, "nothing to abort any more: %s", out)

	live := e.liveTaskSets(d)
	require.Len(t, live, 1)
	require.Equal(t, d.BlueTaskSet, live[0].Id)
	require.Equal(t, map[string]int{d.TargetGroups[0]: 1, d.TargetGroups[1]: 0}, e.weights(d.ProductionListener))
	p := e.blueGreenProgress(id)
	require.Equal(t, model.BGPhaseAborted, p.Phase, "a cancelled run's phase is Aborted, as its ImagefleetState")
	require.Equal(t, "e2e abort", p.AbortReason)
	out, code = e.starter("bluegreen", "status", d.Cluster, d.Service)
	require.Equal(t, 1, code, "a rolled-back deployment ended Failed")
	require.Contains(t, out, "Phase:     Aborted")
}

// issue 18 item 6: a command sent while the worker is dead is not reported
// as failed: the starter says it is pending (exit code 5) and that it may
// still take effect, and it does once a worker runs again. (The server
// keeps an admitted update in memory only: if it drops it before a worker
// runs, which a loaded dev server has done, nothing is applied, as the
// message warns; the test then checks that nothing moved and that the
// command sent again is applied.)
func TestCommandPendingWhileWorkerIsDownWithStarter(t *testing.T) {
	e := newEnv(t, 0.01)
	d, err := cloudsim.SetupBlueGreenDemo(t.Context(), e.cloudC, "e2e", "web")
	require.NoError(t, err)
	id := model.BlueGreenWorkflowID(d.Cluster, d.Service)
	t.Cleanup(func() { terminateIfRunning(e.client, id) }) // the dev server is shared

	_, code := e.starter(blueGreenArgs(d, "--steps", "25,pause,50,pause", "--exit-on-pause")...)
	require.Equal(t, 4, code, "the run waits at the first gate")
	require.Equal(t, 25, e.weights(d.ProductionListener)[d.TargetGroups[1]])

	killWorkers(t, e.stack)
	out, code := e.starter("bluegreen", "promote", d.Cluster, d.Service, "--reply-timeout", "5s")
	require.Equal(t, 5, code, "pending, not failed")
	require.Contains(t, out, "promote: pending, not applied yet")
	require.Contains(t, out, "it may still take effect")
	require.NotContains(t, out, "error:")
	m := regexp.MustCompile(`update-id ([0-9a-f-]{36})`).FindStringSubmatch(out)
	require.NotNil(t, m, "the message names the update")
	require.Equal(t, 25, e.weights(d.ProductionListener)[d.TargetGroups[1]], "nothing moved without a worker")

	e.startWorker()
	var stage enums.UpdateWorkflowExecutionLifecycleStage
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := e.client.WorkflowService().PollWorkflowExecutionUpdate(t.Context(), &workflowservice.PollWorkflowExecutionUpdateRequest{
			Namespace:  "default",
			UpdateRef:  &updatepb.UpdateRef{WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id}, UpdateId: m[1]},
			WaitPolicy: &updatepb.WaitPolicy{LifecycleStage: enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED},
		})
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			stage = enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED // dropped by the server
			return
		}
		require.NoError(c, err)
		stage = resp.GetStage()
		require.Equal(c, enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED, stage, "the run answers it once a worker runs")
		require.Nil(c, resp.GetOutcome().GetFailure(), "and applies it")
	}, 2*time.Minute, 200*time.Millisecond)
	if stage == enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED {
		t.Log("the server dropped the pending command before a worker ran it: nothing may have moved, and it is sent again")
		require.Equal(t, 25, e.weights(d.ProductionListener)[d.TargetGroups[1]])
		out, code = e.starter("bluegreen", "promote", d.Cluster, d.Service)
		require.Equal(t, 0, code, out)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, 50, e.weights(d.ProductionListener)[d.TargetGroups[1]], "the pending promote was applied")
		require.Contains(c, e.blueGreenProgress(id).WaitingFor, "promote", "at the next gate")
	}, 2*time.Minute, 200*time.Millisecond)
	require.Empty(t, e.blueGreenProgress(id).LastRefusal)

	// With the worker up, the next command is answered at once.
	out, code = e.starter("bluegreen", "promote", d.Cluster, d.Service, "--full")
	require.Equal(t, 0, code, out)
	require.NoError(t, e.awaitResult(id))
	require.Equal(t, 100, e.weights(d.ProductionListener)[d.TargetGroups[1]])
}

// issue 18 item 9: a signal whose payload has a field the command does not
// have, or a field spelled in another case, is refused and kept in
// lastRefusal (it was dropped with only a line in the worker's log); the
// run goes on waiting, and a correct signal is applied.
func TestSignalWithUnknownFieldIsRefusedThroughTheCLI(t *testing.T) {
	e := newEnv(t, 0.01)
	d, err := cloudsim.SetupBlueGreenDemo(t.Context(), e.cloudC, "e2e", "web")
	require.NoError(t, err)
	id := model.BlueGreenWorkflowID(d.Cluster, d.Service)
	t.Cleanup(func() { terminateIfRunning(e.client, id) }) // the dev server is shared
	_, code := e.starter(blueGreenArgs(d, "--steps", "25,pause,100", "--exit-on-pause")...)
	require.Equal(t, 4, code, "the run waits at the gate")

	for _, tc := range []struct{ name, input, refusal string }{
		{model.CommandCancel, `{"reason":"x","reasn":"y"}`, `cancel: the payload was refused: unable to decode: unknown field "reasn" in model.CancelCommand`},
		{model.CommandPromote, `{"Full":true}`, `promote: the payload was refused: unable to decode: unknown field "Full" in model.PromoteCommand (field names are case-sensitive: "full")`},
	} {
		_, err := e.cli("workflow", "signal", "--workflow-id", id, "--name", tc.name, "--input", tc.input)
		require.NoError(t, err, "a signal cannot answer its sender")
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			require.Equal(c, tc.refusal, e.blueGreenProgress(id).LastRefusal)
		}, time.Minute, 200*time.Millisecond)
		require.Equal(t, 25, e.weights(d.ProductionListener)[d.TargetGroups[1]], "nothing applied")
	}
	// The update path refuses the same payload to its sender (a raw client:
	// the CLI shows failures encrypted without the codec server).
	h, err := e.client.UpdateWorkflow(t.Context(), client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: model.CommandPromote, Args: []any{map[string]any{"Full": true}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(t.Context(), nil)
	}
	require.ErrorContains(t, err, `unknown field "Full"`)
	require.Contains(t, e.blueGreenProgress(id).WaitingFor, "promote")

	_, err = e.cli("workflow", "signal", "--workflow-id", id, "--name", model.CommandPromote, "--input", `{"full":false}`)
	require.NoError(t, err)
	require.NoError(t, e.awaitResult(id))
	require.Equal(t, 100, e.weights(d.ProductionListener)[d.TargetGroups[1]])
}

// issue 18: a second start of a canonical ID starts nothing, and each
// client says so differently, as the README states: the starter refuses it
// (exit 2); the temporal CLI prints the running run's ID and exits 0, even
// with --id-conflict-policy Fail; a Go client without
// WorkflowExecutionErrorWhenAlreadyStarted gets the running run.
func TestSecondStartOfACanonicalIDPerClient(t *testing.T) {
	e := newEnv(t, 0.01)
	d, err := cloudsim.SetupBlueGreenDemo(t.Context(), e.cloudC, "e2e", "web")
	require.NoError(t, err)
	id := model.BlueGreenWorkflowID(d.Cluster, d.Service)
	t.Cleanup(func() { terminateIfRunning(e.client, id) }) // if the test stops early
	_, code := e.starter(blueGreenArgs(d, "--steps", "25,pause,100", "--exit-on-pause")...)
	require.Equal(t, 4, code)
	desc, err := e.client.DescribeWorkflowExecution(t.Context(), id, "")
	require.NoError(t, err)
	running := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()

	_, code = e.starter(blueGreenArgs(d, "--strategy", "all-at-once", "--wait=false")...)
	require.Equal(t, 2, code, "the starter refuses it")

	out, err := e.cli("workflow", "start", "--type", model.BlueGreenWorkflowType, "--task-queue", model.TaskQueue,
		"--workflow-id", id, "--input", `{"cluster":"e2e"}`, "--id-conflict-policy", "Fail")
	require.NoError(t, err, "the temporal CLI exits 0")
	require.Contains(t, out, running, "and prints the running run")

	run, err := e.client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: model.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, model.BlueGreenWorkflowType, map[string]any{"cluster": "e2e"})
	require.NoError(t, err, "a Go client without WorkflowExecutionErrorWhenAlreadyStarted")
	require.Equal(t, running, run.GetRunID(), "gets the running run")

	_, err = e.client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: model.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL, WorkflowExecutionErrorWhenAlreadyStarted: true}, model.BlueGreenWorkflowType, map[string]any{"cluster": "e2e"})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	require.ErrorAs(t, err, &started, "with it, the start is refused")

	desc, err = e.client.DescribeWorkflowExecution(t.Context(), id, "")
	require.NoError(t, err)
	require.Equal(t, running, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), "nothing else started")
	require.Contains(t, e.blueGreenProgress(id).WaitingFor, "promote")

	// The dev server is shared: end the run, as the next test's start of
	// the same ID would otherwise meet it.
	out, code = e.starter("bluegreen", "promote", d.Cluster, d.Service, "--full")
	require.Equal(t, 0, code, out)
	require.NoError(t, e.awaitResult(id))
}
