package model

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/internal/payload"
	"github.com/imagefleet/imagefleet/internal/specfile"
)

// Fuzz tests of everything a client hands imagefleet: spec files (YAML or
// JSON, decoded by internal/specfile as the starter's --spec is) and
// workflow inputs and operator command payloads (JSON, decoded by
// internal/payload as the worker's data converter does): the decoders
// users meet, strict about unknown fields and their case. Each input must
// be decoded and validated without a panic and within a second; a spec
// that validates must still validate after a round trip through the
// payload converter (what a client and the worker do to it).
// `go tool task fuzz` runs them for long; CI runs each for a few seconds.

type validator interface{ Validate() error }

// slowInput is the limit above which an input is a defect.
const slowInput = time.Second

func fuzzSpec[T validator](f *testing.F, seeds ...any) {
	for _, s := range seeds {
		switch v := s.(type) {
		case []byte:
			f.Add(v)
		case string:
			f.Add([]byte(v))
		default:
			data, err := json.Marshal(v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		within(t, data, func(t *testing.T) {
			var fromFile T
			if specfile.Decode("spec.yaml", data, &fromFile) == nil {
				requireStable(t, fromFile)
			}
			var fromPayload T
			if payload.Decode(data, &fromPayload) == nil {
				requireStable(t, fromPayload)
			}
		})
	})
}

// within runs check and fails the input if it takes over slowInput: the
// fuzzer then keeps the slow input as a failing case, as it does a crash.
func within(t *testing.T, data []byte, check func(*testing.T)) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(t)
	}()
	select {
	case <-done:
	case <-time.After(slowInput):
		t.Fatalf("input took over %s: %q", slowInput, data)
	}
}

// requireStable validates v and, if it is valid, checks that its JSON form
// decodes to a value that is valid too.
func requireStable[T validator](t *testing.T, v T) {
	t.Helper()
	if v.Validate() != nil {
		return
	}
	p, err := payload.Converter.ToPayload(v)
	if err != nil {
		t.Fatalf("a valid %T does not encode: %v", v, err)
	}
	data := p.GetData()
	var again T
	if err := payload.Converter.FromPayload(p, &again); err != nil {
		t.Fatalf("a valid %T does not decode: %v\n%s", v, err, data)
	}
	if err := again.Validate(); err != nil {
		t.Fatalf("a valid %T is invalid after a JSON round trip: %v\n%s", v, err, data)
	}
}

func file(f *testing.F, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

func FuzzDistributeSpec(f *testing.F) {
	fuzzSpec[DistributeSpec](f, file(f, "../examples/distribute.yaml"),
		DistributeSpec{Package: "web_app", Version: "v1_0", Description: "ten chars!", SourceRegion: "cn-hangzhou", SourceImage: "m-1", Regions: []string{"cn-beijing"}},
		`{"package":"webapp","version":"v1_0_0","description":"web tier image","sourceRegion":"cn-hangzhou","sourceImage":"m-webapp-v1","regions":["cn-shanghai","ap-southeast-1","eu-west-1"]}`)
}

func FuzzPublishSpec(f *testing.F) {
	fuzzSpec[PublishSpec](f, PublishSpec{Package: "web_files", Version: "v1_0"}, PublishSpec{Package: "web_files", Version: "v1_0", CopyAttempts: 3})
}

func FuzzTemplateSpec(f *testing.F) {
	fuzzSpec[TemplateSpec](f, file(f, "../examples/template.yaml"), TemplateSpec{Region: "cn-hangzhou", Name: "web", SourceFamily: "webapp"})
}

func FuzzBuildInput(f *testing.F) {
	fuzzSpec[BuildInput](f, BuildInput{Region: "cn-hangzhou", TemplateID: "ip-123"}, BuildInput{Region: "cn-hangzhou", TemplateID: "ip-123", RetryWindow: "30m"})
}

func FuzzRolloutSpec(f *testing.F) {
	fuzzSpec[RolloutSpec](f,
		RolloutSpec{ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: TaskImage, Image: &ImageChange{ImageID: "m-webapp-v2", RollbackImageID: "m-webapp-v1"}, Batches: 2, PausePolicy: PauseFirstBatch},
		RolloutSpec{ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: TaskScript, Script: &ScriptChange{Type: ScriptShell, Script: "echo hi"}, Batches: 3, ErrorThreshold: 1},
		RolloutSpec{ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: TaskOOSPackage, Package: &OOSPackageChange{}, Batches: 1},
	)
}

func FuzzBlueGreenSpec(f *testing.F) {
	w := 30
	steps := validBlueGreen()
	steps.Strategy = ShiftStrategy{Type: StrategySteps, Steps: []ShiftStep{{SetWeight: &w}, {Pause: &PauseStep{Duration: "1m"}}, {Pause: &PauseStep{}}}}
	linear := validBlueGreen()
	linear.Strategy = ShiftStrategy{Type: StrategyLinear, Percent: 25, Interval: "1m"}
	fuzzSpec[BlueGreenSpec](f, validBlueGreen(), steps, linear)
}

func FuzzRetryStepCommand(f *testing.F) {
	fuzzSpec[RetryStepCommand](f, RetryStepCommand{}, RetryStepCommand{Step: "Test"}, `{"components":[{"name":"fix","content":"echo ok"}]}`)
}

// A rollback command's fields build the rollback's spec, which must be
// valid or refused.
func FuzzRollbackCommand(f *testing.F) {
	orig := RolloutSpec{ScalingGroupID: "asg-web-hz", RegionID: "cn-hangzhou", TaskType: TaskImage,
		Image: &ImageChange{ImageID: "m-webapp-v2", RollbackImageID: "m-webapp-v1"}, Batches: 2}
	for _, c := range []RollbackCommand{{}, {Batches: 1, PausePolicy: PauseEachBatch, ErrorThreshold: 2, Description: "undo"}} {
		data, _ := json.Marshal(c)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c RollbackCommand
		if payload.Decode(data, &c) != nil {
			return
		}
		spec, err := RollbackSpec(orig, RolloutRef{WorkflowID: "rollout/asg-web-hz", RunID: "r1"}, []string{"i-1", "i-2"}, c)
		if err == nil {
			requireStable(t, spec)
		}
	})
}
