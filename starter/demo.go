package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// demoRegions are the regions the demo publishes to: four zones, so copy
// times differ.
var demoRegions = []string{"cn-shanghai", "cn-beijing", "ap-southeast-1", "ap-northeast-1", "eu-central-1", "us-west-1"}

// demoCommand runs the end-to-end scenario on a running stack: publish a new
// version of a package to six regions (with throttling injected in one),
// print the region→image table and the Web UI link, then show that the
// published version is locked.
func demoCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Publish a demo package version to six regions on the local stack",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			// A fresh version each run: published versions are locked.
			spec := model.DistributeSpec{
				Package:      "demo_webapp",
				Version:      "v" + time.Now().UTC().Format("20060102_150405"),
				Description:  "Demo web application image, published by go tool task demo",
				Tags:         map[string]string{"team": "platform", "app": "webapp"},
				SourceRegion: "cn-hangzhou",
				SourceImage:  "m-webapp-v1",
				Regions:      demoRegions,
			}
			// Show resilience: the cloud throttles the first two copies into Frankfurt.
			if _, err := a.cloudClient().Admin().AddFault(ctx, cloud.Fault{
				Kind: cloud.FaultThrottle, Action: "CopyImage", Region: "eu-central-1", Count: 2, RetryAfter: time.Second,
			}); err != nil {
				return fmt.Errorf("inject throttling (is the simulated cloud running?): %w", err)
			}
			fmt.Fprintf(out, "Publishing %s %s from %s/%s to %d regions (CopyImage into eu-central-1 is throttled twice)\n",
				spec.Package, spec.Version, spec.SourceRegion, spec.SourceImage, len(spec.Regions))
			id, runID, err := a.startDistribution(ctx, spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Workflow ID: %s\n\n", id)
			if _, err := a.watchDistribution(ctx, out, id, true); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nWeb UI: %s\n", a.webURL(id, runID))

			fmt.Fprintf(out, "\nPublishing %s %s again is refused:\n", spec.Package, spec.Version)
			_, _, err = a.startDistribution(ctx, spec)
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitInvalid {
				return fmt.Errorf("expected the published version to be refused, got %v", err)
			}
			fmt.Fprintf(out, "  %v\n", err)
			return nil
		},
	}
}
