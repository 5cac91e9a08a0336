package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// Transient errors on a region's copy (eight 5xx, a throttle with
// Retry-After) are waited out within model.StepDeadline: they do not use the
// region's copyAttempts (here 1, so that any counted failure would ask the
// operator, and --exit-on-pause would end the starter with 4). Issue 18,
// item 2.
func TestTransientCopyErrorsDoNotUseCopyAttempts(t *testing.T) {
	e := newEnv(t, 0.0005)
	faults := func(action string) {
		e.addFault(cloud.Fault{Kind: cloud.FaultTransient, Action: action, Region: "eu-west-1", Count: 8})
		e.addFault(cloud.Fault{Kind: cloud.FaultThrottle, Action: action, Region: "cn-shanghai", Count: 1, RetryAfter: time.Second})
	}

	t.Run("CopyImage of a distribution", func(t *testing.T) {
		faults("CopyImage")
		out, code := e.starter("distribute", "--package", "e2e_transient", "--version", "v1_0_0",
			"--description", "transient errors on the copies", "--source-region", cloudsim.SeedRegion,
			"--source-image", cloudsim.ImageWebappV1, "--regions", "cn-shanghai,eu-west-1", "--copy-attempts", "1", "--exit-on-pause")
		require.Equal(t, 0, code, out)
		p := e.progress(model.DistributeWorkflowID("e2e_transient", "v1_0_0"))
		for _, r := range p.Regions {
			require.Equal(t, model.RegionAvailable, r.State, r.Region)
			require.Equal(t, 1, r.Attempts, "%s: a transient error is not an attempt", r.Region)
			require.Len(t, r.Copies, 1, r.Region)
		}
		require.Equal(t, map[string]int{"cn-shanghai": 1, "eu-west-1": 1}, countEntries(e.ledger(), "CopyImage"))
		requireFaultsFired(t, e, "CopyImage")
	})

	t.Run("CopyObject of a File publication", func(t *testing.T) {
		faults("CopyObject")
		file := filepath.Join(t.TempDir(), "install.tar.gz")
		require.NoError(t, os.WriteFile(file, []byte("install v1"), 0o644))
		out, code := e.starter("package", "create", "--type", model.PackageFile, "--package", "e2e_transient_files", "--version", "v1_0",
			"--description", "transient errors on the copies", "--source-region", cloudsim.SeedRegion, "--file", file,
			"--regions", cloudsim.SeedRegion+",cn-shanghai,eu-west-1")
		require.Equal(t, 0, code, out)
		out, code = e.starter("package", "version", "publish", "--package", "e2e_transient_files", "--version", "v1_0", "--copy-attempts", "1", "--exit-on-pause")
		require.Equal(t, 0, code, out)
		v, err := e.client.QueryWorkflow(t.Context(), model.PublishWorkflowID("e2e_transient_files", "v1_0"), "", model.QueryProgress)
		require.NoError(t, err)
		var p model.PublishProgress
		require.NoError(t, v.Get(&p))
		for _, r := range p.Regions {
			require.Equal(t, model.RegionAvailable, r.State, r.Region)
			require.Equal(t, 1, r.Attempts, "%s: a transient error is not an attempt", r.Region)
		}
		require.Equal(t, map[string]int{"cn-shanghai": 1, "eu-west-1": 1}, countEntries(e.ledger(), "CopyObject"))
		requireFaultsFired(t, e, "CopyObject")
	})
}

// requireFaultsFired checks that the faults on action were spent (the cloud
// drops a counted fault once it has fired Count times): the test met the
// errors it is about.
func requireFaultsFired(t *testing.T, e *env, action string) {
	t.Helper()
	faults, err := e.cloudC.Admin().Faults(t.Context())
	require.NoError(t, err)
	for _, f := range faults {
		require.NotEqual(t, action, f.Action, "fault %s %s in %s fired %d of %d times", f.Kind, f.Action, f.Region, f.Fired, f.Count)
	}
}
