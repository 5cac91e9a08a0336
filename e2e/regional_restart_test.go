package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// A published version's canonical workflow ID started again by any client
// (here a raw Temporal client, as the temporal CLI does) answers with the
// publication: with an invalid input the start is refused, says so and
// points to the publication, and status still shows it (not Failed); with
// a valid input and other regions, status shows the publication's regions,
// none of the asked ones as dropped. Nothing reaches the cloud's ledger.
// Issue 18, item 7.
func TestRestartOfAPublishedVersionShowsItsPublication(t *testing.T) {
	e := newEnv(t, 0.0005)
	spec := model.DistributeSpec{Package: "e2e_restart", Version: "v1_0_0", Description: "published before the restart",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: []string{"cn-shanghai", "eu-west-1"}}
	out, code := e.starter("distribute", "--package", spec.Package, "--version", spec.Version, "--description", spec.Description,
		"--source-region", spec.SourceRegion, "--source-image", spec.SourceImage, "--regions", "cn-shanghai,eu-west-1")
	require.Equal(t, 0, code, out)
	id := model.DistributeWorkflowID(spec.Package, spec.Version)
	ledger := len(e.ledger())

	invalid := spec
	invalid.Description = "short"
	rawStart(t, e, id, model.DistributeWorkflowType, invalid)
	var res model.DistributionResult
	require.NoError(t, e.client.GetWorkflow(t.Context(), id, "").Get(t.Context(), &res))
	require.True(t, res.AlreadyPublished)
	require.Len(t, res.ImageIDs, 2)
	out, code = e.starter("status", id)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Phase:     Published")
	require.Contains(t, out, "Refused:   start: input refused (invalid spec: description must be 10–500 characters")
	require.Contains(t, out, "version v1_0_0 of package e2e_restart is published")
	require.Regexp(t, `eu-west-1 +Available +m-`, out)
	require.Equal(t, model.StateSucceeded, e.state(id))
	recordHistory(t, e.client, id, "distribute_refused_restart.json")

	other := spec
	other.Regions = []string{"cn-beijing"}
	rawStart(t, e, id, model.DistributeWorkflowType, other)
	res = model.DistributionResult{}
	require.NoError(t, e.client.GetWorkflow(t.Context(), id, "").Get(t.Context(), &res))
	require.True(t, res.AlreadyPublished)
	require.Empty(t, res.Dropped, "the publication dropped nothing")
	out, code = e.starter("status", id)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `cn-shanghai +Available +m-`, out)
	require.NotContains(t, out, "Dropped")
	require.Contains(t, out, "published without cn-beijing")
	require.Len(t, e.ledger(), ledger, "the restarts changed nothing in the cloud")

	// A publication likewise (copyAttempts -1 is invalid).
	file := filepath.Join(t.TempDir(), "install.tar.gz")
	require.NoError(t, os.WriteFile(file, []byte("install v1"), 0o644))
	out, code = e.starter("package", "create", "--type", model.PackageFile, "--package", "e2e_restart_files", "--version", "v1_0",
		"--description", "published before the restart", "--source-region", cloudsim.SeedRegion, "--file", file, "--regions", cloudsim.SeedRegion+",eu-west-1")
	require.Equal(t, 0, code, out)
	out, code = e.starter("package", "version", "publish", "--package", "e2e_restart_files", "--version", "v1_0")
	require.Equal(t, 0, code, out)
	ledger = len(e.ledger())
	pid := model.PublishWorkflowID("e2e_restart_files", "v1_0")
	rawStart(t, e, pid, model.PublishWorkflowType, model.PublishSpec{Package: "e2e_restart_files", Version: "v1_0", CopyAttempts: -1})
	require.NoError(t, e.client.GetWorkflow(t.Context(), pid, "").Get(t.Context(), nil))
	out, code = e.starter("package", "version", "status", "--package", "e2e_restart_files", "--version", "v1_0")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Phase:     Published")
	require.Contains(t, out, "input refused (invalid spec: copyAttempts")
	require.Regexp(t, `eu-west-1 +Available`, out)
	require.Len(t, e.ledger(), ledger)
}

// A distribution to part of a draft's regions would publish and lock the
// version listing regions with nothing delivered: it is refused before
// anything starts (exit 2), as is a region list that does not overlap the
// draft's; a run started by another client refuses it before any copy.
// Distributing to all of the draft's regions works. Issue 18, item 8.
func TestDistributeToPartOfADraftsRegionsIsRefused(t *testing.T) {
	e := newEnv(t, 0.0005)
	out, code := e.starter("package", "create", "--type", model.PackageEcsImage, "--package", "e2e_subset", "--version", "v1_0",
		"--description", "a draft for two regions", "--source-region", cloudsim.SeedRegion, "--image", cloudsim.ImageWebappV1,
		"--regions", "cn-shanghai,eu-west-1")
	require.Equal(t, 0, code, out)
	distribute := func(regions string) (string, int) {
		return e.starter("distribute", "--package", "e2e_subset", "--version", "v1_0", "--description", "a draft for two regions",
			"--source-region", cloudsim.SeedRegion, "--source-image", cloudsim.ImageWebappV1, "--regions", regions)
	}
	out, code = distribute("cn-shanghai")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "leaves out eu-west-1")
	out, code = distribute("cn-beijing")
	require.Equal(t, 2, code, "a region list that does not overlap is refused before the start: %s", out)
	require.Contains(t, out, "does not support cn-beijing")

	id := model.DistributeWorkflowID("e2e_subset", "v1_0")
	rawStart(t, e, id, model.DistributeWorkflowType, model.DistributeSpec{Package: "e2e_subset", Version: "v1_0", Description: "a draft for two regions",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: []string{"cn-shanghai"}})
	err := e.client.GetWorkflow(t.Context(), id, "").Get(t.Context(), nil)
	require.ErrorContains(t, err, "leaves out eu-west-1")
	require.Empty(t, countEntries(e.ledger(), "CopyImage"), "refused before any copy")
	art, err := e.cloudC.GetArtifact(t.Context(), &cloud.GetArtifactRequest{Name: "e2e_subset"})
	require.NoError(t, err)
	require.Equal(t, cloud.ArtifactDraft, art.Artifact.Versions[0].Status, "the draft is neither published nor locked")

	out, code = distribute("eu-west-1,cn-shanghai")
	require.Equal(t, 0, code, out)
	art, err = e.cloudC.GetArtifact(t.Context(), &cloud.GetArtifactRequest{Name: "e2e_subset"})
	require.NoError(t, err)
	require.Len(t, art.Artifact.Versions[0].ImageDelivery, 2)
}
