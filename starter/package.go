package main

import (
	"context"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/spf13/cobra"
)

// packageCommand manages deployment packages of every type and their
// versions, and maps stack templates to a version's regional images.
func packageCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Manage deployment packages (ECS image, file, container image, Helm chart) and their versions",
	}
	cmd.AddCommand(
		packageCreateCommand(a),
		packageListCommand(a),
		packageShowCommand(a),
		packageDeleteCommand(a),
		packageAssociateCommand(a, true),
		packageAssociateCommand(a, false),
		packageVersionCommand(a),
		packageRenderCommand(a),
		packageRetentionCommand(a),
	)
	return cmd
}

// mustFind returns the package or an invalid-input error.
func (a *app) mustFind(ctx context.Context, name string) (*cloud.Artifact, error) {
	if name == "" {
		return nil, invalid("--package is required")
	}
	art, err := cloudops.FindArtifact(ctx, a.cloudClient(), name)
	if err != nil {
		return nil, err
	}
	if art == nil {
		return nil, invalid("package %s does not exist", name)
	}
	return art, nil
}
