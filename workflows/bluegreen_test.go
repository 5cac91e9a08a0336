package workflows

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

const (
	tgBlue  = "tg-blue"
	tgGreen = "tg-green"
	prodL   = "listener-80"
	testL   = "listener-8080"
	blueID  = "ecs-svc/1111"
	greenID = "ecs-svc/2222"
)

func blueGreenSpec(st model.ShiftStrategy) model.BlueGreenSpec {
	return model.BlueGreenSpec{
		Cluster: "demo", Service: "web", TaskDefinition: "web:2",
		Subnets: []string{"subnet-1"}, ContainerName: "web", ContainerPort: 8080,
		TargetGroups: []string{tgBlue, tgGreen}, ProductionListener: prodL, TestListener: testL,
		Strategy: st, TerminationWait: "10m",
	}
}

// fakeService is the cloud as the mocked activities leave it.
type fakeService struct {
	guard                               // mocked activities run on their own goroutines
	listeners map[string]map[string]int // listener → target group → weight
	primary   string
	scales    map[string]float64
	removed   []string
	shifts    []int // green's production weights, in order
	calls     []string
}

func (f *fakeService) snapshot() (prod, test map[string]int, primary string, removed []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.listeners[prodL], f.listeners[testL], f.primary, append([]string(nil), f.removed...)
}

// setListener records a listener's weights as the cloud would leave them,
// and each of green's production weights.
func (f *fakeService) setListener(listener string, w map[string]int) {
	f.locked(func() {
		f.listeners[listener] = w
		if listener == prodL && w[tgGreen] > 0 {
			f.shifts = append(f.shifts, w[tgGreen])
		}
	})
}

type blueGreenEnv struct {
	*testsuite.TestWorkflowEnvironment
	cloud *fakeService
}

func newBlueGreenEnv(t *testing.T) *blueGreenEnv {
	var s testsuite.WorkflowTestSuite
	env := &blueGreenEnv{TestWorkflowEnvironment: newTestEnv(&s), cloud: &fakeService{
		listeners: map[string]map[string]int{prodL: {tgBlue: 1}, testL: {tgBlue: 1}},
		primary:   blueID,
		scales:    map[string]float64{blueID: 100},
	}}
	env.RegisterWorkflowWithOptions(BlueGreenDeployment, workflow.RegisterOptions{Name: model.BlueGreenWorkflowType})
	env.RegisterActivity(&activities.Deployments{})
	return env
}

func blueTaskSet() *model.TaskSetProgress {
	return &model.TaskSetProgress{ID: blueID, Arn: "arn:" + blueID, Status: model.TaskSetPrimary, TaskDefinition: "web:1",
		Scale: 100, Desired: 4, Running: 4, TargetGroup: tgBlue}
}

