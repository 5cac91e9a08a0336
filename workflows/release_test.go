package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// releaseEnv runs a Release with its children (build, distribution,
// rolling updates) and its activities mocked over a small fleet: each
// group's image is what its last rolling update applied.
type releaseEnv struct {
	*testsuite.TestWorkflowEnvironment
	t  *testing.T
	mu sync.Mutex

	images    map[string]string // group → image it launches
	calls     []string          // "update GROUP IMAGE" / "rollback GROUP IMAGE", in order of start
	running   map[string]int    // stage description → rolling updates running now
	maxRun    map[string]int    // stage description → most at once
	fail      map[string]bool   // groups whose rolling update fails
	pause     map[string]bool   // groups whose rolling update waits for its operator a while
	unhealthy func(check int) int
	checks    int
	builds    []string
	dists     []model.DistributeSpec
}

func newReleaseEnv(t *testing.T) *releaseEnv {
	var s testsuite.WorkflowTestSuite
	env := &releaseEnv{TestWorkflowEnvironment: newTestEnv(&s), t: t,
		images: map[string]string{}, running: map[string]int{}, maxRun: map[string]int{}, fail: map[string]bool{}, pause: map[string]bool{},
		unhealthy: func(int) int { return 0 }}
	for _, g := range []string{"asg-hz-1", "asg-sh-1", "asg-sh-2", "asg-sh-3", "asg-bj-1", "asg-bj-2"} {
		env.images[g] = "m-old-" + g
	}
	env.RegisterWorkflowWithOptions(Release, workflow.RegisterOptions{Name: model.ReleaseWorkflowType})
	env.RegisterWorkflowWithOptions(env.build, workflow.RegisterOptions{Name: model.BuildWorkflowType})
	env.RegisterWorkflowWithOptions(env.distribute, workflow.RegisterOptions{Name: model.DistributeWorkflowType})
	env.RegisterWorkflowWithOptions(env.rollout, workflow.RegisterOptions{Name: model.RolloutWorkflowType})
	env.RegisterActivity(&activities.Rollouts{})
	env.OnActivity(rollouts.DescribeScalingSource, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SourceInput) (*model.ScalingSource, error) {
		env.mu.Lock()
		defer env.mu.Unlock()
		return &model.ScalingSource{ScalingConfigurationID: "asc-" + in.Group, ImageID: env.images[in.Group]}, nil
	}).Maybe()
	env.OnActivity(rollouts.VerifyGroups, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.VerifyInput) (*activities.VerifyReport, error) {
		env.mu.Lock()
		defer env.mu.Unlock()
		env.checks++
		n := env.unhealthy(env.checks)
		rep := &activities.VerifyReport{Instances: 10 * len(in.Groups), Unhealthy: n}
		if n > 0 {
			rep.Findings = []string{"instance i-1 of " + in.Groups[0].ScalingGroupID + " is Unhealthy"}
		}
		return rep, nil
	}).Maybe()
	return env
}

func (env *releaseEnv) build(ctx workflow.Context, in model.BuildInput) (*model.BuildResult, error) {
	env.mu.Lock()
	env.builds = append(env.builds, workflow.GetInfo(ctx).WorkflowExecution.ID)
	env.mu.Unlock()
	_ = workflow.Sleep(ctx, time.Minute)
	return &model.BuildResult{ExecutionID: "exec-1", ImageID: "m-built"}, nil
}

func (env *releaseEnv) distribute(ctx workflow.Context, spec model.DistributeSpec) (*model.DistributionResult, error) {
	env.mu.Lock()
	env.dists = append(env.dists, spec)
	env.mu.Unlock()
	if err := workflow.Sleep(ctx, time.Minute); err != nil {
		return nil, err
	}
	res := &model.DistributionResult{Package: spec.Package, Version: spec.Version, ImageIDs: map[string]string{}}
	for _, r := range spec.Regions {
		res.ImageIDs[r] = "m-new-" + r
	}
	return res, nil
}

