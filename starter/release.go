package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// releaseCommand is `starter release`: one release from a build template
// (or an image) to fleets, in stages (docs/release.md).
func releaseCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Releases: build, publish and roll an image out to scaling groups in stages, with gates and one rollback",
	}
	nv := func(args []string) string { return model.ReleaseWorkflowID(args[0], args[1]) }
	var (
		hold     model.HoldCommand
		skip     model.SkipGroupCommand
		cancel   model.CancelCommand
		rollback model.ReleaseRollbackCommand
	)
	holdCmd := decideCommand(a, decision{Use: "hold NAME VERSION", Short: "Hold the release: no new group or stage starts until resume (running rolling updates go on)",
		Example: `  starter release hold web v2_0_0 --reason "change freeze"`, Args: 2, WorkflowID: nv, Name: model.CommandHold, Payload: fixed(&hold), Accepted: "held"})
	holdCmd.Flags().StringVar(&hold.Reason, "reason", "", "why the release is held")
	resumeCmd := decideCommand(a, decision{Use: "resume NAME VERSION", Short: "Lift a hold", Example: "  starter release resume web v2_0_0",
		Args: 2, WorkflowID: nv, Name: model.CommandResume, Payload: func([]string) (any, error) { return model.ResumeCommand{}, nil }, Accepted: "promotion goes on"})
	skipCmd := decideCommand(a, decision{Use: "skip-group NAME VERSION GROUP", Short: "Go on without a pending or failed group (it is left as it is)",
		Example: `  starter release skip-group web v2_0_0 asg-web-bj --reason "decommissioned"`, Args: 3, WorkflowID: nv, Name: model.CommandSkipGroup,
		Payload: func(args []string) (any, error) { skip.ScalingGroupID = args[2]; return skip, nil },
		Subject: func(args []string) string { return args[2] }})
	skipCmd.Flags().StringVar(&skip.Reason, "reason", "", "why the group is skipped")
	cancelCmd := decideCommand(a, decision{Use: "cancel NAME VERSION", Short: "Stop the release: running rolling updates are cancelled (their groups restored), updated groups stay updated",
		Example: `  starter release cancel web v2_0_0 --reason "wrong build"`, Args: 2, WorkflowID: nv, Name: model.CommandCancel, Payload: fixed(&cancel), Accepted: "the release stops"})
	cancelCmd.Flags().StringVar(&cancel.Reason, "reason", "", "why the release is cancelled")
	rollbackCmd := decideCommand(a, decision{Use: "rollback NAME VERSION", Short: "Roll every group changed so far back to its previous image, stage by stage in reverse order",
		Example: `  starter release rollback web v2_0_0 --reason "error rate up in regional-1"`, Args: 2, WorkflowID: nv, Name: model.CommandRollback, Payload: fixed(&rollback),
		Accepted: "the changed groups go back to their previous images (starter release status NAME VERSION)"})
	rollbackCmd.Flags().StringVar(&rollback.Reason, "reason", "", "why the release is rolled back")
	cmd.AddCommand(releaseStartCommand(a), releaseStatusCommand(a), releaseApproveCommand(a), holdCmd, resumeCmd, skipCmd, cancelCmd, rollbackCmd)
	return cmd
}

func releaseStartCommand(a *app) *cobra.Command {
	var (
		spec               *specFlags[model.ReleaseSpec]
		watch, exitOnPause bool
	)
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start a release from a spec file",
		Long: `Build the image (source.template) or take one (source.image), publish the
package version to the regions, then update the stages' scaling groups in
order, each stage behind its gate (approval before it; soak and verification
after it). The spec is checked whole before anything starts: its rules, then
every group and the template against the cloud. One run per release name and
version.`,
		Example: "  starter release start --spec release.yaml --watch",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := spec.load()
			if err != nil {
				return err
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			return a.startAndWatch(ctx, out, a.releasePlan(s), watch, func() error {
				return a.watchRelease(ctx, out, s.Name, s.Version, exitOnPause)
			})
		},
	}
	spec = newSpecFlags[model.ReleaseSpec](cmd, nil)
	type S = model.ReleaseSpec
	spec.flag("name", "release name", func(s *S) any { return &s.Name })
	spec.flag("version", "package version to publish", func(s *S) any { return &s.Version })
	watchFlags(cmd, &watch, &exitOnPause, "release")
	return cmd
}

