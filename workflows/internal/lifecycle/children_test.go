package lifecycle

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/model"
)

func TestChildWaitsShowsTheFirstExpectedChildThatWaits(t *testing.T) {
	c := &ChildWaits{waits: map[string]model.ChildWait{}}
	_, waiting := c.Waiting()
	require.False(t, waiting)
	c.Expect("distribute/a/v1")
	c.Expect("distribute/b/v1")
	c.Expect("distribute/a/v1")
	require.Equal(t, []string{"distribute/a/v1", "distribute/b/v1"}, c.expected, "expected once")
	c.waits["distribute/b/v1"] = model.ChildWait{WorkflowID: "distribute/b/v1", Operation: model.OperationDistribute, WaitingFor: "operator decision for eu-west-1"}
	c.waits["distribute/a/v1"] = model.ChildWait{WorkflowID: "distribute/a/v1", Operation: model.OperationDistribute, WaitingFor: "operator decision for cn-shanghai"}
	w, waiting := c.Waiting()
	require.True(t, waiting)
	require.Equal(t, "distribute/a/v1", w.WorkflowID, "in the order the children were expected")
	require.Equal(t, "operator decision for cn-shanghai, sent to child workflow distribute/a/v1 (distribute)", w.Text())

	require.True(t, c.Forget("distribute/a/v1"), "it was shown waiting")
	w, _ = c.Waiting()
	require.Equal(t, "distribute/b/v1", w.WorkflowID)
	require.True(t, c.Forget("distribute/b/v1"))
	require.False(t, c.Forget("distribute/b/v1"), "forgotten already")
	_, waiting = c.Waiting()
	require.False(t, waiting)
}
