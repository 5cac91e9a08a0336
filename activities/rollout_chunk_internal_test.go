package activities

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A heartbeat outlives the worker that wrote it: the shapes written before
// the version was kept, and by workers with fields this one lacks, are read;
// a newer version or something else is refused (and the chunk starts over).
func TestDecodeChunkProgressOfOtherShapes(t *testing.T) {
	// The shape before versioning (no Version).
	p, ignored, err := decodeChunkProgress([]byte(`{"Ref":"t-1","Started":{"i-1":"d-1"},"Done":[{"InstanceID":"i-2","Succeeded":true,"Output":"ok"}]}`))
	require.NoError(t, err)
	require.Empty(t, ignored)
	require.Equal(t, chunkProgress{Ref: "t-1", Started: map[string]string{"i-1": "d-1"},
		Done: []InstanceResult{{InstanceID: "i-2", ChangeResult: ChangeResult{Succeeded: true, Output: "ok"}}}}, p)

	// A field this worker does not know is ignored, and named.
	p, ignored, err = decodeChunkProgress([]byte(`{"Version":1,"Ref":"t-2","Pending":["i-3"],"polls":4}`))
	require.NoError(t, err)
	require.Equal(t, []string{"Pending", "polls"}, ignored)
	require.Equal(t, "t-2", p.Ref)

	// A newer shape, or no chunk progress at all, is not resumed from.
	_, _, err = decodeChunkProgress([]byte(`{"Version":2,"Ref":"t-3"}`))
	require.ErrorContains(t, err, "version 2")
	_, _, err = decodeChunkProgress([]byte(`"running"`))
	require.ErrorContains(t, err, "not the progress of a chunk")
	_, _, err = decodeChunkProgress([]byte(`{"Done":"i-1"}`))
	require.ErrorContains(t, err, "not the progress of a chunk")
}
