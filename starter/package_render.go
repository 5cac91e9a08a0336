package main

import (
	"fmt"
	"os"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/templates"
	"github.com/spf13/cobra"
)

func packageRenderCommand(a *app) *cobra.Command {
	var (
		v                        versionArgs
		file, region, formatFlag string
		output                   string
		allowDeprecated          bool
	)
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print a ROS (YAML, JSON) or Terraform stack template with its image IDs mapped to a region",
		Long: `Replace the image ID of every covered resource of a stack template (ROS or
Terraform; not a build template) with the image an ECS image package version
delivered to the region: ROS ALIYUN::ECS::Instance,
ALIYUN::ECS::InstanceGroup, ALIYUN::ESS::ScalingGroup and ALIYUN::EHPC::Cluster
(Properties.ImageId), Terraform alicloud_instance and
alicloud_ess_scaling_configuration (image_id). The image ID must be a static
literal; a Ref, an Fn:: function or a Terraform variable or expression is
refused, naming the resource. A draft version maps only in its source
region; a published one in its source region and the regions it was
distributed to. The mapping is reported on stderr.`,
		Example: "  starter package render --template examples/web.yaml --package webapp --version v1_0 --region eu-west-1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(file)
			if err != nil {
				return invalid("read --template: %w", err)
			}
			var format templates.Format
			if formatFlag != "" {
				format, err = templates.ParseFormat(formatFlag)
			} else {
				format, err = templates.DetectFormat(file, data)
			}
			if err != nil {
				return invalid("%w", err)
			}
			art, ver, err := a.findVersion(cmd.Context(), v)
			if err != nil {
				return err
			}
			if art.ArtifactType != cloud.ArtifactEcsImage {
				return invalid("package %s is a %s package: only ECS image packages map stack template image IDs", art.Name, art.ArtifactType)
			}
			if ver.Deprecated && !allowDeprecated {
				return invalid("version %s of package %s is deprecated (since %s): it is not offered to new deployments; use a newer version, or --allow-deprecated to render an existing deployment's template",
					ver.VersionName, art.Name, ver.DeprecateTime.UTC().Format(time.RFC3339))
			}
			m := templates.Mapping{
				Package: art.Name, Version: ver.VersionName, Published: ver.Status == cloud.ArtifactAvailable,
				SourceRegion: ver.ArtifactProperty.RegionId, SourceImage: ver.ArtifactProperty.ImageId, Delivered: ver.ImageDelivery,
			}
			image, err := m.ImageFor(region)
			if err != nil {
				return invalid("%w", err)
			}
			out, reps, err := templates.RenderFile(file, format, data, image)
			if err != nil {
				return invalid("stack template %s: %w", file, err)
			}
			for _, r := range reps {
				fmt.Fprintf(cmd.ErrOrStderr(), "mapped %s (%s): %s → %s\n", r.Resource, r.Type, r.From, r.To)
			}
			if output != "" {
				return os.WriteFile(output, out, 0o644)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	v.register(cmd)
	cmd.Flags().StringVar(&file, "template", "", "stack template file (.yaml/.yml, .json, .tf)")
	cmd.Flags().StringVar(&region, "region", "", "the region the template is deployed in")
	cmd.Flags().StringVar(&formatFlag, "format", "", "ros-yaml, ros-json or terraform (default: from the file name)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the rendered stack template here instead of stdout")
	cmd.Flags().BoolVar(&allowDeprecated, "allow-deprecated", false, "map a deprecated version too (an existing deployment's template)")
	_ = cmd.MarkFlagRequired("template")
	_ = cmd.MarkFlagRequired("region")
	return cmd
}
