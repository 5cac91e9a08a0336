package model

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// A release takes one image from a build template (or an existing image)
// to fleets: the image built (an ImageBuild child), the package version
// published to the regions (a DistributeImagePackage child), then stages in
// order, each a set of scaling groups changed by rolling updates (RollingUpdate
// children, ImageUpdate to the image its region received), with gates
// between the stages (approval, soak, verification) and one rollback for all
// of it. docs/release.md describes it.

// ReleaseWorkflowType is the workflow type of a release.
const ReleaseWorkflowType = "Release"

// OperationRelease is the SAOperation value of a release.
const OperationRelease = "release"

// ReleaseWorkflowID is the workflow ID of a release: one run per release
// name and version at a time.
func ReleaseWorkflowID(name, version string) string { return "release/" + name + "/" + version }

// ReleaseKey is the value of the ImagefleetRelease search attribute:
// "<name>/<version>".
func ReleaseKey(name, version string) string { return name + "/" + version }

// Operator commands of a release. Each is a signal and an update with a
// validator, e.g.
//
//	temporal workflow update execute --workflow-id release/web/v2 --name approve --input '{"by":"ana","comment":"canary clean"}'
const (
	// CommandApprove approves the stage that waits for its approval.
	// Payload ApproveCommand.
	CommandApprove = "approve"
	// CommandHold stops promotion: no new group starts and no next stage
	// until resume; running rolling updates go on. Payload HoldCommand.
	CommandHold = "hold"
	// CommandResume (rollout.go) lifts a hold. Payload ResumeCommand.
	// CommandSkipGroup leaves a pending or failed group as it is: the stage
	// goes on without it. Payload SkipGroupCommand.
	CommandSkipGroup = "skip-group"
	// CommandCancel (contract.go) stops the release: running children are
	// cancelled (a rolling update restores its group's instances in Standby
	// and its source), groups already updated stay updated. Payload
	// CancelCommand.
	// CommandRollback (rollout.go) rolls every group changed so far back
	// to its previous image, stage by stage in reverse order, in parallel
	// within a stage. Payload ReleaseRollbackCommand.
)

// SignalRolloutWaiting is what a rolling update run as a release's child
// sends its release when it starts or stops waiting for its operator
// (payload RolloutWaiting): the release shows the group waiting, and the
// commands on the rolling update that resolve it. It is not an operator
// command.
const SignalRolloutWaiting = "rollout-waiting"

// RolloutWaiting says what a group's rolling update waits for ("" : it no
// longer waits).
type RolloutWaiting struct {
	ScalingGroupID string `json:"scalingGroupId"`
	WaitingFor     string `json:"waitingFor,omitempty"`
}

// ApproveCommand approves a stage. Stage, if given, must be the stage that
// waits for approval; By (who approves) is required.
type ApproveCommand struct {
	Stage   string `json:"stage,omitempty"`
	By      string `json:"by"`
	Comment string `json:"comment,omitempty"`
}

// HoldCommand holds a release.
type HoldCommand struct {
	Reason string `json:"reason,omitempty"`
}

// SkipGroupCommand skips a group that is pending or failed.
type SkipGroupCommand struct {
	ScalingGroupID string `json:"scalingGroupId"`
	Reason         string `json:"reason,omitempty"`
}

// ReleaseRollbackCommand rolls a release back.
type ReleaseRollbackCommand struct {
	Reason string `json:"reason,omitempty"`
}

// MaxApprovalComment is the longest approval comment, in characters.
const MaxApprovalComment = 500

// Validate checks an approval's own fields.
func (c ApproveCommand) Validate() error {
	if c.By == "" {
		return errors.New("by (who approves) is required")
	}
	if err := CheckName("by", c.By); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(c.Comment); n > MaxApprovalComment {
		return fmt.Errorf("comment must be at most %d characters, got %d", MaxApprovalComment, n)
	}
	return CheckText("comment", c.Comment)
}

