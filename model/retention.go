package model

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Lifecycle rules of a deployment package's published image versions
// (docs/retention.md): keep the newest N versions and/or those younger than
// D; deprecate the others (not offered to new deployments, still usable),
// then, after a grace period, delete their copies in every region and the
// version. A version in use is never touched: an image a scaling group's
// active configuration or launch template, an instance, a running rolling
// update or a service refers to keeps its version, and the run says why.
//
// One run applies a rule to a package: the workflow ImageRetention under
// the ID retention/<package>, so that two runs never work on one package at
// once. A rule may name a build template instead (BuildTemplate, Region):
// the images its successful builds made, under retention/build/<region>/<id>. The run answers the query "progress" (RetentionProgress) from its
// first task, shows its plan in the Web UI's details, and ends with a
// RetentionResult; it stops on the command "cancel" (CancelCommand) or a
// Temporal cancellation, leaving what it did done (each action is
// complete in itself) and doing nothing more.

// RetentionWorkflowType is the workflow type of a lifecycle run.
const RetentionWorkflowType = "ImageRetention"

// OperationRetention is the value of SAOperation for a lifecycle run.
const OperationRetention = "retention"

// RetentionWorkflowID is the workflow ID of a package's lifecycle run.
func RetentionWorkflowID(pkg string) string { return "retention/" + pkg }

// RetentionBuildWorkflowID is the workflow ID of the lifecycle run of a
// build template's images.
func RetentionBuildWorkflowID(region, templateID string) string {
	return "retention/build/" + region + "/" + templateID
}

// WorkflowID is the canonical workflow ID of the rule's lifecycle run.
func (r RetentionRule) WorkflowID() string {
	if r.BuildTemplate != "" {
		return RetentionBuildWorkflowID(r.Region, r.BuildTemplate)
	}
	return RetentionWorkflowID(r.Package)
}

// Subject names what the rule applies to, for people.
func (r RetentionRule) Subject() string {
	if r.BuildTemplate != "" {
		return "build template " + r.BuildTemplate + " in " + r.Region
	}
	return "package " + r.Package
}

// Defaults and limits of a rule.
const (
	// DefaultGracePeriod is the time between a version's deprecation and
	// the deletion of its copies.
	DefaultGracePeriod = 7 * 24 * time.Hour
	// MaxKeepNewest bounds KeepNewest.
	MaxKeepNewest = 1000
	// MaxRetentionExclusions bounds ExcludeTags.
	MaxRetentionExclusions = 20
)

// RetentionRule is a package's lifecycle rule. At least one of KeepNewest
// and KeepYoungerThan is given; a version is kept if either keeps it.
// Durations are Go durations ("720h"); KeepYoungerThan also takes days
// ("30d").
type RetentionRule struct {
	// Package is the EcsImage package whose published versions the rule
	// keeps or retires. Or, instead, BuildTemplate (with its Region): the
	// images the template's successful builds made in its region, which no
	// version holds as such (builds' intermediate images).
	Package       string `json:"package,omitempty"`
	BuildTemplate string `json:"buildTemplate,omitempty"`
	Region        string `json:"region,omitempty"`
	// KeepNewest keeps the newest N published versions (by release time).
	KeepNewest int `json:"keepNewest,omitempty"`
	// KeepYoungerThan keeps the versions released less than this long ago.
	KeepYoungerThan string `json:"keepYoungerThan,omitempty"`
	// GracePeriod is how long a version stays deprecated before its copies
	// are deleted (default 168h; "0s" deletes in the run that deprecates).
	GracePeriod string `json:"gracePeriod,omitempty"`
	// ExcludeTags keep every version whose source image has one of these
	// tags: "key" (any value) or "key=value".
	ExcludeTags []string `json:"excludeTags,omitempty"`
}

// RetentionSpec is the input of a lifecycle run.
type RetentionSpec struct {
	Rule RetentionRule `json:"rule"`
	// DryRun: true lists what the run would deprecate and delete, region by
	// region, and changes nothing; false applies the rule. Unset (null):
	// the first run of a rule (no earlier run of the same rule on the
	// package succeeded) is a dry run, later runs apply it.
	DryRun *bool `json:"dryRun,omitempty"`
}

// RetentionTimes are a rule's durations, parsed, with defaults.
type RetentionTimes struct {
	KeepYoungerThan time.Duration // 0: not a criterion
	GracePeriod     time.Duration
}

