package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/cloudsim"
)

// setupBlueGreenDemoCommand seeds the simulated cloud with a service a
// blue/green deployment can run on (formerly `starter bluegreen demo-setup`).
func setupBlueGreenDemoCommand(f *flags) *cobra.Command {
	return &cobra.Command{
		Use:     "setup-bluegreen-demo CLUSTER SERVICE",
		Short:   "Create a demo service with a blue task set, load balancer, target groups and listeners in the simulated cloud (IMAGEFLEET_CLOUD_ENDPOINT, else the stack's --cloud-port)",
		Example: "  devstack setup-bluegreen-demo demo web",
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.ExactArgs(2)(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			endpoint := cloudEndpoint(f.stack())
			d, err := cloudsim.SetupBlueGreenDemo(cmd.Context(), cloudClientAt(endpoint), args[0], args[1])
			if err != nil {
				return fmt.Errorf("%w (the simulated cloud at %s: is the local stack up? go tool task up)", err, endpoint)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Service %s/%s runs task set %s (%s). Deploy a new version with:\n\n"+
				"  starter bluegreen start --cluster %s --service %s --task-definition %s:2 \\\n"+
				"    --subnets %s --container-name %s --container-port %d \\\n"+
				"    --target-groups %s,%s \\\n    --production-listener %s \\\n    --test-listener %s \\\n"+
				"    --strategy canary --percent 10 --interval 1m\n",
				d.Cluster, d.Service, d.BlueTaskSet, d.TaskDefinition, d.Cluster, d.Service, d.Service,
				strings.Join(d.Subnets, ","), d.ContainerName, d.ContainerPort, d.TargetGroups[0], d.TargetGroups[1],
				d.ProductionListener, d.TestListener)
			return nil
		},
	}
}
