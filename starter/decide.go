package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/model"
)

// decision is one operator command that a starter command sends to a run.
type decision struct {
	// Use, Short, Example and Args are the cobra command's.
	Use, Short, Example string
	Args                int
	// WorkflowID is the run's ID, from the arguments.
	WorkflowID func(args []string) string
	// Name is the operator command (the update's name).
	Name string
	// Payload builds the command's payload once the flags are parsed; an
	// error is invalid input (nothing is sent).
	Payload func(args []string) (any, error)
	// Subject, when set, names what the decision applies to in the accepted
	// line, after the command's name ("retry-region eu-west-1: accepted").
	Subject func(args []string) string
	// Accepted is what happens next, added to the accepted line.
	Accepted string
}

// decideCommand is a command that sends one operator command.
func decideCommand(a *app, d decision) *cobra.Command {
	return a.replyTimeoutFlag(&cobra.Command{
		Use:     d.Use,
		Short:   d.Short,
		Example: d.Example,
		Args:    cobra.ExactArgs(d.Args),
		RunE: func(cmd *cobra.Command, args []string) error {
			payload, err := d.Payload(args)
			if err != nil {
				return err
			}
			label := cmd.Name()
			if d.Subject != nil {
				label += " " + d.Subject(args)
			}
			return a.decide(cmd, d.WorkflowID(args), d.Name, payload, label, d.Accepted)
		},
	})
}

// decide sends an operator command and says what became of it, the same
// for every operation: applied (exit code 0: "<label>: accepted; <next>"),
// refused by the run (3), not sent or not kept by the server (1: it will
// not be applied), or admitted and pending (5: the server holds it and the
// run will apply or refuse it when a worker runs it; it may still take
// effect, so it must not be sent again blindly).
func (a *app) decide(cmd *cobra.Command, workflowID, name string, payload any, label, next string) error {
	if err := a.sendCommand(cmd.Context(), workflowID, name, payload); err != nil {
		var pending *pendingError
		if errors.As(err, &pending) {
			pending.label = label
		}
		return err
	}
	line := label + ": accepted"
	if next != "" {
		line += "; " + next
	}
	fmt.Fprintln(cmd.OutOrStdout(), line)
	return nil
}

// replyTimeoutFlag adds --reply-timeout to a command that sends an operator
// command.
func (a *app) replyTimeoutFlag(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().DurationVar(&a.replyTimeout, "reply-timeout", defaultReplyTimeout,
		"how long to wait for the run to accept or refuse the command; a command the server holds after that is pending (exit code 5)")
	return cmd
}

// fixed is a Payload that does not depend on the arguments: p is read when
// the command runs, after its flags were parsed into it.
func fixed[T any](p *T) func([]string) (any, error) {
	return func([]string) (any, error) { return *p, nil }
}

// deprecatedAlias renames a fresh copy of a command to its old name: hidden
// from help, it still works, with cobra's deprecation notice (on stderr)
// naming the new name, for it and each of its subcommands. The new command's
// help names the old one (see deprecatedNote).
func deprecatedAlias(cmd *cobra.Command, old string) *cobra.Command {
	var mark func(c *cobra.Command, newPath string)
	mark = func(c *cobra.Command, newPath string) {
		c.Deprecated = fmt.Sprintf("use %q instead", newPath)
		for _, sub := range c.Commands() {
			mark(sub, newPath+" "+sub.Name())
		}
	}
	mark(cmd, cmd.Name())
	_, rest, _ := strings.Cut(cmd.Use, " ")
	cmd.Use = strings.TrimSpace(old + " " + rest)
	return cmd
}

// deprecatedNote adds to a command's help that old is its deprecated name.
func deprecatedNote(cmd *cobra.Command, old string) *cobra.Command {
	if cmd.Long == "" {
		cmd.Long = cmd.Short + "."
	}
	cmd.Long += fmt.Sprintf("\n\n%q is the deprecated old name of this command: it still works, and will be removed.", old)
	return cmd
}

// defaultReplyTimeout is how long the starter waits for a run to answer
// an operator command.
const defaultReplyTimeout = 30 * time.Second

// pendingError is the answer for a command that the server admitted but
// the run has not answered: it may still be applied (exit code 5). The
// starter does not say "failed" for it.
type pendingError struct {
	label, name, workflowID, updateID string
	waited                            time.Duration
	cause                             error // why the answer did not come
	unknown                           bool  // the server could not be asked whether it holds the command
}

