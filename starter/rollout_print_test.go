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
