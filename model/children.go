package model

import "fmt"

// Every operation that waits on a child run shows the child's wait: a build
// whose distribution (its child) waits for an operator decision shows that
// wait in its own progress (waitingFor, and waitingOn naming the child), is
// ImagefleetState=WaitingForOperator, and names the workflow the command
// that resolves it goes to (the child's: a distribution's retry-region,
// drop-region or cancel).

// SignalChildWaiting is the signal a child run sends its parent whenever
// what it waits for changes (ChildWait; WaitingFor "" when it waits no
// more). The workflows send it to each other; a parent takes it only from a
// child it runs, so a client has no reason to send it.
const SignalChildWaiting = "child-waiting"

// ChildWait is what a child run waits for, as its parent shows it.
type ChildWait struct {
	// WorkflowID is the child's: where the command that resolves the wait
	// is sent.
	WorkflowID string `json:"workflowId"`
	// Operation is the child's ImagefleetOperation, e.g. "distribute".
	Operation string `json:"operation"`
	// WaitingFor is the child's progress waitingFor; "" when it waits no
	// more.
	WaitingFor string `json:"waitingFor,omitempty"`
}

// Text is the wait as the parent's waitingFor shows it: what the child
// waits for, and where to send the command, e.g. "operator decision for
// eu-west-1: retry-region, drop-region or cancel, sent to child workflow
// distribute/build_web/exec_1 (distribute)".
func (w ChildWait) Text() string {
	return fmt.Sprintf("%s, sent to child workflow %s (%s)", w.WaitingFor, w.WorkflowID, w.Operation)
}
