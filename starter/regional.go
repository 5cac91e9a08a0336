package main

import (
	"fmt"

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

// cancelCommand stops a distribution or a publication; abortCommand is its
// deprecated old name.
func cancelCommand(a *app) *cobra.Command {
	var c model.CancelCommand
	cmd := decideCommand(a, decision{
		Use:        "cancel WORKFLOW_ID",
		Short:      "Cancel a distribution or publication and delete the copies it made",
		Example:    `  starter cancel distribute/webapp/v1_0_0 --reason "wrong image"`,
		Args:       1,
		WorkflowID: func(args []string) string { return args[0] },
		Name:       stopCommand,
		Payload:    fixed(&c),
		Accepted:   "the copies made are being deleted",
	})
	cmd.Flags().StringVar(&c.Reason, "reason", "", "why the run is cancelled")
	return deprecatedNote(cmd, "abort")
}

func abortCommand(a *app) *cobra.Command {
	return deprecatedAlias(cancelCommand(a), "abort")
}
