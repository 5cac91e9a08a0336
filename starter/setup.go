package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"

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
			existing, err := c.OperatorService().ListSearchAttributes(cmd.Context(), &operatorservice.ListSearchAttributesRequest{Namespace: a.namespace})
			if err != nil {
				return fmt.Errorf("list search attributes of %s: %w", a.namespace, err)
			}
			missing := &operatorservice.AddSearchAttributesRequest{Namespace: a.namespace, SearchAttributes: map[string]enums.IndexedValueType{}}
			out := cmd.OutOrStdout()
			for _, name := range slices.Sorted(maps.Keys(model.SearchAttributes)) {
				want := model.SearchAttributes[name]
				typ, ok := existing.GetCustomAttributes()[name]
				switch {
				case !ok:
					missing.SearchAttributes[name] = want
					fmt.Fprintf(out, "%s (%s): registering\n", name, want)
				case typ != want:
					return fmt.Errorf("search attribute %s exists as %s, imagefleet needs %s", name, typ, want)
				default:
					fmt.Fprintf(out, "%s (%s): already registered\n", name, want)
				}
			}
			if len(missing.SearchAttributes) == 0 {
				return nil
			}
			if _, err := c.OperatorService().AddSearchAttributes(cmd.Context(), missing); err != nil {
				return fmt.Errorf("register search attributes on %s: %w", a.namespace, err)
			}
			return nil
		},
	}
}