// rollout is a rolling update that takes a minute (cancellable) and then
// applies its image, or fails for a group in fail.
func (env *releaseEnv) rollout(ctx workflow.Context, spec model.RolloutSpec) (*model.RolloutState, error) {
	if id := workflow.GetInfo(ctx).WorkflowExecution.ID; id != model.RolloutWorkflowID(spec.ScalingGroupID) {
		return nil, temporal.NewNonRetryableApplicationError("rolling update under "+id, "WrongWorkflowID", nil)
	}
	kind := "update"
	if strings.HasPrefix(spec.Description, "rollback") {
		kind = "rollback"
	}
	env.mu.Lock()
	env.calls = append(env.calls, kind+" "+spec.ScalingGroupID+" "+spec.Image.ImageID)
	env.running[spec.Description]++
	env.maxRun[spec.Description] = max(env.maxRun[spec.Description], env.running[spec.Description])
	pause := env.pause[spec.ScalingGroupID] && kind == "update"
	env.mu.Unlock()
	err := workflow.Sleep(ctx, time.Minute)
	if pause && err == nil {
		// As RollingUpdate does (tellRelease): paused, then resumed.
		parent := workflow.GetInfo(ctx).ParentWorkflowExecution
		tell := func(waiting string) {
			_ = workflow.SignalExternalWorkflow(ctx, parent.ID, parent.RunID, model.SignalRolloutWaiting,
				model.RolloutWaiting{ScalingGroupID: spec.ScalingGroupID, WaitingFor: waiting}).Get(ctx, nil)
		}
		tell("operator: 2 failed instance(s), over the error threshold 0, then resume (or cancel, rollback)")
		err = workflow.Sleep(ctx, time.Hour)
		tell("")
	}
	env.mu.Lock()
	defer env.mu.Unlock()
	env.running[spec.Description]--
	st := &model.RolloutState{Spec: spec, ScalingGroupID: spec.ScalingGroupID, Status: model.RolloutSucceeded, Counts: model.InstanceCounts{Total: 10, Changed: 10}}
	switch {
	case err != nil:
		st.Status, st.Counts.Changed = model.RolloutCancelled, 0
	case env.fail[spec.ScalingGroupID] || kind == "rollback" && env.fail["rollback "+spec.ScalingGroupID]:
		st.Status, st.Error, st.Counts.Changed = model.RolloutFailed, "3 instances failed", 3
	default:
		env.images[spec.ScalingGroupID] = spec.Image.ImageID
	}
	return st, nil
}

// releaseSpec is a three-stage release: canary (one group, soaked and
// verified), regional (three groups, two at a time, approved first),
// global (two groups).
func releaseSpec() model.ReleaseSpec {
	return model.ReleaseSpec{
		Name:    "web",
		Source:  model.ReleaseSource{Template: &model.BuildInput{Region: "cn-hangzhou", TemplateID: "ip-web"}},
		Package: "webapp", Version: "v2_0_0", Description: "web tier image v2",
		Regions: []string{"cn-hangzhou", "cn-shanghai", "cn-beijing"},
		Stages: []model.ReleaseStage{
			{Name: "canary", Groups: []model.ReleaseGroup{{ScalingGroupID: "asg-hz-1", RegionID: "cn-hangzhou"}},
				Gate: model.ReleaseGate{Soak: "10m", Verify: &model.Verification{Every: "1m"}}},
			{Name: "regional", Parallelism: 2, Groups: []model.ReleaseGroup{
				{ScalingGroupID: "asg-sh-1", RegionID: "cn-shanghai"}, {ScalingGroupID: "asg-sh-2", RegionID: "cn-shanghai"}, {ScalingGroupID: "asg-sh-3", RegionID: "cn-shanghai"}},
				Gate: model.ReleaseGate{Approval: true}},
			{Name: "global", Groups: []model.ReleaseGroup{{ScalingGroupID: "asg-bj-1", RegionID: "cn-beijing"}, {ScalingGroupID: "asg-bj-2", RegionID: "cn-beijing"}}},
		},
	}
}

func (env *releaseEnv) execute(spec model.ReleaseSpec) {
	executeAs(env.TestWorkflowEnvironment, model.ReleaseWorkflowID(spec.Name, spec.Version), model.ReleaseWorkflowType, spec)
}

func (env *releaseEnv) progress() model.ReleaseProgress {
	return queryProgress[model.ReleaseProgress](env.t, env.TestWorkflowEnvironment, model.QueryProgress)
}

// at runs f at d of the workflow's time.
func (env *releaseEnv) at(d time.Duration, f func()) { env.RegisterDelayedCallback(f, d) }

