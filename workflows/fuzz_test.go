package workflows

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"

	"github.com/imagefleet/imagefleet/internal/payload"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/operator"
)

// Fuzz tests of the operator commands' payloads: raw bytes, decoded as the
// worker decodes a signal's or an update's argument (a json/plain payload
// through payload.Converter), then checked by the very validator the
// workflow registers for the command, against a workflow in a realistic
// state. A panic, an input that takes over a second, or a validator that
// changes the workflow's state (an update's validator does not run on
// replay, so a change there breaks determinism) is a failure.
// The rollback spec a rollback command makes is fuzzed in model too
// (FuzzRollbackCommand).

// slowInput is the limit above which an input is a defect.
const slowInput = time.Second

var nopLogger = log.NewStructuredLogger(slog.New(slog.DiscardHandler))

// seed adds each command's JSON, and raw strings as they are.
func seed(f *testing.F, seeds ...any) {
	f.Helper()
	for _, s := range seeds {
		if raw, ok := s.(string); ok {
			f.Add([]byte(raw))
			continue
		}
		data, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// rawSeeds are payloads any command may meet: no argument, other types,
// an unknown field, trailing data.
var rawSeeds = []any{"null", "", "{}", "[]", `"x"`, "1", `{"bacthes":2}`, `{} {}`}

// validate decodes data into cmd's payload type as the worker does and, if
// it decodes, runs cmd's validator: refusing is fine, panicking is not.
func validate[T any](cmd operator.Command[T], data []byte) {
	p := &commonpb.Payloads{Payloads: []*commonpb.Payload{{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     data,
	}}}
	var c T
	if payload.Converter.FromPayloads(p, &c) != nil {
		return
	}
	_ = cmd.Validate(c)
}

// fuzzStates runs check on a fresh workflow of every state, within a second
// for all, and fails if check changed what the workflow's query shows.
func fuzzStates[W any, S any](t *testing.T, data []byte, states map[string]func() W, shown func(W) S, check func(W)) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for name, state := range states {
			w := state()
			check(w)
			if got, want := shown(w), shown(state()); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: a validator changed the state:\n got %+v\nwant %+v", name, got, want)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(slowInput):
		t.Fatalf("input took over %s: %q", slowInput, data)
	}
}

// Region commands (retry-region, drop-region, cancel and its alias abort) of
// a distribution and of a publication: waiting for an operator about a
// failed region, cancelled, and publishing (cancel no longer applies).
func FuzzRegionCommands(f *testing.F) {
	seed(f, append([]any{
		model.RegionCommand{Region: "eu-west-1"}, model.RegionCommand{Region: "cn-shanghai"},
		model.RegionCommand{Region: "us-east-1"}, model.RegionCommand{},
		model.CancelCommand{Reason: "quota in London"}, model.CancelCommand{},
		`{"region":"eu-west-1","reason":"x"}`, `{"region":7}`,
	}, rawSeeds...)...)
	regions := []model.RegionStatus{
		{Region: "cn-shanghai", State: model.RegionAvailable, Attempts: 1},
		{Region: "ap-southeast-1", State: model.RegionCopying, Attempts: 2},
		{Region: "eu-west-1", State: model.RegionFailed, Attempts: 1, Error: "QuotaExceeded"},
	}
	distributionIn := func(phase string, cancelled bool) func() *distribution {
		return func() *distribution {
			d := &distribution{spec: model.DistributeSpec{Package: "webapp", Version: "v1_0_0", SourceRegion: "cn-hangzhou", SourceImage: "m-webapp-v1"}}
			d.progress = model.DistributionProgress{Package: "webapp", Version: "v1_0_0", Phase: phase, ArtifactID: "artifact-1"}
			for _, r := range regions {
				d.spec.Regions = append(d.spec.Regions, r.Region)
				d.progress.Regions = append(d.progress.Regions, model.RegionProgress{RegionStatus: r})
			}
			d.bind(nopLogger)
			if cancelled {
				d.regions.Commands().Cancel.Apply(model.CancelCommand{Reason: "wrong image"})
			}
			return d
		}
	}
	publicationIn := func(phase string, cancelled bool) func() *publication {
		return func() *publication {
			p := &publication{spec: model.PublishSpec{Package: "web_files", Version: "v1_0"}}
			p.progress = model.PublishProgress{Package: "web_files", Version: "v1_0", Phase: phase}
			for _, r := range regions {
				p.info.Regions = append(p.info.Regions, r.Region)
				p.progress.Regions = append(p.progress.Regions, model.DeliveryProgress{RegionStatus: r})
			}
			p.bind(nopLogger)
			if cancelled {
				p.regions.Commands().Cancel.Apply(model.CancelCommand{Reason: "wrong file"})
			}
			return p
		}
	}
	distributions := map[string]func() *distribution{
		"distribution waiting for an operator": distributionIn(model.PhaseReplicating, false),
		"distribution cancelled":               distributionIn(model.PhaseReplicating, true),
		"distribution publishing":              distributionIn(model.PhasePublishing, false),
	}
	publications := map[string]func() *publication{
		"publication waiting for an operator": publicationIn(model.PhaseReplicating, false),
		"publication cancelled":               publicationIn(model.PhaseReplicating, true),
		"publication publishing":              publicationIn(model.PhasePublishing, false),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzStates(t, data, distributions, func(d *distribution) model.DistributionProgress { return d.progress }, func(d *distribution) {
			c := d.regions.Commands()
			validate(c.RetryRegion, data)
			validate(c.DropRegion, data)
			validate(c.Cancel, data)
		})
		fuzzStates(t, data, publications, func(p *publication) model.PublishProgress { return p.progress }, func(p *publication) {
			c := p.regions.Commands()
			validate(c.RetryRegion, data)
			validate(c.DropRegion, data)
			validate(c.Cancel, data)
		})
	})
}

