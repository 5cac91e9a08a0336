package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
)

func packageVersionCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "version", Short: "Manage the versions of a package"}
	cmd.AddCommand(
		versionCreateCommand(a),
		versionPublishCommand(a),
		versionListCommand(a),
		versionShowCommand(a),
		versionDeleteCommand(a),
		versionStatusCommand(a),
	)
	return cmd
}

// versionArgs are --package and --version.
type versionArgs struct{ pkg, version string }

func (v *versionArgs) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&v.pkg, "package", "", "package name")
	cmd.Flags().StringVar(&v.version, "version", "", "version name")
}

func (a *app) findVersion(ctx context.Context, v versionArgs) (*cloud.Artifact, *cloud.ArtifactVersion, error) {
	art, err := a.mustFind(ctx, v.pkg)
	if err != nil {
		return nil, nil, err
	}
	ver := cloudops.FindVersion(art, v.version)
	if ver == nil {
		return nil, nil, invalid("package %s has no version %q", v.pkg, v.version)
	}
	return art, ver, nil
}

func versionPublishCommand(a *app) *cobra.Command {
	var (
		pkg, version string
		attempts     int
		wait         bool
		exitOnPause  bool
	)
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish a draft version: deliver it to its regions and lock it",
		Long: `Publish a draft version. An ECS image version starts DistributeImagePackage
(as starter distribute); a File, AcrImage or HelmChart version starts
PublishPackageVersion. Both take the operator commands retry-region,
drop-region and cancel by workflow ID.`,
		Example: "  starter package version publish --package tools --version v1_0",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			art, err := a.mustFind(ctx, pkg)
			if err != nil {
				return err
			}
			v := cloudops.FindVersion(art, version)
			if v == nil {
				return invalid("package %s has no version %q", pkg, version)
			}
			if v.Status == cloud.ArtifactAvailable {
				return invalid("version %s of package %s is already published and locked; create a new version to change it", version, pkg)
			}
			if art.ArtifactType == cloud.ArtifactEcsImage {
				plan := a.distributionPlan(model.DistributeSpec{Package: pkg, Version: version, Description: v.Description, Tags: art.Tags,
					SourceRegion: v.ArtifactProperty.RegionId, SourceImage: v.ArtifactProperty.ImageId,
					Regions: v.SupportRegionIds, CopyAttempts: attempts})
				return a.startAndWatch(ctx, out, plan, wait, func() error {
					return a.watchDistribution(ctx, out, plan.ID, exitOnPause)
				})
			}
			plan := a.publicationPlan(model.PublishSpec{Package: pkg, Version: version, CopyAttempts: attempts}, art.ArtifactType, v)
			return a.startAndWatch(ctx, out, plan, wait, func() error {
				return a.watchPublication(ctx, out, plan.ID, exitOnPause)
			})
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", "package name")
	cmd.Flags().StringVar(&version, "version", "", "version name")
	cmd.Flags().IntVar(&attempts, "copy-attempts", 0, "per region, copies that fail in the cloud (ECS image) or deliveries it refuses (other types) before the operator is asked (default 5; transient errors are retried, not counted)")
	waitFlags(cmd, &wait, &exitOnPause, true, false)
	return cmd
}

func versionListCommand(a *app) *cobra.Command {
	var pkg string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a package's versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, err := a.mustFind(cmd.Context(), pkg)
			if err != nil {
				return err
			}
			tw := table(cmd.OutOrStdout(), "VERSION\tSTATE\tSOURCE REGION\tREGIONS\tCREATED")
			for _, v := range art.Versions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.VersionName, versionState(&v), v.ArtifactProperty.RegionId, strings.Join(v.SupportRegionIds, ","), v.CreateTime.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", "package name")
	return cmd
}

func versionShowCommand(a *app) *cobra.Command {
	var v versionArgs
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show a version: content, regions, delivery, visibility",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, ver, err := a.findVersion(cmd.Context(), v)
			if err != nil {
				return err
			}
			printVersion(cmd.OutOrStdout(), art, ver)
			return nil
		},
	}
	v.register(cmd)
	return cmd
}

func versionDeleteCommand(a *app) *cobra.Command {
	var v versionArgs
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete a version and what it distributed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, ver, err := a.findVersion(cmd.Context(), v)
			if err != nil {
				return err
			}
			if err := a.deleteArtifact(cmd.Context(), art, ver.VersionName); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Version %s of package %s deleted with its distributed content.\n", ver.VersionName, art.Name)
			return nil
		},
	}
	v.register(cmd)
	return cmd
}

// deleteArtifact deletes a version of the package, or with version "" the
// whole package, with what it delivered. The promise that no version is
// deleted under the run that publishes it is the cloud's: it refuses,
// atomically, a version a publication holds (a check here first could race
// with a run that starts). Its refusal is invalid input, naming the run that
// holds the version when the starter finds it.
func (a *app) deleteArtifact(ctx context.Context, art *cloud.Artifact, version string) error {
	_, err := a.cloudClient().DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: art.ArtifactId, VersionName: version})
	if !cloud.IsCode(err, cloud.CodeArtifactReleasing) {
		return err
	}
	versions := []string{version}
	if version == "" {
		versions = versions[:0]
		for _, v := range art.Versions {
			versions = append(versions, v.VersionName)
		}
	}
	for _, v := range versions {
		for _, id := range []string{model.DistributeWorkflowID(art.Name, v), model.PublishWorkflowID(art.Name, v)} {
			if info, _ := a.describeIfAny(ctx, id); info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
				return invalid("version %s of package %s is being published by workflow %s: cancel it (starter cancel %s) or let it end first", v, art.Name, id, id)
			}
		}
	}
	return invalid("package %s: a publication holds the version (%w): cancel it or let it end first", art.Name, err)
}

// versionStatusCommand shows the publication run of a version: the
// distribution's progress for an ECS image version, the publication's for
// the other types.
func versionStatusCommand(a *app) *cobra.Command {
	var v versionArgs
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show the progress of a version's publication run",
		Example: "  starter package version status --package tools --version v1_0",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, _, err := a.findVersion(cmd.Context(), v)
			if err != nil {
				return err
			}
			if art.ArtifactType == cloud.ArtifactEcsImage {
				return statusCommand(a).RunE(cmd, []string{model.DistributeWorkflowID(v.pkg, v.version)})
			}
			id := model.PublishWorkflowID(v.pkg, v.version)
			info, err := a.describeIfAny(cmd.Context(), id)
			if err != nil {
				return err
			}
			if info == nil {
				return invalid("version %s of package %s has no publication run (%s): publish it with starter package version publish", v.version, v.pkg, id)
			}
			p, err := query[model.PublishProgress](cmd.Context(), a, id, "", model.QueryProgress)
			if err != nil {
				return fmt.Errorf("query %s: %w", id, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Workflow:  %s (%s)\nPackage:   %s %s (%s) %s\nPhase:     %s\n", id, info.GetStatus(), p.Package, p.Version, p.Type, p.ArtifactID, p.Phase)
			printRegionalStatus(out, p.Error, p.WaitingFor, p.Permission, p.LastRefusal, a.webURL(id, info.GetExecution().GetRunId()))
			tw := table(out, "REGION\tSTATE\tLOCATION\tENDPOINT\tATTEMPTS\tERROR")
			for _, r := range p.Regions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.Region, r.State, r.Location, r.Endpoint, r.Attempts, r.Error)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return endedStatus(id, info.GetStatus())
		},
	}
	v.register(cmd)
	return cmd
}