func (env *releaseEnv) result() (model.ReleaseProgress, error) {
	require.True(env.t, env.IsWorkflowCompleted())
	var p model.ReleaseProgress
	err := env.GetWorkflowError()
	if err == nil {
		require.NoError(env.t, env.GetWorkflowResult(&p))
	}
	return p, err
}

func groupStates(p model.ReleaseProgress) map[string]string {
	out := map[string]string{}
	for _, st := range p.Stages {
		for _, g := range st.Groups {
			out[g.ScalingGroupID] = g.State
		}
	}
	return out
}

// Three stages end to end: the image built and published, each group
// updated to its region's image, the regional stage two at a time and
// only after its approval (recorded with who and why), the canary soaked
// with its verification checked throughout.
func TestReleaseThreeStagesEndToEnd(t *testing.T) {
	env := newReleaseEnv(t)
	var early, wrong, ok *updateOutcome
	// Build 1m, distribution 1m, canary 1m, soak 10m: the regional stage
	// waits for its approval from minute 13.
	env.at(20*time.Minute, func() {
		p := env.progress()
		require.Equal(t, model.StageVerified, p.Stages[0].State)
		require.Equal(t, model.StageAwaitApproval, p.Stages[1].State)
		require.Contains(t, p.WaitingFor, "approval of stage regional")
		require.Contains(t, p.Resolve, "approve")
		require.Equal(t, model.GroupPending, p.Stages[1].Groups[0].State)
		wrong = sendCommand(env.TestWorkflowEnvironment, model.CommandApprove, model.ApproveCommand{Stage: "global", By: "ana"})
		early = sendCommand(env.TestWorkflowEnvironment, model.CommandApprove, model.ApproveCommand{Stage: "regional"})
	})
	env.at(21*time.Minute, func() {
		wrong.requireRejected(t, "stage \"global\" does not wait for approval")
		early.requireRejected(t, "by (who approves) is required")
		ok = sendCommand(env.TestWorkflowEnvironment, model.CommandApprove, model.ApproveCommand{Stage: "regional", By: "ana", Comment: "canary clean for 10m"})
	})
	env.at(22*time.Minute, func() { ok.requireAccepted(t) })
	env.execute(releaseSpec())

	p, err := env.result()
	require.NoError(t, err)
	require.Equal(t, model.ReleaseSucceeded, p.Phase)
	require.Equal(t, []string{model.BuildWorkflowID("cn-hangzhou", "ip-web")}, env.builds)
	require.Len(t, env.dists, 1)
	require.Equal(t, "m-built", env.dists[0].SourceImage)
	require.Equal(t, []string{"cn-shanghai", "cn-beijing"}, env.dists[0].Regions)
	require.Equal(t, map[string]string{"asg-hz-1": "m-built", "asg-sh-1": "m-new-cn-shanghai", "asg-sh-2": "m-new-cn-shanghai",
		"asg-sh-3": "m-new-cn-shanghai", "asg-bj-1": "m-new-cn-beijing", "asg-bj-2": "m-new-cn-beijing"}, env.images)
	require.Equal(t, "update asg-hz-1 m-built", env.calls[0], "the canary first")
	require.Len(t, env.calls, 6)
	require.Equal(t, 2, env.maxRun["release web v2_0_0, stage regional"], "parallelism 2")
	require.Equal(t, 2, env.maxRun["release web v2_0_0, stage global"], "parallelism 0: every group at once")
	require.Equal(t, 11, p.Stages[0].Soak.Checks, "checked at once and every minute of the 10m soak")
	require.Len(t, p.Approvals, 1)
	require.Equal(t, model.Approval{Stage: "regional", By: "ana", Comment: "canary clean for 10m", At: p.Approvals[0].At}, p.Approvals[0])
	for _, st := range p.Stages {
		require.Equal(t, model.StageVerified, st.State, st.Name)
		for _, g := range st.Groups {
			require.Equal(t, model.GroupUpdated, g.State)
			require.Equal(t, "m-old-"+g.ScalingGroupID, g.PreviousImageID)
			require.Equal(t, model.RolloutWorkflowID(g.ScalingGroupID), g.Rollout.WorkflowID)
			require.NotEmpty(t, g.Rollout.RunID)
		}
	}
}

