package model

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPackagePermission(t *testing.T) {
	for _, tc := range []struct {
		name     string
		services []AssociatedService
		want     Permission
	}{
		{"no service", nil, Permission{Visibility: VisibilityPrivate}},
		{"one public among private", []AssociatedService{{ID: "a"}, {ID: "b", Public: true}}, Permission{Visibility: VisibilityPublic}},
		{"all private", []AssociatedService{{ID: "a"}, {ID: "b"}}, Permission{Visibility: VisibilityPrivate}},
		{"whitelist", []AssociatedService{{ID: "a", Whitelist: []string{"2", "3"}}}, Permission{Visibility: VisibilityWhitelist, Accounts: []string{"2", "3"}}},
		{"whitelists merge", []AssociatedService{{ID: "a", Whitelist: []string{"3", "2"}}, {ID: "b", Whitelist: []string{"2"}}}, Permission{Visibility: VisibilityWhitelist, Accounts: []string{"2", "3"}}},
		{"public wins over whitelist", []AssociatedService{{ID: "a", Whitelist: []string{"2"}}, {ID: "b", Public: true}}, Permission{Visibility: VisibilityPublic}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, PackagePermission(tc.services))
		})
	}
}

func TestDistributeSpecValidate(t *testing.T) {
	valid := DistributeSpec{Package: "web_app", Version: "v1_0", Description: "ten chars!", SourceRegion: "cn-hangzhou", SourceImage: "m-1", Regions: []string{"cn-beijing"}}
	require.NoError(t, valid.Validate())

	tags := map[string]string{}
	for i := range 21 {
		tags[strings.Repeat("k", i+1)] = "v"
	}
	for _, tc := range []struct {
		name   string
		change func(*DistributeSpec)
		want   string
	}{
		{"short package", func(s *DistributeSpec) { s.Package = "ab" }, "package name"},
		{"long package", func(s *DistributeSpec) { s.Package = strings.Repeat("a", 129) }, "package name"},
		{"package with dash", func(s *DistributeSpec) { s.Package = "web-app" }, "package name"},
		{"long version", func(s *DistributeSpec) { s.Version = strings.Repeat("v", 51) }, "version name"},
		{"short description", func(s *DistributeSpec) { s.Description = "too short" }, "description must be 10–500"},
		{"long description", func(s *DistributeSpec) { s.Description = strings.Repeat("d", 501) }, "description must be 10–500"},
		{"21 tags", func(s *DistributeSpec) { s.Tags = tags }, "at most 20 tags"},
		{"no region", func(s *DistributeSpec) { s.Regions = nil }, "at least one distribution region"},
		{"unknown region", func(s *DistributeSpec) { s.Regions = []string{"cn-beijing", "moon-1"} }, "unknown region(s) moon-1"},
		{"repeated region", func(s *DistributeSpec) { s.Regions = []string{"cn-beijing", "cn-beijing"} }, "more than once"},
		{"unknown source region", func(s *DistributeSpec) { s.SourceRegion = "moon-1" }, "source region"},
		{"no source image", func(s *DistributeSpec) { s.SourceImage = "" }, "source image is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := valid
			tc.change(&s)
			require.ErrorContains(t, s.Validate(), tc.want)
		})
	}
	// Every problem is reported at once.
	err := DistributeSpec{}.Validate()
	require.Len(t, err.(*InvalidSpecError).Errs, 6)
}

func TestClientTokenIsDeterministic(t *testing.T) {
	require.Equal(t, ClientToken("a", "b"), ClientToken("a", "b"))
	require.NotEqual(t, ClientToken("a", "b"), ClientToken("ab"))
	require.Len(t, ClientToken("x"), 36)
}

func TestRegions(t *testing.T) {
	require.GreaterOrEqual(t, len(Regions), 20)
	require.NoError(t, CheckRegions(RegionIDs()))
}
