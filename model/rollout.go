package model

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Rolling update of an Auto Scaling group (Alibaba Cloud ESS rolling update
// tasks): apply an image, a script or an OOS package to the group's InService
// instances batch by batch, with pause policies, an error threshold, operator
// decisions per failed instance, cancel and rollback.

// RolloutWorkflowType is the workflow type of a rolling update task (also of
// a rollback task, which is a rolling update with RollbackOf set).
const RolloutWorkflowType = "RollingUpdate"

// RolloutBatchWorkflowType is the child workflow that applied the change to
// the instances of one batch in runs started before workflow version
// rollout-chunked; newer runs drive chunks of RolloutChunkSize instances
// from the task's own workflow. Kept so that those runs finish.
const RolloutBatchWorkflowType = "RollingUpdateBatch"

// RolloutWorkflowID is the workflow ID of a group's rolling update: one per
// group, so a second task while one runs is refused by Temporal itself.
func RolloutWorkflowID(groupID string) string { return "rollout/" + groupID }

// Operator commands of a rolling update. Each name is both a signal (e.g.
// `temporal workflow signal --workflow-id rollout/asg-web-hz --name retry
// --input '{"instanceId":"i-webhz0003"}'`) and an update with a validator.
const (
	// CommandResume continues a paused task. Payload ResumeCommand.
	CommandResume = "resume"
	// CommandRetry runs the change again on a failed instance. Payload InstanceCommand.
	CommandRetry = "retry"
	// CommandSkip marks a failed instance Success without changing it. Payload InstanceCommand.
	CommandSkip = "skip"
	// CommandCancelInstance marks a failed instance Failed for good. Payload InstanceCommand.
	CommandCancelInstance = "cancel-instance"
	// CommandCancel (contract.go) stops the task: running instance work
	// finishes, no new batch starts, every instance in Standby returns to
	// service. Payload CancelCommand.
	// CommandRollback cancels a paused task and rolls the changed instances
	// back, as a new run of the same workflow ID. Payload RollbackCommand.
	CommandRollback = "rollback"
	// CommandSetThreshold changes the error threshold. Payload ThresholdCommand.
	CommandSetThreshold = "set-threshold"
	// CommandSetPausePolicy changes the pause policy. Payload PausePolicyCommand.
	CommandSetPausePolicy = "set-pause-policy"
)

// QueryRollout returns RolloutState. Every operation names its query "progress".
const QueryRollout = QueryProgress

// Task types.
const (
	TaskImage      = "ImageUpdate"     // replace the system disk with an image
	TaskScript     = "ScriptExecution" // run a script through Cloud Assistant
	TaskOOSPackage = "PackageInstall"  // install an OOS package version
)

// Pause policies.
const (
	PauseNone       = "None"       // run every batch without pausing
	PauseFirstBatch = "FirstBatch" // pause after the first batch only
	PauseEachBatch  = "EachBatch"  // pause after every batch
)

// Script types (Cloud Assistant's command types).
const (
	ScriptShell      = "RunShellScript"
	ScriptBat        = "RunBatScript"
	ScriptPowerShell = "RunPowerShellScript"
)

// Failure event names (CloudMonitor), one per task type, as Auto Scaling
// names them. Each event carries the group ID and the instance.
const (
	EventImageFailed      = "ACS-ESS-RollingUpdateByReplaceSystemDiskInScalingGroup"
	EventScriptFailed     = "ACS-ESS-RollingUpdateByRunCommandInScalingGroup"
	EventOOSPackageFailed = "ACS-ESS-RollingUpdateByConfigureOOSPackage"
)

// FailureEvent is the event name of a failed instance of a task type.
func FailureEvent(taskType string) string {
	switch taskType {
	case TaskImage:
		return EventImageFailed
	case TaskScript:
		return EventScriptFailed
	default:
		return EventOOSPackageFailed
	}
}

// ImageChange is the parameters of an image update.
type ImageChange struct {
	ImageID         string `json:"imageId"`
	RollbackImageID string `json:"rollbackImageId,omitempty"`
	// Switched is set only by the task's own run, on the spec of the run
	// that goes on with the same task (continue-as-new): the group's
	// instance configuration source before the task and the one the task
	// switched it to. That run adopts them: it neither reads nor switches
	// the source again, and gives Before back if the task does not succeed.
	// Clients leave it out.
	Switched *SourceSwitch `json:"switched,omitempty"`
}

// SourceSwitch is an image update's switch of its group's instance
// configuration source.
type SourceSwitch struct {
	Before ScalingSource `json:"before"`
	After  ScalingSource `json:"after"`
}

// ScriptChange is the parameters of a script execution.
type ScriptChange struct {
	Type           string `json:"type"` // RunShellScript | RunBatScript | RunPowerShellScript
	Script         string `json:"script"`
	RollbackScript string `json:"rollbackScript,omitempty"`
}

// Old names, from before "package" alone came to mean a Compute Nest
// deployment package (docs/architecture.md, "Names").
//
// Deprecated: use TaskOOSPackage, OOSPackageChange and EventOOSPackageFailed.
const (
	TaskPackage        = TaskOOSPackage
	EventPackageFailed = EventOOSPackageFailed
)

// PackageChange is OOSPackageChange under its old name.
//
// Deprecated: use OOSPackageChange.
type PackageChange = OOSPackageChange

// OOSPackageChange is the parameters of an OOS package installation.
type OOSPackageChange struct {
	Name            string `json:"name"`
	Version         string `json:"version"`
	RollbackVersion string `json:"rollbackVersion,omitempty"`
}

// RolloutSpec is the input of a rolling update task.
type RolloutSpec struct {
	ScalingGroupID string `json:"scalingGroupId"`
	RegionID       string `json:"regionId"`
	TaskType       string `json:"taskType"`
	// Exactly the one of Image, Script, Package that TaskType names.
	Image   *ImageChange      `json:"image,omitempty"`
	Script  *ScriptChange     `json:"script,omitempty"`
	Package *OOSPackageChange `json:"package,omitempty"`
	// Batches is the number of batches: 1 to the number of target instances.
	Batches     int    `json:"batches"`
	PausePolicy string `json:"pausePolicy,omitempty"` // default None
	// ErrorThreshold is how many failed instances are tolerated before the
	// task pauses on failure (default 0: the first failure pauses it).
	ErrorThreshold int    `json:"errorThreshold,omitempty"`
	Description    string `json:"description,omitempty"`
	// RollbackOf is set on a rollback task: the task it rolls back. Its
	// Instances are the instances to roll back (those the original changed);
	// a forward task targets the group's InService instances.
	RollbackOf *RolloutRef `json:"rollbackOf,omitempty"`
	Instances  []string    `json:"instances,omitempty"`
	// RunEvents is the history length after which the task continues as
	// new at its next batch boundary (0: the default, 4,000; at most
	// MaxRunEvents). The server may ask for it sooner (history size,
	// updates). A small value makes every batch boundary a new run (tests).
	RunEvents int `json:"runEvents,omitempty"`
	// Handoff is set only by a task's own run when it continues as new (as
	// its rollback, or the same task in a fresh run when its history grows
	// long): what the next run takes over without letting go of the group.
	// A run refuses a hand-off that does not come from the run it continues
	// (WorkflowExecutionStarted's continuedExecutionRunId); clients leave it
	// out.
	Handoff *RolloutHandoff `json:"handoff,omitempty"`
}

// RolloutHandoff passes a task's hold on its group from one run to the
// next (continue-as-new) without a gap: the next run adopts the cloud's
// rolling update task and the suspended scaling processes instead of
// finishing and resuming them, then creating and suspending them again
// (another client could take the group in between). The run that adopts
// them releases them at its end, whatever the end.
type RolloutHandoff struct {
	// FromRunID is the run that hands over: the next run's continued-from run.
	FromRunID string `json:"fromRunId"`
	// TaskID is the rolling update task that holds the group (empty for a
	// run started before the task existed: the next run creates one).
	TaskID string `json:"taskId,omitempty"`
	// Suspended are the scaling processes the task suspended, resumed at the
	// end of the run that adopts them; SuspendedBefore were suspended before
	// the task and stay so.
	Suspended       []string `json:"suspended"`
	SuspendedBefore []string `json:"suspendedBefore"`
	// LastRefusal is carried into the next run's lastRefusal: for a
	// rollback, an operator command refused during the hand-off (after the
	// rollback was accepted); for a continuation, the task's last refusal.
	LastRefusal string `json:"lastRefusal,omitempty"`
	// Continuation is set when the same task goes on in the next run (at a
	// batch boundary); nil for a rollback.
	Continuation *RolloutContinuation `json:"continuation,omitempty"`
}

// RolloutContinuation is where a task stands at the batch boundary where
// it continues as new, so that the next run goes on from there and answers
// the progress and instances queries as the previous one did.
type RolloutContinuation struct {
	// TokenKey scopes the task's client tokens (kept across its runs).
	TokenKey string `json:"tokenKey"`
	// Runs counts the task's runs before the next one.
	Runs int `json:"runs"`
	// NextBatch is the 0-based batch the next run starts with; the batches
	// before it have ended.
	NextBatch      int             `json:"nextBatch"`
	Batches        []BatchProgress `json:"batches"`
	PausePolicy    string          `json:"pausePolicy"`
	ErrorThreshold int             `json:"errorThreshold"`
	// BatchPauses counts the pauses after a batch so far (FirstBatch pauses once).
	BatchPauses int       `json:"batchPauses"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	// Instances is every instance of the task: EncodeInstanceRecord's gzip
	// of the JSON array of InstanceProgress (base64 in JSON).
	Instances []byte `json:"instances"`
	// OutputsDropped counts the instances of ended batches whose output,
	// error text and ref did not fit in MaxInstanceRecord and were dropped
	// (the whole output stays in the cloud).
	OutputsDropped int `json:"outputsDropped,omitempty"`
}

// MaxInstanceRecord bounds RolloutContinuation.Instances, so that the
// next run's input (the record in base64, 4/3 of it) stays below
// Temporal's 512 KB payload warning with the rest of the spec.
const MaxInstanceRecord = 320 << 10

// EncodeInstanceRecord is the compact record of the instances a
// continuation carries: their JSON, gzip-compressed. When it exceeds max
// bytes, the outputs, errors and refs of the instances in ended batches
// (before batch next, 0-based) are dropped, those of succeeded instances
// first; dropped counts them. It fails when even that does not fit.
func EncodeInstanceRecord(insts []InstanceProgress, next, max int) (record []byte, dropped int, err error) {
	record, err = gzipJSON(insts)
	if err != nil || len(record) <= max {
		return record, 0, err
	}
	work := slices.Clone(insts)
	for _, failedToo := range []bool{false, true} {
		for i := range work {
			in := &work[i]
			if in.Batch > next || (in.State == InstanceFailed && !failedToo) || (in.Output == "" && in.Error == "" && in.Ref == "") {
				continue
			}
			in.Output, in.Error, in.Ref = "", "", ""
			dropped++
		}
		if record, err = gzipJSON(work); err != nil || len(record) <= max {
			return record, dropped, err
		}
	}
	return nil, dropped, fmt.Errorf("the record of %d instances takes %d bytes compressed, more than %d", len(insts), len(record), max)
}

// DecodeInstanceRecord reads EncodeInstanceRecord's record.
func DecodeInstanceRecord(record []byte) ([]InstanceProgress, error) {
	zr, err := gzip.NewReader(bytes.NewReader(record))
	if err != nil {
		return nil, fmt.Errorf("instance record: %w", err)
	}
	var insts []InstanceProgress
	if err := json.NewDecoder(zr).Decode(&insts); err != nil {
		return nil, fmt.Errorf("instance record: %w", err)
	}
	return insts, nil
}

func gzipJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ScalingSource is a scaling group's instance configuration source, what
// the instances it launches (a scale-out, a health check's replacement) are
// created from: its active scaling configuration, or a launch template at
// the group's version setting. An image update makes the group launch its
// image: it modifies the image of the scaling configuration, or creates a
// launch template version with the image and makes the group use it (made
// the default version for a group at Default, set on the group for a
// group at a version number; the latest for a group at Latest).
type ScalingSource struct {
	ScalingConfigurationID string `json:"scalingConfigurationId,omitempty"`
	LaunchTemplateID       string `json:"launchTemplateId,omitempty"`
	// LaunchTemplateVersion is the group's setting: Default, Latest or a
	// version number; Version the version it resolves to.
	LaunchTemplateVersion string `json:"launchTemplateVersion,omitempty"`
	Version               int64  `json:"version,omitempty"`
	// ImageID is the image the group launches.
	ImageID string `json:"imageId"`
}

// String names the source for people: "scaling configuration asc-1 (image
// m-1)", "launch template lt-1 version 3 (Default; image m-1)".
func (s ScalingSource) String() string {
	if s.LaunchTemplateID != "" {
		return fmt.Sprintf("launch template %s version %d (%s; image %s)", s.LaunchTemplateID, s.Version, s.LaunchTemplateVersion, s.ImageID)
	}
	return fmt.Sprintf("scaling configuration %s (image %s)", s.ScalingConfigurationID, s.ImageID)
}

// RolloutRef names a run of a rolling update.
type RolloutRef struct {
	WorkflowID  string `json:"workflowId"`
	RunID       string `json:"runId"`
	Description string `json:"description,omitempty"`
}

// IsRollback reports whether the spec is a rollback task.
func (s RolloutSpec) IsRollback() bool { return s.RollbackOf != nil }

// Policy is PausePolicy with its default applied.
func (s RolloutSpec) Policy() string {
	if s.PausePolicy == "" {
		return PauseNone
	}
	return s.PausePolicy
}

const maxRolloutDescription = 256

// MaxScriptBytes is the largest script (and rollback script) a rolling
// update runs: Cloud Assistant's CommandContent takes 1 byte to 16 KiB, and
// refuses anything longer on every instance of the task.
const MaxScriptBytes = 16 * 1024

// MaxRolloutInstances is Auto Scaling's limit of instances per scaling
// group: no task has more target instances, nor more batches (each needs
// one), and no rollback names more instances.
const MaxRolloutInstances = 10000

// MaxRunEvents bounds RolloutSpec.RunEvents: Temporal warns of a history
// beyond 10,240 events.
const MaxRunEvents = 10240

// Validate checks the spec without calling the cloud; the cloud-dependent
// checks (group, activities, image region, instance count) come after.
func (s RolloutSpec) Validate() error {
	var errs []error
	if !strings.HasPrefix(s.ScalingGroupID, "asg-") {
		errs = append(errs, fmt.Errorf("scaling group ID %s must start with asg-", Quote(s.ScalingGroupID)))
	} else if !validGroupID(s.ScalingGroupID) {
		errs = append(errs, fmt.Errorf("scaling group ID %s must be at most %d characters: letters, digits, '-', '_' and '.'", Quote(s.ScalingGroupID), maxGroupID))
	}
	errs = append(errs, checkNames("description", s.Description)...) // the group ID's characters are checked above
	if s.Image != nil {
		errs = append(errs, checkNames("image.imageId", s.Image.ImageID, "image.rollbackImageId", s.Image.RollbackImageID)...)
	}
	if s.Package != nil {
		errs = append(errs, checkNames("package.name", s.Package.Name, "package.version", s.Package.Version, "package.rollbackVersion", s.Package.RollbackVersion)...)
	}
	errs = append(errs, checkList("instances", s.Instances)...)
	if _, ok := LookupRegion(s.RegionID); !ok {
		errs = append(errs, fmt.Errorf("region %s is unknown", Quote(s.RegionID)))
	}
	given := 0
	for _, p := range []bool{s.Image != nil, s.Script != nil, s.Package != nil} {
		if p {
			given++
		}
	}
	switch s.TaskType {
	case TaskImage:
		if s.Image == nil || s.Image.ImageID == "" {
			errs = append(errs, errors.New("an image update needs image.imageId"))
		} else if sw := s.Image.Switched; sw != nil && (sw.After.ImageID != s.Image.ImageID || sw.Before.ImageID == "" ||
			sw.Before.ScalingConfigurationID != sw.After.ScalingConfigurationID || sw.Before.LaunchTemplateID != sw.After.LaunchTemplateID) {
			errs = append(errs, errors.New("image.switched is the task's own record of its switch of the group's source (continue-as-new): leave it out"))
		}
	case TaskScript:
		if s.Script == nil || strings.TrimSpace(s.Script.Script) == "" {
			errs = append(errs, errors.New("a script execution needs script.script"))
		} else if !slices.Contains([]string{ScriptShell, ScriptBat, ScriptPowerShell}, s.Script.Type) {
			errs = append(errs, fmt.Errorf("script type %s must be %s, %s or %s", Quote(s.Script.Type), ScriptShell, ScriptBat, ScriptPowerShell))
		}
		if s.Script != nil {
			errs = append(errs, checkScript("script.script", s.Script.Script, false)...)
			errs = append(errs, checkScript("script.rollbackScript", s.Script.RollbackScript, true)...)
		}
	case TaskOOSPackage:
		if s.Package == nil || s.Package.Name == "" || s.Package.Version == "" {
			errs = append(errs, errors.New("a package install needs package.name and package.version"))
		}
	default:
		errs = append(errs, fmt.Errorf("task type %s must be %s, %s or %s", Quote(s.TaskType), TaskImage, TaskScript, TaskOOSPackage))
	}
	if given > 1 {
		errs = append(errs, errors.New("give only the parameters of the task type (one of image, script, package)"))
	}
	if s.Batches < 1 {
		errs = append(errs, fmt.Errorf("batches must be at least 1, got %d", s.Batches))
	} else if s.Batches > MaxRolloutInstances {
		errs = append(errs, fmt.Errorf("batches must be at most %d (a scaling group has at most %d instances, and each batch needs one), got %d", MaxRolloutInstances, MaxRolloutInstances, s.Batches))
	}
	if err := CheckPausePolicy(s.Policy()); err != nil {
		errs = append(errs, err)
	}
	if s.ErrorThreshold < 0 {
		errs = append(errs, fmt.Errorf("error threshold must not be negative, got %d", s.ErrorThreshold))
	}
	if s.RunEvents < 0 || s.RunEvents > MaxRunEvents {
		errs = append(errs, fmt.Errorf("runEvents must be 0 (the default) to %d, got %d", MaxRunEvents, s.RunEvents))
	}
	if utf8.RuneCountInString(s.Description) > maxRolloutDescription {
		errs = append(errs, fmt.Errorf("description must be at most %d characters", maxRolloutDescription))
	}
	if s.IsRollback() && len(s.Instances) == 0 {
		errs = append(errs, errors.New("a rollback needs the instances to roll back"))
	}
	errs = append(errs, checkInstances(s.Instances)...)
	if !s.IsRollback() && len(s.Instances) > 0 {
		errs = append(errs, errors.New("instances are chosen by the task (the group's InService instances); only a rollback names them"))
	}
	if h := s.Handoff; h != nil {
		if h.FromRunID == "" {
			errs = append(errs, errors.New("a hand-off names the run it comes from (handoff.fromRunId)"))
		}
		if c := h.Continuation; c == nil && !s.IsRollback() {
			errs = append(errs, errors.New("a hand-off goes to a rollback or continues the task (handoff.continuation)"))
		} else if c != nil && (c.NextBatch < 1 || c.NextBatch >= len(c.Batches) || len(c.Instances) == 0 || c.TokenKey == "") {
			errs = append(errs, fmt.Errorf("a continuation needs its batches, instances, token key and a next batch after the first and before the end (got %d of %d)", c.NextBatch, len(c.Batches)))
		}
	}
	if s.Batches > 0 && len(s.Instances) > 0 && s.Batches > len(s.Instances) {
		errs = append(errs, fmt.Errorf("batches (%d) must not exceed the %d instances", s.Batches, len(s.Instances)))
	}
	if len(errs) > 0 {
		return &InvalidSpecError{Errs: errs}
	}
	return nil
}

// maxGroupID is the longest scaling group ID a task accepts.
const maxGroupID = 64

// validGroupID reports whether id is printable ASCII of the kind Auto
// Scaling's IDs are made of: it is part of the workflow ID, which Temporal
// keeps as UTF-8 text.
func validGroupID(id string) bool {
	if len(id) > maxGroupID {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// checkScript applies Cloud Assistant's limits on CommandContent to a
// script: 1 byte to MaxScriptBytes, not only blanks. An optional script may
// be empty. The script itself is not echoed (it may be 10 MB).
func checkScript(field, script string, optional bool) []error {
	switch {
	case script == "" && optional:
		return nil
	case len(script) > MaxScriptBytes:
		return []error{fmt.Errorf("%s is %d bytes: Cloud Assistant runs scripts of 1 byte to %d KiB (%d bytes); keep the script in the image, or fetch it from the script", field, len(script), MaxScriptBytes/1024, MaxScriptBytes)}
	case strings.TrimSpace(script) == "" && optional:
		return []error{fmt.Errorf("%s holds only blanks: Cloud Assistant refuses an empty script (leave it out instead)", field)}
	case !utf8.ValidString(script):
		return []error{fmt.Errorf("%s is not valid UTF-8", field)}
	}
	return nil
}

// checkInstances refuses a rollback's instance list that the cloud's calls
// would refuse: more than a group holds, an empty ID, an ID named twice
// (EnterStandby refuses the whole call).
func checkInstances(ids []string) []error {
	if len(ids) > MaxRolloutInstances {
		return []error{fmt.Errorf("instances names %d instances: a scaling group has at most %d", len(ids), MaxRolloutInstances)}
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		switch {
		case id == "":
			return []error{errors.New("instances holds an empty instance ID")}
		case seen[id]:
			return []error{fmt.Errorf("instances names %q twice", id)}
		}
		seen[id] = true
	}
	return nil
}

// CheckPausePolicy refuses an unknown pause policy.
func CheckPausePolicy(p string) error {
	if p != PauseNone && p != PauseFirstBatch && p != PauseEachBatch {
		return fmt.Errorf("pause policy %s must be %s, %s or %s", Quote(p), PauseNone, PauseFirstBatch, PauseEachBatch)
	}
	return nil
}

// SplitBatches splits n instances into batches as evenly as possible, the
// larger batches first, each at least one: 10 in 3 → 4, 3, 3.
func SplitBatches(n, batches int) []int {
	if batches < 1 || n < batches {
		return nil
	}
	sizes := make([]int, batches)
	for i := range sizes {
		sizes[i] = n / batches
		if i < n%batches {
			sizes[i]++
		}
	}
	return sizes
}

// RollbackSpec is the spec of the task that rolls back a task with spec
// orig, changes and instances: the rollback image, the rollback script or the
// rollback version of the same package, with c's batches and policy.
func RollbackSpec(orig RolloutSpec, ref RolloutRef, instances []string, c RollbackCommand) (RolloutSpec, error) {
	if orig.IsRollback() {
		return RolloutSpec{}, errors.New("this task is a rollback: a rollback cannot itself be rolled back")
	}
	if len(instances) == 0 {
		return RolloutSpec{}, errors.New("the task changed no instance: there is nothing to roll back")
	}
	spec := RolloutSpec{
		ScalingGroupID: orig.ScalingGroupID, RegionID: orig.RegionID, TaskType: orig.TaskType,
		Batches: c.Batches, PausePolicy: c.PausePolicy, ErrorThreshold: c.ErrorThreshold,
		Description: c.Description, RollbackOf: &ref, Instances: slices.Clone(instances),
	}
	if spec.Batches == 0 {
		spec.Batches = min(orig.Batches, len(instances))
	}
	if spec.Description == "" {
		spec.Description = "rollback of " + cmpOr(orig.Description, ref.WorkflowID+" run "+ref.RunID)
	}
	switch orig.TaskType {
	case TaskImage:
		img := cmpOr(c.ImageID, orig.Image.RollbackImageID)
		if img == "" {
			return RolloutSpec{}, errors.New("the task has no rollback image: give imageId")
		}
		spec.Image = &ImageChange{ImageID: img}
	case TaskScript:
		script := cmpOr(c.Script, orig.Script.RollbackScript)
		if script == "" {
			return RolloutSpec{}, errors.New("the task has no rollback script: give script")
		}
		spec.Script = &ScriptChange{Type: orig.Script.Type, Script: script}
	case TaskOOSPackage:
		v := cmpOr(c.Version, orig.Package.RollbackVersion)
		if v == "" {
			return RolloutSpec{}, errors.New("the task has no rollback version: give version")
		}
		spec.Package = &OOSPackageChange{Name: orig.Package.Name, Version: v}
	}
	return spec, spec.Validate()
}

// RollbackAgainSpec is the spec of the task that finishes an unfinished
// rollback orig (one that failed, or was cancelled, before it rolled back
// every instance): the same change, for the same task, on left, the
// instances it did not roll back, with c's batches (default: orig's, at
// most one per instance), pause policy and threshold, and c's image,
// script or version if given. A rollback that did not finish is never a
// dead end: the operator runs it again for what is left.
func RollbackAgainSpec(orig RolloutSpec, left []string, c RollbackCommand) (RolloutSpec, error) {
	if !orig.IsRollback() {
		return RolloutSpec{}, errors.New("the task is not a rollback")
	}
	if len(left) == 0 {
		return RolloutSpec{}, errors.New("the rollback left no instance to roll back")
	}
	spec := orig
	spec.Handoff = nil
	spec.Instances = slices.Clone(left)
	spec.Batches, spec.PausePolicy, spec.ErrorThreshold = c.Batches, c.PausePolicy, c.ErrorThreshold
	if spec.Batches == 0 {
		spec.Batches = min(orig.Batches, len(left))
	}
	spec.Description = cmpOr(c.Description, orig.Description)
	switch {
	case orig.Image != nil && c.ImageID != "":
		spec.Image = &ImageChange{ImageID: c.ImageID}
	case orig.Script != nil && c.Script != "":
		spec.Script = &ScriptChange{Type: orig.Script.Type, Script: c.Script}
	case orig.Package != nil && c.Version != "":
		spec.Package = &OOSPackageChange{Name: orig.Package.Name, Version: c.Version}
	}
	return spec, spec.Validate()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ResumeCommand continues a paused task.
type ResumeCommand struct{}

// InstanceCommand names the failed instance a decision applies to.
type InstanceCommand struct {
	InstanceID string `json:"instanceId"`
}

// RollbackCommand rolls a paused task back. Every field is optional: the
// defaults are the task's rollback image, script or package version, its
// number of batches (at most the instances to roll back) and no pausing.
type RollbackCommand struct {
	Description    string `json:"description,omitempty"`
	Batches        int    `json:"batches,omitempty"`
	PausePolicy    string `json:"pausePolicy,omitempty"`
	ErrorThreshold int    `json:"errorThreshold,omitempty"`
	ImageID        string `json:"imageId,omitempty"`
	Script         string `json:"script,omitempty"`
	Version        string `json:"version,omitempty"`
}

// ThresholdCommand sets the error threshold.
type ThresholdCommand struct {
	ErrorThreshold int `json:"errorThreshold"`
}

// PausePolicyCommand sets the pause policy.
type PausePolicyCommand struct {
	PausePolicy string `json:"pausePolicy"`
}

// Task statuses (RolloutState.Status).
const (
	RolloutValidating    = "Validating"
	RolloutRunning       = "Running"
	RolloutPausedBatch   = "Paused (batch)"
	RolloutPausedFailure = "Paused (failure)"
	RolloutCancelling    = "Cancelling" // cancelled, rolled back or failed: running work ends, the group is restored
	RolloutFinishing     = "Finishing"  // every batch is done: the group is restored (processes resumed, the task finished)
	RolloutSucceeded     = "Succeeded"
	RolloutCancelled     = "Cancelled"
	RolloutFailed        = "Failed"
	RolloutRolledBack    = "RolledBack" // cancelled by a rollback, which continues as a new run
)

// Instance states of a task.
const (
	InstancePending   = "Pending"
	InstanceStandby   = "Standby" // taken out of service, the change not started yet
	InstanceUpdating  = "Updating"
	InstanceSucceeded = "Success"
	InstanceFailed    = "Failed"
)

// Operator decisions recorded on an instance.
const (
	DecisionSkipped   = "skipped"   // marked Success by skip
	DecisionCancelled = "cancelled" // marked Failed by cancel-instance
)

// InstanceProgress is one instance of a task.
type InstanceProgress struct {
	InstanceID string `json:"instanceId"`
	Batch      int    `json:"batch"` // 1-based
	State      string `json:"state"`
	Attempts   int    `json:"attempts"`
	// Decision is the operator's decision on a failed instance, if any.
	Decision string `json:"decision,omitempty"`
	ExitCode int    `json:"exitCode,omitempty"`
	// Output is the script's or the package execution's output (its tail,
	// at most MaxKeptOutput bytes).
	Output string `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
	// Ref is the cloud operation of the last attempt (Cloud Assistant
	// invocation, OOS execution or new system disk): an operator retry looks
	// at it before it changes anything again.
	Ref string `json:"ref,omitempty"`
}

// MaxKeptOutput is how much output (its tail) a task keeps per instance.
// Small on purpose: the state of a 2,000-instance task is a query answer and
// the workflow's result, and must stay well below Temporal's 2 MB payload
// limit. The whole output stays in Cloud Assistant (DescribeInvocationResults).
const MaxKeptOutput = 256

// BatchProgress is one batch.
type BatchProgress struct {
	Index     int    `json:"index"` // 1-based
	Size      int    `json:"size"`
	State     string `json:"state"` // Pending | Running | Done
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
}

// Batch states.
const (
	BatchPending = "Pending"
	BatchRunning = "Running"
	BatchDone    = "Done"
)

// RolloutState is the answer to QueryRollout and the result of a task that
// ran to its end (succeeded or cancelled): a summary whose size does not grow
// with the group (counts per batch and state, what the task waits for, the
// first MaxListedFailures failed instances with their total). Every
// instance's detail is paged through QueryRolloutInstances. It holds the
// spec, so that a later rollback knows what to roll back and how.
type RolloutState struct {
	Spec           RolloutSpec `json:"spec"`
	ScalingGroupID string      `json:"scalingGroupId"`
	RegionID       string      `json:"regionId"`
	TaskType       string      `json:"taskType"`
	Description    string      `json:"description,omitempty"`
	RollbackOf     *RolloutRef `json:"rollbackOf,omitempty"`
	Status         string      `json:"status"`
	PausePolicy    string      `json:"pausePolicy"`
	ErrorThreshold int         `json:"errorThreshold"`
	// CurrentBatch is the 1-based batch running or last run (0: none yet).
	CurrentBatch int             `json:"currentBatch"`
	Batches      []BatchProgress `json:"batches"`
	// Counts are the task's instances by state.
	Counts InstanceCounts `json:"counts"`
	// FailedInstances are the first MaxListedFailures failed instances (in
	// batch order), FailedTotal how many there are in all.
	FailedInstances []InstanceProgress `json:"failedInstances"`
	FailedTotal     int                `json:"failedTotal"`
	// Failures counts failed instances without an operator decision: the
	// number compared with the error threshold.
	Failures int `json:"failures"`
	// SuspendedBefore are the processes that were suspended before the
	// task; exactly these stay suspended after it.
	SuspendedBefore []string  `json:"suspendedBefore"`
	WaitingFor      string    `json:"waitingFor,omitempty"`
	CancelReason    string    `json:"cancelReason,omitempty"`
	LastRefusal     string    `json:"lastRefusal,omitempty"`
	Error           string    `json:"error,omitempty"`
	StartedAt       time.Time `json:"startedAt,omitzero"`

	// SourceBefore and Source are, for an image update, the group's
	// instance configuration source before the task and now: the task
	// switches the source to its image before the first batch, keeps it
	// when it succeeds, and switches it back to exactly SourceBefore when it
	// is cancelled, fails or is rolled back (ScalingSource).
	SourceBefore *ScalingSource `json:"sourceBefore,omitempty"`
	Source       *ScalingSource `json:"source,omitempty"`
	// OutputsDropped counts the instances whose output, error text and ref
	// were dropped when the task continued as new (its record of outcomes
	// must stay small, RolloutContinuation); their state, attempts, decision
	// and exit code are kept, and the whole output stays in the cloud.
	OutputsDropped int `json:"outputsDropped,omitempty"`
}

// MaxListedFailures is how many failed instances the summary lists.
const MaxListedFailures = 20

// InstanceCounts counts a task's instances by state. Changed counts those
// the task ran its change on (successfully or not): those a rollback rolls back.
type InstanceCounts struct {
	Total     int `json:"total"`
	Pending   int `json:"pending"`
	Standby   int `json:"standby"`
	Updating  int `json:"updating"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Changed   int `json:"changed"`
}

// QueryRolloutInstances answers a page of a task's instances, with every
// detail: input InstancesQuery, answer InstancePage.
//
//	temporal workflow query --workflow-id rollout/asg-web-hz --name instances --input '{"state":"Failed","pageSize":50}'
const QueryRolloutInstances = "instances"

// Page sizes of QueryRolloutInstances: a page of MaxInstancePage instances
// with 256-byte outputs stays far below Temporal's 512 KB payload warning.
const (
	DefaultInstancePage = 100
	MaxInstancePage     = 500
)

// InstancesQuery filters and pages the instances of a task. Every filter is
// optional; the instances come in batch order.
type InstancesQuery struct {
	State string `json:"state,omitempty"` // Pending | Standby | Updating | Success | Failed
	Batch int    `json:"batch,omitempty"` // 1-based
	// Changed, when given, keeps the instances the task ran its change on
	// (true) or those it did not (false); absent (null), both.
	Changed   *bool  `json:"changed,omitempty"`
	PageSize  int    `json:"pageSize,omitempty"`  // default DefaultInstancePage, at most MaxInstancePage
	PageToken string `json:"pageToken,omitempty"` // NextPageToken of the previous page
}

// Validate checks a query before it is answered.
func (q InstancesQuery) Validate() error {
	switch {
	case q.State != "" && !slices.Contains([]string{InstancePending, InstanceStandby, InstanceUpdating, InstanceSucceeded, InstanceFailed}, q.State):
		return fmt.Errorf("state %s must be %s, %s, %s, %s or %s", Quote(q.State), InstancePending, InstanceStandby, InstanceUpdating, InstanceSucceeded, InstanceFailed)
	case q.Batch < 0:
		return fmt.Errorf("batch must not be negative, got %d", q.Batch)
	case q.PageSize < 0 || q.PageSize > MaxInstancePage:
		return fmt.Errorf("pageSize must be 1–%d, got %d", MaxInstancePage, q.PageSize)
	}
	return nil
}

// Matches reports whether an instance passes the query's filters.
func (q InstancesQuery) Matches(in InstanceProgress) bool {
	return (q.State == "" || in.State == q.State) && (q.Batch == 0 || in.Batch == q.Batch) && (q.Changed == nil || *q.Changed == (in.Attempts > 0))
}

// InstancePage is a page of instances. NextPageToken is empty on the last page.
type InstancePage struct {
	Instances     []InstanceProgress `json:"instances"`
	Total         int                `json:"total"` // instances matching the filters
	NextPageToken string             `json:"nextPageToken,omitempty"`
}

// RolloutChunkSize is how many instances one activity drives through a
// change: one bulk call (RunCommand, OOS execution) or that many per-instance
// calls, and one describe call per poll.
const RolloutChunkSize = 100

// The contract of RollingUpdateBatch, the child workflow of runs started
// before workflow version rollout-chunked (one per batch). Its JSON keys are
// the Go field names, as recorded in those runs' histories: do not add tags.

// ChangeSpec is the change a rolling update applies to each instance.
type ChangeSpec struct {
	Region   string
	Group    string
	TaskType string
	Image    *ImageChange      `json:",omitempty"`
	Script   *ScriptChange     `json:",omitempty"`
	Package  *OOSPackageChange `json:",omitempty"`
	// TokenKey scopes the client tokens to the task.
	TokenKey string
}

// BatchInstance is one instance of a batch and the attempt it is on.
type BatchInstance struct {
	InstanceID string
	Attempt    int
}

// RolloutBatchInput is the input of RollingUpdateBatch.
type RolloutBatchInput struct {
	Change    ChangeSpec
	Instances []BatchInstance
}

// RolloutBatchResult maps each instance to how its change ended.
type RolloutBatchResult struct {
	Results map[string]ChangeResult
}

// ChangeResult is how the change ended on an instance: the result of the
// ApplyChange activity (one instance), of each instance of ApplyChangeChunk
// and of RollingUpdateBatch. A change that failed there is a result
// (Succeeded false), not an error: the operator decides what to do about it.
type ChangeResult struct {
	Succeeded bool
	ExitCode  int    `json:",omitempty"`
	Output    string `json:",omitempty"`
	Error     string `json:",omitempty"`
}
