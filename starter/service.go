package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
)

// serviceCommand manages Compute Nest services, whose association with a
// package decides the package's visibility.
func serviceCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "service", Short: "Manage Compute Nest services (they decide package visibility)"}
	var (
		name, visibility string
		whitelist        []string
		packageNames     []string
	)
	create := &cobra.Command{
		Use:     "create",
		Short:   "Create a service associated with packages",
		Example: "  starter service create --name shop --visibility Private --whitelist 1000000000000002 --package webapp",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if visibility != cloud.VisibilityPublic && visibility != cloud.VisibilityPrivate {
				return invalid("--visibility must be %s or %s", cloud.VisibilityPublic, cloud.VisibilityPrivate)
			}
			var ids []string
			for _, p := range packageNames {
				art, err := cloudops.FindArtifact(cmd.Context(), a.cloudClient(), p)
				if err != nil {
					return err
				}
				if art == nil {
					return invalid("package %s does not exist", p)
				}
				ids = append(ids, art.ArtifactId)
			}
			resp, err := a.cloudClient().CreateService(cmd.Context(), &cloud.CreateServiceRequest{
				Name: name, Visibility: visibility, Whitelist: whitelist, ArtifactIds: ids,
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), resp.ServiceId)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "service name")
	create.Flags().StringVar(&visibility, "visibility", cloud.VisibilityPrivate, "Public or Private")
	create.Flags().StringSliceVar(&whitelist, "whitelist", nil, "accounts allowed to use a private service")
	create.Flags().StringSliceVar(&packageNames, "package", nil, "names of the packages to associate")
	_ = create.MarkFlagRequired("name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List services",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := a.cloudClient().ListServices(cmd.Context(), &cloud.ListServicesRequest{})
			if err != nil {
				return err
			}
			tw := table(cmd.OutOrStdout(), "SERVICE\tNAME\tVISIBILITY\tWHITELIST\tPACKAGES")
			for _, s := range resp.Services {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\n", s.ServiceId, s.Name, s.Visibility, s.Whitelist, s.ArtifactIds)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}
