package model

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Distribution: publish a version of an ECS image deployment package by
// replicating its source image into regions (Compute Nest's model).

// DistributeWorkflowType is the workflow type of a package version distribution.
const DistributeWorkflowType = "DistributeImagePackage"

// Operator commands of a distribution. Each name is both a signal (fire and
// forget: `temporal workflow signal --name retry-region --input '{"region":"eu-west-1"}'`)
// and an update with a validator (the starter uses it to get an immediate
// accept or the reason for refusal).
const (
	// CommandRetryRegion copies into a failed region again. Payload RegionCommand.
	CommandRetryRegion = "retry-region"
	// CommandDropRegion publishes without a failed region. Payload RegionCommand.
	CommandDropRegion = "drop-region"
	// CommandCancel (contract.go) stops the distribution and deletes the
	// copies it made, until publishing starts (then it is refused: the
	// release runs to its end). Payload CancelCommand. CommandAbort is its
	// deprecated alias, accepted as a signal and as an update.
)

// QueryProgress returns DistributionProgress (PublishProgress for a
// publication). It answers from the run's first workflow task, a refused run
// included.
const QueryProgress = "progress"

// Error types (temporal.ApplicationError's Type) a distribution or a
// publication ends with, besides those every operation may end with before
// it changes anything (InvalidSpec, WrongWorkflowID).
const (
	// ErrTypeAborted: the operator sent CommandCancel (or Temporal cancelled
	// the run); everything the run made was deleted. The error is benign.
	ErrTypeAborted = "Aborted"
	// ErrTypeNoRegion: every region was dropped, so nothing was published;
	// everything the run made was deleted.
	ErrTypeNoRegion = "NoRegionDelivered"
)

// RegionCommand names the failed region an operator decision applies to.
type RegionCommand struct {
	Region string `json:"region"`
}

// DistributeSpec is the input of a distribution.
type DistributeSpec struct {
	// Package is the deployment package name: 3–128 letters, digits or
	// underscores. It cannot change once the package exists.
	Package string `json:"package"`
	// Version is the version name: 3–50 letters, digits or underscores.
	Version string `json:"version"`
	// Description is 10–500 characters.
	Description string            `json:"description"`
	Tags        map[string]string `json:"tags,omitempty"`
	// SourceRegion and SourceImage name the image to replicate: a custom image
	// of the account, or a marketplace image.
	SourceRegion string `json:"sourceRegion"`
	SourceImage  string `json:"sourceImage"`
	// Regions are the distribution regions: at least one, each known.
	Regions []string `json:"regions"`
	// CopyAttempts is how many of a region's copies may fail in the cloud
	// (end CreateFailed) in a row, each replaced by a new copy, before the
	// operator is asked (default 5). Transient errors (5xx, throttling) are
	// retried until StepDeadline and are not attempts.
	CopyAttempts int `json:"copyAttempts,omitempty"`
	// ImageName names the copies (default <package>_<version>), e.g. an
	// image build's <prefix>_<executionId>.
	ImageName string `json:"imageName,omitempty"`
	// ShareAccounts are accounts the copies are shared with before the
	// release, besides what the package's services grant (an image build's
	// shared accounts): once published, the copies are the service's and
	// cannot be re-shared.
	ShareAccounts []string `json:"shareAccounts,omitempty"`
}

// CopyName is the name of the copies.
func (s DistributeSpec) CopyName() string {
	if s.ImageName != "" {
		return s.ImageName
	}
	return s.Package + "_" + s.Version
}

// Limits from the Compute Nest documentation. The simulated cloud enforces
// the same ones.
const (
	MaxPackageTags         = 20
	DefaultCopyAttempts    = 5
	MinDescriptionLen      = 10
	MaxDescriptionLen      = 500
	maxCopyAttemptsAllowed = 50
)

