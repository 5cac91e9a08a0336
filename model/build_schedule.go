package model

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"text/template"
	"time"
)

// Scheduled builds: a Temporal Schedule per build template (and schedule
// name) whose action starts a ScheduledBuild workflow. That workflow
// resolves the template's source image now and, unless the source is the
// one the last successful scheduled build started from, starts the
// template's ImageBuild as a child (under its canonical workflow ID, so one
// build per template still holds) and, when asked, publishes a package
// version of the built image through a DistributeImagePackage child.
//
// Where "the last successful scheduled build's source" is kept: in the
// schedule itself, as its last completion result. Temporal hands every run
// a schedule starts the result of the schedule's last run that completed
// (workflow.GetLastCompletionResult); ScheduledBuildResult carries
// LastBuiltSource forward, also through skipped runs, and a failed run does
// not replace it. It lives on the server with the schedule (it survives
// worker and server restarts), and any client reads it as the result of the
// schedule's latest completed run (`temporal workflow result`); each run's
// memo (MemoSource, MemoLastBuiltSource) shows it on the Web UI too.
// Deleting the schedule forgets it: a new schedule's first run builds.

// ScheduledBuildWorkflowType is the workflow type a build schedule starts.
const ScheduledBuildWorkflowType = "ScheduledBuild"

// OperationScheduledBuild is the value of SAOperation for scheduled builds
// (the build they start is OperationBuild).
const OperationScheduledBuild = "scheduled-build"

// StateSkipped is the SAState of a scheduled build that launched nothing
// (source unchanged, or a build of the template already running).
const StateSkipped = "Skipped"

// QueryScheduledBuildProgress returns ScheduledBuildProgress.
const QueryScheduledBuildProgress = "progress"

// Memo keys of a scheduled build run (shown on the Web UI).
const (
	MemoSource          = "source"
	MemoLastBuiltSource = "lastBuiltSource"
	MemoOutcome         = "outcome"
)

// Outcomes of a scheduled build (ScheduledBuildResult.Outcome).
const (
	// OutcomeSkipped: nothing was launched; Reason says why.
	OutcomeSkipped = "Skipped"
	// OutcomeBuilt: the template was built (and published, if asked).
	OutcomeBuilt = "Built"
)

// Steps of a scheduled build (ScheduledBuildProgress.Step).
const (
	ScheduledStepResolve = "ResolveSource"
	ScheduledStepBuild   = "Build"
	ScheduledStepPublish = "Publish"
	ScheduledStepDone    = "Done"
)

// Error types a scheduled build fails with, besides InvalidSpec and
// WrongWorkflowID (nothing changed) and the build's own (the child's failure
// is the cause).
const (
	// ErrTypeScheduledBuildFailed: the build failed; it released what it
	// made as a build does (docs/build.md).
	ErrTypeScheduledBuildFailed = "ScheduledBuildFailed"
	// ErrTypeScheduledPublishFailed: the build succeeded (its image stays),
	// but publishing the package version failed.
	ErrTypeScheduledPublishFailed = "ScheduledPublishFailed"
)

// DefaultScheduleName names a template's schedule when none is given.
const DefaultScheduleName = "default"

var scheduleNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// BuildScheduleID is the Temporal Schedule ID of a template's build
// schedule: one per template and name.
func BuildScheduleID(region, templateID, name string) string {
	return "build-schedule/" + region + "/" + templateID + "/" + name
}

// ScheduledBuildWorkflowID is the workflow ID a build schedule's action
// names; the server appends "-<time of the firing>" to each run's ID.
func ScheduledBuildWorkflowID(region, templateID, name string) string {
	return "scheduled-build/" + region + "/" + templateID + "/" + name
}

// IsScheduledBuildWorkflowID reports whether id is a run of the schedule's
// action: the action's ID, or that ID with the server's "-<time>" suffix.
func IsScheduledBuildWorkflowID(id, region, templateID, name string) bool {
	base := ScheduledBuildWorkflowID(region, templateID, name)
	return id == base || strings.HasPrefix(id, base+"-")
}

