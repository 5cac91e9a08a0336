package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/internal/specfile"
	"github.com/imagefleet/imagefleet/model"
)

func distributeCommand(a *app) *cobra.Command {
	var (
		specFile    string
		spec        model.DistributeSpec
		wait        bool
		exitOnPause bool
	)
	cmd := &cobra.Command{
		Use:   "distribute",
		Short: "Publish an ECS image deployment package version to regions",
		Long: `Publish a version of an ECS image deployment package: replicate its source
image into every region, share the copies as the package's services dictate,
and publish (lock) the version with its region→image mapping.

The spec comes from --spec (YAML or JSON, the fields of model.DistributeSpec)
and/or flags; flags override the file. The spec and the source image are
checked before anything starts.`,
		Example: `  starter distribute --package webapp --version v1_0_0 --description "web tier image" \
    --source-region cn-hangzhou --source-image m-webapp-v1 --regions cn-shanghai,ap-southeast-1,eu-west-1
  starter distribute --spec examples/distribute.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			merged, err := loadSpec(specFile, spec, cmd)
			if err != nil {
				return err
			}
			id, runID, err := a.startDistribution(cmd.Context(), merged)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			a.printStarted(out, model.DistributeWorkflowType, id, runID)
			if !wait {
				return nil
			}
			_, err = a.watchDistribution(cmd.Context(), out, id, exitOnPause)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&specFile, "spec", "", "spec file (YAML or JSON)")
	f.StringVar(&spec.Package, "package", "", "package name: 3–128 letters, digits, underscore")
	f.StringVar(&spec.Version, "version", "", "version name: 3–50 letters, digits, underscore")
	f.StringVar(&spec.Description, "description", "", "description: 10–500 characters")
	f.StringVar(&spec.SourceRegion, "source-region", "", "region of the source image")
	f.StringVar(&spec.SourceImage, "source-image", "", "source image ID (custom image of the account or marketplace image)")
	f.StringSliceVar(&spec.Regions, "regions", nil, "distribution regions, comma separated")
	f.StringToStringVar(&spec.Tags, "tag", nil, "tag key=value (repeatable, at most 20)")
	f.IntVar(&spec.CopyAttempts, "copy-attempts", 0, "attempts per region before asking the operator (default 5)")
	f.BoolVar(&wait, "wait", true, "watch progress until the run ends")
	f.BoolVar(&exitOnPause, "exit-on-pause", false, "with --wait, exit with code 4 when the run waits for an operator decision")
	return cmd
}

// loadSpec reads the spec file, then applies the flags that were set.
func loadSpec(file string, flags model.DistributeSpec, cmd *cobra.Command) (model.DistributeSpec, error) {
	var spec model.DistributeSpec
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return spec, invalid("read spec: %w", err)
		}
		if err := specfile.Decode(file, data, &spec); err != nil {
			return spec, invalid("%w", err)
		}
	}
	set := cmd.Flags().Changed
	if set("package") {
		spec.Package = flags.Package
	}
	if set("version") {
		spec.Version = flags.Version
	}
	if set("description") {
		spec.Description = flags.Description
	}
	if set("source-region") {
		spec.SourceRegion = flags.SourceRegion
	}
	if set("source-image") {
		spec.SourceImage = flags.SourceImage
	}
	if set("regions") {
		spec.Regions = flags.Regions
	}
	if set("tag") {
		spec.Tags = flags.Tags
	}
	if set("copy-attempts") {
		spec.CopyAttempts = flags.CopyAttempts
	}
	return spec, nil
}

// startDistribution checks the spec against the rules and the cloud, then
// starts the workflow. A version whose distribution runs, or that is
// published, is refused with its reason.
func (a *app) startDistribution(ctx context.Context, spec model.DistributeSpec) (id, runID string, err error) {
	if err := spec.Validate(); err != nil {
		return "", "", &exitError{code: exitInvalid, err: err}
	}
	cloudClient := a.cloudClient()
	if _, err := cloudops.CheckSourceImage(ctx, cloudClient, spec.SourceRegion, spec.SourceImage); err != nil {
		return "", "", checkFailed("check source image "+spec.SourceImage, err)
	}
	existing, err := cloudops.FindArtifact(ctx, cloudClient, spec.Package)
	if err != nil {
		return "", "", fmt.Errorf("look up package %s: %w", spec.Package, err)
	}
	if existing != nil {
		if err := cloudops.CheckVersionUnpublished(existing, spec.Version); err != nil {
			return "", "", invalid("%w", err)
		}
	}
	id = model.DistributeWorkflowID(spec.Package, spec.Version)
	runID, err = a.start(ctx, startRequest{
		ID: id, Type: model.DistributeWorkflowType, Input: spec,
		// A failed or aborted distribution of a version may run again; a
		// published one may not (the cloud refuses it too).
		OnceDone: true,
		Attributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationDistribute),
			model.SAPackage.ValueSet(spec.Package),
			model.SAVersion.ValueSet(spec.Version),
			model.SAState.ValueSet(model.StateRunning),
		},
		Summary: fmt.Sprintf("Publish package %s version %s to %d region(s)", spec.Package, spec.Version, len(spec.Regions)),
		Details: fmt.Sprintf("Source image **%s** in %s → %s", spec.SourceImage, spec.SourceRegion, strings.Join(spec.Regions, ", ")),
		Conflict: func(context.Context) string {
			return fmt.Sprintf("a distribution of %s %s already exists (workflow %s): it is running or has published the version", spec.Package, spec.Version, id)
		},
	})
	return id, runID, err
}

// checkFailed is the error of a pre-start check against the cloud: invalid
// input (exit code 2) when the cloud refused it, a failed call (exit code 1)
// when the cloud could not answer (throttled, unavailable), since the same
// input may pass a moment later.
func checkFailed(what string, err error) error {
	if apiErr, ok := cloud.AsAPIError(err); ok && apiErr.Retryable() {
		return fmt.Errorf("%s: %w", what, err)
	}
	return invalid("%w", err)
}

// watchDistribution prints region changes until the run ends, and returns
// its result. It tells the operator once when the run waits for a decision.
func (a *app) watchDistribution(ctx context.Context, out io.Writer, id string, exitOnPause bool) (*model.DistributionResult, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	run := c.GetWorkflow(ctx, id, "")
	done := make(chan error, 1)
	var result model.DistributionResult
	go func() { done <- run.Get(ctx, &result) }()

	seen := map[string]string{}
	lastWaiting := ""
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if p, qerr := a.distributionProgress(ctx, id); qerr == nil {
				printRegionChanges(out, p, seen)
			}
			if err != nil {
				return nil, fmt.Errorf("distribution %s failed: %w", id, err)
			}
			fmt.Fprintf(out, "\nPublished %s %s (package %s), visibility %s\n", result.Package, result.Version, result.ArtifactID, permissionText(result.Permission))
			printMapping(out, &result)
			return &result, nil
		case <-tick.C:
			p, err := a.distributionProgress(ctx, id)
			if err != nil {
				continue // the worker may be restarting: keep watching
			}
			printRegionChanges(out, p, seen)
			if p.WaitingFor != "" && p.WaitingFor != lastWaiting {
				fmt.Fprintf(out, "⏸  waiting for %s\n   e.g. starter retry-region %s <region> | starter drop-region %s <region> | starter abort %s\n", p.WaitingFor, id, id, id)
				if exitOnPause {
					return nil, &exitError{code: exitPaused, err: fmt.Errorf("distribution %s waits for an operator decision", id)}
				}
			}
			lastWaiting = p.WaitingFor
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (a *app) distributionProgress(ctx context.Context, id string) (*model.DistributionProgress, error) {
	return query[model.DistributionProgress](ctx, a, id, "", model.QueryProgress)
}

func printRegionChanges(out io.Writer, p *model.DistributionProgress, seen map[string]string) {
	for _, r := range p.Regions {
		line := r.State + " " + r.ImageID + " " + r.Error
		if seen[r.Region] == line {
			continue
		}
		seen[r.Region] = line
		msg := fmt.Sprintf("  %-16s %-10s %s", r.Region, r.State, r.ImageID)
		if r.Error != "" {
			msg += "  " + r.Error
		}
		fmt.Fprintln(out, strings.TrimRight(msg, " "))
	}
}

func printMapping(out io.Writer, r *model.DistributionResult) {
	tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tIMAGE ID")
	regions := make([]string, 0, len(r.ImageIDs))
	for region := range r.ImageIDs {
		regions = append(regions, region)
	}
	slices.Sort(regions)
	for _, region := range regions {
		fmt.Fprintf(tw, "%s\t%s\n", region, r.ImageIDs[region])
	}
	for _, region := range r.Dropped {
		fmt.Fprintf(tw, "%s\t(dropped)\n", region)
	}
	_ = tw.Flush()
}

func permissionText(p model.Permission) string {
	if len(p.Accounts) > 0 {
		return p.Visibility + " (" + strings.Join(p.Accounts, ", ") + ")"
	}
	return p.Visibility
}

func statusCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status WORKFLOW_ID",
		Short: "Show the progress of any imagefleet run by its workflow ID",
		Long: `Show the progress of any imagefleet run by its workflow ID: a distribution's
regions, or what the operation's own status command shows (rollout status,
bluegreen status, build show, package version status).`,
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
			p, err := a.distributionProgress(cmd.Context(), id)
			if err != nil {
				return fmt.Errorf("query %s: %w", id, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Workflow:  %s (%s)\nPackage:   %s %s %s\nPhase:     %s\n", id, info.GetStatus(), p.Package, p.Version, p.ArtifactID, p.Phase)
			if p.WaitingFor != "" {
				fmt.Fprintf(out, "Waiting:   %s\n", p.WaitingFor)
			}
			if p.Permission != nil {
				fmt.Fprintf(out, "Access:    %s\n", permissionText(*p.Permission))
			}
			if p.LastRefusal != "" {
				fmt.Fprintf(out, "Refused:   %s\n", p.LastRefusal)
			}
			fmt.Fprintf(out, "Web UI:    %s\n\n", a.webURL(id, info.GetExecution().GetRunId()))
			tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "REGION\tSTATE\tIMAGE ID\tATTEMPTS\tERROR")
			for _, r := range p.Regions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.Region, r.State, r.ImageID, r.Attempts, r.Error)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if endedUnsuccessfully(info.GetStatus()) {
				return &exitError{code: exitFailed, err: fmt.Errorf("%s ended %s", id, info.GetStatus())}
			}
			return nil
		},
	}
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
	}
	return nil
}

func regionDecisionCommand(a *app, name string) *cobra.Command {
	what := map[string]string{
		model.CommandRetryRegion: "Copy into a failed region again",
		model.CommandDropRegion:  "Publish without a failed region",
	}[name]
	return &cobra.Command{
		Use:     name + " WORKFLOW_ID REGION",
		Short:   what,
		Example: fmt.Sprintf("  starter %s distribute/webapp/v1_0_0 eu-west-1", name),
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.sendCommand(cmd.Context(), args[0], name, model.RegionCommand{Region: args[1]}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: accepted\n", name, args[1])
			return nil
		},
	}
}

func abortCommand(a *app) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:     "abort WORKFLOW_ID",
		Short:   "Stop a distribution and delete the copies it made",
		Example: `  starter abort distribute/webapp/v1_0_0 --reason "wrong image"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.sendCommand(cmd.Context(), args[0], model.CommandAbort, model.AbortCommand{Reason: reason}); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "abort: accepted; the copies made are being deleted")
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the distribution is aborted")
	return cmd
}