var (
	packageNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{3,128}$`)
	versionNameRE = regexp.MustCompile(`^[A-Za-z0-9_]{3,50}$`)
)

// ValidPackageName reports whether name is 3–128 letters, digits or underscores.
func ValidPackageName(name string) bool { return packageNameRE.MatchString(name) }

// ValidVersionName reports whether name is 3–50 letters, digits or underscores.
func ValidVersionName(name string) bool { return versionNameRE.MatchString(name) }

// Validate checks the spec without calling the cloud. It reports every
// problem at once so that a user fixes a spec in one go.
func (s DistributeSpec) Validate() error { return s.ValidateVersion(true) }

// ValidateVersion checks what a package version of any type needs (names,
// description, tags, regions) and, with imageCopies, the ECS image rules the
// copies of an image package's distribution must meet.
func (s DistributeSpec) ValidateVersion(imageCopies bool) error {
	errs := checkVersionNames(s.Package, s.Version)
	errs = append(errs, checkNames("sourceImage", s.SourceImage)...)
	if !imageCopies { // else the image rules below check them
		errs = append(errs, checkNames("description", s.Description, "imageName", s.ImageName)...)
	}
	errs = append(errs, checkTagText(s.Tags)...)
	errs = append(errs, checkList("shareAccounts", s.ShareAccounts)...)
	if n := utf8.RuneCountInString(s.Description); n < MinDescriptionLen || n > MaxDescriptionLen {
		errs = append(errs, fmt.Errorf("description must be %d–%d characters, got %d", MinDescriptionLen, MaxDescriptionLen, n))
	}
	for _, p := range CheckTags(s.Tags, MaxPackageTags) {
		errs = append(errs, errors.New(p))
	}
	if s.SourceImage == "" {
		errs = append(errs, errors.New("source image is required"))
	}
	if _, ok := LookupRegion(s.SourceRegion); !ok {
		errs = append(errs, fmt.Errorf("source region %s is unknown", Quote(s.SourceRegion)))
	}
	if len(s.Regions) == 0 {
		errs = append(errs, errors.New("at least one distribution region is required"))
	} else if err := CheckRegions(s.Regions); err != nil {
		errs = append(errs, err)
	}
	// Each copy gets the copy name and the description: the image rules
	// apply to them before anything is created, not after every copy failed.
	copyName := s.ImageName
	if copyName == "" && packageNameRE.MatchString(s.Package) && versionNameRE.MatchString(s.Version) {
		copyName = s.CopyName() // else the name problems are reported above
	}
	if imageCopies {
		for _, p := range CheckImageAttributes("", copyName, s.Description, nil) {
			errs = append(errs, fmt.Errorf("the regions' image copies: %s (imageName defaults to <package>_<version>)", p))
		}
	}
	if len(s.ShareAccounts) > MaxImageShareAccounts {
		errs = append(errs, fmt.Errorf("shareAccounts: an image can be shared with at most %d accounts, got %d", MaxImageShareAccounts, len(s.ShareAccounts)))
	}
	errs = append(errs, checkCopyAttempts(s.CopyAttempts)...)
	return invalidSpec(errs)
}

// Attempts is CopyAttempts with its default applied.
func (s DistributeSpec) Attempts() int { return copyAttempts(s.CopyAttempts) }

// checkVersionNames reports a package or a version name that breaks
// Compute Nest's rules.
func checkVersionNames(pkg, version string) []error {
	var errs []error
	if !packageNameRE.MatchString(pkg) {
		errs = append(errs, fmt.Errorf("package name %s must be 3–128 characters of letters, digits and underscore", Quote(pkg)))
	}
	if !versionNameRE.MatchString(version) {
		errs = append(errs, fmt.Errorf("version name %s must be 3–50 characters of letters, digits and underscore", Quote(version)))
	}
	return errs
}

// checkCopyAttempts reports a copyAttempts out of range (0 is the default).
func checkCopyAttempts(n int) []error {
	if n < 0 || n > maxCopyAttemptsAllowed {
		return []error{fmt.Errorf("copyAttempts must be 0 (default %d) to %d", DefaultCopyAttempts, maxCopyAttemptsAllowed)}
	}
	return nil
}

// copyAttempts is a spec's copyAttempts with its default applied.
func copyAttempts(n int) int {
	if n == 0 {
		return DefaultCopyAttempts
	}
	return n
}

// InvalidSpecError lists every problem of a spec.
type InvalidSpecError struct{ Errs []error }

func (e *InvalidSpecError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return "invalid spec: " + strings.Join(msgs, "; ")
}

func (e *InvalidSpecError) Unwrap() []error { return e.Errs }

// invalidSpec is an InvalidSpecError of errs, or nil if there are none.
func invalidSpec(errs []error) error {
	if len(errs) > 0 {
		return &InvalidSpecError{Errs: errs}
	}
	return nil
}

// DistributeWorkflowID is the workflow ID of a package version's
// distribution: one per version, so a second start while one runs is refused
// by Temporal itself.
func DistributeWorkflowID(pkg, version string) string {
	return "distribute/" + pkg + "/" + version
}

// Region states of a distribution.
const (
	RegionPending   = "Pending"
	RegionCopying   = "Copying"
	RegionAvailable = "Available"
	RegionFailed    = "Failed" // waits for retry-region, drop-region or cancel
	RegionDropped   = "Dropped"
	RegionDeleted   = "Deleted" // its copy was deleted by cancel or failure
)

// RegionStatus is what every regional operation keeps of each region.
type RegionStatus struct {
	Region     string    `json:"region"`
	State      string    `json:"state"`
	Attempts   int       `json:"attempts"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
}

