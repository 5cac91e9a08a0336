package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/model"
)

// item 17: an image update has no exit code: EXIT shows "-", not 0.
func TestRolloutInstancesExitColumn(t *testing.T) {
	for taskType, want := range map[string]string{model.TaskImage: "-", model.TaskScript: "3"} {
		var out bytes.Buffer
		printInstances(&out, taskType, []model.InstanceProgress{
			{InstanceID: "i-01", Batch: 1, State: model.InstanceFailed, Attempts: 1, ExitCode: 3, Error: "failed"},
		})
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if fields := strings.Fields(lines[1]); fields[4] != want {
			t.Errorf("%s: EXIT %q, want %q (%s)", taskType, fields[4], want, lines[1])
		}
	}
}

// The status of an image update says what new instances boot from, and
// what they booted from before the task.
func TestRolloutStatusShowsTheSource(t *testing.T) {
	before := model.ScalingSource{LaunchTemplateID: "lt-web-hz", LaunchTemplateVersion: "Default", Version: 1, ImageID: "m-webapp-v1"}
	now := before
	now.Version, now.ImageID = 2, "m-webapp-v2"
	var out bytes.Buffer
	printRollout(&out, &model.RolloutState{ScalingGroupID: "asg-web-hz", TaskType: model.TaskImage, Status: model.RolloutSucceeded, SourceBefore: &before, Source: &now})
	want := "New instances boot from: launch template lt-web-hz version 2 (Default; image m-webapp-v2) (before the task: launch template lt-web-hz version 1 (Default; image m-webapp-v1))\n"
	if !strings.Contains(out.String(), want) {
		t.Errorf("status:\n%s\nwant a line %q", out.String(), want)
	}
	out.Reset()
	printRollout(&out, &model.RolloutState{ScalingGroupID: "asg-web-hz", TaskType: model.TaskScript, Status: model.RolloutSucceeded})
	if strings.Contains(out.String(), "boot from") {
		t.Errorf("a script task's status names a source:\n%s", out.String())
	}
}
