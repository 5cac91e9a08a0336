package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

var rolloutTasks *activities.RolloutTasks

// changeRolloutTask: a rolling update holds its group with an Auto Scaling
// rolling update task. Versioned: runs started before did not.
const changeRolloutTask = "rolling-update-task"

// holdGroup creates the group's rolling update task before anything
// changes: the cloud refuses it while another task runs on the group
// (started by any client), and the run then fails without touching the
// group. The task ends with the run's compensation, whatever the end.
func (r *rollout) holdGroup(ctx workflow.Context) error {
	if r.adoptTask() {
		return nil // handed over by the previous run (rollout_handoff.go)
	}
	if workflow.GetVersion(ctx, changeRolloutTask, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	opts := stepActivity()
	opts.Summary = "start the rolling update task of " + r.spec.ScalingGroupID
	var taskID string
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), rolloutTasks.StartRollingUpdateTask, activities.StartTaskInput{
		Region: r.spec.RegionID, Group: r.spec.ScalingGroupID, Description: r.spec.Description,
		ClientToken: model.ClientToken(r.tokenKey, "rolling-update-task"),
	}).Get(ctx, &taskID)
	if err != nil {
		return err
	}
	r.finishTaskAtEnd(taskID)
	return nil
}

// finishTaskAtEnd: the task's compensation finishes the rolling update
// task taskID, freeing the group.
func (r *rollout) finishTaskAtEnd(taskID string) {
	r.taskID, r.taskStep = taskID, "finish rolling update task "+taskID
	r.saga.Add(r.taskStep, func(ctx workflow.Context) error {
		opts := cleanupActivity()
		opts.Summary = "finish the rolling update task " + taskID
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), rolloutTasks.FinishRollingUpdateTask,
			activities.FinishTaskInput{Region: r.spec.RegionID, TaskID: taskID}).Get(ctx, nil)
	})
}
