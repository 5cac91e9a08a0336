package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/specfile"
	"github.com/imagefleet/imagefleet/model"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"
)

func buildCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "build", Short: "Start, list, show, cancel image builds, retry a failed step, build on a schedule"}
	cmd.AddCommand(buildStartCommand(a), buildListCommand(a), buildShowCommand(a), buildCancelCommand(a), buildRetryStepCommand(a))
	cmd.AddCommand(buildScheduleCommand(a))  // build_schedule.go
	cmd.AddCommand(buildRetentionCommand(a)) // retention.go
	return cmd
}

func buildStartCommand(a *app) *cobra.Command {
	var (
		in                *specFlags[model.BuildInput]
		wait, exitOnPause bool
	)
	cmd := &cobra.Command{
		Use:   "start TEMPLATE_ID",
		Short: "Start a build of a build template (one build per template at a time)",
		Example: `  starter build start ip-abc123 --wait
  starter build start ip-abc123 --retry-window 2h   # with releaseOnFailure false: wait 2h for retry-step`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := in.load()
			if err != nil {
				return err
			}
			s.TemplateID = args[0]
			return a.startBuild(cmd.Context(), cmd.OutOrStdout(), s, wait, exitOnPause)
		},
	}
	in = newSpecFlags(cmd, func() model.BuildInput { return model.BuildInput{Region: defaultBuildRegion} })
	in.flag("region", "region of the template", func(s *model.BuildInput) any { return &s.Region })
	in.flag("retry-window", "how long a failed step waits for retry-step when the template keeps resources on failure (default 24h)", func(s *model.BuildInput) any { return &s.RetryWindow })
	waitFlags(cmd, &wait, &exitOnPause, false, false)
	return cmd
}

// startBuild checks the input and the template, then starts the template's
// build workflow. A template with a build running is refused, naming that
// build.
func (a *app) startBuild(ctx context.Context, out io.Writer, in model.BuildInput, wait, exitOnPause bool) error {
	id := model.BuildWorkflowID(in.Region, in.TemplateID)
	plan := runPlan{
		Validate: in.Validate,
		Check: func(ctx context.Context) error {
			_, err := a.template(ctx, in.Region, in.TemplateID)
			return err
		},
		startRequest: startRequest{
			ID: id, Type: model.BuildWorkflowType, Input: in,
			Operation: model.OperationBuild,
			Keys: []temporal.SearchAttributeUpdate{
				model.SATemplate.ValueSet(in.TemplateID),
			},
			Summary: "Build image template " + in.TemplateID + " in " + in.Region,
			Conflict: func(ctx context.Context) string {
				running := "a build"
				if p, qerr := a.buildProgress(ctx, id); qerr == nil && p.ExecutionID != "" {
					running = "build " + p.ExecutionID + " (step " + p.Step + ")"
				}
				return fmt.Sprintf("template %s already has %s running (workflow %s): only one build per template runs at a time", in.TemplateID, running, id)
			},
		},
	}
	return a.startAndWatch(ctx, out, plan, wait, func() error {
		return a.watchBuild(ctx, out, in, exitOnPause)
	})
}

func (a *app) buildProgress(ctx context.Context, id string) (*model.BuildProgress, error) {
	return query[model.BuildProgress](ctx, a, id, "", model.QueryBuildProgress)
}

// watchBuild prints step changes until the build ends, then what it built;
// a build that failed prints the resources it left.
func (a *app) watchBuild(ctx context.Context, out io.Writer, in model.BuildInput, exitOnPause bool) error {
	_, err := watchRun(ctx, a, out, model.BuildWorkflowID(in.Region, in.TemplateID), "", watch[model.BuildProgress, model.BuildResult]{
		Query: model.QueryBuildProgress,
		Show: changedLine(func(p *model.BuildProgress) string {
			line := "  step " + p.Step
			if p.FailedStep != "" {
				line += fmt.Sprintf(" (%s failed: %s)", p.FailedStep, p.Error)
			}
			return line
		}),
		Waiting: func(p *model.BuildProgress) string { return p.WaitingFor },
		HintFor: func(p *model.BuildProgress) string {
			if p.WaitingOn != "" { // the distribution child's wait: its commands
				return regionalHint(p.WaitingOn)
			}
			return fmt.Sprintf("starter build retry-step %[1]s --region %[2]s | starter build cancel %[1]s --region %[2]s", in.TemplateID, in.Region)
		},
		ExitOnPause: exitOnPause,
		Failed: func(out io.Writer, err error) {
			var appErr *temporal.ApplicationError
			var details model.BuildResult
			if errors.As(err, &appErr) && appErr.Details(&details) == nil {
				printResources(out, details.Resources)
			}
		},
		Done: func(out io.Writer, r *model.BuildResult) error {
			fmt.Fprintf(out, "\nBuilt image %s (build %s)\n", r.ImageID, r.ExecutionID)
			for _, region := range slices.Sorted(maps.Keys(r.Images)) {
				fmt.Fprintf(out, "  %-16s %s\n", region, r.Images[region])
			}
			if len(r.SharedWith) > 0 {
				fmt.Fprintf(out, "Shared with %s\n", strings.Join(r.SharedWith, ", "))
			}
			printResources(out, r.Resources)
			return nil
		},
	})
	return err
}

func printResources(out io.Writer, rs []model.BuildResource) {
	if len(rs) == 0 {
		return
	}
	tw := table(out, "RESOURCE\tID\tREGION\tSTATE\tERROR")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Kind, r.ID, r.Region, r.State, r.Error)
	}
	_ = tw.Flush()
}