// execute adds the default mocks (after the test's own, which win) and runs
// the workflow.
func (env *blueGreenEnv) execute(spec model.BlueGreenSpec) {
	f := env.cloud
	env.OnActivity(deployments.InspectBlueGreen, mock.Anything, mock.Anything).Return(&activities.BlueGreenSnapshot{
		Blue: blueTaskSet(), BlueTargetGroup: tgBlue, GreenTargetGroup: tgGreen,
		Production: []model.TargetWeight{{TargetGroup: tgBlue, Weight: 1}},
		Test:       []model.TargetWeight{{TargetGroup: tgBlue, Weight: 1}},
	}, nil).Maybe()
	green := &model.TaskSetProgress{ID: greenID, Arn: "arn:" + greenID, Status: model.TaskSetActive, TaskDefinition: "web:2",
		Scale: 100, Desired: 4, TargetGroup: tgGreen}
	env.OnActivity(deployments.CreateGreen, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.CreateGreenInput) (*model.TaskSetProgress, error) {
		f.locked(func() {
			f.scales[greenID] = in.Scale
			f.calls = append(f.calls, "create "+in.TargetGroup)
		})
		return green, nil
	}).Maybe()
	stable := *green
	stable.Running, stable.Stability = 4, cloud.StabilitySteady
	env.OnActivity(deployments.AwaitGreenStable, mock.Anything, mock.Anything).Return(&stable, nil).Maybe()
	env.OnActivity(deployments.SetListenerWeights, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.WeightsInput) error {
		w := map[string]int{}
		for _, t := range in.Targets {
			w[t.TargetGroup] += t.Weight
		}
		f.setListener(in.ListenerArn, w)
		return nil
	}).Maybe()
	env.OnActivity(deployments.CheckTargetHealth, mock.Anything, mock.Anything).Return(&activities.HealthReport{Healthy: 4}, nil).Maybe()
	env.OnActivity(deployments.CheckTaskSets, mock.Anything, mock.Anything).Return(nil).Maybe()
	// The monitor of a pause runs until the pause ends and cancels it.
	env.OnActivity(deployments.MonitorTargetHealth, mock.Anything, mock.Anything).After(1000 * time.Hour).Return(nil).Maybe()
	env.OnActivity(deployments.SetPrimaryTaskSet, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.TaskSetRef) error {
		f.locked(func() { f.primary = in.TaskSet })
		return nil
	}).Maybe()
	env.OnActivity(deployments.ScaleTaskSet, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ScaleInput) error {
		f.locked(func() { f.scales[in.TaskSet] = in.Percent })
		return nil
	}).Maybe()
	env.OnActivity(deployments.RemoveTaskSets, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.RemoveInput) ([]string, error) {
		id := in.TaskSet
		if in.ExternalID != "" {
			id = greenID // the only task set with the deployment's external ID
		}
		var err error
		f.locked(func() {
			if f.primary == id {
				err = temporal.NewNonRetryableApplicationError("primary", activities.ErrTypeServiceNotReady, nil)
				return
			}
			if _, ok := f.scales[id]; ok {
				delete(f.scales, id)
				f.removed = append(f.removed, id)
			}
		})
		return []string{id}, err
	}).Maybe()
	executeAs(env.TestWorkflowEnvironment, model.BlueGreenWorkflowID(spec.Cluster, spec.Service), model.BlueGreenWorkflowType, spec)
}

func (env *blueGreenEnv) progress(t *testing.T) model.BlueGreenProgress {
	t.Helper()
	return queryProgress[model.BlueGreenProgress](t, env.TestWorkflowEnvironment, model.QueryProgress)
}

func (env *blueGreenEnv) command(name string, payload any) *updateOutcome {
	return sendCommand(env.TestWorkflowEnvironment, name, payload)
}

// requireDeployed checks the end state of a successful deployment.
func (env *blueGreenEnv) requireDeployed(t *testing.T, shifts ...int) model.BlueGreenResult {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var result model.BlueGreenResult
	require.NoError(t, env.GetWorkflowResult(&result))
	require.Equal(t, greenID, result.TaskSetID)
	require.Equal(t, blueID, result.PreviousTaskSetID)
	prod, test, primary, removed := env.cloud.snapshot()
	require.Equal(t, map[string]int{tgBlue: 0, tgGreen: 100}, prod)
	require.Equal(t, map[string]int{tgGreen: 1}, test)
	require.Equal(t, greenID, primary)
	require.Equal(t, []string{blueID}, removed)
	require.Equal(t, shifts, env.cloud.shifts)
	p := env.progress(t)
	require.Equal(t, model.BGPhaseSucceeded, p.Phase)
	require.Equal(t, model.Weights{Green: 100}, p.Weights)
	return result
}

// requireRolledBack checks that everything is as before the deployment.
func (env *blueGreenEnv) requireRolledBack(t *testing.T, errType string) model.BlueGreenProgress {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "error: %v", err)
	require.Equal(t, errType, appErr.Type(), "error: %v", err)
	prod, test, primary, removed := env.cloud.snapshot()
	require.Equal(t, map[string]int{tgBlue: 1}, prod, "production traffic back on blue")
	require.Equal(t, map[string]int{tgBlue: 1}, test, "test listener as it was")
	require.Equal(t, blueID, primary)
	env.cloud.locked(func() { require.Equal(t, 100.0, env.cloud.scales[blueID], "blue at its previous scale") })
	require.Equal(t, []string{greenID}, removed, "green removed, blue kept")
	p := env.progress(t)
	phase := model.BGPhaseRolledBack
	if errType == ErrTypeAborted {
		phase = model.BGPhaseAborted // as its ImagefleetState
	}
	require.Equal(t, phase, p.Phase)
	require.Equal(t, "Deleted", p.Green.Status)
	require.Equal(t, cloud.TaskSetPrimary, p.Blue.Status)
	return p
}

