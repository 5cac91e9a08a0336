// Package details renders a run's current details, the Markdown the Web UI
// shows on a workflow's page (workflow.SetCurrentDetails). It formats with
// fmt.Sprint* only, which workflowcheck accepts as deterministic.
package details

import (
	"fmt"
	"strings"
	"time"
)

// Doc is a Markdown document built line by line.
type Doc struct {
	b strings.Builder
}

// Para adds a paragraph.
func (d *Doc) Para(format string, args ...any) {
	d.b.WriteString(fmt.Sprintf(format, args...))
	d.b.WriteString("\n\n")
}

// Table starts a table with the given column headers; add rows to it.
func (d *Doc) Table(headers ...string) *Table {
	if d.b.Len() > 0 && !strings.HasSuffix(d.b.String(), "\n\n") {
		d.b.WriteString("\n") // a table must not run into the one before
	}
	d.b.WriteString("| " + strings.Join(headers, " | ") + " |\n")
	d.b.WriteString(strings.Repeat("|---", len(headers)) + "|\n")
	return &Table{doc: d}
}

// String is the document.
func (d *Doc) String() string { return d.b.String() }

// Table is a Markdown table being written.
type Table struct{ doc *Doc }

// Row adds a row; each cell is printed with %v, pipes escaped.
func (t *Table) Row(cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = strings.ReplaceAll(fmt.Sprint(c), "|", `\|`)
	}
	t.doc.b.WriteString("| " + strings.Join(parts, " | ") + " |\n")
}

// StepDeadline adds the promise every operation keeps about transient cloud
// errors, so that a reader of a slow run knows how long a step may retry.
func (d *Doc) StepDeadline(deadline time.Duration) {
	d.Para("_Transient cloud errors (5xx, throttling, an unreachable cloud) are retried for up to %s per step before the step fails._", deadline)
}
