// Package workflows holds imagefleet's workflows. Each is a small struct with
// setup (validate, logger, handlers) and run; the shared machinery (fan-out,
// compensation, operator commands) is in workflows/internal.
package workflows

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
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
	r.RegisterWorkflowWithOptions(Release, workflow.RegisterOptions{Name: model.ReleaseWorkflowType})
	// The activity that records the runs' metrics once they happened.
	if ar, ok := r.(worker.ActivityRegistry); ok {
		ar.RegisterActivityWithOptions(metrics.Record, activity.RegisterOptions{Name: metrics.RecordActivity})
	}
}

// SetUnregisteredSearchAttributes tells this process's runs which of
// imagefleet's search attributes their namespace lacks (the worker checks
// at start): a run sets only the others, with a warning, rather than have
// the server fail each of its workflow tasks for good (BadSearchAttributes).
func SetUnregisteredSearchAttributes(unregistered func() []string) {
	lifecycle.SetUnregisteredSearchAttributes(unregistered)
}
