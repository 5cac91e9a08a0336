package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"
	"sigs.k8s.io/yaml"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/specfile"
	"github.com/imagefleet/imagefleet/model"
)

// defaultBuildRegion is the region of templates when --region is not given.
const defaultBuildRegion = "cn-hangzhou"

func templateCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "Create, list and show image templates (ECS Image Builder)"}
	cmd.AddCommand(templateCreateCommand(a), templateListCommand(a), templateShowCommand(a))
	return cmd
}

func buildCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "build", Short: "Start, list, show, cancel image builds and retry a failed step"}
	cmd.AddCommand(buildStartCommand(a), buildListCommand(a), buildShowCommand(a), buildCancelCommand(a), buildRetryStepCommand(a))
	return cmd
}

func templateCreateCommand(a *app) *cobra.Command {
	var (
		specFile string
		wait     bool
	)
	cmd := &cobra.Command{
		Use:   "create --spec FILE",
		Short: "Create an image template and (unless runImmediately is false) start its first build",
		Long: `Create an image template from a spec (YAML or JSON, the fields of
model.TemplateSpec: region, name, sourceImage or sourceFamily, components,
repair, test, tests, vSwitchId, instanceType, systemDiskSize, publicBandwidth,
releaseOnFailure, imageNamePrefix, regions, accounts, runImmediately).
The spec is checked before anything is created.`,
		Example: `  starter template create --spec examples/template.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if specFile == "" {
				return invalid("--spec is required")
			}
			data, err := os.ReadFile(specFile)
			if err != nil {
				return invalid("read spec: %w", err)
			}
			var spec model.TemplateSpec
			if err := specfile.Decode(specFile, data, &spec); err != nil {
				return invalid("%w", err)
			}
			if spec.Region == "" {
				spec.Region = defaultBuildRegion
			}
			if err := spec.Validate(); err != nil {
				return &exitError{code: exitInvalid, err: err}
			}
			resp, err := a.cloudClient().CreateImagePipeline(cmd.Context(), templateRequest(spec))
			if err != nil {
				if apiErr, ok := cloud.AsAPIError(err); ok && !apiErr.Retryable() {
					return invalid("create template: %s", apiErr.Message)
				}
				return fmt.Errorf("create template: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created template %s (%s) in %s\n", resp.ImagePipelineId, spec.Name, spec.Region)
			if spec.RunImmediately != nil && !*spec.RunImmediately {
				return nil
			}
			return a.startBuild(cmd.Context(), out, model.BuildInput{Region: spec.Region, TemplateID: resp.ImagePipelineId}, wait)
		},
	}
	cmd.Flags().StringVar(&specFile, "spec", "", "template spec file (YAML or JSON)")
	cmd.Flags().BoolVar(&wait, "wait", false, "watch the first build until it ends")
	return cmd
}

// templateRequest maps a spec to the cloud's request; the client token makes
// a repeated create answer the same template.
func templateRequest(s model.TemplateSpec) *cloud.CreateImagePipelineRequest {
	req := &cloud.CreateImagePipelineRequest{
		RegionId: s.Region, Name: s.Name, Description: s.Description, Tags: s.Tags,
		BaseImageType: cloud.BaseImageImage, BaseImage: s.SourceImage,
		RepairMode: s.Repair, TestMode: s.Test, VSwitchId: s.VSwitchID, InstanceType: s.InstanceType,
		SystemDiskSize: s.SystemDiskSize, InternetMaxBandwidthOut: s.PublicBandwidth, DeleteInstanceOnFailure: s.ReleaseOnFailure,
		ImageName: s.ImageNamePrefix, ToRegionIds: s.Regions, AddAccounts: s.Accounts,
		BuildContent: components(s.Components), TestContent: components(s.Tests),
	}
	if s.SourceFamily != "" {
		req.BaseImageType, req.BaseImage = cloud.BaseImageFamily, s.SourceFamily
	}
	spec, _ := json.Marshal(s)
	req.ClientToken = model.ClientToken("template", string(spec))
	return req
}

func components(in []model.TemplateComponent) []cloud.Component {
	var out []cloud.Component
	for _, c := range in {
		out = append(out, cloud.Component{ComponentName: c.Component, Name: c.Name, Type: c.Type, Content: c.Content, RequiresInternet: c.RequiresInternet})
	}
	return out
}

func templateListCommand(a *app) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the image templates of a region",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := a.cloudClient().DescribeImagePipelines(cmd.Context(), &cloud.DescribeImagePipelinesRequest{RegionId: region})
			if err != nil {
				return fmt.Errorf("list templates: %w", err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "TEMPLATE ID\tNAME\tSOURCE\tREGIONS\tCREATED")
			for _, p := range resp.ImagePipelines {
				fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\n", p.ImagePipelineId, p.Name, p.BaseImageType, p.BaseImage, strings.Join(p.ToRegionIds, ","), p.CreationTime.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the templates")
	return cmd
}

func (a *app) template(ctx context.Context, region, id string) (*cloud.ImagePipeline, error) {
	resp, err := a.cloudClient().DescribeImagePipelines(ctx, &cloud.DescribeImagePipelinesRequest{RegionId: region, ImagePipelineIds: []string{id}})
	if err != nil {
		return nil, fmt.Errorf("describe template %s: %w", id, err)
	}
	if len(resp.ImagePipelines) == 0 {
		return nil, invalid("no image template %s in %s", id, region)
	}
	return &resp.ImagePipelines[0], nil
}

func templateShowCommand(a *app) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "show TEMPLATE_ID",
		Short: "Show an image template (as YAML)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tpl, err := a.template(cmd.Context(), region, args[0])
			if err != nil {
				return err
			}
			data, err := yaml.Marshal(tpl)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the template")
	return cmd
}

func buildStartCommand(a *app) *cobra.Command {
	var (
		in   model.BuildInput
		wait bool
	)
	cmd := &cobra.Command{
		Use:   "start TEMPLATE_ID",
		Short: "Start a build of an image template (one build per template at a time)",
		Example: `  starter build start ip-abc123 --wait
  starter build start ip-abc123 --retry-window 2h   # with releaseOnFailure false: wait 2h for retry-step`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.TemplateID = args[0]
			if err := in.Validate(); err != nil {
				return &exitError{code: exitInvalid, err: err}
			}
			if _, err := a.template(cmd.Context(), in.Region, in.TemplateID); err != nil {
				return err
			}
			return a.startBuild(cmd.Context(), cmd.OutOrStdout(), in, wait)
		},
	}
	cmd.Flags().StringVar(&in.Region, "region", defaultBuildRegion, "region of the template")
	cmd.Flags().StringVar(&in.RetryWindow, "retry-window", "", "how long a failed step waits for retry-step when the template keeps resources on failure (default 24h)")
	cmd.Flags().BoolVar(&wait, "wait", false, "watch the build until it ends")
	return cmd
}

