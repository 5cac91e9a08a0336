package templates

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/imagefleet/imagefleet/internal/specfile"
)

// renderYAML edits the ROS template's node tree, so comments and key order
// survive; the output is re-indented with two spaces.
func renderYAML(name string, data []byte, imageID string) ([]byte, []Replacement, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("parse ROS YAML template: %w", specfile.YAMLError(name, data, err, func(b []byte) error {
			var n yaml.Node
			return yaml.Unmarshal(b, &n)
		}))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("a ROS template is a YAML mapping")
	}
	resources := mappingValue(doc.Content[0], "Resources")
	if resources == nil {
		return nil, nil, fmt.Errorf("the ROS template has no Resources section")
	}
	if resources.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("the ROS template's Resources is not a mapping")
	}
	var (
		reps    []Replacement
		refused refusals
	)
	for i := 0; i+1 < len(resources.Content); i += 2 {
		name, res := resources.Content[i].Value, resources.Content[i+1]
		if res.Kind != yaml.MappingNode {
			continue
		}
		typ := mappingValue(res, "Type")
		if typ == nil || !slices.Contains(ROSResourceTypes, typ.Value) {
			continue
		}
		props := mappingValue(res, "Properties")
		if props == nil || props.Kind != yaml.MappingNode {
			continue
		}
		img := mappingValue(props, "ImageId")
		if img == nil {
			continue
		}
		if what := yamlNonLiteral(img); what != "" {
			refused.add(name, typ.Value, what)
			continue
		}
		reps = append(reps, Replacement{Resource: name, Type: typ.Value, From: img.Value, To: imageID})
		img.Value, img.Tag, img.Style = imageID, "!!str", 0
	}
	if err := refused.err(); err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, fmt.Errorf("write ROS YAML template: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), reps, nil
}

// mappingValue returns the value of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// yamlNonLiteral says what an ImageId node is if it is not a static string:
// a Ref or Fn:: mapping, a short-form function tag, an alias, or not a string.
func yamlNonLiteral(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		tag := n.ShortTag()
		switch {
		case tag == "!!str":
			if n.Value == "" {
				return "an empty string"
			}
			return ""
		case !strings.HasPrefix(tag, "!!"):
			return "the function " + tag
		default:
			return "a " + strings.TrimPrefix(tag, "!!") + " value"
		}
	case yaml.MappingNode:
		if len(n.Content) > 0 {
			return n.Content[0].Value
		}
		return "an empty mapping"
	case yaml.AliasNode:
		return "the alias *" + n.Value
	case yaml.SequenceNode:
		return "a list"
	}
	return "not a string"
}
