package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

func distributeCommand(a *app) *cobra.Command {
	var (
		spec        *specFlags[model.DistributeSpec]
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
			s, err := spec.load()
			if err != nil {
				return err
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			plan := a.distributionPlan(s)
			return a.startAndWatch(ctx, out, plan, wait, func() error {
				return a.watchDistribution(ctx, out, plan.ID, exitOnPause)
			})
		},
	}
	spec = newSpecFlags[model.DistributeSpec](cmd, nil)
	type S = model.DistributeSpec
	spec.flag("package", "package name: 3–128 letters, digits, underscore", func(s *S) any { return &s.Package })
	spec.flag("version", "version name: 3–50 letters, digits, underscore", func(s *S) any { return &s.Version })
	spec.flag("description", "description: 10–500 characters", func(s *S) any { return &s.Description })
	spec.flag("source-region", "region of the source image", func(s *S) any { return &s.SourceRegion })
	spec.flag("source-image", "source image ID (custom image of the account or marketplace image)", func(s *S) any { return &s.SourceImage })
	spec.flag("regions", "distribution regions, comma separated", func(s *S) any { return &s.Regions })
	spec.flag("tag", "tag key=value (repeatable, at most 20)", func(s *S) any { return &s.Tags })
	spec.flag("copy-attempts", "copies per region that may fail in the cloud before the operator is asked (default 5; transient errors are retried, not counted)", func(s *S) any { return &s.CopyAttempts })
	waitFlags(cmd, &wait, &exitOnPause, true, false)
	return cmd
}

// waitFlags are every start command's --wait and --exit-on-pause.
func waitFlags(cmd *cobra.Command, wait, exitOnPause *bool, waitDefault, exitDefault bool) {
	cmd.Flags().BoolVar(wait, "wait", waitDefault, "watch progress until the run ends")
	cmd.Flags().BoolVar(exitOnPause, "exit-on-pause", exitDefault, "with --wait, exit with code 4 when the run waits for an operator decision")
}

// distributionPlan checks the spec against the rules and the cloud, then
// starts the workflow. A version whose distribution runs, or that is
// published, is refused with its reason.
func (a *app) distributionPlan(spec model.DistributeSpec) runPlan {
	id := model.DistributeWorkflowID(spec.Package, spec.Version)
	return runPlan{
		Validate: spec.Validate,
		Check: func(ctx context.Context) error {
			cc := a.cloudClient()
			if _, err := cloudops.CheckSourceImage(ctx, cc, spec.SourceRegion, spec.SourceImage); err != nil {
				return checkFailed("check source image "+spec.SourceImage, err)
			}
			existing, err := cloudops.FindArtifact(ctx, cc, spec.Package)
			if err != nil {
				return fmt.Errorf("look up package %s: %w", spec.Package, err)
			}
			if existing != nil {
				if err := cloudops.CheckVersionUnpublished(existing, spec.Version); err != nil {
					return invalid("%w", err)
				}
				if err := cloudops.CheckDraftFits(existing, spec); err != nil {
					return invalid("%w", err)
				}
			}
			return nil
		},
		startRequest: startRequest{
			ID: id, Type: model.DistributeWorkflowType, Input: spec,
			// A failed or cancelled distribution of a version may run again;
			// a published one may not (the cloud refuses it too).
			OnceDone:  true,
			Operation: model.OperationDistribute,
			Keys: []temporal.SearchAttributeUpdate{
				model.SAPackage.ValueSet(spec.Package),
				model.SAVersion.ValueSet(spec.Version),
			},
			Summary: fmt.Sprintf("Publish package %s version %s to %d region(s)", spec.Package, spec.Version, len(spec.Regions)),
			Details: fmt.Sprintf("Source image **%s** in %s → %s", spec.SourceImage, spec.SourceRegion, strings.Join(spec.Regions, ", ")),
			Conflict: func(context.Context) string {
				return fmt.Sprintf("a distribution of %s %s already exists (workflow %s): it is running or has published the version", spec.Package, spec.Version, id)
			},
		},
	}
}

// watchDistribution prints region changes until the run ends, then the
// region→image mapping it published.
func (a *app) watchDistribution(ctx context.Context, out io.Writer, id string, exitOnPause bool) error {
	_, err := watchRun(ctx, a, out, id, "", regionalWatch(id, exitOnPause,
		func(p *model.DistributionProgress) []row {
			return regionRows(p.Regions, func(r model.RegionProgress) (string, string, string, string) {
				return r.Region, r.State, r.ImageID, r.Error
			})
		},
		func(p *model.DistributionProgress) string { return p.WaitingFor },
		func(out io.Writer, r *model.DistributionResult) error {
			fmt.Fprintf(out, "\nPublished %s %s (package %s), visibility %s\n", r.Package, r.Version, r.ArtifactID, permissionText(r.Permission))
			return printDelivery(out, "IMAGE ID", r.ImageIDs, r.Dropped)
		}))
	return err
}

// printDelivery prints where a published version was delivered, region by
// region, and the regions dropped.
func printDelivery(out io.Writer, column string, delivered map[string]string, dropped []string) error {
	tw := table(out, "REGION\t"+column)
	for _, region := range slices.Sorted(maps.Keys(delivered)) {
		fmt.Fprintf(tw, "%s\t%s\n", region, delivered[region])
	}
	for _, region := range dropped {
		fmt.Fprintf(tw, "%s\t(dropped)\n", region)
	}
	return tw.Flush()
}

func permissionText(p model.Permission) string {
	if len(p.Accounts) > 0 {
		return p.Visibility + " (" + strings.Join(p.Accounts, ", ") + ")"
	}
	return p.Visibility
}
