package templates_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/imagefleet/imagefleet/templates"
)

const newImage = "m-shanghai-copy"

func rosYAML(typ, imageID string) string {
	return fmt.Sprintf(`ROSTemplateFormatVersion: '2015-09-01'
# the web tier
Parameters:
  InstanceType:
    Type: String
Resources:
  Vpc:
    Type: ALIYUN::ECS::VPC
    Properties:
      CidrBlock: 192.168.0.0/16
  Web:
    Type: %s
    Properties:
      # the image the package maps
      ImageId: %s
      InstanceType:
        Ref: InstanceType
`, typ, imageID)
}

func rosJSON(typ, imageID string) string {
	return fmt.Sprintf(`{
  "ROSTemplateFormatVersion": "2015-09-01",
  "Parameters": {"InstanceType": {"Type": "String"}},
  "Resources": {
    "Vpc": {"Type": "ALIYUN::ECS::VPC", "Properties": {"CidrBlock": "192.168.0.0/16"}},
    "Web": {
      "Type": %q,
      "Properties": {
        "InstanceType": {"Ref": "InstanceType"},
        "ImageId": %s
      }
    }
  }
}`, typ, imageID)
}

func terraform(typ, imageID string) string {
	return fmt.Sprintf(`# web tier
variable "image" {
  default = "m-default"
}

resource "alicloud_vpc" "main" {
  cidr_block = "192.168.0.0/16"
}

resource %q "web" {
  # the image the package maps
  image_id      = %s # mapped per region
  instance_type = "ecs.g7.large"
}
`, typ, imageID)
}

func TestRenderEveryResourceTypeAndFormat(t *testing.T) {
	type tc struct {
		name, typ string
		format    templates.Format
		src       func(typ, img string) string
		literal   string
	}
	var cases []tc
	for _, typ := range templates.ROSResourceTypes {
		cases = append(cases,
			tc{"yaml/" + typ, typ, templates.ROSYAML, rosYAML, "m-webapp-v1"},
			tc{"json/" + typ, typ, templates.ROSJSON, rosJSON, `"m-webapp-v1"`},
		)
	}
	for _, typ := range templates.TerraformResourceTypes {
		cases = append(cases, tc{"hcl/" + typ, typ, templates.Terraform, terraform, `"m-webapp-v1"`})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.src(c.typ, c.literal)
			out, reps, err := templates.Render(c.format, []byte(in), newImage)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if len(reps) != 1 || reps[0].From != "m-webapp-v1" || reps[0].To != newImage || reps[0].Type != c.typ {
				t.Fatalf("replacements = %+v", reps)
			}
			got := string(out)
			if strings.Contains(got, "m-webapp-v1") || !strings.Contains(got, newImage) {
				t.Fatalf("image not replaced:\n%s", got)
			}
			// Everything else is kept: the untouched resource, the
			// parameter reference, and comments where the format has them.
			for _, keep := range []string{"192.168.0.0/16", "InstanceType"} {
				if c.format == templates.Terraform && keep == "InstanceType" {
					keep = "ecs.g7.large"
				}
				if !strings.Contains(got, keep) {
					t.Errorf("output lost %q:\n%s", keep, got)
				}
			}
			if c.format != templates.ROSJSON && !strings.Contains(got, "# the image the package maps") {
				t.Errorf("output lost a comment:\n%s", got)
			}
			// Order is kept: Vpc still comes before the mapped resource.
			if strings.Index(got, "192.168.0.0/16") > strings.Index(got, newImage) {
				t.Errorf("resource order changed:\n%s", got)
			}
		})
	}
}

func TestRenderJSONKeepsTextExceptTheImage(t *testing.T) {
	in := rosJSON("ALIYUN::ECS::Instance", `"m-webapp-v1"`)
	out, _, err := templates.Render(templates.ROSJSON, []byte(in), newImage)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(in, `"m-webapp-v1"`, `"`+newImage+`"`, 1); string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}

