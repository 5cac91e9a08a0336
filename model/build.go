package model

import (
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"
)

// Image build: build a custom image from an image template (Alibaba Cloud
// ECS Image Builder's image templates and build tasks). Templates live in
// the cloud (CreateImagePipeline); a build is one ImageBuild workflow per
// template at a time.

// BuildWorkflowType is the workflow type of an image build.
const BuildWorkflowType = "ImageBuild"

// OperationBuild is the value of SAOperation for image builds.
const OperationBuild = "build"

// Operator commands of a build; each is a signal and a validated update.
const (
	// CommandCancelBuild is CommandCancel (contract.go) on a build: it
	// cancels the build and releases what it created. It may be sent more
	// than once. Payload CancelBuildCommand.
	CommandCancelBuild = CommandCancel
	// CommandRetryStep runs the failed step again, keeping what the steps
	// before it made. Payload RetryStepCommand.
	CommandRetryStep = "retry-step"
)

// QueryBuildProgress returns BuildProgress.
const QueryBuildProgress = "progress"

// Error types a build fails with (the type of the application error the
// run ends with; its details are the BuildResult). A refused start ends with
// InvalidSpec or WrongWorkflowID (contract.go) and changes nothing.
const (
	// ErrTypeBuildFailed: a step failed; the message names it and what was
	// kept or could not be released.
	ErrTypeBuildFailed = "BuildFailed"
	// ErrTypeBuildCancelled: the operator sent cancel (benign).
	ErrTypeBuildCancelled = "BuildCancelled"
	// ErrTypeComponentFailed: a build or test component failed (the cause
	// of BuildFailed at RunComponents or Test).
	ErrTypeComponentFailed = "ComponentFailed"
	// ErrTypeGuestOSCheck: the new image fails the guest-OS check.
	ErrTypeGuestOSCheck = "GuestOSCheckFailed"
	// ErrTypeNoInstanceType: no instance type was in stock.
	ErrTypeNoInstanceType = "NoInstanceTypeInStock"
	// ErrTypeBuildCleanupFailed: the build succeeded but its intermediate
	// resources could not all be released.
	ErrTypeBuildCleanupFailed = "BuildCleanupFailed"
)

