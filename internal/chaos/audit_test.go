package chaos

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

func TestCheckOnceFindsARepeatedSideEffect(t *testing.T) {
	owner := map[string]string{"tok-1": "distribute/a/v1", "tok-2": "distribute/a/v1"}
	ok := []cloud.LedgerEntry{
		{Seq: 1, Action: "CopyImage", Account: "1", ResourceId: "m-1", ClientToken: "tok-1"},
		{Seq: 2, Action: "CopyImage", Account: "1", ResourceId: "m-2", ClientToken: "tok-2"},
		{Seq: 3, Action: "EnterStandby", Account: "1", ResourceId: "i-1"}, // not a creation
	}
	rep := &Report{}
	checkOnce(rep, ok, owner)
	require.Empty(t, rep.Violations)
	require.True(t, rep.Checks[0].OK)

	rep = &Report{}
	checkOnce(rep, append(ok, cloud.LedgerEntry{Seq: 4, Action: "CopyImage", Account: "1", ResourceId: "m-3", ClientToken: "tok-1"}), owner)
	require.Len(t, rep.Violations, 1)
	require.Contains(t, rep.Violations[0], "repeated for one step attempt")
	require.False(t, rep.Checks[0].OK)
}

// A bulk RunCommand is one call with one token for many instances: one
// entry per instance is right, a second entry for the same instance is not.
func TestCheckOnceCountsBulkCallsPerInstance(t *testing.T) {
	owner := map[string]string{"tok-chunk": "rollout/asg-1"}
	bulk := []cloud.LedgerEntry{
		{Seq: 1, Action: "RunCommand", Account: "1", ResourceId: "i-1", ClientToken: "tok-chunk"},
		{Seq: 2, Action: "RunCommand", Account: "1", ResourceId: "i-2", ClientToken: "tok-chunk"},
		{Seq: 3, Action: "StartExecution", Account: "1", ResourceId: "i-1", ClientToken: "tok-chunk"},
		{Seq: 4, Action: "StartExecution", Account: "1", ResourceId: "i-2", ClientToken: "tok-chunk"},
	}
	rep := &Report{}
	checkOnce(rep, bulk, owner)
	require.Empty(t, rep.Violations)

	rep = &Report{}
	checkOnce(rep, append(bulk, cloud.LedgerEntry{Seq: 5, Action: "RunCommand", Account: "1", ResourceId: "i-2", ClientToken: "tok-chunk"}), owner)
	require.Len(t, rep.Violations, 1)
	require.Contains(t, rep.Violations[0], "RunCommand i-2 repeated for one step attempt")
}

func TestCheckOnceFindsASideEffectNoStepAskedFor(t *testing.T) {
	rep := &Report{}
	checkOnce(rep, []cloud.LedgerEntry{
		{Seq: 1, Action: "RunInstances", Account: "1", ResourceId: "i-9"},
		{Seq: 2, Action: "ReplaceSystemDisk", Account: "1", ResourceId: "i-1", ClientToken: "someone-else"},
	}, map[string]string{})
	require.Len(t, rep.Violations, 2)
	require.False(t, rep.Checks[0].OK)
}

func TestAuditBuildsFindsLeftResources(t *testing.T) {
	r := &run{}
	fresh := []cloud.LedgerEntry{
		{Action: "CreateVpc", ResourceType: "Vpc", ResourceId: "vpc-1"},
		{Action: "RunInstances", ResourceType: "Instance", ResourceId: "i-1"},
		{Action: "CreateImage", ResourceType: "Image", ResourceId: "m-out"},
		{Action: "CreateImage", ResourceType: "Image", ResourceId: "m-tmp"},
		{Action: "DeleteInstances", ResourceType: "Instance", ResourceId: "i-1"},
	}
	execs := []*execution{{result: &model.BuildResult{ImageID: "m-out"}}}
	rep := &Report{}
	r.auditBuilds(rep, fresh, nil, func(string) *op { return nil }, execs)
	require.ElementsMatch(t, []string{"leak: build Vpc vpc-1 left behind", "leak: build Image m-tmp left behind"}, rep.Violations)

	rep = &Report{}
	r.auditBuilds(rep, append(fresh,
		cloud.LedgerEntry{Action: "DeleteVpc", ResourceId: "vpc-1"},
		cloud.LedgerEntry{Action: "DeleteImage", ResourceId: "m-tmp"}), nil, func(string) *op { return nil }, execs)
	require.Empty(t, rep.Violations)
}

