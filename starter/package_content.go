package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
	"github.com/spf13/cobra"
)

// versionFlags describe a version and its content.
type versionFlags struct {
	pkg, version, description string
	sourceRegion              string
	regions                   []string
	tags                      map[string]string
	// content, by type
	image    string // EcsImage: source image ID
	file     string // File: local file to upload
	imageRef string // AcrImage: local image reference to push
	chart    string // HelmChart: packaged chart (.tgz)
	repo     string // AcrImage, HelmChart: repository name
	repoTag  string // AcrImage, HelmChart: tag (chart version)
}

func (f *versionFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.pkg, "package", "", "package name: 3–128 letters, digits, underscore (cannot change later)")
	fl.StringVar(&f.version, "version", "", "version name: 3–50 letters, digits, underscore")
	fl.StringVar(&f.description, "description", "", "version description: 10–500 characters")
	fl.StringVar(&f.sourceRegion, "source-region", "", "region of the content; a draft is usable only there")
	fl.StringSliceVar(&f.regions, "regions", nil, "distribution regions, comma separated")
	fl.StringToStringVar(&f.tags, "tag", nil, "package tag key=value (repeatable, at most 20)")
	fl.StringVar(&f.image, "image", "", "EcsImage: source image ID (custom image of the account or marketplace image)")
	fl.StringVar(&f.file, "file", "", "File: local file to upload (at most 512 KiB in the simulator)")
	fl.StringVar(&f.imageRef, "image-ref", "", "AcrImage: local container image to push, e.g. nginx:1.25")
	fl.StringVar(&f.chart, "chart", "", "HelmChart: packaged chart file (.tgz)")
	fl.StringVar(&f.repo, "repo", "", "AcrImage, HelmChart: repository in the tenant namespace")
	fl.StringVar(&f.repoTag, "repo-tag", "", "AcrImage: image tag; HelmChart: chart version")
}