// Rollout commands (resume, retry, skip, cancel-instance, cancel, rollback,
// set-threshold, set-pause-policy) of a rolling update of 6 instances in 3
// batches: paused on failures beyond the threshold in batch 2, the same
// with a retry in flight, paused after batch 1, and cancelling.
func FuzzRolloutCommands(f *testing.F) {
	seed(f, append([]any{
		model.InstanceCommand{InstanceID: "i-03"}, model.InstanceCommand{InstanceID: "i-02"},
		model.InstanceCommand{InstanceID: "i-04"}, model.InstanceCommand{InstanceID: "i-99"}, model.InstanceCommand{},
		model.ResumeCommand{}, model.CancelCommand{Reason: "bad image"},
		model.ThresholdCommand{ErrorThreshold: -1}, model.ThresholdCommand{ErrorThreshold: 2},
		model.PausePolicyCommand{PausePolicy: "Sometimes"}, model.PausePolicyCommand{PausePolicy: model.PauseNone},
		`{"errorThreshold":9223372036854775807}`, `{"errorThreshold":1e99}`, `{"instanceId":null}`,
		model.RollbackCommand{}, model.RollbackCommand{Batches: 9, PausePolicy: "Sometimes", ErrorThreshold: -1},
	}, rawSeeds...)...)
	paused := func(status string, adjust func(r *rollout)) func() *rollout {
		return func() *rollout {
			spec := model.RolloutSpec{ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: model.TaskScript,
				Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo hi"}, Batches: 3, ErrorThreshold: 1}
			r := &rollout{spec: spec, logger: nopLogger, index: map[string]int{}, chunked: true}
			r.st = model.RolloutState{Spec: spec, ScalingGroupID: spec.ScalingGroupID, RegionID: spec.RegionID, TaskType: spec.TaskType,
				PausePolicy: spec.Policy(), ErrorThreshold: spec.ErrorThreshold,
				FailedInstances: []model.InstanceProgress{}, SuspendedBefore: []string{}}
			r.status = newRolloutStatus(&r.st)
			r.status.start()
			for b := range 3 {
				r.st.Batches = append(r.st.Batches, model.BatchProgress{Index: b + 1, Size: 2, State: model.BatchPending})
			}
			for i, state := range []string{model.InstanceSucceeded, model.InstanceFailed, model.InstanceFailed, model.InstanceFailed, model.InstancePending, model.InstancePending} {
				id := "i-0" + string(rune('1'+i))
				r.index[id] = len(r.insts)
				r.insts = append(r.insts, model.InstanceProgress{InstanceID: id, Batch: i/2 + 1, State: state, Attempts: 1})
			}
			// Batch 1 ended with i-02's failure within the threshold;
			// batch 2 is open with i-03 and i-04 failed.
			r.st.Batches[0].State, r.st.Batches[1].State = model.BatchDone, model.BatchRunning
			r.status.openBatch(1, []string{"i-03", "i-04"})
			r.status.pause(status)
			adjust(r)
			r.refresh()
			return r
		}
	}
	states := map[string]func() *rollout{
		"paused on failures": paused(model.RolloutPausedFailure, func(*rollout) {}),
		"paused on failures, a retry in flight": paused(model.RolloutPausedFailure, func(r *rollout) {
			r.inst("i-04").State = model.InstanceUpdating
			r.status.retryStarted()
		}),
		"paused after batch 1": paused(model.RolloutPausedBatch, func(r *rollout) {
			r.status.closeBatch()
			r.st.Batches[1].State, r.st.CurrentBatch = model.BatchPending, 1
			r.inst("i-03").State, r.inst("i-04").State = model.InstancePending, model.InstancePending
		}),
		"cancelling": paused(model.RolloutPausedFailure, func(r *rollout) {
			r.status.cancel("bad image")
		}),
	}
	type shown struct {
		State model.RolloutState
		Insts []model.InstanceProgress
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzStates(t, data, states, func(r *rollout) shown { return shown{r.st, r.insts} }, func(r *rollout) {
			c := r.commands(nil) // only the instance decisions' Apply use the context
			validate(c.resume, data)
			validate(c.retry, data)
			validate(c.skip, data)
			validate(c.cancelInstance, data)
			validate(c.cancel, data)
			validate(c.rollback, data)
			validate(c.threshold, data)
			validate(c.policy, data)
		})
	})
}