// releasePlan checks the spec and the cloud (the groups, the template),
// then starts the release.
func (a *app) releasePlan(spec model.ReleaseSpec) runPlan {
	id := model.ReleaseWorkflowID(spec.Name, spec.Version)
	groups := 0
	for _, st := range spec.Stages {
		groups += len(st.Groups)
	}
	return runPlan{
		Validate: spec.Validate,
		Check:    func(ctx context.Context) error { return a.checkRelease(ctx, spec) },
		startRequest: startRequest{
			ID: id, Type: model.ReleaseWorkflowType, Input: spec, Operation: model.OperationRelease,
			Keys: []temporal.SearchAttributeUpdate{
				model.SARelease.ValueSet(model.ReleaseKey(spec.Name, spec.Version)),
				model.SAPackage.ValueSet(spec.Package), model.SAVersion.ValueSet(spec.Version),
			},
			Summary: fmt.Sprintf("Release %s %s: %d stage(s), %d group(s)", spec.Name, spec.Version, len(spec.Stages), groups),
			Conflict: func(context.Context) string {
				return fmt.Sprintf("release %s %s is running (workflow %s): see starter release status %s %s", spec.Name, spec.Version, id, spec.Name, spec.Version)
			},
		},
	}
}

// checkRelease asks the cloud whether every group exists in its region
// and the build template exists.
func (a *app) checkRelease(ctx context.Context, spec model.ReleaseSpec) error {
	cc := a.cloudClient()
	if t := spec.Source.Template; t != nil {
		resp, err := cc.DescribeImagePipelines(ctx, &cloud.DescribeImagePipelinesRequest{RegionId: t.Region, ImagePipelineIds: []string{t.TemplateID}})
		if err != nil {
			return checkFailed("check template "+t.TemplateID, err)
		}
		if len(resp.ImagePipelines) == 0 {
			return invalid("build template %s does not exist in %s; nothing was started", t.TemplateID, t.Region)
		}
	}
	var missing []string
	for _, st := range spec.Stages {
		for _, g := range st.Groups {
			resp, err := cc.DescribeScalingGroups(ctx, &cloud.DescribeScalingGroupsRequest{RegionId: g.RegionID, ScalingGroupIds: []string{g.ScalingGroupID}})
			if apiErr, ok := cloud.AsAPIError(err); ok && !apiErr.Retryable() {
				missing = append(missing, g.ScalingGroupID+" ("+g.RegionID+")")
				continue
			}
			if err != nil {
				return checkFailed("check group "+g.ScalingGroupID, err)
			}
			if len(resp.ScalingGroups) == 0 {
				missing = append(missing, g.ScalingGroupID+" ("+g.RegionID+")")
			}
		}
	}
	if len(missing) > 0 {
		return invalid("scaling groups not found: %s; nothing was started", strings.Join(missing, ", "))
	}
	return nil
}

func releaseApproveCommand(a *app) *cobra.Command {
	var c model.ApproveCommand
	cmd := decideCommand(a, decision{
		Use: "approve NAME VERSION", Short: "Approve the stage that waits for its approval (recorded with who and why)",
		Example: `  starter release approve web v2_0_0 --stage regional-1 --comment "canary clean for 30m"`, Args: 2,
		WorkflowID: func(args []string) string { return model.ReleaseWorkflowID(args[0], args[1]) },
		Name:       model.CommandApprove,
		Payload: func([]string) (any, error) {
			if c.By == "" {
				c.By = os.Getenv("USER")
			}
			if err := c.Validate(); err != nil {
				return nil, invalid("%w", err)
			}
			return c, nil
		},
		Accepted: "the stage starts",
	})
	cmd.Flags().StringVar(&c.Stage, "stage", "", "the stage approved (default: the one that waits)")
	cmd.Flags().StringVar(&c.By, "by", "", "who approves (default $USER)")
	cmd.Flags().StringVar(&c.Comment, "comment", "", "why")
	return cmd
}

// releaseRows are a release's lines: one for the release, one per group.
func releaseRows(p *model.ReleaseProgress) []row {
	head := "release " + p.Phase
	if p.Held {
		head += " (held: " + p.HoldReason + ")"
	}
	rows := []row{{key: "", text: head}}
	if p.Build != nil {
		rows = append(rows, row{key: "build", text: fmt.Sprintf("  build        %-10s %s", p.Build.State, p.Build.WorkflowID)})
	}
	if p.Distribution != nil {
		rows = append(rows, row{key: "dist", text: fmt.Sprintf("  publication  %-10s %s", p.Distribution.State, p.Distribution.WorkflowID)})
	}
	for _, st := range p.Stages {
		rows = append(rows, row{key: "stage " + st.Name, text: fmt.Sprintf("  stage %-12s %s%s", st.Name, st.State, soakText(st.Soak))})
		for _, g := range st.Groups {
			text := fmt.Sprintf("    %-20s %-14s %-12s %s", g.ScalingGroupID, g.RegionID, g.State, g.ImageID)
			if g.Error != "" {
				text += "  " + g.Error
			}
			rows = append(rows, row{key: "group " + g.ScalingGroupID, text: text})
		}
	}
	return rows
}

