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

// changeCheckFirst: the spec is checked against the cloud (CheckRollout,
// which only reads) before the group's task is created, so that an input
// the cloud refuses (more batches than instances, an image of another
// region) leaves nothing in the cloud's ledger. Runs started before checked
// it after creating the task.
const changeCheckFirst = "rollout-check-first"

// checkFirst checks the spec against the cloud before holdGroup, and
// returns the plan; nil (runs started before) leaves the check to execute.
func (r *rollout) checkFirst(ctx workflow.Context) (*activities.RolloutPlan, error) {
	if r.spec.Handoff != nil {
		return nil, nil // the group was checked when its task began; it stays held
	}
	if workflow.GetVersion(ctx, changeCheckFirst, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil, nil
	}
	return r.check(ctx)
}

// check is CheckRollout: the spec against the cloud, and the plan.
func (r *rollout) check(ctx workflow.Context) (*activities.RolloutPlan, error) {
	var plan activities.RolloutPlan
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, stepActivity()), rollouts.CheckRollout, r.spec).Get(ctx, &plan); err != nil {
		return nil, err
	}
	return &plan, nil
}
