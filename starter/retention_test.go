package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/cloudsim/cloudsimtest"
	"github.com/imagefleet/imagefleet/internal/specfile"
	"github.com/imagefleet/imagefleet/model"
)

// A lifecycle run's bad input is refused before anything starts (exit 2):
// a rule that keeps nothing by name, a package that does not exist. The app
// has no Temporal client: a start would fail differently.
func TestRetentionRunRefusesBadInputUpFront(t *testing.T) {
	sim := cloudsimtest.Start(t)
	a := &app{cloud: sim.Client}
	before := len(sim.Server.Ledger())
	for name, spec := range map[string]model.RetentionSpec{
		"no criterion":    {Rule: model.RetentionRule{Package: "webapp"}},
		"bad grace":       {Rule: model.RetentionRule{Package: "webapp", KeepNewest: 3, GracePeriod: "a week"}},
		"empty tag key":   {Rule: model.RetentionRule{Package: "webapp", KeepNewest: 3, ExcludeTags: []string{"=lts"}}},
		"no such package": {Rule: model.RetentionRule{Package: "nothing_here", KeepNewest: 3}},
	} {
		_, err := a.startRun(context.Background(), nil, a.retentionPlan(spec))
		require.Equal(t, exitInvalid, exitCode(t, err), "%s: %v", name, err)
	}
	require.Len(t, sim.Server.Ledger(), before)
}

// --dry-run sets the spec's dryRun; --dry-run=false asks to apply even a
// rule's first run; without the flag it is left to the workflow (null).
func TestRetentionDryRunFlag(t *testing.T) {
	for args, want := range map[string]*bool{"": nil, "--dry-run": new(true), "--dry-run=false": new(false)} {
		cmd := &cobra.Command{Use: "run"}
		sf := retentionFlags(cmd)
		argv := []string{"--package", "webapp", "--keep-newest", "2", "--exclude-tag", "release=lts", "--exclude-tag", "pinned"}
		if args != "" {
			argv = append(argv, args)
		}
		require.NoError(t, cmd.ParseFlags(argv))
		spec, err := sf.load()
		require.NoError(t, err)
		require.Equal(t, want, spec.DryRun, "%q", args)
		require.Equal(t, model.RetentionRule{Package: "webapp", KeepNewest: 2, ExcludeTags: []string{"release=lts", "pinned"}}, spec.Rule)
	}
}

// A retention schedule with a bad rule, a bad schedule or no package is
// refused before anything is asked of Temporal (exit 2).
func TestRetentionScheduleCreateRefusesBadInput(t *testing.T) {
	sim := cloudsimtest.Start(t)
	a := &app{cloud: sim.Client}
	every := model.ScheduleSpec{Every: "24h"}
	for name, spec := range map[string]model.RetentionScheduleSpec{
		"no criterion":    {Run: model.RetentionSpec{Rule: model.RetentionRule{Package: "webapp"}}, Schedule: every},
		"no spec":         {Run: model.RetentionSpec{Rule: model.RetentionRule{Package: "webapp", KeepNewest: 2}}},
		"bad cron":        {Run: model.RetentionSpec{Rule: model.RetentionRule{Package: "webapp", KeepNewest: 2}}, Schedule: model.ScheduleSpec{Cron: "61 * * * *"}},
		"no such package": {Run: model.RetentionSpec{Rule: model.RetentionRule{Package: "nothing_here", KeepNewest: 2}}, Schedule: every},
	} {
		err := a.createRetentionSchedule(context.Background(), io.Discard, spec)
		require.Equal(t, exitInvalid, exitCode(t, err), "%s: %v", name, err)
	}
}

// A deprecated version is not offered to new deployments: render refuses
// it (exit 2) unless --allow-deprecated.
func TestRenderRefusesDeprecatedVersion(t *testing.T) {
	sim := cloudsimtest.Start(t)
	ctx := context.Background()
	id, delivery, err := cloudsimtest.PublishImageVersion(ctx, sim.Client, cloudsimtest.ImageVersion{Package: "old_web", Version: "v1_0",
		SourceRegion: cloudsim.SeedRegion, SourceImage: cloudsim.ImageWebappV1, Regions: []string{"eu-west-1"}})
	require.NoError(t, err)
	_, err = sim.Client.ModifyArtifactVersion(ctx, &cloud.ModifyArtifactVersionRequest{ArtifactId: id, VersionName: "v1_0", Deprecated: true})
	require.NoError(t, err)
	tpl := filepath.Join(t.TempDir(), "web.yaml")
	require.NoError(t, os.WriteFile(tpl, []byte("ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: m-placeholder\n"), 0o644))
	render := func(extra ...string) (string, error) {
		cmd := packageRenderCommand(&app{cloud: sim.Client})
		var out strings.Builder
		cmd.SetOut(&out)
		cmd.SetErr(io.Discard)
		cmd.SetArgs(append([]string{"--template", tpl, "--package", "old_web", "--version", "v1_0", "--region", "eu-west-1"}, extra...))
		err := cmd.ExecuteContext(ctx)
		return out.String(), err
	}
	_, err = render()
	require.Equal(t, exitInvalid, exitCode(t, err), "%v", err)
	require.ErrorContains(t, err, "deprecated")
	out, err := render("--allow-deprecated")
	require.NoError(t, err)
	require.Contains(t, out, delivery["eu-west-1"])
}

// The spec file of docs/retention.md decodes strictly and is valid.
func TestRetentionSpecFileOfTheDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/retention.md")
	require.NoError(t, err)
	_, rest, _ := strings.Cut(string(doc), "```yaml\n")
	yaml, _, _ := strings.Cut(rest, "```")
	var spec model.RetentionSpec
	require.NoError(t, specfile.Decode("rule.yaml", []byte(yaml), &spec))
	require.NoError(t, spec.Validate())
	require.Equal(t, model.RetentionRule{Package: "webapp", KeepNewest: 5, KeepYoungerThan: "30d", GracePeriod: "7d", ExcludeTags: []string{"release=lts", "pinned"}}, spec.Rule)
	require.Equal(t, new(true), spec.DryRun)
}

// A rule on a build template's images is refused up front (exit 2) for a
// template that does not exist or a grace period (builds' images have none).
func TestBuildRetentionRefusesBadInput(t *testing.T) {
	sim := cloudsimtest.Start(t)
	a := &app{cloud: sim.Client}
	for name, rule := range map[string]model.RetentionRule{
		"no such template": {BuildTemplate: "ip-none", Region: cloudsim.SeedRegion, KeepNewest: 2},
		"grace period":     {BuildTemplate: "ip-none", Region: cloudsim.SeedRegion, KeepNewest: 2, GracePeriod: "1d"},
		"and a package":    {BuildTemplate: "ip-none", Region: cloudsim.SeedRegion, Package: "webapp", KeepNewest: 2},
		"unknown region":   {BuildTemplate: "ip-none", Region: "mars-1", KeepNewest: 2},
	} {
		_, err := a.startRun(context.Background(), nil, a.retentionPlan(model.RetentionSpec{Rule: rule}))
		require.Equal(t, exitInvalid, exitCode(t, err), "%s: %v", name, err)
	}
}
