package cloud

import (
	"context"
	"time"
)

// CloudAssistant runs commands on ECS instances (Alibaba Cloud's Cloud
// Assistant). A command runs asynchronously on each instance; its exit code
// and output are kept per instance.
type CloudAssistant interface {
	// RunCommand starts CommandContent on every instance (1–MaxCommandInstances)
	// and returns the invocation's ID at once.
	RunCommand(ctx context.Context, req *RunCommandRequest) (*RunCommandResponse, error)
	DescribeInvocationResults(ctx context.Context, req *DescribeInvocationResultsRequest) (*DescribeInvocationResultsResponse, error)
}

// Command types. Linux instances run only shell scripts, Windows instances
// only Bat and PowerShell scripts.
const (
	CommandShell      = "RunShellScript"
	CommandBat        = "RunBatScript"
	CommandPowerShell = "RunPowerShellScript"
)

// Invocation statuses, of one instance's run and of a whole invocation.
const (
	InvocationRunning       = "Running"
	InvocationSuccess       = "Success"
	InvocationFailed        = "Failed"
	InvocationPartialFailed = "PartialFailed" // whole invocation only: some instances failed
)

// MaxCommandInstances is how many instances one RunCommand targets.
const MaxCommandInstances = 100

// MaxCommandContent is the largest CommandContent RunCommand takes (1 byte
// to 16 KiB).
const MaxCommandContent = 16 * 1024

// MaxCommandOutput is how much output is kept per instance (the tail is cut).
const MaxCommandOutput = 24 * 1024

type RunCommandRequest struct {
	RegionId       string
	Type           string // RunShellScript | RunBatScript | RunPowerShellScript
	CommandContent string // the script, plain text
	InstanceIds    []string
	// Name labels the invocation (optional).
	Name        string `json:",omitempty"`
	ClientToken string
}

type RunCommandResponse struct {
	RequestId string
	InvokeId  string
}

type DescribeInvocationResultsRequest struct {
	RegionId string
	InvokeId string
	// InstanceId limits the results to one instance (optional).
	InstanceId string `json:",omitempty"`
	// InvokeRecordStatus limits the results to runs in that status
	// (Running, Success or Failed; optional).
	InvokeRecordStatus string `json:",omitempty"`
	// The results are paged in the invocation's instance order:
	// PageNumber from 1, PageSize 1–MaxInvocationResultsPage (default 50).
	PageNumber int `json:",omitempty"`
	PageSize   int `json:",omitempty"`
}

// MaxInvocationResultsPage is the largest page of DescribeInvocationResults.
const MaxInvocationResultsPage = 100

type DescribeInvocationResultsResponse struct {
	RequestId  string
	Invocation Invocation
	// TotalCount is the number of results matching the filters; Invocation
	// holds the page asked for.
	TotalCount int
	PageNumber int
	PageSize   int
}

// Invocation is one RunCommand call and its result on each instance.
type Invocation struct {
	InvokeId          string
	Name              string `json:",omitempty"`
	RegionId          string
	Type              string
	CommandContent    string
	InvocationStatus  string // Running | Success | Failed | PartialFailed
	CreationTime      time.Time
	InvocationResults []InvocationResult
}

// InvocationResult is the run of a command on one instance.
type InvocationResult struct {
	InstanceId       string
	InvocationStatus string // Running | Success | Failed
	// ExitCode and Output are set once the run has finished.
	ExitCode   int
	Output     string
	StartTime  time.Time
	FinishTime time.Time `json:",omitzero"`
	// ErrorInfo says why a run failed, when the failure is not the script's
	// own exit code (e.g. an injected fault).
	ErrorInfo string `json:",omitempty"`
}

// Error codes of Cloud Assistant actions.
const (
	CodeInvocationNotFound = "InvalidInvokeId.NotFound"
	// CodeCommandTypeNotSupported: the command type does not fit the
	// instance's operating system (a shell script on Windows, a Bat or
	// PowerShell script on Linux).
	CodeCommandTypeNotSupported = "InvalidCmdType.NotSupported"
)