// CancelBuildCommand cancels a build. ExecutionID, when given, must be the
// build's: a cancel meant for another build of the template is refused.
type CancelBuildCommand struct {
	ExecutionID string `json:"executionId,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// RetryStepCommand retries the failed step. Step, when given, must name it.
// Components, allowed only when RunComponents or Test failed, are the fixed
// components for this build: they replace the failed build component and
// those after it, or the test components.
type RetryStepCommand struct {
	Step       string              `json:"step,omitempty"`
	Components []TemplateComponent `json:"components,omitempty"`
}

// Validate checks the replacement components.
func (c RetryStepCommand) Validate() error {
	for i, comp := range c.Components {
		if (comp.Component == "") == (comp.Content == "") {
			return fmt.Errorf("component %d: exactly one of component (a system component) and content (a command) is required", i+1)
		}
	}
	return nil
}

// BuildInput is the input of an image build.
type BuildInput struct {
	// Region and TemplateID name the template (ImagePipelineId, ip-...).
	Region     string `json:"region"`
	TemplateID string `json:"templateId"`
	// RetryWindow is how long a failed step waits for retry-step or cancel
	// when the template keeps intermediate resources on failure
	// (DeleteInstanceOnFailure off), as a Go duration: default 24h; "0s"
	// ends the build at once, keeping the resources.
	RetryWindow string `json:"retryWindow,omitempty"`
}

// DefaultRetryWindow is BuildInput.RetryWindow's default.
const DefaultRetryWindow = 24 * time.Hour

var templateIDRE = regexp.MustCompile(`^ip-[a-z0-9]+$`)

// Validate checks the input without calling the cloud.
func (in BuildInput) Validate() error {
	var errs []error
	if _, ok := LookupRegion(in.Region); !ok {
		errs = append(errs, fmt.Errorf("region %s is unknown", Quote(in.Region)))
	}
	if !templateIDRE.MatchString(in.TemplateID) {
		errs = append(errs, fmt.Errorf("template ID %s is not an image template ID (ip-...)", Quote(in.TemplateID)))
	}
	if _, err := in.Window(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return &InvalidSpecError{Errs: errs}
	}
	return nil
}

// Window is RetryWindow with its default applied.
func (in BuildInput) Window() (time.Duration, error) {
	if in.RetryWindow == "" {
		return DefaultRetryWindow, nil
	}
	d, err := time.ParseDuration(in.RetryWindow)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("retryWindow %s must be a non-negative Go duration such as 30m or 0s", Quote(in.RetryWindow))
	}
	return d, nil
}

// BuildWorkflowID is the workflow ID of a template's build: one per
// template, so that a second build of the same template is refused while one
// runs.
func BuildWorkflowID(region, templateID string) string {
	return "build/" + region + "/" + templateID
}

// Steps of a build, in order.
const (
	StepStart       = "Start"
	StepResolve     = "ResolveSource"
	StepNetwork     = "PrepareNetwork"
	StepInstance    = "LaunchInstance"
	StepCheck       = "CheckAndRepair"
	StepComponents  = "RunComponents"
	StepCreateImage = "CreateImage"
	StepTest        = "Test"
	StepDistribute  = "Distribute"
	StepShare       = "Share"
	StepRelease     = "Release"
	StepDone        = "Done"
)

// Resource states.
const (
	ResourceCreated  = "Created"
	ResourceReleased = "Released"
	ResourceKept     = "Kept"
)

// Resource kinds a build creates.
const (
	ResourceVpc          = "Vpc"
	ResourceVSwitch      = "VSwitch"
	ResourceInstance     = "Instance"     // the intermediate (build) instance
	ResourceTestInstance = "TestInstance" // the instance the test runs on
	ResourceImage        = "Image"        // the built image
	ResourceImageCopy    = "DistributedImage"
	// ResourcePackageVersion is the package version the distribution child
	// published (ID "<package>/<version>"); releasing it removes its copies.
	ResourcePackageVersion = "PackageVersion"
)

// BuildTemplate is an image template as a build runs it: what the cloud
// holds for the template (Image Builder's image pipeline), in the words of
// TemplateSpec. The build may replace its components for itself
// (retry-step); the template in the cloud is immutable.
type BuildTemplate struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Region string `json:"region"`
	// SourceType is SourceImageID or SourceImageFamily; Source the image ID
	// or the family's name.
	SourceType   string              `json:"sourceType"`
	Source       string              `json:"source"`
	Components   []TemplateComponent `json:"components,omitempty"`
	Repair       bool                `json:"repair"`
	Test         bool                `json:"test"`
	Tests        []TemplateComponent `json:"tests,omitempty"`
	VSwitchID    string              `json:"vSwitchId,omitempty"`
	InstanceType string              `json:"instanceType,omitempty"`
	// SystemDiskSize is in GiB; PublicBandwidth in Mbit/s (0: no internet).
	SystemDiskSize   int  `json:"systemDiskSize"`
	PublicBandwidth  int  `json:"publicBandwidth"`
	ReleaseOnFailure bool `json:"releaseOnFailure"`
	// ImageNamePrefix gives <prefix>_<executionId> (empty: the ID).
	ImageNamePrefix string   `json:"imageNamePrefix,omitempty"`
	Regions         []string `json:"regions,omitempty"`
	Accounts        []string `json:"accounts,omitempty"`
}

// Kinds of a template's source (BuildTemplate.SourceType).
const (
	SourceImageID     = "IMAGE"
	SourceImageFamily = "IMAGE_FAMILY"
)

// Phases of a component (ComponentOutput.Phase).
const (
	ComponentPhaseBuild = "Build"
	ComponentPhaseTest  = "Test"
)

// ComponentSucceeded is the Status of a component that succeeded; any other
// status (Failed, Timeout, ...) fails its step.
const ComponentSucceeded = "Success"

// Results of a guest-OS check item (GuestOSCheck.Result).
const (
	CheckNormal   = "Normal"
	CheckAbnormal = "Abnormal"
	CheckRepaired = "Repaired"
)

// States of a build's record in the cloud (the execution's status, which
// `starter build list` shows), as the build reports them.
const (
	ExecutionPreparing    = "PREPARING"
	ExecutionRepairing    = "REPAIRING"
	ExecutionBuilding     = "BUILDING"
	ExecutionTesting      = "TESTING"
	ExecutionDistributing = "DISTRIBUTING"
	ExecutionReleasing    = "RELEASING"
	ExecutionSucceeded    = "SUCCESS"
	ExecutionFailed       = "FAILED"
	ExecutionCancelled    = "CANCELLED"
)

// BuildResource is one cloud resource the build created.
type BuildResource struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Region string `json:"region"`
	State  string `json:"state"`
	Error  string `json:"error,omitempty"` // why releasing it failed
}

// InstanceTypeAttempt is one try to launch the intermediate instance.
type InstanceTypeAttempt struct {
	InstanceType string `json:"instanceType"`
	Result       string `json:"result"` // Launched | SoldOut | Failed
	Error        string `json:"error,omitempty"`
}

// GuestOSCheck is one guest-OS check item's outcome.
type GuestOSCheck struct {
	Item   string `json:"item"`
	Result string `json:"result"` // Normal | Abnormal | Repaired
	Detail string `json:"detail,omitempty"`
}

// ComponentOutput is one build or test component's run.
type ComponentOutput struct {
	Phase    string `json:"phase"` // Build | Test
	Name     string `json:"name"`
	Status   string `json:"status"` // Success | Failed
	ExitCode int    `json:"exitCode"`
	Output   string `json:"output,omitempty"`
	Error    string `json:"error,omitempty"`
}

// BuildProgress is the answer to QueryBuildProgress.
type BuildProgress struct {
	Region       string `json:"region"`
	TemplateID   string `json:"templateId"`
	TemplateName string `json:"templateName,omitempty"`
	ExecutionID  string `json:"executionId,omitempty"`
	// Step is the step being run (or Done).
	Step        string                `json:"step"`
	SourceImage string                `json:"sourceImage,omitempty"`
	OSType      string                `json:"osType,omitempty"`
	Attempts    []InstanceTypeAttempt `json:"instanceTypeAttempts,omitempty"`
	Checks      []GuestOSCheck        `json:"checks,omitempty"`
	Components  []ComponentOutput     `json:"components,omitempty"`
	Resources   []BuildResource       `json:"resources,omitempty"`
	ImageID     string                `json:"imageId,omitempty"`
	// Images maps each distribution region to its image.
	Images     map[string]string `json:"images,omitempty"`
	SharedWith []string          `json:"sharedWith,omitempty"`
	// FailedStep and Error describe the last failure.
	FailedStep string `json:"failedStep,omitempty"`
	Error      string `json:"error,omitempty"`
	// WaitingFor is what the build waits for: retry-step or cancel after
	// a failed step, or (WaitingOn set) what its distribution child waits
	// for, to be sent to that child.
	WaitingFor string `json:"waitingFor,omitempty"`
	// WaitingOn is the workflow ID of the child (the distribution) whose
	// operator wait the build shows: the command that resolves it goes
	// there (see ChildWait).
	WaitingOn    string `json:"waitingOn,omitempty"`
	Cancelled    bool   `json:"cancelled,omitempty"`
	CancelReason string `json:"cancelReason,omitempty"`
	LastRefusal  string `json:"lastRefusal,omitempty"`
	// Replaced records the operator's replacements of components, e.g.
	// "Test: 1 component(s)".
	Replaced []string `json:"replaced,omitempty"`
}

// BuildResult is the result of a build, and the details of its failure.
type BuildResult struct {
	ExecutionID string            `json:"executionId"`
	ImageID     string            `json:"imageId,omitempty"`
	Images      map[string]string `json:"images,omitempty"`
	SharedWith  []string          `json:"sharedWith,omitempty"`
	Resources   []BuildResource   `json:"resources"`
	// Kept lists the intermediate resources left in place (a failed build of
	// a template that keeps them on failure).
	Kept []BuildResource `json:"kept,omitempty"`
}

// TemplateSpec is what `starter template create` reads: an image template.
// Booleans that default to true are pointers.
type TemplateSpec struct {
	Region      string            `json:"region"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	// SourceImage or SourceFamily (exactly one).
	SourceImage  string              `json:"sourceImage,omitempty"`
	SourceFamily string              `json:"sourceFamily,omitempty"`
	Components   []TemplateComponent `json:"components,omitempty"`
	Repair       *bool               `json:"repair,omitempty"`
	Test         *bool               `json:"test,omitempty"`
	Tests        []TemplateComponent `json:"tests,omitempty"`
	VSwitchID    string              `json:"vSwitchId,omitempty"`
	InstanceType string              `json:"instanceType,omitempty"`
	// SystemDiskSize is 20–500 GiB (default 40).
	SystemDiskSize int `json:"systemDiskSize,omitempty"`
	// PublicBandwidth is in Mbit/s (default 0: no internet).
	PublicBandwidth  int   `json:"publicBandwidth,omitempty"`
	ReleaseOnFailure *bool `json:"releaseOnFailure,omitempty"`
	// ImageNamePrefix gives <prefix>_<executionId> (default the ID).
	ImageNamePrefix string   `json:"imageNamePrefix,omitempty"`
	Regions         []string `json:"regions,omitempty"`  // up to 20 (default the template's region)
	Accounts        []string `json:"accounts,omitempty"` // up to 20
	// RunImmediately starts a build at creation (default true).
	RunImmediately *bool `json:"runImmediately,omitempty"`
}

