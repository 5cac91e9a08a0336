package cloudsim_test

import (
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
)

// One rolling update task per scaling group, whoever creates it.
func TestOneRollingUpdateTaskPerGroup(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	create := func(token string) (string, error) {
		resp, err := env.Client.CreateRollingUpdateTask(ctx, &cloud.CreateRollingUpdateTaskRequest{
			RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, Description: "v2", ClientToken: token,
		})
		if err != nil {
			return "", err
		}
		return resp.TaskId, nil
	}
	first, err := create("a")
	ok(t, err)
	again, err := create("a") // a retried create gets the same task
	ok(t, err)
	if again != first {
		t.Fatalf("retry made task %s besides %s", again, first)
	}
	_, err = create("b")
	wantCode(t, err, cloud.CodeRollingUpdateRunning)
	_, err = create("")
	wantCode(t, err, cloud.CodeRollingUpdateRunning)
	if n := len(ledgerOf(env, "CreateRollingUpdateTask")); n != 1 {
		t.Fatalf("%d tasks created", n)
	}
	// Another group is free.
	_, err = env.Client.CreateRollingUpdateTask(ctx, &cloud.CreateRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin})
	ok(t, err)

	_, err = env.Client.FinishRollingUpdateTask(ctx, &cloud.FinishRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, TaskId: first, Result: "Succeeded"})
	ok(t, err)
	_, err = env.Client.FinishRollingUpdateTask(ctx, &cloud.FinishRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, TaskId: first})
	ok(t, err) // finished already
	_, err = create("b")
	ok(t, err)
	tasks, err := env.Client.DescribeRollingUpdateTasks(ctx, &cloud.DescribeRollingUpdateTasksRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb})
	ok(t, err)
	if len(tasks.Tasks) != 2 || tasks.Tasks[0].Status != cloud.RollingUpdateFinished || tasks.Tasks[0].Result != "Succeeded" || tasks.Tasks[1].Status != cloud.RollingUpdateRunning {
		t.Fatalf("tasks %+v", tasks.Tasks)
	}
	_, err = env.ClientAs(cloudsim.SecondAccount).FinishRollingUpdateTask(ctx, &cloud.FinishRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, TaskId: tasks.Tasks[1].TaskId})
	wantCode(t, err, cloud.CodeResourceNotFound)
}

// The refusal names the task that holds the group: its ID, its
// description (or that it has none) and since when it runs.
func TestRollingUpdateTaskRefusalNamesTheHolder(t *testing.T) {
	env := cloudsimtest.Start(t)
	ctx := t.Context()
	first, err := env.Client.CreateRollingUpdateTask(ctx, &cloud.CreateRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb})
	ok(t, err)
	_, err = env.Client.CreateRollingUpdateTask(ctx, &cloud.CreateRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWeb, Description: "mine"})
	apiErr := wantCode(t, err, cloud.CodeRollingUpdateRunning)
	for _, want := range []string{"held by rolling update task " + first.TaskId + " (no description, running since 20", "finish or cancel it"} {
		if !strings.Contains(apiErr.Message, want) {
			t.Fatalf("refusal %q does not say %q", apiErr.Message, want)
		}
	}
	if strings.Contains(apiErr.Message, "()") {
		t.Fatalf("refusal %q has an empty holder", apiErr.Message)
	}

	_, err = env.Client.CreateRollingUpdateTask(ctx, &cloud.CreateRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin, Description: "imagefleet rollout/asg-win"})
	ok(t, err)
	_, err = env.Client.CreateRollingUpdateTask(ctx, &cloud.CreateRollingUpdateTaskRequest{RegionId: cloudsim.SeedRegion, ScalingGroupId: cloudsim.GroupWin})
	apiErr = wantCode(t, err, cloud.CodeRollingUpdateRunning)
	if !strings.Contains(apiErr.Message, `(description "imagefleet rollout/asg-win", running since`) {
		t.Fatalf("refusal %q does not name the holder's description", apiErr.Message)
	}
}
