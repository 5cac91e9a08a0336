package cloudsim

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRPCParamsFlattened(t *testing.T) {
	p := rpcParams{url.Values{
		"InstanceId.2": {"i-2"}, "InstanceId.1": {"i-1"},
		"Tag.1.Key": {"env"}, "Tag.1.Value": {"prod"}, "Tag.2.Key": {"team"},
		"InstanceIds": {`["i-a","i-b"]`}, "Bad": {`i-a,i-b`},
	}}
	ids, err := p.list("InstanceId")
	require.NoError(t, err)
	require.Equal(t, []string{"i-1", "i-2"}, ids)
	tags, err := p.tags()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"env": "prod", "team": ""}, tags)
	js, err := p.jsonStrings("InstanceIds")
	require.NoError(t, err)
	require.Equal(t, []string{"i-a", "i-b"}, js)
	_, err = p.jsonStrings("Bad")
	require.ErrorContains(t, err, "JSON array")

	gap := rpcParams{url.Values{"InstanceId.1": {"i-1"}, "InstanceId.3": {"i-3"}}}
	_, err = gap.list("InstanceId")
	require.ErrorContains(t, err, "InstanceId.3")
	none, err := rpcParams{url.Values{}}.list("InstanceId")
	require.NoError(t, err)
	require.Empty(t, none)

	// The front's check of modelled parameters normalises indexes.
	require.Equal(t, "Tag.N.Key", indexPattern.ReplaceAllString("Tag.12.Key", ".N"))
}
