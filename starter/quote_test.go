package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShownIDQuotesWhatATerminalWouldHide(t *testing.T) {
	require.Equal(t, "distribute/webapp/v1_0_0", shownID("distribute/webapp/v1_0_0"))
	require.Equal(t, `"distribute/a\x01b/v1_0"`, shownID("distribute/a\x01b/v1_0"))
	require.Equal(t, `"rollout/asg\x1b[31m"`, shownID("rollout/asg\x1b[31m"))
	require.Equal(t, `"distribute/a\u202eb/v1"`, shownID("distribute/a\u202eb/v1"), "a right-to-left override")
	require.Equal(t, `"distribute/\xff/v1"`, shownID("distribute/\xff/v1"), "invalid UTF-8")
}
