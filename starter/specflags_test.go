package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/model"
)

func writeSpec(t *testing.T, text string) string {
	path := filepath.Join(t.TempDir(), "spec.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// loadRolloutFlags parses args as `rollout start` does and returns the spec.
func loadRolloutFlags(t *testing.T, args ...string) (model.RolloutSpec, error) {
	cmd := &cobra.Command{Use: "test"}
	type S = model.RolloutSpec
	spec := newSpecFlags(cmd, func() S { return S{RegionID: "cn-hangzhou", Batches: 1} })
	spec.flag("region", "", func(s *S) any { return &s.RegionID })
	spec.flag("type", "", func(s *S) any { return &s.TaskType })
	spec.flag("image", "", func(s *S) any { return &ensure(&s.Image).ImageID })
	spec.flag("batches", "", func(s *S) any { return &s.Batches })
	spec.flag("instances", "", func(s *S) any { return &s.Instances })
	require.NoError(t, cmd.ParseFlags(args))
	return spec.load()
}

// A flag set on the command line overrides the file's field; a flag left
// alone does not, even when the file leaves the field out (the default
// stays) or the flag has a default of its own.
func TestSpecFlagsOverrideTheFile(t *testing.T) {
	file := writeSpec(t, "regionId: eu-west-1\ntaskType: Image\nimage:\n  imageId: m-file\n  rollbackImageId: m-old\ninstances: [i-1, i-2]\n")

	s, err := loadRolloutFlags(t, "--spec", file)
	require.NoError(t, err)
	require.Equal(t, model.RolloutSpec{RegionID: "eu-west-1", TaskType: "Image", Batches: 1,
		Image: &model.ImageChange{ImageID: "m-file", RollbackImageID: "m-old"}, Instances: []string{"i-1", "i-2"}}, s)

	s, err = loadRolloutFlags(t, "--spec", file, "--image", "m-flag", "--batches", "3", "--instances", "i-9")
	require.NoError(t, err)
	require.Equal(t, model.RolloutSpec{RegionID: "eu-west-1", TaskType: "Image", Batches: 3,
		Image: &model.ImageChange{ImageID: "m-flag", RollbackImageID: "m-old"}, Instances: []string{"i-9"}}, s,
		"a nested field is overridden alone; a list is replaced, not appended to")

	s, err = loadRolloutFlags(t, "--type", "image", "--image", "m-flag")
	require.NoError(t, err)
	require.Equal(t, model.RolloutSpec{RegionID: "cn-hangzhou", TaskType: "image", Batches: 1, Image: &model.ImageChange{ImageID: "m-flag"}}, s,
		"without a file: the defaults and the flags")
}

func TestSpecFlagsRefuseABadFile(t *testing.T) {
	_, err := loadRolloutFlags(t, "--spec", writeSpec(t, "regionId: eu-west-1\nbatchez: 2\n"))
	require.Equal(t, exitInvalid, exitCode(t, err))
	require.ErrorContains(t, err, "batchez")
	_, err = loadRolloutFlags(t, "--spec", filepath.Join(t.TempDir(), "missing.yaml"))
	require.Equal(t, exitInvalid, exitCode(t, err))
}

// rollout start keeps the one change its task type names, as it did when
// each type's flags built the spec.
func TestRolloutChangeKeepsTheTaskTypesChange(t *testing.T) {
	all := model.RolloutSpec{Image: &model.ImageChange{ImageID: "m-2"}, Script: &model.ScriptChange{Script: "echo hi"}, Package: &model.OOSPackageChange{Name: "agent"}}
	s := all
	s.TaskType = "script"
	got, err := rolloutChange(s, "")
	require.NoError(t, err)
	require.Equal(t, model.RolloutSpec{TaskType: model.TaskScript, Script: &model.ScriptChange{Type: model.ScriptShell, Script: "echo hi"}}, got)

	s = all
	s.TaskType = model.TaskImage
	got, err = rolloutChange(s, "")
	require.NoError(t, err)
	require.Equal(t, model.RolloutSpec{TaskType: model.TaskImage, Image: &model.ImageChange{ImageID: "m-2"}}, got)

	file := writeSpec(t, "Write-Output ok\n")
	got, err = rolloutChange(model.RolloutSpec{TaskType: "script", Script: &model.ScriptChange{Type: model.ScriptPowerShell}}, file)
	require.NoError(t, err)
	require.Equal(t, &model.ScriptChange{Type: model.ScriptPowerShell, Script: "Write-Output ok\n"}, got.Script)

	_, err = rolloutChange(model.RolloutSpec{}, "")
	require.Equal(t, exitInvalid, exitCode(t, err))
}