// Times parses the rule's durations and applies the defaults; it reports
// every problem Validate reports.
func (r RetentionRule) Times() (RetentionTimes, error) {
	var errs []error
	t := RetentionTimes{GracePeriod: DefaultGracePeriod}
	switch {
	case r.BuildTemplate != "":
		if r.Package != "" {
			errs = append(errs, errors.New("a rule applies to a package or to a build template, not both"))
		}
		if _, ok := LookupRegion(r.Region); !ok {
			errs = append(errs, fmt.Errorf("region %q of build template %s is not a known region", r.Region, r.BuildTemplate))
		}
		if r.GracePeriod != "" {
			errs = append(errs, errors.New("gracePeriod applies to package versions (deprecated first); a build's image is deleted when the rule retires it"))
		}
		t.GracePeriod = 0
	case !ValidPackageName(r.Package):
		errs = append(errs, fmt.Errorf("package %q must be 3–128 characters of letters, digits and underscore", r.Package))
	}
	if r.KeepNewest < 0 || r.KeepNewest > MaxKeepNewest {
		errs = append(errs, fmt.Errorf("keepNewest %d must be 0–%d", r.KeepNewest, MaxKeepNewest))
	}
	if r.KeepYoungerThan != "" {
		d, err := parseAge(r.KeepYoungerThan)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("keepYoungerThan %q is not a duration such as 30d or 720h", r.KeepYoungerThan))
		case d <= 0:
			errs = append(errs, fmt.Errorf("keepYoungerThan %q must be positive", r.KeepYoungerThan))
		default:
			t.KeepYoungerThan = d
		}
	}
	if r.KeepNewest == 0 && r.KeepYoungerThan == "" {
		errs = append(errs, errors.New("a rule keeps the newest N versions (keepNewest) and/or those younger than D (keepYoungerThan): give at least one"))
	}
	if r.GracePeriod != "" && r.BuildTemplate == "" {
		d, err := parseAge(r.GracePeriod)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("gracePeriod %q is not a duration such as 7d or 168h", r.GracePeriod))
		case d < 0:
			errs = append(errs, fmt.Errorf("gracePeriod %q must not be negative", r.GracePeriod))
		default:
			t.GracePeriod = d
		}
	}
	if len(r.ExcludeTags) > MaxRetentionExclusions {
		errs = append(errs, fmt.Errorf("at most %d excludeTags, got %d", MaxRetentionExclusions, len(r.ExcludeTags)))
	}
	for _, tag := range r.ExcludeTags {
		if k, _, _ := strings.Cut(tag, "="); strings.TrimSpace(k) == "" {
			errs = append(errs, fmt.Errorf("excludeTags %q: a tag key must not be empty (key or key=value)", tag))
		}
	}
	return t, invalidSpec(errs)
}

