package payload_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/imagefleet/imagefleet/internal/payload"
	"github.com/imagefleet/imagefleet/model"
)

func TestUnknownFieldIsRefusedWithItsName(t *testing.T) {
	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]any{"package": "webapp", "descripton": "typo"})
	require.NoError(t, err)
	var spec model.DistributeSpec
	err = payload.Converter.FromPayload(p, &spec)
	require.ErrorContains(t, err, `unknown field "descripton" in model.DistributeSpec`)
}

func TestKnownFieldsDecodeAsTheSDKsConverterDoes(t *testing.T) {
	in := model.DistributeSpec{Package: "webapp", Version: "v1", Regions: []string{"cn-shanghai"}, Tags: map[string]string{"a": "b"}}
	p, err := payload.Converter.ToPayload(in)
	require.NoError(t, err)
	def, err := converter.GetDefaultDataConverter().ToPayload(in)
	require.NoError(t, err)
	require.Equal(t, def.Data, p.Data, "same encoding as the SDK's, so that other clients read it")
	require.Equal(t, def.Metadata, p.Metadata)
	var out model.DistributeSpec
	require.NoError(t, payload.Converter.FromPayload(p, &out))
	require.Equal(t, in, out)

	var s string
	require.NoError(t, payload.Converter.FromPayload(mustPayload(t, "x"), &s))
	var n *model.DistributionResult
	require.NoError(t, payload.Converter.FromPayload(mustPayload(t, nil), &n))
	require.Nil(t, n)
}

func TestTrailingDataIsRefused(t *testing.T) {
	var v map[string]any
	require.Error(t, payload.Decode([]byte(`{"a":1} {"b":2}`), &v))
}

func mustPayload(t *testing.T, v any) *commonpb.Payload {
	p, err := payload.Converter.ToPayload(v)
	require.NoError(t, err)
	return p
}

// issue 18 item 9: encoding/json matches field names ignoring case; the
// strict converter does not, at any depth.
func TestFieldNameDifferingInCaseIsRefused(t *testing.T) {
	var c model.InstanceCommand
	err := payload.Decode([]byte(`{"instanceID":"i-1"}`), &c)
	require.ErrorContains(t, err, `unknown field "instanceID" in model.InstanceCommand (field names are case-sensitive: "instanceId")`)

	var spec model.DistributeSpec
	require.NoError(t, payload.Decode([]byte(`{"package":"webapp","regions":["a"],"tags":{"AnyCase":"ok"}}`), &spec), "map keys are data, not field names")
	var many []model.InstanceCommand
	require.ErrorContains(t, payload.Decode([]byte(`[{"instanceId":"i-1"},{"InstanceId":"i-2"}]`), &many), `unknown field "InstanceId"`)

	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]any{"instanceID": "i-1"})
	require.NoError(t, err)
	require.ErrorContains(t, payload.Converter.FromPayload(p, &c), `unknown field "instanceID"`)
}