func TestBlueGreenAllAtOnce(t *testing.T) {
	env := newBlueGreenEnv(t)
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyAllAtOnce}))
	result := env.requireDeployed(t, 100)
	require.False(t, result.Promoted)
	require.Equal(t, []string{"create " + tgGreen}, env.cloud.calls)
}

func TestBlueGreenCanary(t *testing.T) {
	env := newBlueGreenEnv(t)
	env.RegisterDelayedCallback(func() {
		p := env.progress(t)
		require.Equal(t, model.BGPhaseShifting, p.Phase)
		require.Equal(t, 1, p.Step, "the canary's bake time")
		require.Equal(t, model.Weights{Blue: 90, Green: 10}, p.Weights)
		require.False(t, p.PauseEnds.IsZero())
		require.Equal(t, greenID, p.Green.ID)
	}, 5*time.Minute)
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyCanary, Percent: 10, Interval: "15m"}))
	env.requireDeployed(t, 10, 100)
}

func TestBlueGreenLinear(t *testing.T) {
	env := newBlueGreenEnv(t)
	env.RegisterDelayedCallback(func() {
		// 25 % at 0, 50 % at 1m, 75 % at 2m.
		require.Equal(t, model.Weights{Blue: 25, Green: 75}, env.progress(t).Weights)
	}, 150*time.Second)
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyLinear, Percent: 25, Interval: "1m"}))
	env.requireDeployed(t, 25, 50, 75, 100)
}

func TestBlueGreenFailedHealthCheckRollsBack(t *testing.T) {
	unhealthy := temporal.NewNonRetryableApplicationError("2 of 4 targets of the new task set are unhealthy", activities.ErrTypeHealthCheckFailed, nil)
	for _, tc := range []struct {
		name   string
		failOn int // the n-th check fails (1: the test listener's), 0: none
		during string
	}{
		{"through the test listener", 1, ""},
		{"after the first shift", 2, ""},
		{"during the canary pause", 0, "canary"},
		{"at the manual gate", 0, "gate"},
		{"during the termination wait", 0, "termination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newBlueGreenEnv(t)
			checks := 0
			env.OnActivity(deployments.CheckTargetHealth, mock.Anything, mock.Anything).Return(func(context.Context, activities.HealthInput) (*activities.HealthReport, error) {
				n := 0
				env.cloud.locked(func() { checks++; n = checks })
				if n == tc.failOn {
					return nil, unhealthy
				}
				return &activities.HealthReport{Healthy: 4}, nil
			})
			if tc.during != "" {
				// Targets turn unhealthy 2 minutes into the pause at green's
				// weight of the case; elsewhere a monitor ends without a finding.
				failAt := map[string]int{"canary": 10, "gate": 50, "termination": 100}[tc.during]
				env.OnActivity(deployments.MonitorTargetHealth, mock.Anything, mock.Anything).Return(func(context.Context, activities.MonitorInput) error {
					weight := 0
					env.cloud.locked(func() { weight = env.cloud.listeners[prodL][tgGreen] })
					if weight == failAt {
						return unhealthy
					}
					return nil
				}).After(2 * time.Minute)
			}
			w := func(n int) *int { return &n }
			spec := blueGreenSpec(model.ShiftStrategy{Type: model.StrategySteps, Steps: []model.ShiftStep{
				{SetWeight: w(10)}, {Pause: &model.PauseStep{Duration: "10m"}}, {SetWeight: w(50)}, {Pause: &model.PauseStep{}}}})
			if tc.during == "termination" {
				env.RegisterDelayedCallback(func() { env.SignalWorkflow(model.CommandPromote, model.PromoteCommand{}) }, time.Hour)
			}
			env.execute(spec)
			p := env.requireRolledBack(t, activities.ErrTypeHealthCheckFailed)
			require.Contains(t, p.Error, "unhealthy")
			switch tc.during {
			case "":
				require.Equal(t, tc.failOn, checks)
			case "canary":
				require.Equal(t, []int{10}, env.cloud.shifts)
			case "gate":
				require.Equal(t, []int{10, 50}, env.cloud.shifts)
			case "termination":
				require.Equal(t, []int{10, 50, 100}, env.cloud.shifts)
			}
		})
	}
}

