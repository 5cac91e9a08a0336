package model_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/model"
)

func TestSpecMarkdownShowsTheSetFieldsAndScriptsAsCode(t *testing.T) {
	md := model.SpecMarkdown(model.RolloutSpec{
		ScalingGroupID: "asg-web", RegionID: "cn-hangzhou", TaskType: model.TaskScript,
		Script:  &model.ScriptChange{Type: model.ScriptShell, Script: "#!/bin/sh\necho a|b\n"},
		Batches: 3, PausePolicy: model.PauseEachBatch, Description: "patch | pipe",
	})
	require.True(t, strings.HasPrefix(md, "| field | value |\n|---|---|\n"), md)
	require.Contains(t, md, "| scalingGroupId | `asg-web` |")
	require.Contains(t, md, "| batches | `3` |")
	require.Contains(t, md, "| script.type | `"+model.ScriptShell+"` |")
	require.Contains(t, md, `| description | `+"`patch \\| pipe`"+` |`, "a pipe does not break the table")
	require.Contains(t, md, "**script.script**\n\n```\n#!/bin/sh\necho a|b\n```\n")
	require.NotContains(t, md, "errorThreshold", "fields left zero are not listed")
}

func TestSpecMarkdownIsBounded(t *testing.T) {
	ids := make([]string, 10000)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-%08d", i)
	}
	md := model.SpecMarkdown(model.RolloutSpec{ScalingGroupID: "asg", Instances: ids,
		Script: &model.ScriptChange{Script: strings.Repeat("echo x\n", 5000)}})
	require.Contains(t, md, "… and 9980 more (10000 in all)")
	require.Contains(t, md, "more bytes)")
	require.Less(t, len(md), 17<<10)

	require.Empty(t, model.SpecMarkdown(model.RolloutSpec{}))
	require.Contains(t, model.SpecMarkdown(model.DistributeSpec{Tags: map[string]string{"b": "2", "a": "1"}}), "`a=1, b=2`")
}
