package cloud

import (
	"context"
	"time"
)

// OOS is the part of Alibaba Cloud CloudOps Orchestration Service a rolling
// update uses: installing (or uninstalling) an OOS package of a given version
// on instances through the public template
// ACS-ECS-BulkyConfigureOOSPackageWithTemporaryURL, and the catalogue of
// packages. An execution runs asynchronously.
type OOS interface {
	ListOOSPackages(ctx context.Context, req *ListOOSPackagesRequest) (*ListOOSPackagesResponse, error)
	StartExecution(ctx context.Context, req *StartExecutionRequest) (*StartExecutionResponse, error)
	ListExecutions(ctx context.Context, req *ListExecutionsRequest) (*ListExecutionsResponse, error)
}

// TemplateConfigureOOSPackage is the only template the simulator runs.
const TemplateConfigureOOSPackage = "ACS-ECS-BulkyConfigureOOSPackageWithTemporaryURL"

// Package actions.
const (
	PackageInstall   = "install"
	PackageUninstall = "uninstall"
)

// Execution statuses.
const (
	ExecutionRunning = "Running"
	ExecutionSuccess = "Success"
	ExecutionFailed  = "Failed"
)

// OOSPackage is a package with its published versions, oldest first.
type OOSPackage struct {
	PackageName string
	Description string
	Versions    []string
}

type ListOOSPackagesRequest struct {
	RegionId    string
	PackageName string `json:",omitempty"`
}

type ListOOSPackagesResponse struct {
	RequestId string
	Packages  []OOSPackage
}

// OOSPackageParameters are the template's parameters.
type OOSPackageParameters struct {
	InstanceIds    []string
	PackageName    string
	PackageVersion string
	Action         string // install | uninstall
}

type StartExecutionRequest struct {
	RegionId     string
	TemplateName string
	Parameters   OOSPackageParameters
	ClientToken  string
}

type StartExecutionResponse struct {
	RequestId string
	Execution Execution
}

type ListExecutionsRequest struct {
	RegionId    string
	ExecutionId string
}

type ListExecutionsResponse struct {
	RequestId  string
	Executions []Execution
}

// Execution is one run of a template.
type Execution struct {
	ExecutionId   string
	TemplateName  string
	RegionId      string
	Parameters    OOSPackageParameters
	Status        string // Running | Success | Failed
	StatusMessage string `json:",omitempty"`
	// Outputs is the execution's log, one line per instance, once finished.
	Outputs string `json:",omitempty"`
	// InstanceResults is how the execution ended on each target instance,
	// once finished (the bulky template's per-instance child executions).
	InstanceResults []ExecutionInstanceResult `json:",omitempty"`
	StartDate       time.Time
	EndDate         time.Time `json:",omitzero"`
}

// ExecutionInstanceResult is an execution's outcome on one instance.
type ExecutionInstanceResult struct {
	InstanceId string
	Status     string // Success | Failed
	Output     string
}

// MaxExecutionInstances is how many instances one execution targets.
const MaxExecutionInstances = 100

// Error codes of OOS actions.
const (
	CodeExecutionNotFound = "EntityNotExists.Execution"
	CodePackageNotFound   = "EntityNotExists.OOSPackage"
)