// A soak whose verification fails stops promotion: the next stage never
// starts; the release waits for rollback or cancel and says so.
func TestReleaseVerificationFailureStopsPromotion(t *testing.T) {
	env := newReleaseEnv(t)
	env.unhealthy = func(check int) int { return map[bool]int{true: 2}[check >= 4] }
	var approve, rollback *updateOutcome
	env.at(30*time.Minute, func() {
		p := env.progress()
		require.Equal(t, model.StageFailed, p.Stages[0].State)
		require.Equal(t, 4, p.Stages[0].Soak.Checks)
		require.Contains(t, p.Stages[0].Soak.Failure, "2 unhealthy instance(s) (at most 0)")
		require.Contains(t, p.WaitingFor, "stage canary failed its verification")
		require.Equal(t, "rollback, or cancel", p.Resolve)
		require.Equal(t, model.StagePending, p.Stages[1].State)
		approve = sendCommand(env.TestWorkflowEnvironment, model.CommandApprove, model.ApproveCommand{By: "ana"})
		rollback = sendCommand(env.TestWorkflowEnvironment, model.CommandRollback, model.ReleaseRollbackCommand{Reason: "canary unhealthy"})
	})
	env.at(31*time.Minute, func() {
		approve.requireRejected(t, "no stage waits for approval")
		rollback.requireAccepted(t)
	})
	env.execute(releaseSpec())

	p, err := env.result()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr))
	require.Equal(t, ErrTypeReleaseRolledBack, appErr.Type())
	require.Equal(t, []string{"update asg-hz-1 m-built", "rollback asg-hz-1 m-old-asg-hz-1"}, env.calls, "nothing promoted past the canary")
	require.Equal(t, "m-old-asg-hz-1", env.images["asg-hz-1"])
	_ = p
}

// A rollback after the second stage rolls every changed group back, stage
// by stage in reverse order (the regional groups, then the canary), each
// once; the third stage's groups are never touched.
func TestReleaseRollbackAfterSecondStage(t *testing.T) {
	env := newReleaseEnv(t)
	spec := releaseSpec()
	spec.Stages[2].Gate.Approval = true
	spec.Stages[1].Groups[2].RegionID = "cn-hangzhou" // the source image
	spec.Stages[1].Groups[2].ScalingGroupID = "asg-sh-3"
	var first, second, cancel *updateOutcome
	env.at(20*time.Minute, func() {
		require.NoError(t, env.SignalWorkflowByID(model.ReleaseWorkflowID("web", "v2_0_0"), model.CommandApprove, model.ApproveCommand{By: "ana", Comment: "go"}))
	})
	env.at(40*time.Minute, func() {
		p := env.progress()
		require.Equal(t, model.StageVerified, p.Stages[1].State)
		require.Equal(t, model.StageAwaitApproval, p.Stages[2].State)
		first = sendCommand(env.TestWorkflowEnvironment, model.CommandRollback, model.ReleaseRollbackCommand{Reason: "bad metrics in regional"})
	})
	env.at(40*time.Minute+time.Second, func() {
		first.requireAccepted(t)
		second = sendCommand(env.TestWorkflowEnvironment, model.CommandRollback, model.ReleaseRollbackCommand{})
		cancel = sendCommand(env.TestWorkflowEnvironment, model.CommandCancel, model.CancelCommand{})
	})
	env.at(40*time.Minute+2*time.Second, func() {
		second.requireRejected(t, "rolling back")
		cancel.requireRejected(t, "rolling back")
		require.Equal(t, model.ReleaseRollingBack, env.progress().Phase)
	})
	env.execute(spec)

	_, err := env.result()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, ErrTypeReleaseRolledBack, appErr.Type())
	var rollbacks []string
	for _, c := range env.calls {
		if strings.HasPrefix(c, "rollback") {
			rollbacks = append(rollbacks, c)
		}
		require.NotContains(t, c, "asg-bj", "the third stage is never touched")
	}
	require.Len(t, rollbacks, 4, "each changed group rolled back once")
	require.Equal(t, "rollback asg-hz-1 m-old-asg-hz-1", rollbacks[3], "the canary last")
	slices.Sort(rollbacks[:3])
	require.Equal(t, []string{"rollback asg-sh-1 m-old-asg-sh-1", "rollback asg-sh-2 m-old-asg-sh-2", "rollback asg-sh-3 m-old-asg-sh-3"}, rollbacks[:3])
	require.Equal(t, 2, env.maxRun["rollback of release web v2_0_0, stage regional"], "in parallel within a stage, up to its parallelism")
	for g, img := range env.images {
		require.Equal(t, "m-old-"+g, img)
	}
	var final model.ReleaseProgress
	require.True(t, appErr.HasDetails())
	require.NoError(t, appErr.Details(&final))
	require.Equal(t, model.ReleaseRolledBack, final.Phase)
	require.Equal(t, "bad metrics in regional", final.RollbackReason)
	require.Equal(t, model.StageRolledBack, final.Stages[0].State)
	require.Equal(t, model.StagePending, final.Stages[2].State)
	require.Equal(t, model.GroupRolledBack, final.Stages[1].Groups[0].State)
}

