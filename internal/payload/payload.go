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
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

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
	return exactNames(data, valuePtr)
}

// exactNames refuses a field name that matches one of the target's only when
// case is ignored: encoding/json takes "instanceID" for the field
// `json:"instanceId"`, which every other client (and the docs) spell
// exactly. Data reaches it only after it decoded strictly.
func exactNames(data []byte, valuePtr any) error {
	if valuePtr == nil {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil // decoded into valuePtr, so it decodes here too
	}
	return checkNames(v, reflect.TypeOf(valuePtr))
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// checkNames walks v, decoded into a value of type t, and refuses an
// object key that is not the exact JSON name of one of a struct's fields.
func checkNames(v any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if pt := reflect.PointerTo(t); pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
		return nil // decodes itself
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t, nil)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("unknown field %q in %s%s", k, t.String(), sameButCase(k, fields))
			}
			if err := checkNames(obj[k], ft); err != nil {
				return err
			}
		}
	case reflect.Map:
		if obj, ok := v.(map[string]any); ok {
			for _, e := range obj {
				if err := checkNames(e, t.Elem()); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if err := checkNames(e, t.Elem()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// jsonFields maps the JSON names of struct type t's fields, with those of
// its embedded structs, to their types.
func jsonFields(t reflect.Type, into map[string]reflect.Type) map[string]reflect.Type {
	if into == nil {
		into = map[string]reflect.Type{}
	}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			embedded = append(embedded, ft) // promoted: after the outer fields, which win
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := into[name]; !ok {
			into[name] = f.Type
		}
	}
	for _, e := range embedded {
		jsonFields(e, into)
	}
	return into
}

// sameButCase names the field that k misspells in case, if any.
func sameButCase(k string, fields map[string]reflect.Type) string {
	for name := range fields {
		if strings.EqualFold(name, k) {
			return fmt.Sprintf(" (field names are case-sensitive: %q)", name)
		}
	}
	return ""
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
