package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
)

// updateDetails renders the build for the Web UI.
func (b *build) updateDetails(ctx workflow.Context) {
	p := &b.progress
	var d details.Doc
	d.Para("**build %s** of template %s (%s) — step **%s**", p.ExecutionID, p.TemplateName, p.TemplateID, p.Step)
	if p.WaitingFor != "" {
		d.Para("⏸ Waiting for %s", p.WaitingFor)
	}
	if p.FailedStep != "" {
		d.Para("✗ %s failed: %s", p.FailedStep, p.Error)
	}
	if len(p.Resources) > 0 {
		tbl := d.Table("resource", "id", "region", "state")
		for _, r := range p.Resources {
			tbl.Row(r.Kind, r.ID, r.Region, r.State)
		}
	}
	d.StepDeadline(model.StepDeadline)
	workflow.SetCurrentDetails(ctx, d.String())
}
