package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/internal/searchattrs"
	"github.com/imagefleet/imagefleet/model"
)

// setupCommand prepares a namespace of a self-hosted cluster for
// imagefleet: it registers the search attributes the workflows set (the
// local stack does it when it starts the dev server; on Temporal Cloud,
// create them in the UI or with tcld).
func setupCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "setup",
		Short: "Register imagefleet's search attributes on the namespace (self-hosted clusters)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			// The worker checks the same at start (internal/searchattrs).
			missing, err := searchattrs.Missing(cmd.Context(), c, a.namespace)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, name := range slices.Sorted(maps.Keys(model.SearchAttributes)) {
				if slices.Contains(missing, name) {
					fmt.Fprintf(out, "%s (%s): registering\n", name, model.SearchAttributes[name])
				} else {
					fmt.Fprintf(out, "%s (%s): already registered\n", name, model.SearchAttributes[name])
				}
			}
			if len(missing) == 0 {
				return nil
			}
			return searchattrs.Register(cmd.Context(), c, a.namespace, missing)
		},
	}
}