// parseAge parses a Go duration or a number of days ("30d").
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days {
			return 0, fmt.Errorf("bad days %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// Validate checks the spec without calling anything.
func (s RetentionSpec) Validate() error {
	_, err := s.Rule.Times()
	return err
}

// Excludes reports the exclusion that keeps an image with these tags, if any.
func (r RetentionRule) Excludes(tags map[string]string) (string, bool) {
	for _, ex := range r.ExcludeTags {
		k, v, withValue := strings.Cut(ex, "=")
		if got, ok := tags[k]; ok && (!withValue || got == v) {
			return ex, true
		}
	}
	return "", false
}

// Hash identifies the rule (its package and criteria): a run of the same
// rule before tells that this run is not the rule's first. It is the value
// of the search attribute SARetentionRule.
func (r RetentionRule) Hash() string {
	key := fmt.Sprintf("%s\x00%d\x00%s\x00%s\x00%s\x00%s\x00%s", r.Package, r.KeepNewest, r.KeepYoungerThan, r.GracePeriod, strings.Join(r.ExcludeTags, "\x00"), r.BuildTemplate, r.Region)
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// SARetentionRule is the hash of the rule a lifecycle run applies
// (RetentionRule.Hash).
var SARetentionRule = temporal.NewSearchAttributeKeyKeyword("ImagefleetRetentionRule")

// Actions of a lifecycle run on a version (RetentionVersion.Action).
const (
	RetentionKeep      = "keep"      // kept: Reason says why
	RetentionDeprecate = "deprecate" // deprecated now; deleted after the grace period
	RetentionWait      = "wait"      // deprecated earlier, grace period not over
	RetentionDelete    = "delete"    // copies deleted in every region, then the version
)

// States of one region's copy (RetentionRegion.State) and of a version's
// action (RetentionVersion.State).
const (
	RetentionPlanned = "Planned" // a dry run's plan, or not done yet
	RetentionDone    = "Done"
	RetentionKept    = "Kept"   // the cloud refused: in use since the plan
	RetentionFailed  = "Failed" // see Error
)

// RetentionRegion is one region's copy of a version.
type RetentionRegion struct {
	Region  string `json:"region"`
	ImageID string `json:"imageId"`
	SizeGiB int    `json:"sizeGiB,omitempty"`
	// UsedBy names what refers to the copy ("instance i-…", "scaling group
	// asg-… (active scaling configuration)", "rolling update rollout/…").
	UsedBy []string `json:"usedBy,omitempty"`
	State  string   `json:"state,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// RetentionVersion is the run's decision about one published version.
type RetentionVersion struct {
	Version     string    `json:"version"`
	ReleaseTime time.Time `json:"releaseTime"`
	Deprecated  bool      `json:"deprecated,omitempty"`
	// DeprecatedByRun: this run deprecates the version (a dry run: would).
	DeprecatedByRun bool `json:"deprecatedByRun,omitempty"`
	// DeleteAfter is when a deprecated version's copies may be deleted.
	DeleteAfter time.Time         `json:"deleteAfter,omitzero"`
	Action      string            `json:"action"`
	Reason      string            `json:"reason"`
	State       string            `json:"state,omitempty"`
	Error       string            `json:"error,omitempty"`
	Regions     []RetentionRegion `json:"regions"`
}

// Phases of a lifecycle run.
const (
	RetentionPhasePlanning = "Planning"
	RetentionPhaseApplying = "Applying"
	RetentionPhaseDone     = "Done"
	RetentionPhaseAborted  = "Aborted"
)

// RetentionProgress is the answer of the query "progress".
type RetentionProgress struct {
	Package string `json:"package,omitempty"`
	// BuildTemplate and Region: a rule on a build template's images (each
	// "version" is then one build's execution ID, with its image).
	BuildTemplate string `json:"buildTemplate,omitempty"`
	Region        string `json:"region,omitempty"`
	Rule          string `json:"rule"` // RetentionRule.Hash
	Phase         string `json:"phase"`
	DryRun        bool   `json:"dryRun"`
	// DryRunWhy says why a run is dry: asked for, or the rule's first run.
	DryRunWhy   string             `json:"dryRunWhy,omitempty"`
	Versions    []RetentionVersion `json:"versions,omitempty"`
	LastRefusal string             `json:"lastRefusal,omitempty"`
	Error       string             `json:"error,omitempty"`
}

// RetentionResult is a lifecycle run's result: the plan as carried out (a
// dry run: as it would be) and the totals.
type RetentionResult struct {
	Package       string             `json:"package,omitempty"`
	BuildTemplate string             `json:"buildTemplate,omitempty"`
	DryRun        bool               `json:"dryRun"`
	DryRunWhy     string             `json:"dryRunWhy,omitempty"`
	Versions      []RetentionVersion `json:"versions"`
	Deprecated    int                `json:"deprecated"` // versions deprecated (dry run: would be)
	Deleted       int                `json:"deleted"`    // versions deleted
	// CopiesDeleted and FreedGiB count the regional copies deleted.
	CopiesDeleted int `json:"copiesDeleted"`
	FreedGiB      int `json:"freedGiB"`
	Kept          int `json:"kept"`
	// Skipped, for a scheduled run, says why it did nothing: a lifecycle
	// run of the package was already running.
	Skipped string `json:"skipped,omitempty"`
	// WorkflowID is the ImageRetention run that applied the rule (for a
	// scheduled run: its child).
	WorkflowID string `json:"workflowId,omitempty"`
}

// A lifecycle rule on a Temporal Schedule: the schedule (ID
// RetentionScheduleID) starts ScheduledImageRetention each time it fires,
// under ScheduledRetentionWorkflowID plus the server's "-<time>" suffix;
// that run applies the rule as a child ImageRetention under the package's
// canonical RetentionWorkflowID, so a scheduled run and a run started by
// hand never work on one package at once: a firing while a run of the
// package is running ends with Skipped set. The first firing of a new rule
// is a dry run (unless DryRun says otherwise), as any first run.

// ScheduledRetentionWorkflowType is the workflow a retention schedule starts.
const ScheduledRetentionWorkflowType = "ScheduledImageRetention"

// RetentionScheduleID is the Temporal Schedule ID of a package's rule.
func RetentionScheduleID(pkg string) string { return "retention-schedule/" + pkg }

// ScheduledRetentionWorkflowID is the workflow ID the schedule's action names.
func ScheduledRetentionWorkflowID(pkg string) string { return "scheduled-retention/" + pkg }

// IsScheduledRetentionWorkflowID reports whether id is a run of the
// package's schedule: the action's ID, or it with the server's suffix.
func IsScheduledRetentionWorkflowID(id, pkg string) bool {
	base := ScheduledRetentionWorkflowID(pkg)
	return id == base || strings.HasPrefix(id, base+"-")
}

// RetentionScheduleSpec is a lifecycle rule with its schedule.
type RetentionScheduleSpec struct {
	Run      RetentionSpec `json:"run"`
	Schedule ScheduleSpec  `json:"schedule"`
}

// Validate checks the rule and the schedule.
func (s RetentionScheduleSpec) Validate() error {
	var errs []error
	if err := s.Run.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := s.Schedule.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