// ReleaseSpec is the input of a release.
type ReleaseSpec struct {
	// Name names the release (letters, digits, '-', '_', '.'; at most 64).
	Name   string        `json:"name"`
	Source ReleaseSource `json:"source"`
	// Package, Version, Description: the package version published to
	// Regions (DistributeSpec's rules). The source region's image is used
	// as it is; every other region receives a copy.
	Package     string   `json:"package"`
	Version     string   `json:"version"`
	Description string   `json:"description"`
	Regions     []string `json:"regions"`
	// Stages are run in order.
	Stages []ReleaseStage `json:"stages"`
}

// ReleaseSource is where the image comes from: exactly one of Template
// (built by an ImageBuild child) or Image (an existing image).
type ReleaseSource struct {
	Template *BuildInput   `json:"template,omitempty"`
	Image    *ReleaseImage `json:"image,omitempty"`
}

// ReleaseImage is an existing image in its region.
type ReleaseImage struct {
	Region  string `json:"region"`
	ImageID string `json:"imageId"`
}

// Region is the source image's region (the build's region for a template).
func (s ReleaseSource) Region() string {
	switch {
	case s.Template != nil:
		return s.Template.Region
	case s.Image != nil:
		return s.Image.Region
	}
	return ""
}

// ReleaseStage is one stage: its groups are updated (at most Parallelism at
// a time, 0: all), then its gate holds the next stage.
type ReleaseStage struct {
	Name        string         `json:"name"`
	Groups      []ReleaseGroup `json:"groups"`
	Parallelism int            `json:"parallelism,omitempty"`
	// Batches and ErrorThreshold are each group's rolling update's
	// (default 1 batch, threshold 0).
	Batches        int         `json:"batches,omitempty"`
	ErrorThreshold int         `json:"errorThreshold,omitempty"`
	Gate           ReleaseGate `json:"gate,omitzero"`
}

// ReleaseGroup is a scaling group in its region.
type ReleaseGroup struct {
	ScalingGroupID string `json:"scalingGroupId"`
	RegionID       string `json:"regionId"`
}

// ReleaseGate is what a stage must pass. Approval is asked before the stage
// starts (promotion into it); Soak and Verify hold after its groups are
// updated, before the next stage (or the end of the release).
type ReleaseGate struct {
	Approval bool `json:"approval,omitempty"`
	// Soak is how long the updated stage is watched, as a Go duration
	// ("10m"); the verification must hold throughout. Empty: no soak (a
	// verification is then checked once).
	Soak   string        `json:"soak,omitempty"`
	Verify *Verification `json:"verify,omitempty"`
}

// Verification is what must hold of a stage's groups, read from the cloud.
type Verification struct {
	// MaxUnhealthy is how many instances of the stage's groups may be
	// Unhealthy (default 0).
	MaxUnhealthy int `json:"maxUnhealthy,omitempty"`
	// MaxFailureEvents is how many CRITICAL events of the stage's groups
	// since the soak began are tolerated (default 0).
	MaxFailureEvents int `json:"maxFailureEvents,omitempty"`
	// Every is how often it is checked, as a Go duration (default 30s, at
	// least 1s).
	Every string `json:"every,omitempty"`
}

// Limits of a release.
const (
	MaxReleaseStages = 20
	MaxReleaseGroups = 100
	MaxReleaseSoak   = 7 * 24 * time.Hour
	// MaxReleaseChecks bounds the verification checks of all the stages'
	// soaks (1 + soak / every each, summed): each is a few events of the
	// release's history, which must stay far below Temporal's limits.
	MaxReleaseChecks = 2000
	// MaxGroupError is how much of a group's error its progress keeps (the
	// child run has it whole), so that the progress of MaxReleaseGroups
	// groups stays far below Temporal's payload limits.
	MaxGroupError      = 512
	DefaultVerifyEvery = 30 * time.Second
	maxReleaseBatches  = 100
)

// SoakDuration is the stage's soak (0: none).
func (g ReleaseGate) SoakDuration() time.Duration {
	d, _ := time.ParseDuration(g.Soak)
	return d
}