// ScheduledBuildInput is the input of a ScheduledBuild run: what a build
// schedule's action passes every time it fires.
type ScheduledBuildInput struct {
	// Region and TemplateID name the build template; ScheduleName is the
	// schedule's name (its ID is BuildScheduleID).
	Region       string `json:"region"`
	TemplateID   string `json:"templateId"`
	ScheduleName string `json:"scheduleName"`
	// Always builds even when the source is unchanged; the default builds
	// only when the template's source image (or its image family's newest
	// image) differs from the last successful scheduled build's.
	Always bool `json:"always,omitempty"`
	// RetryWindow is the build's (BuildInput.RetryWindow).
	RetryWindow string `json:"retryWindow,omitempty"`
	// Publish, when set, publishes the built image as a new version of a
	// package after the build.
	Publish *ScheduledPublish `json:"publish,omitempty"`
}

// ScheduledPublish publishes a scheduled build's image as a version of an
// ECS image package (a DistributeImagePackage child, workflow ID
// DistributeWorkflowID(package, version)).
type ScheduledPublish struct {
	Package string `json:"package"`
	// VersionPattern makes the version name (a Go text/template): {{.Date}}
	// is the run's date (YYYYMMDD), {{.Time}} its time (HHMMSS), both in
	// TimeZone, {{.Execution}} the build's execution ID (letters, digits,
	// underscores). The name must be 3–50 letters, digits or underscores.
	// Default DefaultVersionPattern.
	VersionPattern string `json:"versionPattern,omitempty"`
	// TimeZone is the IANA zone of {{.Date}} and {{.Time}} (default UTC; a
	// starter schedule passes its own).
	TimeZone string `json:"timeZone,omitempty"`
	// Description of the version (10–500 characters).
	Description string `json:"description"`
	// Regions to publish in (default: the build template's regions, or its
	// region).
	Regions []string `json:"regions,omitempty"`
}

// DefaultVersionPattern names a scheduled build's version when no pattern
// is given.
const DefaultVersionPattern = "v{{.Date}}_{{.Time}}"

// VersionFields are what a version pattern may use.
type VersionFields struct {
	Date, Time, Execution string
}

// NewVersionFields are the fields of a run at t (in loc) of build execution.
func NewVersionFields(t time.Time, loc *time.Location, execution string) VersionFields {
	t = t.In(loc)
	return VersionFields{Date: t.Format("20060102"), Time: t.Format("150405"), Execution: nonNameChars.ReplaceAllString(execution, "_")}
}

var nonNameChars = regexp.MustCompile(`[^A-Za-z0-9_]`)

// Pattern is VersionPattern with its default applied.
func (p ScheduledPublish) Pattern() string {
	if p.VersionPattern == "" {
		return DefaultVersionPattern
	}
	return p.VersionPattern
}

// Location is TimeZone, loaded (UTC when empty).
func (p ScheduledPublish) Location() (*time.Location, error) {
	if p.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil || p.TimeZone == "Local" {
		return nil, fmt.Errorf("time zone %q is not an IANA time zone such as Europe/Berlin or UTC", p.TimeZone)
	}
	return loc, nil
}

