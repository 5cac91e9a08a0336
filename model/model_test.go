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
		{"unknown region", func(s *DistributeSpec) { s.Regions = []string{"cn-beijing", "moon-1"} }, `unknown region(s) "moon-1"`},
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

// Limits the cloud applies to the copies are checked by the spec (item 6).
func TestDistributeSpecChecksTheCopiesLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	spec := func(f func(*DistributeSpec)) DistributeSpec {
		s := DistributeSpec{Package: "webapp", Version: "v1_0_0", Description: "web tier image", SourceRegion: "cn-hangzhou",
			SourceImage: "m-1", Regions: []string{"cn-shanghai"}}
		f(&s)
		return s
	}
	for name, tc := range map[string]struct {
		spec DistributeSpec
		want string
	}{
		"description of 257": {spec(func(s *DistributeSpec) { s.Description = long(257) }), "Description must be at most 256 characters, got 257"},
		"description of 500": {spec(func(s *DistributeSpec) { s.Description = long(500) }), "Description must be at most 256"},
		"128+50 name":        {spec(func(s *DistributeSpec) { s.Package, s.Version = long(128), long(50) }), "ImageName must be 2–128 characters, got 179"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.spec.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	ok := spec(func(s *DistributeSpec) { s.Description = long(256); s.Package = long(77); s.Version = long(50) })
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

// item 14: an empty tag key and a chart that is not packaged are refused.
func TestTagsAndChartRules(t *testing.T) {
	if p := CheckTags(map[string]string{"": "v"}, 20); len(p) != 1 || !strings.Contains(p[0], "must not be empty") {
		t.Fatalf("empty key: %v", p)
	}
	if p := CheckTags(map[string]string{"team": "web"}, 20); len(p) != 0 {
		t.Fatal(p)
	}
	spec := DistributeSpec{Package: "webapp", Version: "v1_0_0", Description: "web tier image", SourceRegion: "cn-hangzhou",
		SourceImage: "m-1", Regions: []string{"cn-shanghai"}, Tags: map[string]string{"": "v"}}
	if err := spec.Validate(); err == nil || !strings.Contains(err.Error(), "tag key must not be empty") {
		t.Fatal(err)
	}
	if err := CheckHelmChart("notes.txt", []byte("hello")); err == nil || !strings.Contains(err.Error(), ".tgz") {
		t.Fatal(err)
	}
	if err := CheckHelmChart("web.tgz", []byte("hello")); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Fatal(err)
	}
	if err := CheckHelmChart("web-0.1.0.tgz", []byte{0x1f, 0x8b, 8, 0}); err != nil {
		t.Fatal(err)
	}
}
