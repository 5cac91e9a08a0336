package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// defaultBuildRegion is the region of templates when --region is not given.
const defaultBuildRegion = "cn-hangzhou"

// buildTemplateCommand manages Image Builder's templates: "build templates",
// not to be confused with the stack templates that `package render` maps.
func buildTemplateCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "build-template", Short: "Create, list and show build templates (ECS Image Builder image templates)"}
	cmd.AddCommand(templateCreateCommand(a), templateListCommand(a), templateShowCommand(a))
	return deprecatedNote(cmd, "template")
}

// templateCommand is build-template under its deprecated old name.
func templateCommand(a *app) *cobra.Command {
	return deprecatedAlias(buildTemplateCommand(a), "template")
}

func templateCreateCommand(a *app) *cobra.Command {
	var (
		spec              *specFlags[model.TemplateSpec]
		wait, exitOnPause bool
	)
	cmd := &cobra.Command{
		Use:   "create --spec FILE",
		Short: "Create a build template and (unless runImmediately is false) start its first build",
		Long: `Create a build template (an Image Builder image template) from a spec (YAML
or JSON, the fields of model.TemplateSpec: region, name, sourceImage or
sourceFamily, components, repair, test, tests, vSwitchId, instanceType,
systemDiskSize, publicBandwidth, releaseOnFailure, imageNamePrefix, regions,
accounts, runImmediately); --region and --name override the file. The spec
is checked before anything is created.`,
		Example: `  starter build-template create --spec examples/template.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec.file == "" {
				return invalid("--spec is required")
			}
			s, err := spec.load()
			if err != nil {
				return err
			}
			s.Region = cmp.Or(s.Region, defaultBuildRegion)
			if err := s.Validate(); err != nil {
				return &exitError{code: exitInvalid, err: err}
			}
			resp, err := a.cloudClient().CreateImagePipeline(cmd.Context(), templateRequest(s))
			if err != nil {
				if apiErr, ok := cloud.AsAPIError(err); ok && !apiErr.Retryable() {
					return invalid("create template: %s", apiErr.Message)
				}
				return fmt.Errorf("create template: %w", err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Created template %s (%s) in %s\n", resp.ImagePipelineId, s.Name, s.Region)
			if s.RunImmediately != nil && !*s.RunImmediately {
				return nil
			}
			return a.startBuild(cmd.Context(), out, model.BuildInput{Region: s.Region, TemplateID: resp.ImagePipelineId}, wait, exitOnPause)
		},
	}
	spec = newSpecFlags[model.TemplateSpec](cmd, nil)
	spec.flag("region", "region of the template (default "+defaultBuildRegion+")", func(s *model.TemplateSpec) any { return &s.Region })
	spec.flag("name", "template name", func(s *model.TemplateSpec) any { return &s.Name })
	waitFlags(cmd, &wait, &exitOnPause, false, false)
	return cmd
}

// templateRequest maps a spec to the cloud's request; the client token makes
// a repeated create answer the same template.
func templateRequest(s model.TemplateSpec) *cloud.CreateImagePipelineRequest {
	req := &cloud.CreateImagePipelineRequest{
		RegionId: s.Region, Name: s.Name, Description: s.Description, Tags: s.Tags,
		BaseImageType: cloud.BaseImageImage, BaseImage: s.SourceImage,
		RepairMode: s.Repair, TestMode: s.Test, VSwitchId: s.VSwitchID, InstanceType: s.InstanceType,
		SystemDiskSize: s.SystemDiskSize, InternetMaxBandwidthOut: s.PublicBandwidth, DeleteInstanceOnFailure: s.ReleaseOnFailure,
		ImageName: s.ImageNamePrefix, ToRegionIds: s.Regions, AddAccounts: s.Accounts,
		BuildContent: components(s.Components), TestContent: components(s.Tests),
	}
	if s.SourceFamily != "" {
		req.BaseImageType, req.BaseImage = cloud.BaseImageFamily, s.SourceFamily
	}
	spec, _ := json.Marshal(s)
	req.ClientToken = model.ClientToken("template", string(spec))
	return req
}

func components(in []model.TemplateComponent) []cloud.Component {
	var out []cloud.Component
	for _, c := range in {
		out = append(out, cloud.Component{ComponentName: c.Component, Name: c.Name, Type: c.Type, Content: c.Content, RequiresInternet: c.RequiresInternet})
	}
	return out
}

func templateListCommand(a *app) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the build templates of a region",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := a.cloudClient().DescribeImagePipelines(cmd.Context(), &cloud.DescribeImagePipelinesRequest{RegionId: region})
			if err != nil {
				return fmt.Errorf("list templates: %w", err)
			}
			tw := table(cmd.OutOrStdout(), "TEMPLATE ID\tNAME\tSOURCE\tREGIONS\tCREATED")
			for _, p := range resp.ImagePipelines {
				fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\n", p.ImagePipelineId, p.Name, p.BaseImageType, p.BaseImage, strings.Join(p.ToRegionIds, ","), p.CreationTime.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the templates")
	return cmd
}

func (a *app) template(ctx context.Context, region, id string) (*cloud.ImagePipeline, error) {
	resp, err := a.cloudClient().DescribeImagePipelines(ctx, &cloud.DescribeImagePipelinesRequest{RegionId: region, ImagePipelineIds: []string{id}})
	if err != nil {
		return nil, fmt.Errorf("describe template %s: %w", id, err)
	}
	if len(resp.ImagePipelines) == 0 {
		return nil, invalid("no build template %s in %s", id, region)
	}
	return &resp.ImagePipelines[0], nil
}

func templateShowCommand(a *app) *cobra.Command {
	var region string
	cmd := &cobra.Command{
		Use:   "show TEMPLATE_ID",
		Short: "Show a build template (as YAML)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tpl, err := a.template(cmd.Context(), region, args[0])
			if err != nil {
				return err
			}
			data, err := yaml.Marshal(tpl)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().StringVar(&region, "region", defaultBuildRegion, "region of the template")
	return cmd
}