// Interval is how often the verification is checked.
func (v Verification) Interval() time.Duration {
	if v.Every == "" {
		return DefaultVerifyEvery
	}
	d, _ := time.ParseDuration(v.Every)
	return d
}

// GroupBatches is the rolling update's number of batches.
func (s ReleaseStage) GroupBatches() int { return max(s.Batches, 1) }

// Distribution is the spec of the release's distribution child, from the
// source image.
func (s ReleaseSpec) Distribution(sourceImage string) DistributeSpec {
	var regions []string
	for _, r := range s.Regions {
		if r != s.Source.Region() {
			regions = append(regions, r)
		}
	}
	return DistributeSpec{
		Package: s.Package, Version: s.Version, Description: s.Description,
		SourceRegion: s.Source.Region(), SourceImage: sourceImage, Regions: regions,
	}
}

// Validate checks the whole spec before anything starts.
func (s ReleaseSpec) Validate() error {
	var errs []error
	if s.Name == "" || !validGroupID(s.Name) {
		errs = append(errs, fmt.Errorf("name %s must be 1–%d letters, digits, '-', '_' or '.'", Quote(s.Name), maxGroupID))
	}
	src := "m-placeholder"
	switch {
	case (s.Source.Template == nil) == (s.Source.Image == nil):
		errs = append(errs, errors.New("source: give exactly one of template or image"))
	case s.Source.Template != nil:
		if err := s.Source.Template.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("source.template: %w", err))
		}
	default:
		if _, ok := LookupRegion(s.Source.Image.Region); !ok {
			errs = append(errs, fmt.Errorf("source.image: region %s is unknown", Quote(s.Source.Image.Region)))
		}
		if s.Source.Image.ImageID == "" {
			errs = append(errs, errors.New("source.image: imageId is required"))
		} else {
			src = s.Source.Image.ImageID
		}
	}
	d := s.Distribution(src)
	if err := CheckRegions(s.Regions); err != nil {
		errs = append(errs, err)
	} else if len(d.Regions) == 0 && s.Source.Region() != "" {
		errs = append(errs, errors.New("regions: the publication needs at least one region besides the source image's"))
	} else if err := d.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("publication: %w", err))
	}
	if len(s.Stages) == 0 || len(s.Stages) > MaxReleaseStages {
		errs = append(errs, fmt.Errorf("stages: give 1–%d stages, got %d", MaxReleaseStages, len(s.Stages)))
	}
	checks := 0
	stageNames := map[string]bool{}
	groups := map[string]string{}
	total := 0
	for i, st := range s.Stages {
		at := fmt.Sprintf("stages[%d]", i)
		if st.Name == "" || !validGroupID(st.Name) {
			errs = append(errs, fmt.Errorf("%s: name %s must be 1–%d letters, digits, '-', '_' or '.'", at, Quote(st.Name), maxGroupID))
		} else if stageNames[st.Name] {
			errs = append(errs, fmt.Errorf("%s: stage %s is named twice", at, Quote(st.Name)))
		}
		stageNames[st.Name] = true
		if len(st.Groups) == 0 {
			errs = append(errs, fmt.Errorf("%s (%s): at least one group is required", at, st.Name))
		}
		total += len(st.Groups)
		for _, g := range st.Groups {
			switch {
			case g.ScalingGroupID == "" || !validGroupID(g.ScalingGroupID):
				errs = append(errs, fmt.Errorf("%s (%s): scaling group ID %s is not valid", at, st.Name, Quote(g.ScalingGroupID)))
			case groups[g.ScalingGroupID] != "":
				errs = append(errs, fmt.Errorf("%s (%s): group %s is already in stage %s: a group is updated once per release", at, st.Name, g.ScalingGroupID, groups[g.ScalingGroupID]))
			}
			if g.ScalingGroupID != "" && groups[g.ScalingGroupID] == "" {
				groups[g.ScalingGroupID] = st.Name
			}
			if !slices.Contains(s.Regions, g.RegionID) {
				errs = append(errs, fmt.Errorf("%s (%s): group %s is in region %s, which is not one of the publication's regions", at, st.Name, Quote(g.ScalingGroupID), Quote(g.RegionID)))
			}
		}
		if st.Parallelism < 0 {
			errs = append(errs, fmt.Errorf("%s (%s): parallelism must be ≥ 0 (0: every group at once)", at, st.Name))
		}
		if st.Batches < 0 || st.Batches > maxReleaseBatches {
			errs = append(errs, fmt.Errorf("%s (%s): batches must be 0–%d", at, st.Name, maxReleaseBatches))
		}
		if st.ErrorThreshold < 0 {
			errs = append(errs, fmt.Errorf("%s (%s): errorThreshold must be ≥ 0", at, st.Name))
		}
		if st.Gate.Soak != "" {
			if d, err := time.ParseDuration(st.Gate.Soak); err != nil || d < 0 || d > MaxReleaseSoak {
				errs = append(errs, fmt.Errorf("%s (%s): soak %s must be a Go duration from 0s to %s", at, st.Name, Quote(st.Gate.Soak), MaxReleaseSoak))
			}
		}
		if v := st.Gate.Verify; v != nil {
			if v.MaxUnhealthy < 0 || v.MaxFailureEvents < 0 {
				errs = append(errs, fmt.Errorf("%s (%s): verify: maxUnhealthy and maxFailureEvents must be ≥ 0", at, st.Name))
			}
			if d, err := time.ParseDuration(v.Every); v.Every != "" && (err != nil || d < time.Second) {
				errs = append(errs, fmt.Errorf("%s (%s): verify.every %s must be a Go duration of at least 1s", at, st.Name, Quote(v.Every)))
			} else if every := v.Interval(); every > 0 {
				checks += 1 + int(st.Gate.SoakDuration()/every)
			}
		}
	}
	if checks > MaxReleaseChecks {
		errs = append(errs, fmt.Errorf("stages: the soaks would check the verification %d times, at most %d: soak less or verify less often", checks, MaxReleaseChecks))
	}
	if total > MaxReleaseGroups {
		errs = append(errs, fmt.Errorf("stages: at most %d groups in all, got %d", MaxReleaseGroups, total))
	}
	return invalidSpec(errs)
}

