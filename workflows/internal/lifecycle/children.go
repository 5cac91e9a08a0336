package lifecycle

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
)

// Every operation that waits on a child shows the child's wait. The child
// tells its parent (ReportWait, called wherever the child's own wait
// changes); the parent keeps what its children wait for (ChildWaits) and
// shows it as its own wait, naming the child the command goes to.

// changeReportWaitToParent: a child run signals its parent when its wait
// changes. Versioned: children before it sent nothing.
const changeReportWaitToParent = "report-wait-to-parent"

// WaitReport is a run's side of the rule: it tells the run's parent, if it
// has one, what the run waits for.
type WaitReport struct {
	// Operation is the run's ImagefleetOperation, e.g. "distribute".
	Operation string
	last      string
}

// Report tells the parent what the run waits for now ("" for nothing),
// once per change. A run without a parent sends nothing. The signal is not
// waited for: a parent that has ended is only logged.
func (r *WaitReport) Report(ctx workflow.Context, waitingFor string) {
	info := workflow.GetInfo(ctx)
	parent := info.ParentWorkflowExecution
	if parent == nil || waitingFor == r.last {
		return
	}
	if workflow.GetVersion(ctx, changeReportWaitToParent, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	r.last = waitingFor
	f := workflow.SignalExternalWorkflow(ctx, parent.ID, parent.RunID, model.SignalChildWaiting, model.ChildWait{
		WorkflowID: info.WorkflowExecution.ID, Operation: r.Operation, WaitingFor: waitingFor,
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("Could not tell the parent run what this run waits for", "parent", parent.ID, "error", err)
		}
	})
}

// ChildWaits is a parent's side of the rule: what the children it runs
// wait for. Register it in setup, Expect a child before starting it and
// Forget it when it has ended; Changed is called whenever what the parent
// should show changes (WaitingFor, WaitingOn).
type ChildWaits struct {
	// Changed refreshes what the parent shows (its waitingFor, its state).
	Changed  func(ctx workflow.Context)
	expected []string
	waits    map[string]model.ChildWait
}

// Register starts taking the children's reports (SignalChildWaiting). A
// report from a run that is not an expected child is logged and ignored.
func (c *ChildWaits) Register(ctx workflow.Context) {
	c.waits = map[string]model.ChildWait{}
	ch := workflow.GetSignalChannel(ctx, model.SignalChildWaiting)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var w model.ChildWait
			if !ch.Receive(ctx, &w) {
				return
			}
			if !slices.Contains(c.expected, w.WorkflowID) {
				workflow.GetLogger(ctx).Warn("Wait report from a run that is not a child of this one: ignored", "from", w.WorkflowID)
				continue
			}
			if w.WaitingFor == "" {
				delete(c.waits, w.WorkflowID)
			} else {
				c.waits[w.WorkflowID] = w
			}
			c.Changed(ctx)
		}
	})
}

// Expect accepts reports from the child workflowID.
func (c *ChildWaits) Expect(workflowID string) {
	if !slices.Contains(c.expected, workflowID) {
		c.expected = append(c.expected, workflowID)
	}
}

// Forget drops the child workflowID, which has ended: it waits for nothing
// more. It reports whether the child was shown waiting (the caller then
// refreshes what it shows).
func (c *ChildWaits) Forget(workflowID string) bool {
	c.expected = slices.DeleteFunc(c.expected, func(id string) bool { return id == workflowID })
	_, shown := c.waits[workflowID]
	delete(c.waits, workflowID)
	return shown
}

// Waiting is the first child (in the order they were expected) that waits
// for an operator, if any.
func (c *ChildWaits) Waiting() (model.ChildWait, bool) {
	for _, id := range c.expected {
		if w, ok := c.waits[id]; ok {
			return w, true
		}
	}
	return model.ChildWait{}, false
}