func soakText(s *model.SoakProgress) string {
	if s == nil {
		return ""
	}
	t := fmt.Sprintf(", soak until %s, %d check(s)", s.Until.Format("15:04:05"), s.Checks)
	if s.Failure != "" {
		t += ": " + s.Failure
	}
	return t
}

// watchRelease prints the release's changes until it ends (or pauses,
// with exitOnPause: exit code 4).
func (a *app) watchRelease(ctx context.Context, out io.Writer, name, version string, exitOnPause bool) error {
	id := model.ReleaseWorkflowID(name, version)
	_, err := watchRun(ctx, a, out, id, "", watch[model.ReleaseProgress, model.ReleaseProgress]{
		Query:   model.QueryProgress,
		Show:    changedRows(releaseRows),
		Waiting: func(p *model.ReleaseProgress) string { return p.WaitingFor },
		HintFor: func(p *model.ReleaseProgress) string {
			return fmt.Sprintf("%s (starter release approve|hold|resume|skip-group|cancel|rollback %s %s)", p.Resolve, name, version)
		},
		ExitOnPause: exitOnPause,
		Done: func(out io.Writer, p *model.ReleaseProgress) error {
			fmt.Fprintf(out, "\nRelease %s %s succeeded: %d group(s) updated\n", name, version, countGroups(p, model.GroupUpdated))
			return nil
		},
	})
	return err
}

func countGroups(p *model.ReleaseProgress, state string) int {
	n := 0
	for _, st := range p.Stages {
		for _, g := range st.Groups {
			if g.State == state {
				n++
			}
		}
	}
	return n
}

func releaseStatusCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "status NAME VERSION",
		Short:   "Show a release: phase, stages × groups, what it waits for, approvals",
		Example: "  starter release status web v2_0_0",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			id := model.ReleaseWorkflowID(args[0], args[1])
			info, err := a.describe(ctx, id)
			if err != nil {
				return err
			}
			p, err := query[model.ReleaseProgress](ctx, a, id, "", model.QueryProgress)
			if err != nil {
				return fmt.Errorf("query %s: %w", id, err)
			}
			fmt.Fprintf(out, "Workflow:  %s (%s)\nPhase:     %s\nImage:     %s\n", id, info.GetStatus(), p.Phase, p.SourceImage)
			for _, l := range [][2]string{{"Held:      ", p.HoldReason}, {"Waiting:   ", p.WaitingFor}, {"Resolve:   ", p.Resolve},
				{"Error:     ", p.Error}, {"Rollback:  ", p.RollbackReason}, {"Cancelled: ", p.CancelReason}, {"Refused:   ", p.LastRefusal}} {
				if l[1] != "" {
					fmt.Fprintf(out, "%s%s\n", l[0], l[1])
				}
			}
			fmt.Fprintf(out, "Web UI:    %s\n\n", a.webURL(id, info.GetExecution().GetRunId()))
			tw := table(out, "STAGE\tGROUP\tREGION\tSTATE\tIMAGE\tROLLING UPDATE\tBATCH\tWAITS FOR")
			for _, st := range p.Stages {
				stage := st.Name + " (" + st.State + ")"
				for _, g := range st.Groups {
					ru, batch, waits := "", "", g.WaitingFor
					if g.Rollout != nil {
						ru = g.Rollout.WorkflowID
					}
					if g.State == model.GroupUpdating || g.State == model.GroupRollingBack {
						// The group's rolling update knows its batch and
						// whether it waits for its operator.
						if rs, err := query[model.RolloutState](ctx, a, model.RolloutWorkflowID(g.ScalingGroupID), "", model.QueryProgress); err == nil {
							batch = fmt.Sprintf("%d/%d", rs.CurrentBatch, len(rs.Batches))
							if rs.WaitingFor != "" {
								waits = rs.WaitingFor + " (starter rollout retry|skip|resume|rollback " + g.ScalingGroupID + ")"
							}
						}
					}
					if g.Error != "" {
						waits = strings.TrimSpace(waits + " " + g.Error)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", stage, g.ScalingGroupID, g.RegionID, g.State, g.ImageID, ru, batch, waits)
					stage = ""
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, ap := range p.Approvals {
				fmt.Fprintf(out, "approved: stage %s by %s at %s: %s\n", ap.Stage, ap.By, ap.At.Format("2006-01-02 15:04:05"), ap.Comment)
			}
			return endedStatus(id, info.GetStatus())
		},
	}
}