// Commands are answered truthfully: hold stops promotion until resume;
// a failed group holds its stage until skipped; skip-group refuses a group
// that is updated or unknown; rollback is refused before any group changed.
func TestReleaseCommands(t *testing.T) {
	env := newReleaseEnv(t)
	env.fail["asg-bj-1"] = true
	spec := releaseSpec()
	spec.Stages[1].Gate.Approval = false
	outcomes := map[string]*updateOutcome{}
	send := func(key, name string, payload any) {
		outcomes[key] = sendCommand(env.TestWorkflowEnvironment, name, payload)
	}
	// Minute 1: the distribution runs.
	env.at(90*time.Second, func() {
		require.Equal(t, model.ReleaseDistributing, env.progress().Phase)
		send("early rollback", model.CommandRollback, model.ReleaseRollbackCommand{})
		send("resume unheld", model.CommandResume, model.ResumeCommand{})
	})
	env.at(90*time.Second+100*time.Millisecond, func() {
		send("hold", model.CommandHold, model.HoldCommand{Reason: "change freeze"})
	})
	env.at(91*time.Second, func() {
		outcomes["early rollback"].requireRejected(t, "no group was changed yet")
		outcomes["resume unheld"].requireRejected(t, "not held")
		outcomes["hold"].requireAccepted(t)
		send("hold again", model.CommandHold, model.HoldCommand{})
		send("skip pending", model.CommandSkipGroup, model.SkipGroupCommand{ScalingGroupID: "asg-bj-2", Reason: "decommissioned"})
		send("skip unknown", model.CommandSkipGroup, model.SkipGroupCommand{ScalingGroupID: "asg-nope"})
	})
	env.at(92*time.Second, func() {
		outcomes["hold again"].requireRejected(t, "held already")
		outcomes["skip pending"].requireAccepted(t)
		outcomes["skip unknown"].requireRejected(t, "not in the release")
	})
	env.at(time.Hour, func() {
		p := env.progress()
		require.True(t, p.Held)
		require.Equal(t, model.GroupPending, p.Stages[0].Groups[0].State, "nothing starts while held")
		require.Contains(t, p.WaitingFor, "change freeze")
		require.Empty(t, env.calls)
		send("resume", model.CommandResume, model.ResumeCommand{})
	})
	env.at(time.Hour+time.Second, func() { outcomes["resume"].requireAccepted(t) })
	// Canary 1m + soak 10m + regional 2m + global 1m: asg-bj-1 failed.
	env.at(2*time.Hour, func() {
		p := env.progress()
		g := p.Group("asg-bj-1")
		require.Equal(t, model.GroupFailed, g.State)
		require.Contains(t, g.Error, "3 instances failed")
		require.Contains(t, g.Resolve, "skip-group")
		require.Contains(t, p.WaitingFor, "failed groups of stage global")
		send("skip updated", model.CommandSkipGroup, model.SkipGroupCommand{ScalingGroupID: "asg-hz-1"})
		send("skip failed", model.CommandSkipGroup, model.SkipGroupCommand{ScalingGroupID: "asg-bj-1"})
	})
	env.at(2*time.Hour+time.Second, func() {
		outcomes["skip updated"].requireRejected(t, "is Updated")
		outcomes["skip failed"].requireAccepted(t)
	})
	env.execute(spec)

	p, err := env.result()
	require.NoError(t, err)
	require.Equal(t, model.ReleaseSucceeded, p.Phase)
	require.Equal(t, map[string]string{"asg-hz-1": model.GroupUpdated, "asg-sh-1": model.GroupUpdated, "asg-sh-2": model.GroupUpdated,
		"asg-sh-3": model.GroupUpdated, "asg-bj-1": model.GroupSkipped, "asg-bj-2": model.GroupSkipped}, groupStates(p))
	require.NotContains(t, strings.Join(env.calls, ","), "asg-bj-2", "a skipped group is never updated")
}

