package codec_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"

	"github.com/imagefleet/imagefleet/internal/codec"
)

// A payload the worker's keys do not decrypt panics (the SDK then fails
// the workflow task and retries it) inside workflow code, and is an error
// for an activity or a client call; every other decoding error stays an
// error, so a payload with the wrong content is refused as before.
func TestBlockUndecodable(t *testing.T) {
	written := codec.DataConverter(nil, codec.New(keyring(t, newLine(t))))
	p, err := written.ToPayload(map[string]string{"script": "echo hi"})
	require.NoError(t, err)

	for _, tc := range []struct {
		name   string
		keys   *codec.Keyring
		reason string
	}{
		{"no keys", keyring(t), codec.ReasonNoKeys},
		{"another key", keyring(t, newLine(t)), codec.ReasonUnknownKey},
	} {
		var reported []*codec.KeyError
		dc := codec.BlockUndecodable(codec.DataConverter(nil, codec.New(tc.keys)), func(ke *codec.KeyError) { reported = append(reported, ke) })
		var v map[string]string

		// Workflow code: the SDK's default and workflow-bound converters panic.
		for _, wf := range []converter.DataConverter{dc, dc.(converter.ContextAware).WithWorkflowContext(nil),
			converter.WithDataConverterSerializationContext(dc, converter.WorkflowSerializationContext{WorkflowID: "w"})} {
			func() {
				defer func() {
					r := recover()
					require.NotNil(t, r, tc.name)
					blocked, ok := r.(codec.Blocked)
					require.True(t, ok, "%s: panicked with %T", tc.name, r)
					require.ErrorContains(t, blocked, "blocked until a worker has the payload's key")
				}()
				_ = wf.FromPayload(p, &v)
			}()
		}
		// An activity or a client call: an error.
		act := converter.WithDataConverterSerializationContext(
			dc.(converter.ContextAware).WithContext(context.Background()), converter.ActivitySerializationContext{ActivityType: "a"})
		err := act.FromPayload(p, &v)
		var ke *codec.KeyError
		require.True(t, errors.As(err, &ke), "%s: %v", tc.name, err)
		require.Equal(t, tc.reason, ke.Reason)
		require.Len(t, reported, 4, tc.name)
		require.Equal(t, tc.reason, reported[0].Reason)
		require.True(t, reported[0].InWorkflow)
		require.False(t, reported[3].InWorkflow, "the activity's")

		// Content that is wrong, not undecryptable: an error, no panic.
		plain, err := converter.GetDefaultDataConverter().ToPayload("a string")
		require.NoError(t, err)
		require.Error(t, dc.FromPayload(plain, &v))
		require.Len(t, reported, 4, "not a key problem")
	}
}

// A key of the right name that does not open the payload is a key error too.
func TestWrongKeyOfTheSameNameIsAKeyError(t *testing.T) {
	line := newLine(t)
	id := line[:len(line)-45]
	p, err := codec.DataConverter(nil, codec.New(keyring(t, line))).ToPayload("x")
	require.NoError(t, err)
	other := newLine(t)
	impostor := id + other[len(other)-45:]
	var s string
	err = codec.DataConverter(nil, codec.New(keyring(t, impostor))).FromPayload(p, &s)
	var ke *codec.KeyError
	require.True(t, errors.As(err, &ke), "%v", err)
	require.Equal(t, codec.ReasonWrongKey, ke.Reason)
}