func (e *pendingError) Error() string {
	label := e.label
	if label == "" {
		label = e.name
	}
	held := fmt.Sprintf("The server holds it (update %s, in memory: a server restart or a failed workflow task drops it): the run applies or refuses it when a worker runs its next task", e.updateID)
	if e.unknown {
		held = fmt.Sprintf("The server could not be asked whether it holds it (update %s: %v), so it may have arrived: then the run applies or refuses it when a worker runs its next task", e.updateID, e.cause)
	}
	return fmt.Sprintf("%s: pending, not applied yet: the run did not answer within %s (is a worker running?).\n"+
		"%s, so it may still take effect.\n"+
		"Do not send it again before you know (a second one would be applied too): see `starter status %s`, "+
		"or `temporal workflow update describe --workflow-id %s --update-id %s`.",
		label, e.waited, held, e.workflowID, e.workflowID, e.updateID)
}

// sendCommand sends an operator command as an update and waits until the
// run answers. Accepted: nil. Refused by the run's validator, or no running
// run: exit code 3. Not answered in time: the server is asked whether it
// holds the command; if it does (or cannot be asked), the command is
// pending (*pendingError, exit code 5), else it will not be applied (exit
// code 1, send it again).
func (a *app) sendCommand(ctx context.Context, workflowID, name string, payload any) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	// An update sent while no worker runs waits in the server and is
	// applied whenever a worker comes back, long after the user gave up on
	// it: without a worker, the command is not sent at all.
	checkCtx, cancelCheck := context.WithTimeout(ctx, 30*time.Second)
	err = noWorker(checkCtx, c)
	cancelCheck()
	if err != nil {
		return err
	}
	wait := a.replyTimeout
	if wait <= 0 {
		wait = defaultReplyTimeout
	}
	updateID := uuid.NewString()
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	handle, err := c.UpdateWorkflow(waitCtx, client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateID:     updateID,
		UpdateName:   name,
		Args:         []any{payload},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(waitCtx, nil)
	}
	if err == nil {
		return nil
	}
	if refused := refusal(workflowID, name, err); refused != nil {
		return refused
	}
	// The run did not answer: the server may hold the command, and then a
	// worker applies it later. Ask, with a deadline of its own (also when
	// the user interrupted the wait).
	askCtx, cancelAsk := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelAsk()
	resp, askErr := c.WorkflowService().PollWorkflowExecutionUpdate(askCtx, &workflowservice.PollWorkflowExecutionUpdateRequest{
		Namespace: a.namespace,
		UpdateRef: &updatepb.UpdateRef{
			WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: workflowID},
			UpdateId:          updateID,
		},
		WaitPolicy: &updatepb.WaitPolicy{LifecycleStage: enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED},
	})
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(askErr, &notFound):
		return fmt.Errorf("%s to %s did not go through (%w), and the server does not hold it: it will not be applied; send it again if it is still wanted", name, workflowID, err)
	case askErr != nil:
		return &exitError{code: exitPending, err: &pendingError{name: name, workflowID: workflowID, updateID: updateID, waited: wait, cause: askErr, unknown: true}}
	}
	switch resp.GetStage() {
	case enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED:
		if f := resp.GetOutcome().GetFailure(); f != nil {
			return &exitError{code: exitRefused, err: fmt.Errorf("%s refused: %s", name, f.GetMessage())}
		}
		return nil // answered while we asked
	case enums.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED:
		return nil // accepted: the handler applies it in the same workflow task
	}
	return &exitError{code: exitPending, err: &pendingError{name: name, workflowID: workflowID, updateID: updateID, waited: wait, cause: err}}
}

// refusal is the exit error of an answer that refuses the command, or nil.
func refusal(workflowID, name string, err error) error {
	var (
		notFound *serviceerror.NotFound
		refused  *temporal.ApplicationError // the validator's (or handler's) answer
	)
	switch {
	case errors.As(err, &notFound):
		return &exitError{code: exitRefused, err: fmt.Errorf("no running workflow %s: %w", shownID(workflowID), err)}
	case errors.As(err, &refused):
		return &exitError{code: exitRefused, err: fmt.Errorf("%s refused: %w", name, err)}
	}
	return nil
}

// workerSeen is how recently a worker must have polled the task queue for
// a command to be sent.
const workerSeen = 2 * time.Minute

// noWorker refuses a command when no worker has polled the imagefleet task
// queue lately (exit code 1: nothing was sent).
func noWorker(ctx context.Context, c client.Client) error {
	resp, err := c.DescribeTaskQueue(ctx, model.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return fmt.Errorf("describe task queue %s: %w", model.TaskQueue, err)
	}
	for _, p := range resp.GetPollers() {
		if time.Since(p.GetLastAccessTime().AsTime()) < workerSeen {
			return nil
		}
	}
	return fmt.Errorf("no worker has polled task queue %s in the last %s: start one (bin/worker); the command was not sent", model.TaskQueue, workerSeen)
}
