package templates

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// renderHCL edits the Terraform configuration with hclwrite, which keeps
// comments and layout; only the image_id expressions change.
func renderHCL(name string, data []byte, imageID string) ([]byte, []Replacement, error) {
	// hclsyntax first: it reports syntax errors with positions, and its
	// expression tree tells a literal from a template with interpolations.
	syn, diags := hclsyntax.ParseConfig(data, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("parse Terraform template: %s", diags.Error())
	}
	literals := map[string]string{} // "type.name" → literal, for covered resources
	var refused refusals
	for _, block := range syn.Body.(*hclsyntax.Body).Blocks {
		if block.Type != "resource" || len(block.Labels) != 2 || !slices.Contains(TerraformResourceTypes, block.Labels[0]) {
			continue
		}
		attr := block.Body.Attributes["image_id"]
		if attr == nil {
			continue
		}
		addr := block.Labels[0] + "." + block.Labels[1]
		lit, what := hclLiteral(attr.Expr)
		if what != "" {
			refused.add(addr, block.Labels[0], what)
			continue
		}
		literals[addr] = lit
	}
	if err := refused.err(); err != nil {
		return nil, nil, err
	}
	f, diags := hclwrite.ParseConfig(data, "template.tf", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("parse Terraform template: %s", diags.Error())
	}
	var reps []Replacement
	for _, block := range f.Body().Blocks() {
		labels := block.Labels()
		if block.Type() != "resource" || len(labels) != 2 {
			continue
		}
		addr := labels[0] + "." + labels[1]
		lit, ok := literals[addr]
		if !ok {
			continue
		}
		block.Body().SetAttributeValue("image_id", cty.StringVal(imageID))
		reps = append(reps, Replacement{Resource: addr, Type: labels[0], From: lit, To: imageID})
	}
	return f.Bytes(), reps, nil
}

// hclLiteral returns the string of a static string literal, or what the
// expression is instead.
func hclLiteral(expr hclsyntax.Expression) (lit, what string) {
	switch e := expr.(type) {
	case *hclsyntax.TemplateExpr:
		if e.IsStringLiteral() {
			v, diags := e.Value(nil)
			if diags.HasErrors() || v.IsNull() || !v.Type().Equals(cty.String) || v.AsString() == "" {
				return "", "an empty string"
			}
			return v.AsString(), ""
		}
		if vars := e.Variables(); len(vars) > 0 {
			return "", "a string template referring to " + traversalNames(vars)
		}
		return "", "a string template"
	case *hclsyntax.LiteralValueExpr:
		return "", "a " + e.Val.Type().FriendlyName() + " literal"
	case *hclsyntax.ScopeTraversalExpr:
		return "", "the reference " + traversalNames([]hcl.Traversal{e.Traversal})
	case *hclsyntax.FunctionCallExpr:
		return "", "a call of the function " + e.Name
	}
	if vars := expr.Variables(); len(vars) > 0 {
		return "", "an expression referring to " + traversalNames(vars)
	}
	return "", "an expression"
}

func traversalNames(ts []hcl.Traversal) string {
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		var b strings.Builder
		for i, step := range t {
			switch s := step.(type) {
			case hcl.TraverseRoot:
				b.WriteString(s.Name)
			case hcl.TraverseAttr:
				b.WriteString("." + s.Name)
			default:
				if i == 0 {
					b.WriteString("?")
				}
				b.WriteString("[…]")
			}
		}
		names = append(names, b.String())
	}
	return strings.Join(names, ", ")
}