// Blue/green commands (promote, promote-full, cancel) of a deployment at a
// manual gate of its traffic shift, shifting between steps, cancelled, and
// in its termination wait (blue's removal committed).
func FuzzBlueGreenCommands(f *testing.F) {
	seed(f, append([]any{
		model.PromoteCommand{}, model.PromoteCommand{Full: true},
		model.CancelCommand{Reason: "bad release"}, model.CancelCommand{},
		`{"full":"yes"}`, `{"full":null,"reason":"x"}`,
	}, rawSeeds...)...)
	deployment := func(phase string, adjust func(d *blueGreen)) func() *blueGreen {
		return func() *blueGreen {
			thirty := 30
			spec := model.BlueGreenSpec{Cluster: "demo", Service: "web", TaskDefinition: "web:2",
				Subnets: []string{"subnet-1"}, ContainerName: "web", ContainerPort: 8080, TargetGroups: []string{"tg-a", "tg-b"},
				ProductionListener: "l-80", TestListener: "l-8080",
				Strategy: model.ShiftStrategy{Type: model.StrategySteps, Steps: []model.ShiftStep{{SetWeight: &thirty}, {Pause: &model.PauseStep{}}}}}
			d := &blueGreen{spec: spec, logger: nopLogger}
			d.progress = model.BlueGreenProgress{Cluster: spec.Cluster, Service: spec.Service, Step: 1}
			d.enter(phase)
			d.progress.Steps, _ = spec.Strategy.Plan()
			adjust(d)
			return d
		}
	}
	states := map[string]func() *blueGreen{
		"at a manual gate": deployment(model.BGPhaseShifting, func(d *blueGreen) { d.status.beginPause() }),
		"shifting":         deployment(model.BGPhaseShifting, func(d *blueGreen) { d.progress.Step = 0 }),
		"promoted at the gate": deployment(model.BGPhaseShifting, func(d *blueGreen) {
			d.status.beginPause()
			d.commands().promote.Apply(model.PromoteCommand{})
		}),
		"cancelled": deployment(model.BGPhaseShifting, func(d *blueGreen) {
			d.commands().cancel.Apply(model.CancelCommand{Reason: "bad release"})
		}),
		"termination wait": deployment(model.BGPhaseTerminationWait, func(d *blueGreen) {
			d.status.commit()
			d.progress.Step = -1
		}),
	}
	type shown struct {
		Progress model.BlueGreenProgress
		Status   blueGreenStatus
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzStates(t, data, states, func(d *blueGreen) shown {
			return shown{d.progress, d.status}
		}, func(d *blueGreen) {
			c := d.commands()
			validate(c.promote, data)
			validate(c.promoteFull, data)
			validate(c.cancel, data)
		})
	})
}

