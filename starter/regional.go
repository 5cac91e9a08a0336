package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/model"
)

// The decisions on a distribution or a publication, by workflow ID: retry or
// drop a failed region, or cancel the run.

func regionDecisionCommand(a *app, name string) *cobra.Command {
	short := map[string]string{
		model.CommandRetryRegion: "Copy into a failed region again",
		model.CommandDropRegion:  "Publish without a failed region",
	}[name]
	return decideCommand(a, decision{
		Use:        name + " WORKFLOW_ID REGION",
		Short:      short,
		Example:    fmt.Sprintf("  starter %s distribute/webapp/v1_0_0 eu-west-1", name),
		Args:       2,
		WorkflowID: func(args []string) string { return args[0] },
		Name:       name,
		Payload:    func(args []string) (any, error) { return model.RegionCommand{Region: args[1]}, nil },
		Subject:    func(args []string) string { return args[1] },
	})
}

// cancelCommands are cancel for a distribution or a publication, and abort,
// its deprecated old name.
func cancelCommands(a *app) []*cobra.Command {
	return stopCommands(a, decision{
		Use:        "cancel WORKFLOW_ID",
		Short:      "Cancel a distribution or publication and delete the copies it made",
		Example:    `  starter cancel distribute/webapp/v1_0_0 --reason "wrong image"`,
		Args:       1,
		WorkflowID: func(args []string) string { return args[0] },
		Accepted:   "the copies made are being deleted",
	})
}

// stopCommands are an operation's cancel command (with --reason) and abort,
// its deprecated old name; both send CommandCancel.
func stopCommands(a *app, d decision) []*cobra.Command {
	command := func() *cobra.Command {
		var c model.CancelCommand
		d := d
		d.Name, d.Payload = model.CommandCancel, fixed(&c)
		cmd := decideCommand(a, d)
		cmd.Flags().StringVar(&c.Reason, "reason", "", "why the run is cancelled")
		return cmd
	}
	return []*cobra.Command{deprecatedNote(command(), "abort"), deprecatedAlias(command(), "abort")}
}

// regionalWatch is the watch of a distribution or a publication: a line per
// region as it moves on, the region decisions when one fails.
func regionalWatch[P, R any](id string, exitOnPause bool, regions func(*P) []row, waiting func(*P) string, done func(io.Writer, *R) error) watch[P, R] {
	return watch[P, R]{
		Query:       model.QueryProgress,
		Show:        changedRows(regions),
		Waiting:     waiting,
		Hint:        regionalHint(id),
		ExitOnPause: exitOnPause,
		Done:        done,
	}
}

// regionalHint names the decisions on the distribution or publication id.
func regionalHint(id string) string {
	return fmt.Sprintf("starter retry-region %[1]s <region> | starter drop-region %[1]s <region> | starter cancel %[1]s", id)
}

// regionRows are the regions' lines while a distribution or publication runs.
func regionRows[T any](regions []T, line func(T) (region, state, where, problem string)) []row {
	rows := make([]row, len(regions))
	for i, r := range regions {
		region, state, where, problem := line(r)
		text := fmt.Sprintf("  %-16s %-10s %s", region, state, where)
		if problem != "" {
			text += "  " + problem
		}
		rows[i] = row{key: region, text: text}
	}
	return rows
}
