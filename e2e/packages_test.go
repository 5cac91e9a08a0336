package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// TestPackagesWithStarter: every package type created, published and
// locked with the starter; a template rendered for a delivered region; the
// permission enforced for another account until a service whitelists it.
func TestPackagesWithStarter(t *testing.T) {
	e := newEnv(t, 0.0005)
	dir := t.TempDir()
	file := filepath.Join(dir, "install.tar.gz")
	require.NoError(t, os.WriteFile(file, []byte("install v1"), 0o644))
	chart := filepath.Join(dir, "web-0.1.0.tgz")
	require.NoError(t, os.WriteFile(chart, []byte("\x1f\x8bchart v1"), 0o644)) // gzip magic: a packaged chart
	common := []string{"--version", "v1_0", "--description", "end-to-end package", "--source-region", cloudsim.SeedRegion}

	for _, c := range []struct {
		typ, pkg string
		content  []string
	}{
		{model.PackageFile, "e2e_files", []string{"--file", file}},
		{model.PackageAcrImage, "e2e_ctr", []string{"--image-ref", "nginx:1.25", "--repo", "web", "--repo-tag", "1.25"}},
		{model.PackageHelmChart, "e2e_chart", []string{"--chart", chart, "--repo", "web-chart", "--repo-tag", "0.1.0"}},
		{model.PackageEcsImage, "e2e_image", []string{"--image", cloudsim.ImageWebappV1}},
	} {
		args := append([]string{"package", "create", "--type", c.typ, "--package", c.pkg, "--regions", cloudsim.SeedRegion + ",eu-west-1"}, common...)
		out, code := e.starter(append(args, c.content...)...)
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "draft version v1_0 created")

		out, code = e.starter("package", "version", "publish", "--package", c.pkg, "--version", "v1_0")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, "Published")
		switch c.typ {
		case model.PackageFile:
			require.Contains(t, out, "oss-eu-west-1-internal.aliyuncs.com/e2e_files/v1_0/install.tar.gz")
			require.Contains(t, out, "internal endpoint")
		case model.PackageAcrImage, model.PackageHelmChart:
			require.Contains(t, out, "computenest-registry.eu-west-1.cr.aliyuncs.com/computenest-"+cloudsim.DefaultAccount)
			require.Contains(t, out, "only over the internet")
		}
		out, code = e.starter("package", "version", "status", "--package", c.pkg, "--version", "v1_0")
		require.Equal(t, 0, code, out)
		require.Contains(t, out, model.PhasePublished)
		require.Regexp(t, `eu-west-1 +Available`, out)
		art, err := e.cloudC.GetArtifact(t.Context(), &cloud.GetArtifactRequest{Name: c.pkg})
		require.NoError(t, err)
		require.Equal(t, cloud.ArtifactAvailable, art.Artifact.Versions[0].Status, c.typ)

		if c.typ == model.PackageAcrImage {
			recordHistory(t, e.client, model.PublishWorkflowID(c.pkg, "v1_0"), "publish_acr_image.json")
		}
		// Locked: publishing again is refused before anything starts.
		out, code = e.starter("package", "version", "publish", "--package", c.pkg, "--version", "v1_0")
		require.Equal(t, 2, code, out)
		require.Contains(t, out, "locked")
	}

	// The published image version maps a template in a delivered region only.
	tpl := filepath.Join(dir, "web.yaml")
	require.NoError(t, os.WriteFile(tpl, []byte("Resources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: m-webapp-v1 # source\n"), 0o644))
	art, err := e.cloudC.GetArtifact(t.Context(), &cloud.GetArtifactRequest{Name: "e2e_image"})
	require.NoError(t, err)
	euImage := art.Artifact.Versions[0].ImageDelivery["eu-west-1"]
	require.NotEmpty(t, euImage)
	out, code := e.starter("package", "render", "--template", tpl, "--package", "e2e_image", "--version", "v1_0", "--region", "eu-west-1")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "ImageId: "+euImage+" # source")
	out, code = e.starter("package", "render", "--template", tpl, "--package", "e2e_image", "--version", "v1_0", "--region", "us-east-1")
	require.Equal(t, 2, code, out)
	require.Contains(t, out, "not distributed to us-east-1")

	// Private until a service whitelists the second account.
	second := cloud.NewClient(e.stack.CloudEndpoint(), cloudsim.SecondAccount)
	files, err := e.cloudC.GetArtifact(t.Context(), &cloud.GetArtifactRequest{Name: "e2e_files"})
	require.NoError(t, err)
	url := files.Artifact.Versions[0].Delivery["eu-west-1"]
	host, key, _ := strings.Cut(strings.TrimPrefix(url, "https://"), "/")
	bucket, _, _ := strings.Cut(host, ".")
	get := &cloud.GetObjectRequest{RegionId: "eu-west-1", Bucket: bucket, Key: key}
	_, err = second.GetObject(t.Context(), get)
	require.True(t, cloud.IsCode(err, cloud.CodeAccessDenied), err)

	out, code = e.starter("service", "create", "--name", "shop", "--visibility", "Private", "--whitelist", cloudsim.SecondAccount, "--package", "e2e_files")
	require.Equal(t, 0, code, out)
	obj, err := second.GetObject(t.Context(), get)
	require.NoError(t, err)
	require.Equal(t, "install v1", string(obj.Content))

	// Deleting the package removes what it delivered.
	out, code = e.starter("package", "delete", "e2e_files", "--yes")
	require.Equal(t, 0, code, out)
	_, err = e.cloudC.HeadObject(t.Context(), &cloud.HeadObjectRequest{RegionId: "eu-west-1", Bucket: bucket, Key: key})
	require.True(t, cloud.IsCode(err, cloud.CodeNoSuchKey), err)
}

