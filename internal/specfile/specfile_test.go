package specfile_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/internal/specfile"
	"github.com/imagefleet/imagefleet/model"
)

func TestSpecFileErrorsPointAtTheProblem(t *testing.T) {
	for name, tc := range map[string]struct{ file, data, want string }{
		"misspelled field": {"spec.yaml", "package: webapp\nversion: v1_0\ndescripton: x\n", `spec.yaml: unknown field "descripton" in model.DistributeSpec`},
		"json misspelled":  {"spec.json", `{"package":"webapp","regoins":["a"]}`, `spec.json: unknown field "regoins"`},
		"truncated json":   {"spec.json", "{\"package\": \"webapp\",\n\"version\": ", "spec.json:2:12: invalid JSON: the document ends before"},
		"bad json":         {"spec.json", "{\"package\": \"webapp\",\n  \"version\" \"v1\"}", "spec.json:2:13: invalid JSON"},
		"yaml bad indent":  {"spec.yaml", "package: webapp\nversion: v1\nregions:\n  - a\n  - b\n bad: x\n", "spec.yaml:6: invalid YAML"},
	} {
		t.Run(name, func(t *testing.T) {
			var spec model.DistributeSpec
			require.ErrorContains(t, specfile.Decode(tc.file, []byte(tc.data), &spec), tc.want)
		})
	}
	var spec model.DistributeSpec
	require.NoError(t, specfile.Decode("spec.yaml", []byte("package: webapp\nregions: [a, b]\n"), &spec))
	require.Equal(t, []string{"a", "b"}, spec.Regions)
}
