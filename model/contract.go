// Package model holds imagefleet's contracts: the task queue, workflow types,
// operator commands (signal and update names) and query names with their typed
// payloads, workflow-ID helpers, search attributes, and the specs with their
// validation. Starter, worker, workflows and tests all name things from here,
// and any other Temporal client (the temporal CLI, the Web UI) can use the
// same names and JSON payloads; README.md documents them.
package model

import (
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// TaskQueue is the one task queue every imagefleet workflow and activity runs on.
const TaskQueue = "imagefleet"

// Search attributes imagefleet workflows set. They must be registered on the
// namespace before a workflow upserts them (the local stack does it at start;
// see README for a production cluster).
var (
	// SAOperation names the kind of work: distribute, publish, build, rollout, bluegreen, release.
	SAOperation = temporal.NewSearchAttributeKeyKeyword("ImagefleetOperation")
	// SAState is the run's coarse state, e.g. Running, WaitingForOperator.
	SAState   = temporal.NewSearchAttributeKeyKeyword("ImagefleetState")
	SAPackage = temporal.NewSearchAttributeKeyKeyword("ImagefleetPackage")
	SAVersion = temporal.NewSearchAttributeKeyKeyword("ImagefleetVersion")

	// SAScalingGroup is the scaling group a rolling update works on.
	SAScalingGroup = temporal.NewSearchAttributeKeyKeyword("ImagefleetScalingGroup")
	// SAService is the container service a blue/green deployment changes,
	// as "cluster/service".
	SAService = temporal.NewSearchAttributeKeyKeyword("ImagefleetService")
	// SATemplate is the image template (ImagePipelineId) an image build runs.
	SATemplate = temporal.NewSearchAttributeKeyKeyword("ImagefleetTemplate")
	// SARelease is a release's "<name>/<version>" (ReleaseKey).
	SARelease = temporal.NewSearchAttributeKeyKeyword("ImagefleetRelease")
)

// SearchAttributes lists every custom search attribute with its type, for
// registration.
var SearchAttributes = map[string]enums.IndexedValueType{
	SAOperation.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD,
	SAState.GetName():     enums.INDEXED_VALUE_TYPE_KEYWORD,
	SAPackage.GetName():   enums.INDEXED_VALUE_TYPE_KEYWORD,
	SAVersion.GetName():   enums.INDEXED_VALUE_TYPE_KEYWORD,
	SAService.GetName():   enums.INDEXED_VALUE_TYPE_KEYWORD,

	SAScalingGroup.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD,
	SATemplate.GetName():     enums.INDEXED_VALUE_TYPE_KEYWORD,

	SARetentionRule.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD,
	SARelease.GetName():       enums.INDEXED_VALUE_TYPE_KEYWORD,
}

// Operation values of SAOperation.
const (
	OperationDistribute = "distribute"
	OperationRollout    = "rollout"
)

// Coarse run states shared by every operation (values of SAState).
const (
	StateRunning            = "Running"
	StateWaitingForOperator = "WaitingForOperator"
	StateCompensating       = "Compensating"
	StateSucceeded          = "Succeeded"
	StateFailed             = "Failed"
	StateAborted            = "Aborted"
)

// Every operation stops on the same command.
const (
	// CommandCancel stops a run: work in flight finishes or is undone, nothing
	// new starts, and what the run made is released as its operation says
	// (docs/<operation>.md). The run ends in StateAborted. Payload
	// CancelCommand (CancelBuildCommand for a build).
	CommandCancel = "cancel"
	// CommandAbort is the old name of CommandCancel on a distribution, a
	// publication and a blue/green deployment.
	//
	// Deprecated: send CommandCancel. The workflows accept both until the
	// release after next; see docs/architecture.md, "Names".
	CommandAbort = "abort"
)

// CancelCommand stops a run; Reason is kept in its progress and result.
type CancelCommand struct {
	Reason string `json:"reason,omitempty"`
}

// AbortCommand is CancelCommand under its old name.
//
// Deprecated: use CancelCommand.
type AbortCommand = CancelCommand

// StepDeadline is how long one step of any operation keeps retrying
// transient cloud errors (5xx, throttling, an unreachable cloud, a worker
// that died mid-call) before the step fails. A transient error never ends an
// operation sooner; an error that retrying cannot fix (a refused request, a
// missing resource) ends the step at once.
const StepDeadline = time.Hour

// Operations lists every value of SAOperation.
var Operations = []string{OperationDistribute, OperationPublish, OperationBuild, OperationRollout, OperationBlueGreen, OperationRetention, OperationRelease}