// TemplateComponent is a system component by name or an inline command.
type TemplateComponent struct {
	Component        string `json:"component,omitempty"` // e.g. acs:update-os
	Name             string `json:"name,omitempty"`
	Type             string `json:"type,omitempty"` // RunShellScript (default), RunBatScript, RunPowerShellScript
	Content          string `json:"content,omitempty"`
	RequiresInternet bool   `json:"requiresInternet,omitempty"`
}

// Template limits, from the Image Builder documentation.
const (
	MaxTemplateRegions  = 20
	MaxTemplateAccounts = 20
	MinSystemDiskGiB    = 20
	MaxSystemDiskGiB    = 500
)

// Validate checks a template without calling the cloud.
func (s TemplateSpec) Validate() error {
	var errs []error
	if _, ok := LookupRegion(s.Region); !ok {
		errs = append(errs, fmt.Errorf("region %s is unknown", Quote(s.Region)))
	}
	if n := utf8.RuneCountInString(s.Name); n < 2 || n > 128 {
		errs = append(errs, fmt.Errorf("name must be 2–128 characters, got %d", n))
	}
	errs = append(errs, checkNames("name", s.Name, "description", s.Description, "sourceImage", s.SourceImage,
		"sourceFamily", s.SourceFamily, "vSwitchId", s.VSwitchID, "instanceType", s.InstanceType, "imageNamePrefix", s.ImageNamePrefix)...)
	errs = append(errs, checkTagText(s.Tags)...)
	errs = append(errs, checkList("accounts", s.Accounts)...)
	for i, c := range append(append([]TemplateComponent{}, s.Components...), s.Tests...) {
		errs = append(errs, checkNames(fmt.Sprintf("component %d's component", i+1), c.Component, fmt.Sprintf("component %d's name", i+1), c.Name)...)
	}
	if (s.SourceImage == "") == (s.SourceFamily == "") {
		errs = append(errs, errors.New("exactly one of sourceImage and sourceFamily is required"))
	}
	for i, c := range append(append([]TemplateComponent{}, s.Components...), s.Tests...) {
		if (c.Component == "") == (c.Content == "") {
			errs = append(errs, fmt.Errorf("component %d: exactly one of component (a system component) and content (a command) is required", i+1))
		}
	}
	if s.SystemDiskSize != 0 && (s.SystemDiskSize < MinSystemDiskGiB || s.SystemDiskSize > MaxSystemDiskGiB) {
		errs = append(errs, fmt.Errorf("systemDiskSize must be %d–%d GiB, got %d", MinSystemDiskGiB, MaxSystemDiskGiB, s.SystemDiskSize))
	}
	if s.PublicBandwidth < 0 || s.PublicBandwidth > 100 {
		errs = append(errs, fmt.Errorf("publicBandwidth must be 0–100 Mbit/s, got %d", s.PublicBandwidth))
	}
	if len(s.Regions) > MaxTemplateRegions {
		errs = append(errs, fmt.Errorf("at most %d distribution regions, got %d", MaxTemplateRegions, len(s.Regions)))
	} else if err := CheckRegions(s.Regions); err != nil {
		errs = append(errs, err)
	}
	if len(s.Accounts) > MaxTemplateAccounts {
		errs = append(errs, fmt.Errorf("at most %d accounts to share with, got %d", MaxTemplateAccounts, len(s.Accounts)))
	}
	if len(errs) > 0 {
		return &InvalidSpecError{Errs: errs}
	}
	return nil
}