// Release phases (ReleaseProgress.Phase).
const (
	ReleaseValidating   = "Validating"
	ReleaseBuilding     = "Building"
	ReleaseDistributing = "Distributing"
	ReleasePromoting    = "Promoting" // the stages run
	ReleaseRollingBack  = "RollingBack"
	ReleaseSucceeded    = "Succeeded"
	ReleaseRolledBack   = "RolledBack"
	ReleaseFailed       = "Failed"
	ReleaseAborted      = "Aborted"
)

// Stage states.
const (
	StagePending       = "Pending"
	StageAwaitApproval = "AwaitingApproval"
	StageUpdating      = "Updating"
	StageSoaking       = "Soaking"
	StageVerified      = "Verified"
	StageFailed        = "Failed" // a group failed or the verification failed: promotion stops
	StageRolledBack    = "RolledBack"
)

// Group states.
const (
	GroupPending        = "Pending"
	GroupUpdating       = "Updating"
	GroupUpdated        = "Updated"
	GroupFailed         = "Failed"
	GroupSkipped        = "Skipped"
	GroupRollingBack    = "RollingBack"
	GroupRolledBack     = "RolledBack"
	GroupRollbackFailed = "RollbackFailed"
)

// ChildRun names a child run of a release.
type ChildRun struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId,omitempty"`
	State      string `json:"state,omitempty"`
	Error      string `json:"error,omitempty"`
}