// Cancel stops the release: the running rolling updates are cancelled,
// groups already updated stay updated, and the release ends Aborted.
func TestReleaseCancel(t *testing.T) {
	env := newReleaseEnv(t)
	spec := releaseSpec()
	spec.Stages[1].Gate.Approval = false
	var cancel *updateOutcome
	// The regional stage's first two groups run from minute 13.
	env.at(13*time.Minute+30*time.Second, func() {
		cancel = sendCommand(env.TestWorkflowEnvironment, model.CommandCancel, model.CancelCommand{Reason: "wrong build"})
	})
	env.at(13*time.Minute+31*time.Second, func() { cancel.requireAccepted(t) })
	env.execute(spec)

	_, err := env.result()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, ErrTypeReleaseCancelled, appErr.Type())
	require.Contains(t, appErr.Error(), "wrong build")
	require.Equal(t, "m-built", env.images["asg-hz-1"], "the updated canary stays")
	require.Equal(t, "m-old-asg-sh-1", env.images["asg-sh-1"], "the cancelled update changed nothing")
	require.Len(t, env.calls, 3)
}

// A group whose rollback fails does not stop the others': the rollback
// goes on, and the release ends ReleaseRollbackIncomplete naming the group
// and what to do.
func TestReleaseRollbackThatFailsForAGroup(t *testing.T) {
	env := newReleaseEnv(t)
	env.fail["rollback asg-sh-2"] = true
	spec := releaseSpec()
	spec.Stages[1].Gate.Approval = false
	spec.Stages[2].Gate.Approval = true
	env.at(30*time.Minute, func() {
		require.NoError(t, env.SignalWorkflowByID(model.ReleaseWorkflowID("web", "v2_0_0"), model.CommandRollback, model.ReleaseRollbackCommand{}))
	})
	env.execute(spec)

	_, err := env.result()
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, ErrTypeReleaseRollbackIncomplete, appErr.Type())
	require.Contains(t, appErr.Error(), "did not roll back asg-sh-2: roll each back with starter rollout rollback GROUP")
	require.Equal(t, "m-old-asg-hz-1", env.images["asg-hz-1"], "the canary is rolled back all the same")
	require.Equal(t, "m-new-cn-shanghai", env.images["asg-sh-2"])
	p := queryProgress[model.ReleaseProgress](t, env.TestWorkflowEnvironment, model.QueryProgress)
	require.Equal(t, model.ReleaseFailed, p.Phase)
	require.Equal(t, model.GroupRollbackFailed, p.Group("asg-sh-2").State)
	require.Equal(t, model.StageFailed, p.Stages[1].State)
	require.Equal(t, model.GroupRolledBack, p.Group("asg-sh-1").State)
}

// A group whose rolling update waits for its operator holds its stage, and
// the release shows which group waits for what and the rolling update's
// commands that resolve it; the release is WaitingForOperator meanwhile.
func TestReleaseShowsAGroupWaitingForItsRollingUpdate(t *testing.T) {
	env := newReleaseEnv(t)
	env.pause["asg-hz-1"] = true
	recorded := recordStates(env.TestWorkflowEnvironment)
	env.at(30*time.Minute, func() {
		p := env.progress()
		g := p.Group("asg-hz-1")
		require.Equal(t, model.GroupUpdating, g.State)
		require.Contains(t, g.WaitingFor, "its rolling update's operator: 2 failed instance(s)")
		require.Contains(t, g.Resolve, "starter rollout resume|retry|skip|rollback asg-hz-1")
		require.Equal(t, model.StagePending, p.Stages[1].State, "the stage holds")
		require.Equal(t, model.StateWaitingForOperator, (*recorded)[len(*recorded)-1])
	})
	spec := releaseSpec()
	spec.Stages[1].Gate.Approval = false
	env.execute(spec)

	p, err := env.result()
	require.NoError(t, err)
	require.Equal(t, model.ReleaseSucceeded, p.Phase)
	require.Empty(t, p.Group("asg-hz-1").WaitingFor)
	require.Equal(t, []string{model.StateRunning, model.StateWaitingForOperator, model.StateRunning, model.StateSucceeded}, *recorded)
}