func TestRenderHCLKeepsLineComment(t *testing.T) {
	out, _, err := templates.Render(templates.Terraform, []byte(terraform("alicloud_instance", `"m-webapp-v1"`)), newImage)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`image_id      = "` + newImage + `"`, "# mapped per region", "# web tier", `default = "m-default"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRenderRefusesNonLiteralImageIDs(t *testing.T) {
	cases := []struct {
		name   string
		format templates.Format
		src    string
		what   string
	}{
		{"yaml Ref", templates.ROSYAML, rosYAML("ALIYUN::ECS::Instance", "\n        Ref: ImageIdParam"), "Ref"},
		{"yaml Fn::FindInMap", templates.ROSYAML, rosYAML("ALIYUN::ESS::ScalingGroup", "\n        Fn::FindInMap: [Images, !Ref ALIYUN::Region, Id]"), "Fn::FindInMap"},
		{"yaml short form !Ref", templates.ROSYAML, rosYAML("ALIYUN::ECS::InstanceGroup", "!Ref ImageIdParam"), "!Ref"},
		{"yaml number", templates.ROSYAML, rosYAML("ALIYUN::EHPC::Cluster", "42"), "int"},
		{"json Ref", templates.ROSJSON, rosJSON("ALIYUN::ECS::Instance", `{"Ref": "ImageIdParam"}`), "Ref"},
		{"json Fn::Join", templates.ROSJSON, rosJSON("ALIYUN::EHPC::Cluster", `{"Fn::Join": ["", ["m-", "x"]]}`), "Fn::Join"},
		{"json Fn::GetAtt", templates.ROSJSON, rosJSON("ALIYUN::ECS::InstanceGroup", `{"Fn::GetAtt": ["Builder", "ImageId"]}`), "Fn::GetAtt"},
		{"hcl variable", templates.Terraform, terraform("alicloud_instance", "var.image"), "var.image"},
		{"hcl data source", templates.Terraform, terraform("alicloud_ess_scaling_configuration", "data.alicloud_images.web.images[0].id"), "data.alicloud_images.web.images"},
		{"hcl interpolation", templates.Terraform, terraform("alicloud_instance", `"${var.image}"`), "var.image"},
		{"hcl function", templates.Terraform, terraform("alicloud_instance", `lower("M-WEB")`), "lower"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := templates.Render(c.format, []byte(c.src), newImage)
			var nl *templates.NonLiteralError
			if !errors.As(err, &nl) {
				t.Fatalf("want a NonLiteralError, got %v (output %s)", err, out)
			}
			resource := "Web"
			if c.format == templates.Terraform {
				resource = ".web"
			}
			if !strings.Contains(err.Error(), resource) || !strings.Contains(err.Error(), c.what) {
				t.Fatalf("error %q should name the resource %q and %q", err, resource, c.what)
			}
		})
	}
}

func TestRenderReportsEveryRefusalAtOnce(t *testing.T) {
	src := `Resources:
  A:
    Type: ALIYUN::ECS::Instance
    Properties: {ImageId: {Ref: P}}
  B:
    Type: ALIYUN::ECS::Instance
    Properties: {ImageId: m-ok}
  C:
    Type: ALIYUN::ESS::ScalingGroup
    Properties: {ImageId: {"Fn::Sub": "m-${X}"}}
`
	_, _, err := templates.Render(templates.ROSYAML, []byte(src), newImage)
	if err == nil || !strings.Contains(err.Error(), "resource A") || !strings.Contains(err.Error(), "resource C") || strings.Contains(err.Error(), "resource B") {
		t.Fatalf("want A and C refused, got %v", err)
	}
}

func TestRenderWithoutImageReference(t *testing.T) {
	src := "Resources:\n  Vpc:\n    Type: ALIYUN::ECS::VPC\n    Properties: {CidrBlock: 10.0.0.0/8}\n"
	if _, _, err := templates.Render(templates.ROSYAML, []byte(src), newImage); !errors.Is(err, templates.ErrNoImageReference) {
		t.Fatalf("want ErrNoImageReference, got %v", err)
	}
	tf := `resource "alicloud_vpc" "x" { cidr_block = "10.0.0.0/8" }`
	if _, _, err := templates.Render(templates.Terraform, []byte(tf), newImage); !errors.Is(err, templates.ErrNoImageReference) {
		t.Fatalf("want ErrNoImageReference, got %v", err)
	}
}

func TestRenderSyntaxErrors(t *testing.T) {
	for format, src := range map[templates.Format]string{
		templates.ROSYAML:   "Resources: [unclosed",
		templates.ROSJSON:   `{"Resources": {`,
		templates.Terraform: `resource "alicloud_instance" "x" {`,
	} {
		if _, _, err := templates.Render(format, []byte(src), newImage); err == nil {
			t.Errorf("%s: a broken template was accepted", format)
		}
	}
}

func TestMappingImageFor(t *testing.T) {
	draft := templates.Mapping{Package: "webapp", Version: "v1_0", SourceRegion: "cn-hangzhou", SourceImage: "m-src"}
	published := draft
	published.Published = true
	published.Delivered = map[string]string{"cn-shanghai": "m-sh", "eu-west-1": "m-eu"}
	cases := []struct {
		name    string
		m       templates.Mapping
		region  string
		want    string
		wantErr string
	}{
		{"draft in source region", draft, "cn-hangzhou", "m-src", ""},
		{"draft elsewhere", draft, "cn-shanghai", "", "draft"},
		{"published delivered", published, "eu-west-1", "m-eu", ""},
		{"published source region", published, "cn-hangzhou", "m-src", ""},
		{"published not delivered", published, "us-east-1", "", "not distributed to us-east-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.m.ImageFor(c.region)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("want error containing %q, got %q, %v", c.wantErr, got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestDetectFormat(t *testing.T) {
	for name, want := range map[string]templates.Format{"a.yaml": templates.ROSYAML, "b.YML": templates.ROSYAML, "c.json": templates.ROSJSON, "main.tf": templates.Terraform} {
		if got, err := templates.DetectFormat(name, nil); err != nil || got != want {
			t.Errorf("%s: got %s, %v", name, got, err)
		}
	}
	if _, err := templates.DetectFormat("x.txt", []byte("hello")); err == nil {
		t.Error("an unknown format was accepted")
	}
}

// Syntax errors name the file and the problem's line (item 16).
func TestSyntaxErrorsNameTheFileAndLine(t *testing.T) {
	for name, tc := range map[string]struct {
		file   string
		format templates.Format
		data   string
		want   string
	}{
		"truncated json": {"web.json", templates.ROSJSON, "{\"Resources\": {\n  \"Web\": {", "web.json:2:11: invalid JSON: the document ends before"},
		"yaml indent": {"web.yaml", templates.ROSYAML, "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Web:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: m-1\n     Bad: x\n",
			"web.yaml:7: invalid YAML"},
		"hcl": {"main.tf", templates.Terraform, "resource \"alicloud_instance\" \"web\" {\n  image_id = \n", "main.tf:2,"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := templates.RenderFile(tc.file, tc.format, []byte(tc.data), "m-2")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
