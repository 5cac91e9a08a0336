package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the audit of a chaos run, printed as tables and written as JSON.
type Report struct {
	Seed           int64      `json:"seed"`
	Command        string     `json:"command,omitempty"`
	Run            string     `json:"run"`
	Events         []*event   `json:"kills"`
	Operations     []*op      `json:"operations"`
	Checks         []Check    `json:"checks"`
	Violations     []string   `json:"violations"`
	HighestAttempt int32      `json:"highestActivityAttempt"`
	Baseline       []baseline `json:"baseline,omitempty"`
}

// Check is one line of the audit.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

type baseline struct {
	WorkflowID string        `json:"workflowId"`
	Duration   time.Duration `json:"duration"`
	State      string        `json:"state"`
}

func (r *Report) check(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

func (r *Report) violate(kind, format string, args ...any) {
	r.Violations = append(r.Violations, kind+": "+fmt.Sprintf(format, args...))
}

// compare adds the baseline run's times; a baseline operation that did not
// end as expected is a violation too (the load itself is wrong then).
func (r *Report) compare(b *run) {
	if b == nil {
		return
	}
	// The same plan in the same order: a build's workflow ID holds its
	// template's ID, which differs between the runs.
	for i, o := range b.ops {
		r.Baseline = append(r.Baseline, baseline{WorkflowID: o.WorkflowID, Duration: o.Duration, State: o.State})
		if i < len(r.Operations) && r.Operations[i].Label == o.Label {
			r.Operations[i].Baseline = o.Duration
		}
	}
	for _, v := range b.report.Violations {
		r.Violations = append(r.Violations, "baseline "+v)
	}
}

func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "\nChaos audit (seed %d)\n\n", r.Seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "kill\tat\tdone\tnote")
	for _, e := range r.Events {
		fmt.Fprintf(tw, "%s\t+%s\t%t\t%s\n", e.Kind, e.At, e.Done, e.Note)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "operation\tworkflow ID\texpected\tended\ttime\tbaseline\tratio\toperator\tok")
	for _, o := range r.Operations {
		base, ratio := "-", "-"
		if d := o.Baseline; d > 0 {
			base, ratio = d.String(), fmt.Sprintf("%.1f×", float64(o.Duration)/float64(d))
		}
		ok := "✓"
		if o.Status != o.ExpectStatus || o.State != o.Expect {
			ok = "✗"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\n", o.Label, o.WorkflowID, o.ExpectStatus, o.Expect, o.Status, o.State,
			o.Duration, base, ratio, strings.Join(o.Operator, "; "), ok)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "check\tresult\tok")
	for _, c := range r.Checks {
		ok := "✓"
		if !c.OK {
			ok = "✗"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Detail, ok)
	}
	tw.Flush()
	if len(r.Violations) == 0 {
		fmt.Fprintf(w, "\nNo violation.\n")
		return
	}
	fmt.Fprintf(w, "\n%d violations:\n", len(r.Violations))
	for _, v := range r.Violations {
		fmt.Fprintln(w, "  - "+v)
	}
}

func (r *Report) write(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
