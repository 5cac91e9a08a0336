package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"

	"github.com/imagefleet/imagefleet/model"
)

func statusCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status WORKFLOW_ID",
		Short: "Show the progress of any imagefleet run by its workflow ID",
		Long: `Show the progress of any imagefleet run by its workflow ID: a distribution's
regions, or what the operation's own status command shows (rollout status,
bluegreen status, build show, package version status, package retention
status).`,
		Example: "  starter status distribute/webapp/v1_0_0\n  starter status rollout/asg-web-hz",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			info, err := a.describe(cmd.Context(), id)
			if err != nil {
				return err
			}
			if other := statusOf(a, info.GetType().GetName(), id); other != nil {
				return other(cmd)
			}
			p, err := query[model.DistributionProgress](cmd.Context(), a, id, "", model.QueryProgress)
			if err != nil {
				return fmt.Errorf("query %s: %w", shownID(id), err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Workflow:  %s (%s)\nPackage:   %s %s %s\nPhase:     %s\n", shownID(id), info.GetStatus(), p.Package, p.Version, p.ArtifactID, p.Phase)
			printRegionalStatus(out, p.Error, p.WaitingFor, p.Permission, p.LastRefusal, a.webURL(id, info.GetExecution().GetRunId()))
			tw := table(out, "REGION\tSTATE\tIMAGE ID\tATTEMPTS\tERROR")
			for _, r := range p.Regions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.Region, r.State, r.ImageID, r.Attempts, r.Error)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return endedStatus(id, info.GetStatus())
		},
	}
}

// printRegionalStatus prints the lines a distribution's and a publication's
// status share, between the phase and the region table: the error a failed
// run ended with first.
func printRegionalStatus(out io.Writer, errText, waiting string, perm *model.Permission, refusal, webURL string) {
	if errText != "" {
		fmt.Fprintf(out, "Error:     %s\n", errText)
	}
	if waiting != "" {
		fmt.Fprintf(out, "Waiting:   %s\n", waiting)
	}
	if perm != nil {
		fmt.Fprintf(out, "Access:    %s\n", permissionText(*perm))
	}
	if refusal != "" {
		fmt.Fprintf(out, "Refused:   %s\n", refusal)
	}
	fmt.Fprintf(out, "Web UI:    %s\n\n", webURL)
}

// endedStatus is a status command's exit: 1 for a run that ended without
// completing, as the watching commands do.
func endedStatus(id string, status enums.WorkflowExecutionStatus) error {
	if endedUnsuccessfully(status) {
		return &exitError{code: exitFailed, err: fmt.Errorf("%s ended %s", shownID(id), status)}
	}
	return nil
}

// statusOf returns how to show a run of another operation than a
// distribution, through that operation's own status command; nil for a
// distribution.
func statusOf(a *app, workflowType, id string) func(cmd *cobra.Command) error {
	parts := strings.Split(id, "/")
	run := func(c *cobra.Command, flags map[string]string, args ...string) func(*cobra.Command) error {
		return func(cmd *cobra.Command) error {
			for name, value := range flags {
				if err := c.Flags().Set(name, value); err != nil {
					return err
				}
			}
			return c.RunE(cmd, args)
		}
	}
	switch {
	case workflowType == model.RolloutWorkflowType && len(parts) == 2:
		return run(rolloutStatusCommand(a), nil, parts[1])
	case workflowType == model.BlueGreenWorkflowType && len(parts) == 3:
		return run(blueGreenStatusCommand(a), nil, parts[1], parts[2])
	case workflowType == model.BuildWorkflowType && len(parts) == 3:
		return run(buildShowCommand(a), map[string]string{"region": parts[1]}, parts[2])
	case workflowType == model.PublishWorkflowType && len(parts) == 3:
		return run(versionStatusCommand(a), map[string]string{"package": parts[1], "version": parts[2]})
	case workflowType == model.RetentionWorkflowType && len(parts) == 2:
		return run(retentionStatusCommand(a), map[string]string{"package": parts[1]})
	}
	return nil
}
