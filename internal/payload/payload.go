// Package payload holds imagefleet's data converter: the SDK's default
// converters with a JSON converter that refuses unknown fields. Worker,
// starter and tests all use Converter, so a misspelled field in a workflow
// input, signal or update ("bacthes") is refused with its name instead of
// being dropped silently while the run goes on with defaults.
//
// Converter is a plain converter.DataConverter: a codec (encryption, say)
// wraps it with converter.NewCodecDataConverter.
package payload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// Converter is the data converter of every imagefleet client and worker:
// nil, bytes and protobuf payloads as the SDK's default converter handles
// them, and strict JSON for everything else.
var Converter converter.DataConverter = converter.NewCompositeDataConverter(
	converter.NewNilPayloadConverter(),
	converter.NewByteSlicePayloadConverter(),
	converter.NewProtoJSONPayloadConverter(),
	converter.NewProtoPayloadConverter(),
	StrictJSON{converter.NewJSONPayloadConverter()},
)

// StrictJSON is the SDK's JSON payload converter (same encoding "json/plain",
// same output) except that decoding refuses a field the target type does not
// have, and data after the value.
type StrictJSON struct {
	*converter.JSONPayloadConverter
}

// FromPayload decodes payload into valuePtr, refusing unknown fields.
func (StrictJSON) FromPayload(p *commonpb.Payload, valuePtr any) error {
	if err := Decode(p.GetData(), valuePtr); err != nil {
		return fmt.Errorf("%w: %v", converter.ErrUnableToDecode, err)
	}
	return nil
}

// Decode is strict JSON decoding, the one used for payloads and spec files:
// an unknown field is refused with its name and the type that lacks it, e.g.
// `unknown field "bacthes" in model.RolloutSpec`.
func Decode(data []byte, valuePtr any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(valuePtr); err != nil {
		return explain(err, valuePtr)
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON value at offset %d", dec.InputOffset())
	}
	return nil
}

// explain names the type an unknown field is not part of: the bare
// encoding/json message names only the field.
func explain(err error, valuePtr any) error {
	const prefix = "json: unknown field "
	if msg := err.Error(); len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		t := reflect.TypeOf(valuePtr)
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t != nil && t.Name() != "" {
			return fmt.Errorf("unknown field %s in %s", msg[len(prefix):], t.String())
		}
		return fmt.Errorf("unknown field %s", msg[len(prefix):])
	}
	return err
}
