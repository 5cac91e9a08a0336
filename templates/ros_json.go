package templates

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/imagefleet/imagefleet/internal/specfile"
)

// renderJSON parses the ROS template with encoding/json's tokenizer, which
// gives the byte range of every value, and splices the new image IDs into
// the original text: key order, spacing and everything else stay as written.
func renderJSON(name string, data []byte, imageID string) ([]byte, []Replacement, error) {
	if !json.Valid(data) {
		return nil, nil, fmt.Errorf("parse ROS JSON template: %w", specfile.JSONError(name, data, json.Unmarshal(data, new(any))))
	}
	top, err := objectMembers(data, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("parse ROS JSON template %s: %w", name, err)
	}
	res := findMember(top, "Resources")
	if res == nil {
		return nil, nil, fmt.Errorf("the ROS template has no Resources section")
	}
	resources, err := objectMembers(res.raw, res.start)
	if err != nil {
		return nil, nil, fmt.Errorf("the ROS template's Resources is not an object: %w", err)
	}
	type splice struct {
		start, end int
		text       []byte
	}
	var (
		reps    []Replacement
		splices []splice
		refused refusals
	)
	newValue, _ := json.Marshal(imageID)
	for _, r := range resources {
		fields, err := objectMembers(r.raw, r.start)
		if err != nil {
			continue // not an object: not a resource we map
		}
		var typ string
		if t := findMember(fields, "Type"); t == nil || json.Unmarshal(t.raw, &typ) != nil || !slices.Contains(ROSResourceTypes, typ) {
			continue
		}
		p := findMember(fields, "Properties")
		if p == nil {
			continue
		}
		props, err := objectMembers(p.raw, p.start)
		if err != nil {
			continue
		}
		img := findMember(props, "ImageId")
		if img == nil {
			continue
		}
		var literal string
		if err := json.Unmarshal(img.raw, &literal); err != nil || literal == "" {
			refused.add(r.key, typ, jsonNonLiteral(img.raw))
			continue
		}
		reps = append(reps, Replacement{Resource: r.key, Type: typ, From: literal, To: imageID})
		splices = append(splices, splice{img.start, img.end, newValue})
	}
	if err := refused.err(); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(splices, func(a, b splice) int { return a.start - b.start })
	var out bytes.Buffer
	pos := 0
	for _, s := range splices {
		out.Write(data[pos:s.start])
		out.Write(s.text)
		pos = s.end
	}
	out.Write(data[pos:])
	return out.Bytes(), reps, nil
}

// member is one key of a JSON object with the byte range of its value in the
// whole document.
type member struct {
	key        string
	raw        json.RawMessage
	start, end int
}

func findMember(ms []member, key string) *member {
	for i := range ms {
		if ms[i].key == key {
			return &ms[i]
		}
	}
	return nil
}

// objectMembers parses data (which starts at offset base of the document) as
// one JSON object and returns its members in order.
func objectMembers(data []byte, base int) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("expected an object at offset %d", base)
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("expected a key at offset %d", base+int(dec.InputOffset()))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		end := int(dec.InputOffset())
		ms = append(ms, member{key: key, raw: raw, start: base + end - len(raw), end: base + end})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	return ms, nil
}

// jsonNonLiteral says what a non-string ImageId value is: the function of a
// {"Ref": …} or {"Fn::…": …} object, or its JSON kind.
func jsonNonLiteral(raw json.RawMessage) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		if len(obj) == 0 {
			return "an empty object"
		}
		ms, _ := objectMembers(raw, 0)
		if len(ms) > 0 {
			return ms[0].key
		}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return "an empty string"
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	switch v.(type) {
	case []any:
		return "a list"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "not a string"
}
