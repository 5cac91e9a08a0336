package templates_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/imagefleet/imagefleet/templates"
)

// Templates come from users: rendering one must not panic or take over a
// second, and a rendered template renders again to itself (the mapping is
// idempotent), with every replacement pointing at the image.
func fuzzRender(f *testing.F, format templates.Format, render func(typ, imageID string) string, broken string) {
	types := templates.ROSResourceTypes
	if format == templates.Terraform {
		types = templates.TerraformResourceTypes
	}
	for _, typ := range types {
		lit := `"m-original"`
		if format == templates.ROSYAML {
			lit = "m-original"
		}
		f.Add([]byte(render(typ, lit)))
	}
	f.Add([]byte(broken))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		out, reps, err := templates.Render(format, data, newImage)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("rendering took %s: %q", d, data)
		}
		if err != nil {
			return
		}
		for _, r := range reps {
			if r.To != newImage {
				t.Fatalf("replacement %+v does not map to %s", r, newImage)
			}
		}
		again, reps2, err := templates.Render(format, out, newImage)
		if err != nil {
			t.Fatalf("the rendered template is refused: %v\ninput:  %q\noutput: %q", err, data, out)
		}
		if !bytes.Equal(again, out) || len(reps2) != len(reps) {
			t.Fatalf("rendering is not idempotent\ninput:  %q\nonce:   %q\ntwice:  %q", data, out, again)
		}
	})
}

func FuzzRenderROSYAML(f *testing.F) {
	fuzzRender(f, templates.ROSYAML, rosYAML, "Resources: [unclosed")
}

func FuzzRenderROSJSON(f *testing.F) {
	fuzzRender(f, templates.ROSJSON, rosJSON, `{"Resources": {`)
}

func FuzzRenderTerraform(f *testing.F) {
	fuzzRender(f, templates.Terraform, terraform, `resource "alicloud_instance" "x" {`)
}

func FuzzDetectFormat(f *testing.F) {
	f.Add("a.yaml", []byte(rosYAML("ALIYUN::ECS::Instance", "m-1")))
	f.Add("main.tf", []byte(terraform("alicloud_instance", `"m-1"`)))
	f.Add("x.txt", []byte(rosJSON("ALIYUN::ECS::Instance", `"m-1"`)))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		format, err := templates.DetectFormat(name, data)
		if err == nil {
			if _, perr := templates.ParseFormat(string(format)); perr != nil {
				t.Fatalf("DetectFormat answered %q, which ParseFormat refuses", format)
			}
		}
	})
}