// Build commands (cancel, retry-step through the workflow's validator) of
// a build whose test failed and waits for a retry, one running its
// components, one being cancelled and one that has ended.
func FuzzBuildCommands(f *testing.F) {
	seed(f, append([]any{
		model.CancelBuildCommand{Reason: "wrong base image"}, model.CancelBuildCommand{ExecutionID: "exec-other"},
		model.CancelBuildCommand{ExecutionID: "exec-1"}, model.CancelBuildCommand{},
		model.RetryStepCommand{}, model.RetryStepCommand{Step: model.StepTest}, model.RetryStepCommand{Step: model.StepComponents},
		model.RetryStepCommand{Components: []model.TemplateComponent{{Name: "nothing"}}},
		model.RetryStepCommand{Step: model.StepTest, Components: []model.TemplateComponent{{Name: "smoke", Content: "echo GET / 200"}}},
		`{"components":[{"name":"fix","content":"echo ok"}]}`, `{"components":[null]}`,
	}, rawSeeds...)...)
	buildAt := func(step string, adjust func(b *build)) func() *build {
		return func() *build {
			b := &build{in: model.BuildInput{Region: "cn-hangzhou", TemplateID: "ip-123"}, logger: nopLogger}
			b.progress = model.BuildProgress{Region: "cn-hangzhou", TemplateID: "ip-123", ExecutionID: "exec-1", Step: step}
			adjust(b)
			return b
		}
	}
	states := map[string]func() *build{
		"test failed, waiting for a retry": buildAt(model.StepTest, func(b *build) {
			b.status.wait()
			b.progress.FailedStep, b.progress.Error = model.StepTest, "smoke test failed"
		}),
		"check failed, waiting for a retry": buildAt(model.StepCheck, func(b *build) {
			b.status.wait()
			b.progress.FailedStep, b.progress.Error = model.StepCheck, "repair failed"
		}),
		"running components": buildAt(model.StepComponents, func(*build) {}),
		"being cancelled": buildAt(model.StepRelease, func(b *build) {
			b.status.cancel()
			b.progress.Cancelled, b.progress.CancelReason = true, "give up"
		}),
		"ended": buildAt(model.StepDone, func(b *build) { b.status.end() }),
	}
	type shown struct {
		Progress model.BuildProgress
		Status   buildStatus
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzStates(t, data, states, func(b *build) shown { return shown{b.progress, b.status} }, func(b *build) {
			cancel, retry := b.commands()
			validate(cancel, data)
			validate(retry, data)
		})
	})
}

// Release commands (approve, hold, resume, skip-group, cancel, rollback) of
// a release waiting for an approval, held, with a failed group, rolling
// back, and ended.
func FuzzReleaseCommands(f *testing.F) {
	seed(f, append([]any{
		model.ApproveCommand{By: "ana", Comment: "canary clean"}, model.ApproveCommand{Stage: "global", By: "ana"}, model.ApproveCommand{},
		model.HoldCommand{Reason: "freeze"}, model.ResumeCommand{},
		model.SkipGroupCommand{ScalingGroupID: "asg-bj-1"}, model.SkipGroupCommand{ScalingGroupID: "asg-hz-1"}, model.SkipGroupCommand{},
		model.CancelCommand{Reason: "wrong build"}, model.ReleaseRollbackCommand{Reason: "error rate"},
		`{"by":"ana","commnet":"typo"}`, `{"scalingGroupId":null}`, `{"by":"\u0000"}`,
	}, rawSeeds...)...)
	at := func(adjust func(r *release)) func() *release {
		return func() *release {
			r := &release{spec: releaseSpec(), logger: nopLogger, cancelWork: func() {}}
			r.p = model.NewReleaseProgress(r.spec)
			r.p.Phase = model.ReleasePromoting
			r.p.Stages[0].State, r.p.Stages[0].Groups[0].State = model.StageVerified, model.GroupUpdated
			adjust(r)
			return r
		}
	}
	states := map[string]func() *release{
		"waiting for approval": at(func(r *release) { r.p.Stages[1].State = model.StageAwaitApproval }),
		"held":                 at(func(r *release) { r.p.Held, r.p.HoldReason = true, "freeze" }),
		"a failed group": at(func(r *release) {
			r.p.Stages[1].State, r.p.Stages[2].State = model.StageVerified, model.StageUpdating
			r.p.Stages[2].Groups[0].State = model.GroupFailed
		}),
		"building":     at(func(r *release) { r.p.Phase = model.ReleaseBuilding; r.p.Stages[0].State = model.StagePending }),
		"rolling back": at(func(r *release) { r.status.rollback, r.p.Phase = true, model.ReleaseRollingBack }),
		"ended":        at(func(r *release) { r.status.ended, r.p.Phase = true, model.ReleaseSucceeded }),
	}
	type shown struct {
		Progress model.ReleaseProgress
		Status   releaseStatus
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzStates(t, data, states, func(r *release) shown { return shown{r.p, r.status} }, func(r *release) {
			c := r.commands(nil)
			validate(c.approve, data)
			validate(c.hold, data)
			validate(c.resume, data)
			validate(c.skipGroup, data)
			validate(c.cancel, data)
			validate(c.rollback, data)
		})
	})
}
