package main

import (
	"context"
	"fmt"
	"io"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
	"go.temporal.io/sdk/temporal"
)

// publicationPlan checks a File, AcrImage or HelmChart version's spec and
// starts its publication.
func (a *app) publicationPlan(spec model.PublishSpec, typ string, v *cloud.ArtifactVersion) runPlan {
	id := model.PublishWorkflowID(spec.Package, spec.Version)
	return runPlan{
		Validate: spec.Validate,
		startRequest: startRequest{
			ID: id, Type: model.PublishWorkflowType, Input: spec, OnceDone: true,
			Operation: model.OperationPublish,
			Keys: []temporal.SearchAttributeUpdate{
				model.SAPackage.ValueSet(spec.Package),
				model.SAVersion.ValueSet(spec.Version),
			},
			Summary: fmt.Sprintf("Publish %s package %s version %s to %d region(s)", typ, spec.Package, spec.Version, len(v.SupportRegionIds)),
			Conflict: func(context.Context) string {
				return fmt.Sprintf("a publication of %s %s already exists (workflow %s): it is running or has published the version", spec.Package, spec.Version, id)
			},
		},
	}
}

// watchPublication prints region changes until the run ends, then where the
// version was delivered.
func (a *app) watchPublication(ctx context.Context, out io.Writer, id string, exitOnPause bool) error {
	_, err := watchRun(ctx, a, out, id, "", regionalWatch(id, exitOnPause,
		func(p *model.PublishProgress) []row {
			return regionRows(p.Regions, func(r model.DeliveryProgress) (string, string, string, string) {
				return r.Region, r.State, r.Location, r.Error
			})
		},
		func(p *model.PublishProgress) string { return p.WaitingFor },
		func(out io.Writer, r *model.PublishResult) error {
			fmt.Fprintf(out, "\nPublished %s %s (%s, package %s), visibility %s\n", r.Package, r.Version, r.Type, r.ArtifactID, permissionText(r.Permission))
			if r.Endpoint == model.EndpointInternet {
				fmt.Fprintln(out, "Pulls work only over the internet endpoint, with a temporary credential.")
			} else {
				fmt.Fprintln(out, "Files are downloaded from each region's internal endpoint.")
			}
			return printDelivery(out, "LOCATION", r.Delivery, r.Dropped)
		}))
	return err
}