func TestPublishFileDropRegionWithStarter(t *testing.T) {
	e := newEnv(t, 0.0005)
	// London refuses the copy, twice: both of the region's --copy-attempts.
	e.addFault(cloud.Fault{Kind: cloud.FaultQuota, Action: "CopyObject", Region: "eu-west-1", Count: 2})
	file := filepath.Join(t.TempDir(), "install.tar.gz")
	require.NoError(t, os.WriteFile(file, []byte("install v1"), 0o644))
	out, code := e.starter("package", "create", "--type", model.PackageFile, "--package", "e2e_drop", "--version", "v1_0",
		"--description", "operator drops a region", "--source-region", cloudsim.SeedRegion, "--file", file,
		"--regions", cloudsim.SeedRegion+",cn-shanghai,eu-west-1")
	require.Equal(t, 0, code, out)

	out, code = e.starter("package", "version", "publish", "--package", "e2e_drop", "--version", "v1_0", "--copy-attempts", "2", "--exit-on-pause")
	require.Equal(t, 4, code, out)
	require.Contains(t, out, "waiting for operator decision for eu-west-1")
	id := model.PublishWorkflowID("e2e_drop", "v1_0")

	out, code = e.starter("drop-region", id, cloudsim.SeedRegion)
	require.Equal(t, 3, code, "a decision for a region that did not fail is refused")
	require.Contains(t, out, "applies only to a failed region")
	out, code = e.starter("drop-region", id, "eu-west-1")
	require.Equal(t, 0, code, out)

	var result model.PublishResult
	require.NoError(t, e.client.GetWorkflow(t.Context(), id, "").Get(t.Context(), &result))
	require.Equal(t, []string{"eu-west-1"}, result.Dropped)
	require.Len(t, result.Delivery, 2)
	require.Equal(t, model.EndpointInternal, result.Endpoint)
	art, err := e.cloudC.GetArtifact(t.Context(), &cloud.GetArtifactRequest{Name: "e2e_drop"})
	require.NoError(t, err)
	require.Equal(t, result.Delivery, art.Artifact.Versions[0].Delivery)
	require.Equal(t, map[string]int{"cn-shanghai": 1}, countEntries(e.ledger(), "CopyObject"), "one copy; the refused one left nothing")
	recordHistory(t, e.client, id, "publish_file_drop_region.json")
}
