package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/internal/config"
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
			// No payload is sent or read: no payload keys are needed.
			opts, err := config.AdminTemporalOptions(config.Logger("starter").Level(zerolog.WarnLevel))
			if err != nil {
				return fmt.Errorf("load Temporal client options: %w", err)
			}
			c, err := client.Dial(opts)
			if err != nil {
				return fmt.Errorf("connect to Temporal (%s): %w", hostPort(opts), err)
			}
			defer c.Close()
			a.namespace = opts.Namespace
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
