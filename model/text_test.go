package model

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// requireNoRawControl fails if msg would show a control character raw.
func requireNoRawControl(t *testing.T, msg string) {
	t.Helper()
	for _, r := range msg {
		require.False(t, IsControl(r) || r == unicode.ReplacementChar, "raw %U in %q", r, msg)
	}
}

// issue 18: NUL and a right-to-left override were accepted in a build
// template's name and an image description; every client is refused now,
// and the refusal quotes what it echoes.
func TestControlCharactersInNamesAreRefused(t *testing.T) {
	for _, bad := range []string{"web\x00app", "web\u202eexe.gpj", "web\x1b[2Jx", "web\u2066x", "web\x7fx", "web\u0085x", "web\xffx"} {
		tpl := TemplateSpec{Region: "cn-hangzhou", Name: bad, SourceImage: "m-1"}
		err := tpl.Validate()
		require.Regexp(t, `name "web.*" (must not hold control characters|is not valid UTF-8)`, err.Error())
		requireNoRawControl(t, err.Error())

		d := DistributeSpec{Package: "web_app", Version: "v1_0", Description: "a description " + bad, SourceRegion: "cn-hangzhou", SourceImage: "m-1", Regions: []string{"cn-beijing"}}
		err = d.Validate()
		require.Regexp(t, `Description "a description web.*" (must not hold control characters|is not valid UTF-8)`, err.Error())
		requireNoRawControl(t, err.Error())
		require.Regexp(t, `description "a description web.*" (must not hold control characters|is not valid UTF-8)`, d.ValidateVersion(false).Error(), "other package types")

		tpl = TemplateSpec{Region: "cn-hangzhou", Name: "web", Description: bad, SourceImage: "m-1"}
		require.Regexp(t, `description "web.*" (must not hold control characters|is not valid UTF-8)`, tpl.Validate().Error())
		require.NotEmpty(t, CheckImageAttributes("", "img-"+bad, "", nil), "the cloud's image rules refuse it too")

		r := RolloutSpec{ScalingGroupID: "asg-" + bad, RegionID: "cn-hangzhou", TaskType: TaskImage, Image: &ImageChange{ImageID: "m-2"}, Batches: 1}
		err = r.Validate()
		require.ErrorContains(t, err, "scaling group ID")
		requireNoRawControl(t, err.Error())
	}
	require.ErrorContains(t, (&RolloutSpec{ScalingGroupID: "asg-\xff"}).Validate(), `scaling group ID "asg-\xff" must be at most`)

	// Text in other scripts, and line breaks in a description, are fine.
	require.NoError(t, TemplateSpec{Region: "cn-hangzhou", Name: "网页模板 ✓", Description: "line one\nline two\tend", SourceImage: "m-1"}.Validate())
	require.NoError(t, DistributeSpec{Package: "web_app", Version: "v1_0", Description: "Übersicht\nnext line", SourceRegion: "cn-hangzhou", SourceImage: "m-1", Regions: []string{"cn-beijing"}}.Validate())
}

// issue 18: 700,000 copies of a region made a 9 MB message; a refusal
// names each item once, at most maxListed of them.
func TestRegionListsInErrorsAreCapped(t *testing.T) {
	regions := make([]string, 700_000)
	for i := range regions {
		regions[i] = "cn-beijing"
	}
	err := CheckRegions(regions)
	require.EqualError(t, err, `region(s) listed more than once: "cn-beijing"`)

	unknown := []string{"cn-beijing"}
	for i := range 50 {
		unknown = append(unknown, strings.Repeat("x", 10_000)+string(rune('a'+i%26))+strings.Repeat("y", i))
	}
	unknown = append(unknown, "moon\x00")
	err = CheckRegions(unknown)
	require.ErrorContains(t, err, "and 41 more")
	require.Less(t, len(err.Error()), 2_000)
	requireNoRawControl(t, err.Error())
}

func TestQuote(t *testing.T) {
	require.Equal(t, `"a\x00b\u202e"`, Quote("a\x00b\u202e"))
	long := Quote(strings.Repeat("é", 100))
	require.True(t, strings.HasSuffix(long, `… (100 characters)`), long)
	require.Equal(t, `"a", "b" and 2 more`, QuoteList([]string{"a", "b", "a", "c", "d"}, 2))
}

func TestEscapeAndCut(t *testing.T) {
	require.Equal(t, `a\x00b\x1b[2Jc\u202ed\xff`+"\nnext\tcol ✓", Escape("a\x00b\x1b[2Jc\u202ed\xff\nnext\tcol ✓"))
	require.Equal(t, "abc", Cut("abc", 3))
	require.Equal(t, "ab… (3 characters)", Cut("abc", 2))
}
