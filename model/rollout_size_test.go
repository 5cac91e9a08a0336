package model

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRolloutStateOf2000InstancesFitsAPayload builds the state of a task on
// 2,000 instances, each with as much output and error as a task keeps, and
// checks that it stays well below Temporal's 2 MB payload limit: it is the
// answer of the progress query and the workflow's result.
func TestRolloutStateOf2000InstancesFitsAPayload(t *testing.T) {
	st := RolloutState{ScalingGroupID: "asg-big", Batches: make([]BatchProgress, 20)}
	for i := range 2000 {
		st.Instances = append(st.Instances, InstanceProgress{
			InstanceID: fmt.Sprintf("i-big%05d", i), Batch: i/100 + 1, State: InstanceFailed, Attempts: 3,
			Decision: "retry", ExitCode: 1, Output: strings.Repeat("x", MaxKeptOutput),
			Error: "command exited 1 on i-big00000: " + strings.Repeat("e", 120),
		})
	}
	data, err := json.Marshal(st)
	require.NoError(t, err)
	require.Less(t, len(data), 3<<19, "three quarters of the 2 MB payload limit at most")
}