// check validates the flags for a package type before anything is changed.
func (f *versionFlags) check(typ string) error {
	var errs []string
	spec := model.DistributeSpec{Package: f.pkg, Version: f.version, Description: f.description, Tags: f.tags,
		SourceRegion: f.sourceRegion, SourceImage: "-", Regions: f.regions}
	if err := spec.ValidateVersion(typ == model.PackageEcsImage); err != nil {
		var inv *model.InvalidSpecError
		if errors.As(err, &inv) {
			for _, e := range inv.Errs {
				errs = append(errs, e.Error())
			}
		}
	}
	need := func(flag, v string) {
		if v == "" {
			errs = append(errs, fmt.Sprintf("a %s package needs --%s", typ, flag))
		}
	}
	switch typ {
	case model.PackageEcsImage:
		need("image", f.image)
	case model.PackageFile:
		need("file", f.file)
	case model.PackageAcrImage:
		need("image-ref", f.imageRef)
		need("repo", f.repo)
		need("repo-tag", f.repoTag)
	case model.PackageHelmChart:
		need("chart", f.chart)
		need("repo", f.repo)
		need("repo-tag", f.repoTag)
		if f.chart != "" {
			if data, err := os.ReadFile(f.chart); err != nil {
				errs = append(errs, "read --chart: "+err.Error())
			} else if err := model.CheckHelmChart(f.chart, data); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return invalid("%s", strings.Join(errs, "; "))
	}
	return nil
}

// stage puts a version's content in place (upload, push) and returns the
// property of the draft. The registry credential stays inside the helpers.
func (a *app) stage(ctx context.Context, typ string, f *versionFlags) (cloud.ArtifactProperty, error) {
	cc := a.cloudClient()
	p := cloud.ArtifactProperty{RegionId: f.sourceRegion}
	switch typ {
	case model.PackageEcsImage:
		if _, err := cloudops.CheckSourceImage(ctx, cc, f.sourceRegion, f.image); err != nil {
			return p, invalid("%w", err)
		}
		p.ImageId = f.image
	case model.PackageFile:
		data, err := os.ReadFile(f.file)
		if err != nil {
			return p, invalid("read --file: %w", err)
		}
		obj, err := cloudops.StageFile(ctx, cc, f.sourceRegion, f.pkg, f.version, filepath.Base(f.file), data)
		if err != nil {
			return p, fmt.Errorf("upload %s: %w", f.file, err)
		}
		p.Bucket, p.ObjectKey = obj.Bucket, obj.Key
	case model.PackageAcrImage:
		resp, err := cloudops.PushContainerImage(ctx, cc, f.sourceRegion, f.repo, f.repoTag, f.imageRef)
		if err != nil {
			return p, fmt.Errorf("push %s: %w", f.imageRef, err)
		}
		p.Namespace, p.RepoName, p.Tag = resp.Tag.Namespace, resp.Tag.RepoName, resp.Tag.Tag
	case model.PackageHelmChart:
		data, err := os.ReadFile(f.chart)
		if err != nil {
			return p, invalid("read --chart: %w", err)
		}
		resp, err := cloudops.PushHelmChart(ctx, cc, f.sourceRegion, f.repo, f.repoTag, f.chart, data)
		if err != nil {
			return p, fmt.Errorf("push %s: %w", f.chart, err)
		}
		p.Namespace, p.RepoName, p.Tag = resp.Tag.Namespace, resp.Tag.RepoName, resp.Tag.Tag
	}
	return p, nil
}

// createVersion creates a package with its first draft version (existing
// nil) or a new draft version of existing.
func (a *app) createVersion(ctx context.Context, out io.Writer, typ string, existing *cloud.Artifact, f *versionFlags) error {
	if err := f.check(typ); err != nil {
		return err
	}
	if existing != nil {
		if v := cloudops.FindVersion(existing, f.version); v != nil {
			return invalid("package %s already has version %s (%s): choose a new version name", f.pkg, f.version, versionState(v))
		}
	}
	prop, err := a.stage(ctx, typ, f)
	if err != nil {
		return err
	}
	req := &cloud.CreateArtifactRequest{
		ArtifactType: typ, Name: f.pkg, VersionName: f.version, Description: f.description,
		ArtifactProperty: prop, SupportRegionIds: f.regions, Tags: f.tags,
	}
	if existing != nil {
		req.ArtifactId = existing.ArtifactId
	}
	resp, err := a.cloudClient().CreateArtifact(ctx, req)
	if err != nil {
		return fmt.Errorf("create version: %w", err)
	}
	fmt.Fprintf(out, "Package %s (%s, %s): draft version %s created.\nA draft is usable only in its source region %s; publish it with\n  starter package version publish --package %s --version %s\n",
		f.pkg, typ, resp.ArtifactId, f.version, f.sourceRegion, f.pkg, f.version)
	return nil
}

func packageCreateCommand(a *app) *cobra.Command {
	var (
		f   versionFlags
		typ string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a package with its first (draft) version",
		Long: `Create a deployment package and its first version, as a draft. The content
is put in place first: an ECS image is checked, a file is uploaded to the
source region's bucket, a container image or Helm chart is pushed into the
account's registry namespace with a temporary credential.`,
		Example: `  starter package create --type EcsImage --package webapp --version v1_0 --description "web tier image" \
    --source-region cn-hangzhou --image m-webapp-v1 --regions cn-shanghai,eu-west-1
  starter package create --type File --package tools --version v1_0 --description "install scripts" \
    --source-region cn-hangzhou --file ./install.tar.gz --regions cn-hangzhou,eu-west-1
  starter package create --type AcrImage --package web_ctr --version v1_0 --description "web container" \
    --source-region cn-hangzhou --image-ref nginx:1.25 --repo web --repo-tag 1.25 --regions cn-hangzhou,eu-west-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := model.CheckPackageType(typ); err != nil {
				return invalid("--type: %w", err)
			}
			if err := f.check(typ); err != nil {
				return err
			}
			existing, err := cloudops.FindArtifact(cmd.Context(), a.cloudClient(), f.pkg)
			if err != nil {
				return err
			}
			if existing != nil {
				return invalid("package %s already exists (%s, %s): add a version with `starter package version create`", f.pkg, existing.ArtifactType, existing.ArtifactId)
			}
			return a.createVersion(cmd.Context(), cmd.OutOrStdout(), typ, nil, &f)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&typ, "type", "", "package type: EcsImage, File, AcrImage or HelmChart")
	return cmd
}

func versionCreateCommand(a *app) *cobra.Command {
	var f versionFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a new draft version of a package (content changes need a new version)",
		Example: `  starter package version create --package webapp --version v1_1 --description "web tier image" \
    --source-region cn-hangzhou --image m-webapp-v2 --regions cn-shanghai,eu-west-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, err := a.mustFind(cmd.Context(), f.pkg)
			if err != nil {
				return err
			}
			return a.createVersion(cmd.Context(), cmd.OutOrStdout(), art.ArtifactType, art, &f)
		},
	}
	f.register(cmd)
	return cmd
}
