package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// TestTwoWorkersKilledAndStoppedUnderLoad runs two workers under load (four
// distributions and a rolling update at once), kills one with SIGKILL and
// stops the other with SIGTERM mid-operation while a replacement takes
// over, and checks in the cloud's ledger that every operation completed
// with each side effect made exactly once.
func TestTwoWorkersKilledAndStoppedUnderLoad(t *testing.T) {
	e := newEnv(t, 0.003) // a 40 GiB copy takes about 8 s
	first := e.stack.Processes("worker")[0]
	second := e.startWorker()
	ctx := t.Context()

	regions := []string{"cn-shanghai", "cn-beijing", "ap-southeast-1"}
	var runs []client.WorkflowRun
	for i := range 4 {
		spec := model.DistributeSpec{Package: fmt.Sprintf("e2e_load_%d", i), Version: "v1_0_0", Description: "two workers under load",
			SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: regions}
		run, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: model.DistributeWorkflowID(spec.Package, spec.Version), TaskQueue: model.TaskQueue},
			model.DistributeWorkflowType, spec)
		require.NoError(t, err)
		runs = append(runs, run)
	}
	out, code := e.starter("rollout", "start", cloudsim.GroupWeb, "--type", "image", "--image", cloudsim.ImageWebappV2, "--batches", "2")
	require.Equal(t, 0, code, out)

	// Mid-operation: every copy started, none finished.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		entries := e.ledger()
		assert.Equal(c, len(regions)*4, countAll(entries, "CopyImage"))
		assert.NotEmpty(c, countResources(entries, "ReplaceSystemDisk"))
	}, time.Minute, 100*time.Millisecond)
	require.NoError(t, first.Kill(), "SIGKILL: a crash")
	replacement := e.startWorker()
	time.Sleep(time.Second)
	stopped := time.Now()
	require.NoError(t, second.Terminate(), "SIGTERM: the worker stops within its stop timeout")
	require.NoError(t, second.Err(), "a worker stopped by SIGTERM exits cleanly")
	t.Logf("SIGTERM → exit in %s", time.Since(stopped).Round(time.Millisecond))
	require.False(t, replacement.Exited())

	for _, run := range runs {
		var result model.DistributionResult
		require.NoError(t, run.Get(ctx, &result), run.GetID())
		require.Len(t, result.ImageIDs, len(regions), run.GetID())
	}
	out, code = e.starter("rollout", "status", cloudsim.GroupWeb, "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Succeeded")

	// Exactly-once effects, whichever worker made them.
	entries := e.ledger()
	copies := countEntries(entries, "CopyImage")
	for _, r := range regions {
		require.Equal(t, 4, copies[r], "one copy per distribution into %s", r)
	}
	require.Zero(t, countAll(entries, "DeleteImage"), "no copy was made twice and cleaned up")
	released := countResources(entries, "ReleaseArtifact")
	require.Len(t, released, 4)
	for artifact, n := range released {
		require.Equal(t, 1, n, artifact)
	}
	disks := countResources(entries, "ReplaceSystemDisk")
	require.Len(t, disks, len(webInstances()))
	for id, n := range disks {
		require.Equal(t, 1, n, "%s's disk replaced once", id)
	}
	images := e.imagesOf(webInstances()...)
	for id, img := range images {
		require.Equal(t, cloudsim.ImageWebappV2, img, id)
	}
	e.requireGroupRestored(cloudsim.GroupWeb, cloudsim.LBWeb, 100, []string{})
}

func countAll(entries []cloud.LedgerEntry, action string) int {
	n := 0
	for _, en := range entries {
		if en.Action == action {
			n++
		}
	}
	return n
}