func TestCollectTokensFindsNestedTokens(t *testing.T) {
	in := map[string]any{
		"Region": "cn-hangzhou", "ClientToken": "a",
		"Changes": []any{map[string]any{"instanceId": "i-1", "clientToken": "b"}, map[string]any{"ClientToken": ""}},
	}
	got := map[string]bool{}
	collectTokens(in, got)
	require.Equal(t, map[string]bool{"a": true, "b": true}, got)
}

func TestScheduleIsReproducible(t *testing.T) {
	cfg := Defaults
	cfg.Seed = 42
	a, b := schedule(cfg, newRand(cfg.Seed, 1)), schedule(cfg, newRand(cfg.Seed, 1))
	require.Equal(t, a, b)
	require.Len(t, a, cfg.WorkerKills+cfg.ServerRestarts+cfg.CloudRestarts)
	require.Equal(t, startOffsets(cfg, 5), startOffsets(cfg, 5))
}

func TestAuditPackagesFindsADraftLeftByAnAbortedDistribution(t *testing.T) {
	dist := &op{Kind: "distribute", Role: roleAbort, Package: "chaos_dist_2", Version: "v1_0", WorkflowID: "distribute/chaos_dist_2/v1_0"}
	pub := &op{Kind: "publish", Role: roleAbort, Package: "chaos_pub_9", Version: "v1_0", WorkflowID: "publish/chaos_pub_9/v1_0"}
	opOf := func(id string) *op {
		for _, o := range []*op{dist, pub} {
			if o.WorkflowID == id {
				return o
			}
		}
		return nil
	}
	fresh := []cloud.LedgerEntry{
		{Action: "CreateArtifact", ClientToken: "tok-d", Detail: "package chaos_dist_2 (EcsImage) created with draft version v1_0"},
		{Action: "CreateArtifact", ClientToken: "harness", Detail: "package chaos_pub_9 (File) created with draft version v1_0"},
	}
	own := createdDrafts(fresh, map[string]string{"tok-d": dist.WorkflowID}, opOf)
	require.Equal(t, map[*op]bool{dist: true}, own, "the publication's draft is the user's")
	draft := []cloud.ArtifactVersion{{VersionName: "v1_0", Status: cloud.ArtifactDraft}}

	rep := &Report{}
	require.False(t, checkLeftVersion(rep, dist, draft, own[dist]))
	require.Equal(t, []string{"leak: distribute/chaos_dist_2/v1_0: draft version v1_0 of chaos_dist_2 that it created is left (Created)"}, rep.Violations)

	rep = &Report{}
	require.True(t, checkLeftVersion(rep, dist, nil, own[dist]), "its draft deleted")
	require.True(t, checkLeftVersion(rep, pub, draft, own[pub]), "the user's draft kept, nothing delivered")
	require.Empty(t, rep.Violations)

	delivered := []cloud.ArtifactVersion{{VersionName: "v1_0", Status: cloud.ArtifactDraft, Delivery: map[string]string{"cn-shanghai": "oss://x"}}}
	require.False(t, checkLeftVersion(rep, pub, delivered, own[pub]))
	require.Len(t, rep.Violations, 1)

	require.True(t, endedWithoutPublishing(&op{Kind: "distribute", State: model.StateFailed}))
	require.False(t, endedWithoutPublishing(&op{Kind: "distribute", State: model.StateSucceeded}))
}
