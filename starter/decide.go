package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
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
	return &cobra.Command{
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
	}
}

// decide sends an operator command and says whether the run accepted it
// (exit code 0: "<label>: accepted; <next>"), refused it (3) or could not be
// asked (1): the same for every operation.
func (a *app) decide(cmd *cobra.Command, workflowID, name string, payload any, label, next string) error {
	if err := a.sendCommand(cmd.Context(), workflowID, name, payload); err != nil {
		return err
	}
	line := label + ": accepted"
	if next != "" {
		line += "; " + next
	}
	fmt.Fprintln(cmd.OutOrStdout(), line)
	return nil
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

// sendCommand sends an operator command as an update and waits until the
// workflow accepts it (or its validator refuses it, exit code 3; a call that
// fails is exit code 1).
func (a *app) sendCommand(ctx context.Context, workflowID, name string, payload any) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// An update sent while no worker runs waits in the server and is
	// applied whenever a worker comes back, long after the user gave up on
	// it: without a worker, the command is not sent at all.
	if err := noWorker(ctx, c); err != nil {
		return err
	}
	handle, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateName:   name,
		Args:         []any{payload},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	var (
		notFound *serviceerror.NotFound
		refused  *temporal.ApplicationError // the validator's (or handler's) answer
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notFound):
		return &exitError{code: exitRefused, err: fmt.Errorf("no running workflow %s: %w", shownID(workflowID), err)}
	case errors.As(err, &refused):
		return &exitError{code: exitRefused, err: fmt.Errorf("%s refused: %w", name, err)}
	default:
		// The server could not be reached or did not answer in time: the
		// command may not even have arrived, so it was not refused.
		return fmt.Errorf("send %s to %s: %w", name, shownID(workflowID), err)
	}
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
