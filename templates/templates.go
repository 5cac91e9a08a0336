// Package templates maps the image references of deployment templates to the
// image of one region of an ECS image deployment package version, as Compute
// Nest does when it deploys a service: every ImageId (ROS) or image_id
// (Terraform) of a covered resource is replaced by the image the version
// delivered to the target region.
//
// Formats: ROS templates in YAML or JSON and Terraform templates in HCL. Each
// is edited through a real parser that keeps what the format allows: YAML
// comments and key order (go.yaml.in/yaml/v3 nodes), the JSON text byte for
// byte except the replaced strings, HCL comments and layout (hclwrite).
//
// Compute Nest's template requirement: the image ID must be a static string
// literal, not an input parameter or a built-in function. A Ref, an Fn::
// function, a YAML short-form tag (!Ref, !Sub, …), a Terraform variable,
// reference or expression is refused, naming the resource.
package templates

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Format is a template format.
type Format string

const (
	ROSYAML   Format = "ros-yaml"
	ROSJSON   Format = "ros-json"
	Terraform Format = "terraform"
)

// Formats lists the supported formats.
var Formats = []Format{ROSYAML, ROSJSON, Terraform}

// ROS resource types whose Properties.ImageId is mapped.
var ROSResourceTypes = []string{
	"ALIYUN::ECS::Instance",
	"ALIYUN::ECS::InstanceGroup",
	"ALIYUN::ESS::ScalingGroup",
	"ALIYUN::EHPC::Cluster",
}

// TerraformResourceTypes are the Terraform resource types whose image_id is
// mapped: instances and the scaling configurations of scaling groups.
var TerraformResourceTypes = []string{
	"alicloud_instance",
	"alicloud_ess_scaling_configuration",
}

// DetectFormat picks the format from the file name (.yaml/.yml, .json, .tf),
// or from the content when the extension says nothing.
func DetectFormat(name string, data []byte) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		return ROSYAML, nil
	case ".json":
		return ROSJSON, nil
	case ".tf", ".hcl":
		return Terraform, nil
	}
	trimmed := strings.TrimSpace(string(data))
	switch {
	case strings.HasPrefix(trimmed, "{"):
		return ROSJSON, nil
	case strings.Contains(trimmed, "ROSTemplateFormatVersion"):
		return ROSYAML, nil
	case strings.Contains(trimmed, "resource \""):
		return Terraform, nil
	}
	return "", fmt.Errorf("cannot tell the format of %s: name it .yaml, .json or .tf", name)
}

// ParseFormat parses a --format value.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(s))
	if !slices.Contains(Formats, f) {
		return "", fmt.Errorf("format %q must be one of %s, %s, %s", s, ROSYAML, ROSJSON, Terraform)
	}
	return f, nil
}

// Replacement is one mapped image reference.
type Replacement struct {
	// Resource names the resource: the ROS logical ID or Terraform's
	// type.name.
	Resource string `json:"resource"`
	Type     string `json:"type"`
	From     string `json:"from"`
	To       string `json:"to"`
}

// NonLiteralError refuses an image ID that is not a static string literal.
type NonLiteralError struct {
	Resource string
	Type     string
	What     string // what was found instead, e.g. "Ref", "Fn::FindInMap", "variable var.image"
}

func (e *NonLiteralError) Error() string {
	return fmt.Sprintf("resource %s (%s): the image ID is %s, not a static string literal; Compute Nest can map only a literal image ID", e.Resource, e.Type, e.What)
}

// ErrNoImageReference is returned when a template has no image reference of
// a covered resource type.
var ErrNoImageReference = errors.New("the template has no image ID of a covered resource type (" +
	strings.Join(ROSResourceTypes, ", ") + "; " + strings.Join(TerraformResourceTypes, ", ") + ")")

// Render replaces every image reference of a covered resource with imageID.
// It refuses the whole template (all non-literal references reported at
// once) if any reference is not a static literal.
func Render(format Format, data []byte, imageID string) ([]byte, []Replacement, error) {
	return RenderFile("template", format, data, imageID)
}

// RenderFile is Render for the file name: syntax errors name it, with the
// line (and column) of the problem.
func RenderFile(name string, format Format, data []byte, imageID string) ([]byte, []Replacement, error) {
	if imageID == "" {
		return nil, nil, errors.New("no image ID to map to")
	}
	var (
		out  []byte
		reps []Replacement
		err  error
	)
	switch format {
	case ROSYAML:
		out, reps, err = renderYAML(name, data, imageID)
	case ROSJSON:
		out, reps, err = renderJSON(name, data, imageID)
	case Terraform:
		out, reps, err = renderHCL(name, data, imageID)
	default:
		return nil, nil, fmt.Errorf("unknown template format %q", format)
	}
	if err != nil {
		return nil, nil, err
	}
	if len(reps) == 0 {
		return nil, nil, ErrNoImageReference
	}
	sort.SliceStable(reps, func(i, j int) bool { return reps[i].Resource < reps[j].Resource })
	return out, reps, nil
}

// refusals collects non-literal references so that all are reported at once.
type refusals []error

func (r *refusals) add(resource, typ, what string) {
	*r = append(*r, &NonLiteralError{Resource: resource, Type: typ, What: what})
}

func (r refusals) err() error { return errors.Join(r...) }