func buildListCommand(a *app) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "list TEMPLATE_ID",
		Short: "List the builds of a template, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := a.cloudClient().DescribeImagePipelineExecutions(cmd.Context(), &cloud.DescribeImagePipelineExecutionsRequest{RegionId: region, ImagePipelineId: args[0]})
			if err != nil {
				return fmt.Errorf("list builds: %w", err)
			}
			tw := table(cmd.OutOrStdout(), "BUILD ID\tSTATUS\tSTEP\tIMAGE ID\tSTARTED\tMESSAGE")
			for _, e := range resp.ImagePipelineExecutions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ExecutionId, e.Status, e.Step, e.ImageId, e.CreationTime.Format(time.RFC3339), e.Message)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the template")
	return cmd
}

func buildShowCommand(a *app) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "show TEMPLATE_ID",
		Short: "Show the template's current (or last) build: step, check report, component outputs, resources",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := model.BuildWorkflowID(region, args[0])
			p, err := a.buildProgress(cmd.Context(), id)
			if err != nil {
				return fmt.Errorf("query %s: %w", id, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Workflow:  %s\nBuild:     %s of %s (%s)\nStep:      %s\nSource:    %s (%s)\n", id, p.ExecutionID, p.TemplateID, p.TemplateName, p.Step, p.SourceImage, p.OSType)
			if p.ImageID != "" {
				fmt.Fprintf(out, "Image:     %s\n", p.ImageID)
			}
			if p.FailedStep != "" {
				fmt.Fprintf(out, "Failed:    %s: %s\n", p.FailedStep, p.Error)
			}
			if p.WaitingFor != "" {
				fmt.Fprintf(out, "Waiting:   %s\n", p.WaitingFor)
			}
			if p.WaitingOn != "" {
				fmt.Fprintf(out, "           e.g. %s\n", regionalHint(p.WaitingOn))
			}
			if p.Cancelled {
				fmt.Fprintf(out, "Cancelled: %s\n", p.CancelReason)
			}
			if p.LastRefusal != "" {
				fmt.Fprintf(out, "Refused:   %s\n", p.LastRefusal)
			}
			for _, at := range p.Attempts {
				fmt.Fprintf(out, "Instance type %s: %s %s\n", at.InstanceType, at.Result, at.Error)
			}
			if len(p.Checks) > 0 {
				fmt.Fprintln(out, "\nGuest-OS check:")
				for _, c := range p.Checks {
					fmt.Fprintf(out, "  %-24s %-9s %s\n", c.Item, c.Result, c.Detail)
				}
			}
			if len(p.Components) > 0 {
				fmt.Fprintln(out, "\nComponents:")
				for _, c := range p.Components {
					fmt.Fprintf(out, "  [%s] %s: %s (exit %d) %s\n", c.Phase, c.Name, c.Status, c.ExitCode, c.Error)
					for line := range strings.Lines(c.Output) {
						fmt.Fprintf(out, "      %s", line)
					}
				}
			}
			fmt.Fprintln(out)
			printResources(out, p.Resources)
			return nil
		},
	}
	cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the template")
	return cmd
}

// buildDecision is a command on the template's running build.
func buildDecision(a *app, d decision) *cobra.Command {
	region := new(string)
	d.Args = 1
	d.WorkflowID = func(args []string) string { return model.BuildWorkflowID(*region, args[0]) }
	cmd := decideCommand(a, d)
	cmd.Flags().StringVar(region, "region", defaultBuildRegion, "region of the template")
	return cmd
}

func buildCancelCommand(a *app) *cobra.Command {
	var c model.CancelBuildCommand
	cmd := buildDecision(a, decision{
		Use:      "cancel TEMPLATE_ID",
		Short:    "Cancel the template's running build and release what it made (may be sent more than once)",
		Example:  `  starter build cancel ip-abc123 --execution exec-xyz --reason "wrong base image"`,
		Name:     model.CommandCancelBuild,
		Payload:  fixed(&c),
		Accepted: "the build's resources are being released",
	})
	cmd.Flags().StringVar(&c.ExecutionID, "execution", "", "the build to cancel (refused if another build of the template runs)")
	cmd.Flags().StringVar(&c.Reason, "reason", "", "why the build is cancelled")
	return cmd
}

func buildRetryStepCommand(a *app) *cobra.Command {
	var (
		componentsFile string
		c              model.RetryStepCommand
	)
	cmd := buildDecision(a, decision{
		Use:   "retry-step TEMPLATE_ID",
		Short: "Run the build's failed step again (templates that keep resources on failure)",
		Example: `  starter build retry-step ip-abc123 --step Test
  starter build retry-step ip-abc123 --step Test --components fixed-tests.yaml   # a YAML list of components`,
		Name: model.CommandRetryStep,
		Payload: func([]string) (any, error) {
			if componentsFile == "" {
				return c, nil
			}
			data, err := os.ReadFile(componentsFile)
			if err != nil {
				return nil, invalid("read components: %w", err)
			}
			if err := specfile.Decode(componentsFile, data, &c.Components); err != nil {
				return nil, invalid("%w", err)
			}
			if err := c.Validate(); err != nil {
				return nil, invalid("%w", err)
			}
			return c, nil
		},
	})
	cmd.Flags().StringVar(&c.Step, "step", "", "the failed step (optional; refused if another step failed)")
	cmd.Flags().StringVar(&componentsFile, "components", "", "YAML list of fixed components: replaces the failed build component and those after it, or the test components")
	return cmd
}
