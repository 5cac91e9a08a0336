// Package workflows holds imagefleet's workflows. Each is a small struct with
// setup (validate, logger, handlers) and run; the shared machinery (fan-out,
// compensation, operator commands) is in workflows/internal.
package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
)

// Register registers every workflow under its contract name.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(DistributeImagePackage, workflow.RegisterOptions{Name: model.DistributeWorkflowType})
	r.RegisterWorkflowWithOptions(ImageBuild, workflow.RegisterOptions{Name: model.BuildWorkflowType})
	r.RegisterWorkflowWithOptions(BlueGreenDeployment, workflow.RegisterOptions{Name: model.BlueGreenWorkflowType})
	r.RegisterWorkflowWithOptions(RollingUpdate, workflow.RegisterOptions{Name: model.RolloutWorkflowType})
	r.RegisterWorkflowWithOptions(RollingUpdateBatch, workflow.RegisterOptions{Name: model.RolloutBatchWorkflowType})
	r.RegisterWorkflowWithOptions(PublishPackageVersion, workflow.RegisterOptions{Name: model.PublishWorkflowType})
	r.RegisterWorkflowWithOptions(ImageRetention, workflow.RegisterOptions{Name: model.RetentionWorkflowType})
	r.RegisterWorkflowWithOptions(ScheduledImageRetention, workflow.RegisterOptions{Name: model.ScheduledRetentionWorkflowType})
	r.RegisterWorkflowWithOptions(ScheduledBuild, workflow.RegisterOptions{Name: model.ScheduledBuildWorkflowType})
}