// startBuild starts the template's build workflow. A template with a build
// running is refused, naming that build.
func (a *app) startBuild(ctx context.Context, out io.Writer, in model.BuildInput, wait bool) error {
	id := model.BuildWorkflowID(in.Region, in.TemplateID)
	runID, err := a.start(ctx, startRequest{
		ID: id, Type: model.BuildWorkflowType, Input: in,
		Attributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationBuild),
			model.SATemplate.ValueSet(in.TemplateID),
			model.SAState.ValueSet(model.StateRunning),
		},
		Summary: "Build image template " + in.TemplateID + " in " + in.Region,
		Conflict: func(ctx context.Context) string {
			running := "a build"
			if p, qerr := a.buildProgress(ctx, id); qerr == nil && p.ExecutionID != "" {
				running = "build " + p.ExecutionID + " (step " + p.Step + ")"
			}
			return fmt.Sprintf("template %s already has %s running (workflow %s): only one build per template runs at a time", in.TemplateID, running, id)
		},
	})
	if err != nil {
		return err
	}
	a.printStarted(out, model.BuildWorkflowType, id, runID)
	if !wait {
		return nil
	}
	return a.watchBuild(ctx, out, id, runID)
}

func (a *app) buildProgress(ctx context.Context, id string) (*model.BuildProgress, error) {
	return query[model.BuildProgress](ctx, a, id, "", model.QueryBuildProgress)
}