// RegionProgress is one region's part of a distribution.
type RegionProgress struct {
	RegionStatus
	ImageID string `json:"imageId,omitempty"`
	// Copies lists every image ID copied into the region, failed ones included,
	// so that abort can delete them all.
	Copies []string `json:"copies,omitempty"`
}

// Distribution phases.
const (
	PhaseValidating   = "Validating"
	PhaseReplicating  = "Replicating"
	PhaseSharing      = "Sharing"
	PhasePublishing   = "Publishing"
	PhasePublished    = "Published"
	PhaseCompensating = "Compensating"
	PhaseAborted      = "Aborted"
	PhaseFailed       = "Failed"
)

// DistributionProgress is the answer to QueryProgress.
type DistributionProgress struct {
	Package    string           `json:"package"`
	Version    string           `json:"version"`
	ArtifactID string           `json:"artifactId,omitempty"`
	Phase      string           `json:"phase"`
	Regions    []RegionProgress `json:"regions"`
	// WaitingFor says what the run waits for, e.g. an operator decision.
	WaitingFor string      `json:"waitingFor,omitempty"`
	Permission *Permission `json:"permission,omitempty"`
	// LastRefusal is the most recent operator command that was refused, with
	// its reason (signals cannot answer, so they leave it here).
	LastRefusal string `json:"lastRefusal,omitempty"`
	// Error is why the run failed or was refused.
	Error string `json:"error,omitempty"`
}

// Region returns the progress entry of region, or nil. The entry is shared
// with p (the slice is), so a workflow can update it in place.
func (p DistributionProgress) Region(region string) *RegionProgress {
	for i := range p.Regions {
		if p.Regions[i].Region == region {
			return &p.Regions[i]
		}
	}
	return nil
}

// DistributionResult is the result of a successful distribution.
type DistributionResult struct {
	Package    string `json:"package"`
	Version    string `json:"version"`
	ArtifactID string `json:"artifactId"`
	// ImageIDs maps each delivered region to its image ID.
	ImageIDs   map[string]string `json:"imageIds"`
	Dropped    []string          `json:"dropped,omitempty"`
	Permission Permission        `json:"permission"`
	// AlreadyPublished says that this run found the version published by an
	// earlier run and answered with it, changing nothing.
	AlreadyPublished bool `json:"alreadyPublished,omitempty"`
}