func TestBlueGreenFailedPrimarySwitchRestores(t *testing.T) {
	env := newBlueGreenEnv(t)
	f := env.cloud
	// The switch fails after half-doing it: green became primary and blue was
	// scaled down, then the call failed.
	env.OnActivity(deployments.SetPrimaryTaskSet, mock.Anything, mock.MatchedBy(func(in activities.TaskSetRef) bool { return in.TaskSet == greenID })).Return(
		func(context.Context, activities.TaskSetRef) error {
			f.locked(func() { f.primary, f.scales[blueID] = greenID, 50 })
			return temporal.NewNonRetryableApplicationError("ClientException: the service is being updated", cloud.CodeECSClientException, nil)
		})
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyAllAtOnce}))
	p := env.requireRolledBack(t, cloud.CodeECSClientException)
	require.Contains(t, p.Error, "being updated")
	require.Equal(t, []int{100}, f.shifts, "traffic had moved before the switch")
}

func TestBlueGreenStabilityTimeoutRollsBack(t *testing.T) {
	env := newBlueGreenEnv(t)
	// The test environment does not time out mocked activities: the mock
	// answers what the server would after the stability timeout.
	env.OnActivity(deployments.AwaitGreenStable, mock.Anything, mock.Anything).After(10*time.Minute).Return(nil,
		temporal.NewTimeoutError(enums.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, nil))
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyAllAtOnce}))
	p := env.requireRolledBack(t, ErrTypeRolledBack)
	require.Contains(t, p.Error, "did not become stable")
}

func TestBlueGreenRefusesInvalidSpec(t *testing.T) {
	env := newBlueGreenEnv(t)
	spec := blueGreenSpec(model.ShiftStrategy{Type: model.StrategyCanary, Percent: 150})
	spec.Service = "web.v2"
	env.execute(spec)
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, ErrTypeInvalidSpec, appErr.Type())
	require.ErrorContains(t, err, "web.v2")
	require.ErrorContains(t, err, "1 to 99")
	require.Empty(t, env.cloud.calls, "nothing was created")
}

func TestBlueGreenServiceNotReady(t *testing.T) {
	env := newBlueGreenEnv(t)
	env.OnActivity(deployments.InspectBlueGreen, mock.Anything, mock.Anything).Return(nil,
		temporal.NewNonRetryableApplicationError("service web has task sets besides its primary", activities.ErrTypeServiceNotReady, nil))
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyAllAtOnce}))
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), fmt.Sprint(err))
	require.Equal(t, activities.ErrTypeServiceNotReady, appErr.Type())
	_, _, primary, removed := env.cloud.snapshot()
	require.Equal(t, blueID, primary)
	require.Empty(t, removed)
	// Nothing started: nothing was rolled back, and neither says so.
	require.NotContains(t, err.Error(), "rolled back")
	require.Contains(t, err.Error(), "deployment refused, nothing was changed: service web has task sets besides its primary")
	p := env.progress(t)
	require.Equal(t, model.BGPhaseFailed, p.Phase)
	require.Contains(t, p.Error, "task sets besides its primary")
}

// TestBlueGreenFirstDeployment deploys to a service without a primary task
// set: green takes the first target group and becomes primary at once after
// the shift; there is nothing to remove.
func TestBlueGreenFirstDeployment(t *testing.T) {
	env := newBlueGreenEnv(t)
	f := env.cloud
	f.primary, f.scales = "", map[string]float64{}
	f.listeners = map[string]map[string]int{prodL: {tgBlue: 0}, testL: {tgBlue: 0}}
	env.OnActivity(deployments.InspectBlueGreen, mock.Anything, mock.Anything).Return(&activities.BlueGreenSnapshot{
		GreenTargetGroup: tgBlue,
		Production:       []model.TargetWeight{{TargetGroup: tgBlue, Weight: 0}},
		Test:             []model.TargetWeight{{TargetGroup: tgBlue, Weight: 0}},
	}, nil)
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyAllAtOnce}))

	require.NoError(t, env.GetWorkflowError())
	var result model.BlueGreenResult
	require.NoError(t, env.GetWorkflowResult(&result))
	require.Empty(t, result.PreviousTaskSetID)
	require.Equal(t, tgBlue, result.TargetGroup, "green takes the first target group")
	prod, _, primary, removed := f.snapshot()
	require.Equal(t, map[string]int{tgGreen: 0, tgBlue: 100}, prod)
	require.Equal(t, greenID, primary)
	require.Empty(t, removed)
	require.Equal(t, []string{"create " + tgBlue}, f.calls)
}