// GroupProgress is one group of a stage.
type GroupProgress struct {
	ScalingGroupID string `json:"scalingGroupId"`
	RegionID       string `json:"regionId"`
	State          string `json:"state"`
	// ImageID is the image the group is updated to; PreviousImageID the
	// image its instance configuration source had before (read before the
	// update), which a rollback restores.
	ImageID         string `json:"imageId,omitempty"`
	PreviousImageID string `json:"previousImageId,omitempty"`
	// Rollout is the group's rolling update (a child run); Rollback the one
	// that rolled it back.
	Rollout  *ChildRun `json:"rollout,omitempty"`
	Rollback *ChildRun `json:"rollback,omitempty"`
	// Batches is the rolling update's batches; Changed how many instances
	// it changed (from its result).
	Batches int    `json:"batches,omitempty"`
	Changed int    `json:"changed,omitempty"`
	Error   string `json:"error,omitempty"`
	// WaitingFor and Resolve: what the group waits for and the command
	// that resolves it.
	WaitingFor string `json:"waitingFor,omitempty"`
	Resolve    string `json:"resolve,omitempty"`
}

// Approval is a recorded approval of a stage.
type Approval struct {
	Stage   string    `json:"stage"`
	By      string    `json:"by"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// SoakProgress is a stage's soak and verification.
type SoakProgress struct {
	Until  time.Time `json:"until,omitzero"`
	Checks int       `json:"checks"`
	// Unhealthy and FailureEvents are the last check's findings.
	Unhealthy     int    `json:"unhealthy"`
	FailureEvents int    `json:"failureEvents"`
	Failure       string `json:"failure,omitempty"`
}

// StageProgress is one stage of a release.
type StageProgress struct {
	Name     string          `json:"name"`
	State    string          `json:"state"`
	Groups   []GroupProgress `json:"groups"`
	Approval *Approval       `json:"approval,omitempty"`
	Soak     *SoakProgress   `json:"soak,omitempty"`
}

// ReleaseProgress is the answer to QueryProgress and the result of a
// release.
type ReleaseProgress struct {
	Name         string    `json:"name"`
	Version      string    `json:"version"`
	Phase        string    `json:"phase"`
	Build        *ChildRun `json:"build,omitempty"`
	Distribution *ChildRun `json:"distribution,omitempty"`
	// SourceImage is the image released (built or given); Images maps each
	// region to the image it received.
	SourceImage string            `json:"sourceImage,omitempty"`
	Images      map[string]string `json:"images,omitempty"`
	Stages      []StageProgress   `json:"stages"`
	// Held says an operator holds the release (HoldReason why).
	Held       bool   `json:"held,omitempty"`
	HoldReason string `json:"holdReason,omitempty"`
	// WaitingFor says what the release waits for, Resolve the command(s)
	// that resolve it.
	WaitingFor   string     `json:"waitingFor,omitempty"`
	Resolve      string     `json:"resolve,omitempty"`
	Approvals    []Approval `json:"approvals,omitempty"`
	CancelReason string     `json:"cancelReason,omitempty"`
	// RollbackReason is set once a rollback was ordered.
	RollbackReason string `json:"rollbackReason,omitempty"`
	LastRefusal    string `json:"lastRefusal,omitempty"`
	Error          string `json:"error,omitempty"`
}

// Group returns the progress of a group, or nil.
func (p *ReleaseProgress) Group(id string) *GroupProgress {
	for i := range p.Stages {
		for j := range p.Stages[i].Groups {
			if p.Stages[i].Groups[j].ScalingGroupID == id {
				return &p.Stages[i].Groups[j]
			}
		}
	}
	return nil
}

// NewReleaseProgress is a release's progress before anything ran.
func NewReleaseProgress(s ReleaseSpec) ReleaseProgress {
	p := ReleaseProgress{Name: s.Name, Version: s.Version, Phase: ReleaseValidating}
	for _, st := range s.Stages {
		sp := StageProgress{Name: st.Name, State: StagePending}
		for _, g := range st.Groups {
			sp.Groups = append(sp.Groups, GroupProgress{ScalingGroupID: g.ScalingGroupID, RegionID: g.RegionID, State: GroupPending})
		}
		p.Stages = append(p.Stages, sp)
	}
	return p
}