// watchBuild prints step changes until the build ends.
func (a *app) watchBuild(ctx context.Context, out io.Writer, id, runID string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	var result model.BuildResult
	go func() { done <- c.GetWorkflow(ctx, id, runID).Get(ctx, &result) }()
	last := ""
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				var appErr *temporal.ApplicationError
				if errors.As(err, &appErr) {
					var details model.BuildResult
					if appErr.Details(&details) == nil {
						printResources(out, details.Resources)
					}
				}
				return fmt.Errorf("build %s: %w", id, err)
			}
			fmt.Fprintf(out, "\nBuilt image %s (build %s)\n", result.ImageID, result.ExecutionID)
			for _, r := range slices.Sorted(maps.Keys(result.Images)) {
				fmt.Fprintf(out, "  %-16s %s\n", r, result.Images[r])
			}
			if len(result.SharedWith) > 0 {
				fmt.Fprintf(out, "Shared with %s\n", strings.Join(result.SharedWith, ", "))
			}
			printResources(out, result.Resources)
			return nil
		case <-tick.C:
			p, err := a.buildProgress(ctx, id)
			if err != nil {
				continue // the worker may be restarting
			}
			line := p.Step + " " + p.WaitingFor
			if line != last {
				fmt.Fprintf(out, "  step %s\n", p.Step)
				if p.WaitingFor != "" {
					fmt.Fprintf(out, "⏸  %s failed (%s); waiting for %s\n", p.FailedStep, p.Error, p.WaitingFor)
				}
				last = line
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func printResources(out io.Writer, rs []model.BuildResource) {
	if len(rs) == 0 {
		return
	}
	tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tID\tREGION\tSTATE\tERROR")
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
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "BUILD ID\tSTATUS\tSTEP\tIMAGE ID\tSTARTED\tMESSAGE")
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

func buildCancelCommand(a *app) *cobra.Command {
	var (
		region string
		cmdIn  model.CancelBuildCommand
	)
	cmd := &cobra.Command{
		Use:     "cancel TEMPLATE_ID",
		Short:   "Cancel the template's running build and release what it made (may be sent more than once)",
		Example: `  starter build cancel ip-abc123 --execution exec-xyz --reason "wrong base image"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.sendCommand(cmd.Context(), model.BuildWorkflowID(region, args[0]), model.CommandCancelBuild, cmdIn); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "cancel: accepted; the build's resources are being released")
			return nil
		},
	}
	cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the template")
	cmd.Flags().StringVar(&cmdIn.ExecutionID, "execution", "", "the build to cancel (refused if another build of the template runs)")
	cmd.Flags().StringVar(&cmdIn.Reason, "reason", "", "why the build is cancelled")
	return cmd
}

func buildRetryStepCommand(a *app) *cobra.Command {
	var (
		region         string
		componentsFile string
		cmdIn          model.RetryStepCommand
	)
	cmd := &cobra.Command{
		Use:   "retry-step TEMPLATE_ID",
		Short: "Run the build's failed step again (templates that keep resources on failure)",
		Example: `  starter build retry-step ip-abc123 --step Test
  starter build retry-step ip-abc123 --step Test --components fixed-tests.yaml   # a YAML list of components`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if componentsFile != "" {
				data, err := os.ReadFile(componentsFile)
				if err != nil {
					return invalid("read components: %w", err)
				}
				if err := specfile.Decode(componentsFile, data, &cmdIn.Components); err != nil {
					return invalid("%w", err)
				}
				if err := cmdIn.Validate(); err != nil {
					return invalid("%w", err)
				}
			}
			if err := a.sendCommand(cmd.Context(), model.BuildWorkflowID(region, args[0]), model.CommandRetryStep, cmdIn); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "retry-step: accepted")
			return nil
		},
	}
	cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the template")
	cmd.Flags().StringVar(&cmdIn.Step, "step", "", "the failed step (optional; refused if another step failed)")
	cmd.Flags().StringVar(&componentsFile, "components", "", "YAML list of fixed components: replaces the failed build component and those after it, or the test components")
	return cmd
}
