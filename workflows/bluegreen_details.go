package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
)

// copyTaskSet is a copy of ts for the progress, which the run changes
// (statuses, scales) as it goes.
func copyTaskSet(ts *model.TaskSetProgress) *model.TaskSetProgress {
	if ts == nil {
		return nil
	}
	c := *ts
	return &c
}

// updateDetails refreshes the Web UI's current details and the state
// search attribute.
func (d *blueGreen) updateDetails(ctx workflow.Context) {
	if !d.status.over() {
		d.state.Waiting(ctx, d.progress.WaitingFor != "")
	}
	workflow.SetCurrentDetails(ctx, blueGreenDetails(&d.progress))
}

// blueGreenDetails renders progress as Markdown for the Web UI.
func blueGreenDetails(p *model.BlueGreenProgress) string {
	var d details.Doc
	d.Para("**%s/%s** — %s, %s", p.Cluster, p.Service, p.Phase, p.CurrentStep())
	d.Para("Production traffic: blue %d%% · green %d%%", p.Weights.Blue, p.Weights.Green)
	if p.WaitingFor != "" {
		d.Para("⏸ Waiting for %s", p.WaitingFor)
	}
	if !p.PauseEnds.IsZero() {
		d.Para("⏸ Paused until %s", p.PauseEnds.Format(time.RFC3339))
	}
	if p.Error != "" {
		d.Para("❌ %s", p.Error)
	}
	steps := d.Table("step", "")
	for i, s := range p.Steps {
		mark := ""
		switch {
		case i < p.Step:
			mark = "✓"
		case i == p.Step:
			mark = "▶"
		}
		steps.Row(fmt.Sprintf("%d. %s", i+1, s), mark)
	}
	sets := d.Table("task set", "id", "task definition", "status", "scale", "running")
	for _, ts := range []struct {
		name string
		p    *model.TaskSetProgress
	}{{"blue", p.Blue}, {"green", p.Green}} {
		if ts.p != nil {
			sets.Row(ts.name, ts.p.ID, ts.p.TaskDefinition, ts.p.Status, fmt.Sprintf("%v%%", ts.p.Scale), fmt.Sprintf("%d/%d", ts.p.Running, ts.p.Desired))
		}
	}
	d.StepDeadline(model.StepDeadline)
	return d.String()
}
