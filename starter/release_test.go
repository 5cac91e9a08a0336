package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/model"
)

// issue 22: every release command sends its operator command, with its
// payload, to the release's canonical workflow ID.
func TestReleaseDecideCommands(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		cmd     string
		payload any
		want    string
	}{
		{[]string{"release", "approve", "web", "v2", "--by", "ana", "--comment", "canary clean"}, model.CommandApprove, model.ApproveCommand{By: "ana", Comment: "canary clean"}, "approve: accepted; the stage starts\n"},
		{[]string{"release", "hold", "web", "v2", "--reason", "freeze"}, model.CommandHold, model.HoldCommand{Reason: "freeze"}, "hold: accepted; held\n"},
		{[]string{"release", "resume", "web", "v2"}, model.CommandResume, model.ResumeCommand{}, "resume: accepted; promotion goes on\n"},
		{[]string{"release", "skip-group", "web", "v2", "asg-bj-1"}, model.CommandSkipGroup, model.SkipGroupCommand{ScalingGroupID: "asg-bj-1"}, "skip-group asg-bj-1: accepted\n"},
		{[]string{"release", "cancel", "web", "v2", "--reason", "wrong build"}, model.CommandCancel, model.CancelCommand{Reason: "wrong build"}, "cancel: accepted; the release stops\n"},
		{[]string{"release", "rollback", "web", "v2"}, model.CommandRollback, model.ReleaseRollbackCommand{}, "rollback: accepted;"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			c, sent := acceptingClient(t)
			root := rootCommand(&app{temporal: c, namespace: "default"})
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(tc.args)
			require.NoError(t, root.ExecuteContext(context.Background()))
			require.Contains(t, out.String(), tc.want)
			require.Len(t, *sent, 1)
			require.Equal(t, "release/web/v2", (*sent)[0].WorkflowID)
			require.Equal(t, tc.cmd, (*sent)[0].UpdateName)
			require.Equal(t, []any{tc.payload}, (*sent)[0].Args)
		})
	}
}

// An approval without who approves is invalid input: nothing is sent.
func TestReleaseApproveNeedsBy(t *testing.T) {
	t.Setenv("USER", "")
	c, sent := acceptingClient(t)
	root := rootCommand(&app{temporal: c, namespace: "default"})
	root.SetOut(&bytes.Buffer{})
	root.SetArgs([]string{"release", "approve", "web", "v2"})
	err := root.ExecuteContext(context.Background())
	require.Equal(t, exitInvalid, exitCode(t, err), "%v", err)
	require.ErrorContains(t, err, "by (who approves) is required")
	require.Empty(t, *sent)
}

const releaseYAML = `name: web
source:
  image: {region: cn-hangzhou, imageId: m-webapp-v1}
package: webapp
version: v2_0_0
description: web tier image v2
regions: [cn-hangzhou, cn-shanghai]
stages:
  - name: canary
    groups: [{scalingGroupId: %s, regionId: cn-hangzhou}]
    gate: {soak: 10m, verify: {maxUnhealthy: 0}}
  - name: rest
    groups: [{scalingGroupId: asg-win-hz, regionId: %s}]
    gate: {approval: true}
`

// A release spec is checked whole before anything starts: its rules (a
// group in a region the publication lacks), then the cloud (a group that
// does not exist). Both are invalid input (exit 2) and nothing starts.
func TestReleaseStartChecksTheSpecWhole(t *testing.T) {
	sim := cloudsimtest.Start(t)
	t.Setenv(config.EnvCloudEndpoint, sim.URL)
	for _, tc := range []struct {
		name, group, region, want string
	}{
		{"region not published", cloudsim.GroupWeb, "eu-west-1", "not one of the publication's regions"},
		{"unknown group", "asg-nope", "cn-hangzhou", "scaling groups not found: asg-nope (cn-hangzhou)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "release.yaml")
			require.NoError(t, os.WriteFile(file, []byte(strings.ReplaceAll(strings.Replace(strings.Replace(releaseYAML, "%s", tc.group, 1), "%s", tc.region, 1), "\t", "  ")), 0o600))
			c, _ := acceptingClient(t)
			root := rootCommand(&app{temporal: c, namespace: "default"})
			root.SetOut(&bytes.Buffer{})
			root.SetArgs([]string{"release", "start", "--spec", file})
			err := root.ExecuteContext(context.Background())
			require.Equal(t, exitInvalid, exitCode(t, err), "%v", err)
			require.ErrorContains(t, err, tc.want)
			c.AssertNotCalled(t, "ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything)
		})
	}
}