// VersionName renders the version pattern.
func (p ScheduledPublish) VersionName(f VersionFields) (string, error) {
	tpl, err := template.New("version").Option("missingkey=error").Parse(p.Pattern())
	if err != nil {
		return "", fmt.Errorf("version pattern %q: %w", p.Pattern(), err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, f); err != nil {
		return "", fmt.Errorf("version pattern %q: %w", p.Pattern(), err)
	}
	name := b.String()
	if !ValidVersionName(name) {
		return "", fmt.Errorf("version pattern %q gives %q: a version name must be 3–50 letters, digits or underscores", p.Pattern(), name)
	}
	return name, nil
}

// Validate checks what can be checked before the build: names, the
// pattern (rendered for two different runs: a pattern that names every run
// alike is refused), the description and the regions.
func (p ScheduledPublish) Validate() error {
	var errs []error
	if !ValidPackageName(p.Package) {
		errs = append(errs, fmt.Errorf("package name %q must be 3–128 characters of letters, digits and underscore", p.Package))
	}
	a, errA := p.VersionName(VersionFields{Date: "20260131", Time: "235959", Execution: "exec_0123456789abcdef"})
	b, errB := p.VersionName(VersionFields{Date: "20261231", Time: "000000", Execution: "exec_fedcba9876543210"})
	switch {
	case errA != nil:
		errs = append(errs, errA)
	case errB != nil:
		errs = append(errs, errB)
	case a == b:
		errs = append(errs, fmt.Errorf("version pattern %q names every run %q: use {{.Date}}, {{.Time}} or {{.Execution}}", p.Pattern(), a))
	}
	if _, err := p.Location(); err != nil {
		errs = append(errs, err)
	}
	if n := len([]rune(p.Description)); n < MinDescriptionLen || n > MaxDescriptionLen {
		errs = append(errs, fmt.Errorf("publish description must be %d–%d characters, got %d", MinDescriptionLen, MaxDescriptionLen, n))
	}
	if err := CheckRegions(p.Regions); err != nil {
		errs = append(errs, err)
	}
	return invalidSpec(errs)
}

// Validate checks the input without calling the cloud.
func (in ScheduledBuildInput) Validate() error {
	var errs []error
	if err := in.Build().Validate(); err != nil {
		var inv *InvalidSpecError
		if errors.As(err, &inv) {
			errs = append(errs, inv.Errs...)
		} else {
			errs = append(errs, err)
		}
	}
	if !scheduleNameRE.MatchString(in.ScheduleName) {
		errs = append(errs, fmt.Errorf("schedule name %q must be 1–40 lowercase letters, digits or hyphens", in.ScheduleName))
	}
	if in.Publish != nil {
		if err := in.Publish.Validate(); err != nil {
			var inv *InvalidSpecError
			if errors.As(err, &inv) {
				errs = append(errs, inv.Errs...)
			}
		}
	}
	return invalidSpec(errs)
}

// Build is the input of the build a scheduled run starts.
func (in ScheduledBuildInput) Build() BuildInput {
	return BuildInput{Region: in.Region, TemplateID: in.TemplateID, RetryWindow: in.RetryWindow}
}

// BuildScheduleSpec is what `starter build schedule create` reads: the
// schedule (when) and the scheduled build (what).
type BuildScheduleSpec struct {
	ScheduledBuildInput
	Schedule ScheduleSpec `json:"schedule"`
}

// Validate checks both parts.
func (s BuildScheduleSpec) Validate() error {
	var errs []error
	for _, err := range []error{s.ScheduledBuildInput.Validate(), s.Schedule.Validate()} {
		var inv *InvalidSpecError
		if errors.As(err, &inv) {
			errs = append(errs, inv.Errs...)
		} else if err != nil {
			errs = append(errs, err)
		}
	}
	return invalidSpec(errs)
}

// ScheduledBuildProgress is the answer to QueryScheduledBuildProgress.
type ScheduledBuildProgress struct {
	Region     string `json:"region"`
	TemplateID string `json:"templateId"`
	Step       string `json:"step"`
	// Source is the source image resolved by this run; LastBuiltSource the
	// one the last successful scheduled build started from (empty: none).
	Source          string `json:"source,omitempty"`
	LastBuiltSource string `json:"lastBuiltSource,omitempty"`
	// BuildWorkflowID is the build child's (BuildWorkflowID); ExecutionID
	// and ImageID what it built.
	BuildWorkflowID string `json:"buildWorkflowId,omitempty"`
	ExecutionID     string `json:"executionId,omitempty"`
	ImageID         string `json:"imageId,omitempty"`
	Package         string `json:"package,omitempty"`
	Version         string `json:"version,omitempty"`
	Outcome         string `json:"outcome,omitempty"`
	Reason          string `json:"reason,omitempty"`
	Error           string `json:"error,omitempty"`
}

// ScheduledBuildResult is the result of a ScheduledBuild run, and what the
// schedule hands its next run (see above).
type ScheduledBuildResult struct {
	Outcome string `json:"outcome"` // Skipped | Built
	Reason  string `json:"reason,omitempty"`
	// Source is the source image this run resolved; LastBuiltSource the
	// source of the last successful scheduled build after this run (Source
	// when it built).
	Source          string `json:"source"`
	LastBuiltSource string `json:"lastBuiltSource,omitempty"`
	ExecutionID     string `json:"executionId,omitempty"`
	ImageID         string `json:"imageId,omitempty"`
	// Images maps each region of the build to its image.
	Images  map[string]string `json:"images,omitempty"`
	Package string            `json:"package,omitempty"`
	Version string            `json:"version,omitempty"`
}
