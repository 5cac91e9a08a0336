package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
	"github.com/spf13/cobra"
)

func packageListCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List packages",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := a.cloudClient().ListArtifacts(cmd.Context(), &cloud.ListArtifactsRequest{})
			if err != nil {
				return err
			}
			tw := table(cmd.OutOrStdout(), "NAME\tTYPE\tID\tVERSIONS")
			for _, art := range resp.Artifacts {
				var vs []string
				for _, v := range art.Versions {
					vs = append(vs, v.VersionName+" ("+versionState(&v)+")")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", art.Name, art.ArtifactType, art.ArtifactId, strings.Join(vs, ", "))
			}
			return tw.Flush()
		},
	}
}

func packageShowCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a package: its versions, their content, delivery and visibility, and its services",
		Example: "  starter package show webapp",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			art, err := a.mustFind(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			svcs, err := a.cloudClient().ListServices(cmd.Context(), &cloud.ListServicesRequest{ArtifactId: art.ArtifactId})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Package:   %s (%s)\nID:        %s\n", art.Name, art.ArtifactType, art.ArtifactId)
			if len(art.Tags) > 0 {
				fmt.Fprintf(out, "Tags:      %v\n", art.Tags)
			}
			var names []string
			for _, s := range svcs.Services {
				names = append(names, fmt.Sprintf("%s %s (%s)", s.ServiceId, s.Name, s.Visibility))
			}
			if len(names) == 0 {
				names = []string{"none: the package is private"}
			}
			fmt.Fprintf(out, "Services:  %s\n", strings.Join(names, "; "))
			for i := range art.Versions {
				fmt.Fprintln(out)
				printVersion(out, art, &art.Versions[i])
			}
			return nil
		},
	}
}

func printVersion(out io.Writer, art *cloud.Artifact, v *cloud.ArtifactVersion) {
	fmt.Fprintf(out, "Version %s: %s (%s), created %s\n", v.VersionName, versionState(v), v.Status, v.CreateTime.Format(time.RFC3339))
	fmt.Fprintf(out, "  description: %s\n", v.Description)
	p := v.ArtifactProperty
	switch art.ArtifactType {
	case cloud.ArtifactEcsImage:
		fmt.Fprintf(out, "  content:     image %s in %s\n", p.ImageId, p.RegionId)
	case cloud.ArtifactFile:
		fmt.Fprintf(out, "  content:     %s (bucket %s in %s)\n", p.Url, p.Bucket, p.RegionId)
	default:
		fmt.Fprintf(out, "  content:     %s/%s:%s, pushed via %s\n", p.Namespace, p.RepoName, p.Tag, p.RegionId)
	}
	fmt.Fprintf(out, "  regions:     %s\n", strings.Join(v.SupportRegionIds, ", "))
	if v.Permission != nil {
		fmt.Fprintf(out, "  visibility:  %s\n", permissionText(model.Permission{Visibility: v.Permission.Visibility, Accounts: v.Permission.AccountIds}))
	}
	delivery := v.ImageDelivery
	if art.ArtifactType != cloud.ArtifactEcsImage {
		delivery = v.Delivery
	}
	if len(delivery) > 0 {
		note := ""
		switch art.ArtifactType {
		case cloud.ArtifactFile:
			note = " (internal download URLs)"
		case cloud.ArtifactAcrImage, cloud.ArtifactHelmChart:
			note = " (pull addresses: pulls work only over the internet, with a temporary credential)"
		}
		fmt.Fprintf(out, "  delivery%s:\n", note)
		for _, region := range slices.Sorted(maps.Keys(delivery)) {
			fmt.Fprintf(out, "    %-16s %s\n", region, delivery[region])
		}
	}
}

func versionState(v *cloud.ArtifactVersion) string {
	switch {
	case v.Status == cloud.ArtifactAvailable && v.Deprecated:
		return "published, deprecated since " + v.DeprecateTime.UTC().Format(time.RFC3339)
	case v.Status == cloud.ArtifactAvailable:
		return "published"
	}
	return "draft"
}

func packageDeleteCommand(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a package with all its versions and what they distributed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			art, err := a.mustFind(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !yes {
				return invalid("deleting package %s removes its %d version(s) and every copy they distributed: repeat with --yes", art.Name, len(art.Versions))
			}
			if err := a.deleteArtifact(cmd.Context(), art, ""); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Package %s deleted with its versions and their distributed content.\n", art.Name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	return cmd
}

// packageAssociateCommand associates a package with a service or removes
// the association; the package's visibility is recomputed by the cloud.
func packageAssociateCommand(a *app, associate bool) *cobra.Command {
	var pkg, service string
	use, short := "associate", "Associate a package with a service (its visibility follows the services)"
	if !associate {
		use, short = "dissociate", "Remove a package from a service (its visibility is recomputed)"
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: fmt.Sprintf("  starter package %s --package webapp --service service-0123abcd", use),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, err := a.mustFind(cmd.Context(), pkg)
			if err != nil {
				return err
			}
			svcs, err := a.cloudClient().ListServices(cmd.Context(), &cloud.ListServicesRequest{})
			if err != nil {
				return err
			}
			i := slices.IndexFunc(svcs.Services, func(s cloud.Service) bool { return s.ServiceId == service })
			if i < 0 {
				return invalid("service %q does not exist (starter service list)", service)
			}
			ids := slices.DeleteFunc(slices.Clone(svcs.Services[i].ArtifactIds), func(id string) bool { return id == art.ArtifactId })
			if associate {
				ids = append(ids, art.ArtifactId)
			}
			if _, err := a.cloudClient().UpdateService(cmd.Context(), &cloud.UpdateNestServiceRequest{ServiceId: service, ArtifactIds: &ids}); err != nil {
				return err
			}
			perm, err := cloudops.PackagePermission(cmd.Context(), a.cloudClient(), art.ArtifactId)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Package %s is now %s.\n", art.Name, permissionText(perm))
			return nil
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", "package name")
	cmd.Flags().StringVar(&service, "service", "", "service ID")
	return cmd
}
