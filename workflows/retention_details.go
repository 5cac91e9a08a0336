package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
)

// updateDetails shows the run's plan and what it has done in the Web UI.
func (r *imageRetention) updateDetails(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, retentionDetails(&r.progress, r.spec.Rule, r.times))
}

// retentionDetails renders the progress as Markdown: one row per version
// and region, with the action and why.
func retentionDetails(p *model.RetentionProgress, rule model.RetentionRule, times model.RetentionTimes) string {
	var d details.Doc
	mode := "applies the rule"
	if p.DryRun {
		mode = "**dry run**: lists what it would do and changes nothing (" + p.DryRunWhy + ")"
	}
	d.Para("Lifecycle run of %s, %s. Phase **%s**.", rule.Subject(), mode, p.Phase)
	var keep []string
	if rule.KeepNewest > 0 {
		keep = append(keep, fmt.Sprintf("the newest %d versions", rule.KeepNewest))
	}
	if times.KeepYoungerThan > 0 {
		keep = append(keep, "versions younger than "+times.KeepYoungerThan.String())
	}
	if len(rule.ExcludeTags) > 0 {
		keep = append(keep, "versions tagged "+strings.Join(rule.ExcludeTags, ", "))
	}
	d.Para("Rule %s: keep %s, and every version in use; deprecate the others, delete their copies %s after deprecation.", p.Rule, strings.Join(keep, " or "), times.GracePeriod)
	if p.Error != "" {
		d.Para("Error: %s", p.Error)
	}
	if p.LastRefusal != "" {
		d.Para("Last refused command: %s", p.LastRefusal)
	}
	if len(p.Versions) == 0 {
		d.StepDeadline(model.StepDeadline)
		return d.String()
	}
	t := d.Table("version", "released", "action", "state", "region", "image", "GiB", "in use by", "why")
	for _, v := range p.Versions {
		why := v.Reason
		if v.Error != "" {
			why += " — error: " + v.Error
		}
		if len(v.Regions) == 0 {
			t.Row(v.Version, v.ReleaseTime.UTC().Format(time.RFC3339), v.Action, v.State, "", "", "", "", why)
		}
		for i, reg := range v.Regions {
			state := reg.State
			if reg.Error != "" {
				state += ": " + reg.Error
			}
			if i == 0 {
				t.Row(v.Version, v.ReleaseTime.UTC().Format(time.RFC3339), v.Action, orDash(v.State)+" / "+orDash(state), reg.Region, reg.ImageID, reg.SizeGiB, strings.Join(reg.UsedBy, "; "), why)
				continue
			}
			t.Row("", "", "", orDash(state), reg.Region, reg.ImageID, reg.SizeGiB, strings.Join(reg.UsedBy, "; "), "")
		}
	}
	d.StepDeadline(model.StepDeadline)
	return d.String()
}
