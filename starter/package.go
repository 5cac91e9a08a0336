package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/templates"
)

// packageCommand manages deployment packages of every type and their
// versions, and maps templates to a version's regional images.
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
	)
	return cmd
}

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
		if v := findVersion(existing, f.version); v != nil {
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

func findVersion(a *cloud.Artifact, name string) *cloud.ArtifactVersion {
	i := slices.IndexFunc(a.Versions, func(v cloud.ArtifactVersion) bool { return v.VersionName == name })
	if i < 0 {
		return nil
	}
	return &a.Versions[i]
}

func versionState(v *cloud.ArtifactVersion) string {
	if v.Status == cloud.ArtifactAvailable {
		return "published"
	}
	return "draft"
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

func packageListCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List packages",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := a.cloudClient().ListArtifacts(cmd.Context(), &cloud.ListArtifactsRequest{})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tID\tVERSIONS")
			for _, art := range resp.Artifacts {
				var vs []string
				for _, v := range art.Versions {
					vs = append(vs, v.VersionName+" ("+versionState(&v)+")")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", art.Name, art.ArtifactType, art.ArtifactId, strings.Join(vs, ", "))
			}
			return tw.Flush()
		},
	}
}

func packageShowCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "show NAME",
		Short:   "Show a package: its versions, their content, delivery and visibility, and its services",
		Example: "  starter package show webapp",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			art, err := a.mustFind(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			svcs, err := a.cloudClient().ListServices(cmd.Context(), &cloud.ListServicesRequest{ArtifactId: art.ArtifactId})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Package:   %s (%s)\nID:        %s\n", art.Name, art.ArtifactType, art.ArtifactId)
			if len(art.Tags) > 0 {
				fmt.Fprintf(out, "Tags:      %v\n", art.Tags)
			}
			var names []string
			for _, s := range svcs.Services {
				names = append(names, fmt.Sprintf("%s %s (%s)", s.ServiceId, s.Name, s.Visibility))
			}
			if len(names) == 0 {
				names = []string{"none: the package is private"}
			}
			fmt.Fprintf(out, "Services:  %s\n", strings.Join(names, "; "))
			for i := range art.Versions {
				fmt.Fprintln(out)
				printVersion(out, art, &art.Versions[i])
			}
			return nil
		},
	}
}

func printVersion(out io.Writer, art *cloud.Artifact, v *cloud.ArtifactVersion) {
	fmt.Fprintf(out, "Version %s: %s (%s), created %s\n", v.VersionName, versionState(v), v.Status, v.CreateTime.Format(time.RFC3339))
	fmt.Fprintf(out, "  description: %s\n", v.Description)
	p := v.ArtifactProperty
	switch art.ArtifactType {
	case cloud.ArtifactEcsImage:
		fmt.Fprintf(out, "  content:     image %s in %s\n", p.ImageId, p.RegionId)
	case cloud.ArtifactFile:
		fmt.Fprintf(out, "  content:     %s (bucket %s in %s)\n", p.Url, p.Bucket, p.RegionId)
	default:
		fmt.Fprintf(out, "  content:     %s/%s:%s, pushed via %s\n", p.Namespace, p.RepoName, p.Tag, p.RegionId)
	}
	fmt.Fprintf(out, "  regions:     %s\n", strings.Join(v.SupportRegionIds, ", "))
	if v.Permission != nil {
		fmt.Fprintf(out, "  visibility:  %s\n", permissionText(model.Permission{Visibility: v.Permission.Visibility, Accounts: v.Permission.AccountIds}))
	}
	delivery := v.ImageDelivery
	if art.ArtifactType != cloud.ArtifactEcsImage {
		delivery = v.Delivery
	}
	if len(delivery) > 0 {
		note := ""
		switch art.ArtifactType {
		case cloud.ArtifactFile:
			note = " (internal download URLs)"
		case cloud.ArtifactAcrImage, cloud.ArtifactHelmChart:
			note = " (pull addresses: pulls work only over the internet, with a temporary credential)"
		}
		fmt.Fprintf(out, "  delivery%s:\n", note)
		for _, region := range slices.Sorted(maps.Keys(delivery)) {
			fmt.Fprintf(out, "    %-16s %s\n", region, delivery[region])
		}
	}
}

func packageDeleteCommand(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a package with all its versions and what they distributed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			art, err := a.mustFind(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !yes {
				return invalid("deleting package %s removes its %d version(s) and every copy they distributed: repeat with --yes", art.Name, len(art.Versions))
			}
			for _, ver := range art.Versions {
				if err := a.refuseWhilePublishing(cmd.Context(), art.Name, ver.VersionName); err != nil {
					return err
				}
			}
			if _, err := a.cloudClient().DeleteArtifact(cmd.Context(), &cloud.DeleteArtifactRequest{ArtifactId: art.ArtifactId}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Package %s deleted with its versions and their distributed content.\n", art.Name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	return cmd
}

// packageAssociateCommand associates a package with a service or removes
// the association; the package's visibility is recomputed by the cloud.
func packageAssociateCommand(a *app, associate bool) *cobra.Command {
	var pkg, service string
	use, short := "associate", "Associate a package with a service (its visibility follows the services)"
	if !associate {
		use, short = "dissociate", "Remove a package from a service (its visibility is recomputed)"
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: fmt.Sprintf("  starter package %s --package webapp --service service-0123abcd", use),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, err := a.mustFind(cmd.Context(), pkg)
			if err != nil {
				return err
			}
			svcs, err := a.cloudClient().ListServices(cmd.Context(), &cloud.ListServicesRequest{})
			if err != nil {
				return err
			}
			i := slices.IndexFunc(svcs.Services, func(s cloud.Service) bool { return s.ServiceId == service })
			if i < 0 {
				return invalid("service %q does not exist (starter service list)", service)
			}
			ids := slices.DeleteFunc(slices.Clone(svcs.Services[i].ArtifactIds), func(id string) bool { return id == art.ArtifactId })
			if associate {
				ids = append(ids, art.ArtifactId)
			}
			if _, err := a.cloudClient().UpdateService(cmd.Context(), &cloud.UpdateNestServiceRequest{ServiceId: service, ArtifactIds: &ids}); err != nil {
				return err
			}
			perm, err := cloudops.PackagePermission(cmd.Context(), a.cloudClient(), art.ArtifactId)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Package %s is now %s.\n", art.Name, permissionText(perm))
			return nil
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", "package name")
	cmd.Flags().StringVar(&service, "service", "", "service ID")
	return cmd
}

func packageVersionCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "version", Short: "Manage the versions of a package"}
	cmd.AddCommand(
		versionCreateCommand(a),
		versionPublishCommand(a),
		versionListCommand(a),
		versionShowCommand(a),
		versionDeleteCommand(a),
		versionStatusCommand(a),
	)
	return cmd
}

// versionStatusCommand shows the publication run of a version: the
// distribution's progress for an ECS image version, the publication's for
// the other types.
func versionStatusCommand(a *app) *cobra.Command {
	var v versionArgs
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show the progress of a version's publication run",
		Example: "  starter package version status --package tools --version v1_0",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, _, err := a.findVersion(cmd.Context(), v)
			if err != nil {
				return err
			}
			if art.ArtifactType == cloud.ArtifactEcsImage {
				return statusCommand(a).RunE(cmd, []string{model.DistributeWorkflowID(v.pkg, v.version)})
			}
			id := model.PublishWorkflowID(v.pkg, v.version)
			c, err := a.client()
			if err != nil {
				return err
			}
			desc, err := c.DescribeWorkflowExecution(cmd.Context(), id, "")
			var notFound *serviceerror.NotFound
			if errors.As(err, &notFound) {
				return invalid("version %s of package %s has no publication run (%s): publish it with starter package version publish", v.version, v.pkg, id)
			}
			if err != nil {
				return fmt.Errorf("describe %s: %w", id, err)
			}
			q, err := c.QueryWorkflow(cmd.Context(), id, "", model.QueryProgress)
			if err != nil {
				return fmt.Errorf("query %s: %w", id, err)
			}
			var p model.PublishProgress
			if err := q.Get(&p); err != nil {
				return err
			}
			info := desc.GetWorkflowExecutionInfo()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Workflow:  %s (%s)\nPackage:   %s %s (%s) %s\nPhase:     %s\n", id, info.GetStatus(), p.Package, p.Version, p.Type, p.ArtifactID, p.Phase)
			if p.WaitingFor != "" {
				fmt.Fprintf(out, "Waiting:   %s\n", p.WaitingFor)
			}
			if p.Permission != nil {
				fmt.Fprintf(out, "Access:    %s\n", permissionText(*p.Permission))
			}
			if p.LastRefusal != "" {
				fmt.Fprintf(out, "Refused:   %s\n", p.LastRefusal)
			}
			fmt.Fprintf(out, "Web UI:    %s\n\n", a.webURL(id, info.GetExecution().GetRunId()))
			tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "REGION\tSTATE\tLOCATION\tENDPOINT\tATTEMPTS\tERROR")
			for _, r := range p.Regions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.Region, r.State, r.Location, r.Endpoint, r.Attempts, r.Error)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if st := info.GetStatus(); endedUnsuccessfully(st) {
				return &exitError{code: exitFailed, err: fmt.Errorf("%s ended %s", id, st)}
			}
			return nil
		},
	}
	v.register(cmd)
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

func versionPublishCommand(a *app) *cobra.Command {
	var (
		pkg, version string
		attempts     int
		wait         bool
		exitOnPause  bool
	)
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish a draft version: deliver it to its regions and lock it",
		Long: `Publish a draft version. An ECS image version starts DistributeImagePackage
(as starter distribute); a File, AcrImage or HelmChart version starts
PublishPackageVersion. Both take the operator commands retry-region,
drop-region and abort by workflow ID.`,
		Example: "  starter package version publish --package tools --version v1_0",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			art, err := a.mustFind(ctx, pkg)
			if err != nil {
				return err
			}
			v := findVersion(art, version)
			if v == nil {
				return invalid("package %s has no version %q", pkg, version)
			}
			if v.Status == cloud.ArtifactAvailable {
				return invalid("version %s of package %s is already published and locked; create a new version to change it", version, pkg)
			}
			if art.ArtifactType == cloud.ArtifactEcsImage {
				spec := model.DistributeSpec{Package: pkg, Version: version, Description: v.Description, Tags: art.Tags,
					SourceRegion: v.ArtifactProperty.RegionId, SourceImage: v.ArtifactProperty.ImageId,
					Regions: v.SupportRegionIds, CopyAttempts: attempts}
				id, runID, err := a.startDistribution(ctx, spec)
				if err != nil {
					return err
				}
				a.printStarted(out, model.DistributeWorkflowType, id, runID)
				if wait {
					_, err = a.watchDistribution(ctx, out, id, exitOnPause)
				}
				return err
			}
			spec := model.PublishSpec{Package: pkg, Version: version, CopyAttempts: attempts}
			id, runID, err := a.startPublication(ctx, spec, art.ArtifactType, v)
			if err != nil {
				return err
			}
			a.printStarted(out, model.PublishWorkflowType, id, runID)
			if wait {
				return a.watchPublication(ctx, out, id, exitOnPause)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", "package name")
	cmd.Flags().StringVar(&version, "version", "", "version name")
	cmd.Flags().IntVar(&attempts, "copy-attempts", 0, "attempts per region before asking the operator (default 5)")
	cmd.Flags().BoolVar(&wait, "wait", true, "watch progress until the run ends")
	cmd.Flags().BoolVar(&exitOnPause, "exit-on-pause", false, "with --wait, exit with code 4 when the run waits for an operator decision")
	return cmd
}

func (a *app) startPublication(ctx context.Context, spec model.PublishSpec, typ string, v *cloud.ArtifactVersion) (id, runID string, err error) {
	if err := spec.Validate(); err != nil {
		return "", "", &exitError{code: exitInvalid, err: err}
	}
	id = model.PublishWorkflowID(spec.Package, spec.Version)
	runID, err = a.start(ctx, startRequest{
		ID: id, Type: model.PublishWorkflowType, Input: spec, OnceDone: true,
		Attributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationPublish),
			model.SAPackage.ValueSet(spec.Package),
			model.SAVersion.ValueSet(spec.Version),
			model.SAState.ValueSet(model.StateRunning),
		},
		Summary: fmt.Sprintf("Publish %s package %s version %s to %d region(s)", typ, spec.Package, spec.Version, len(v.SupportRegionIds)),
		Conflict: func(context.Context) string {
			return fmt.Sprintf("a publication of %s %s already exists (workflow %s): it is running or has published the version", spec.Package, spec.Version, id)
		},
	})
	return id, runID, err
}

// watchPublication prints region changes until the run ends.
func (a *app) watchPublication(ctx context.Context, out io.Writer, id string, exitOnPause bool) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	run := c.GetWorkflow(ctx, id, "")
	done := make(chan error, 1)
	var result model.PublishResult
	go func() { done <- run.Get(ctx, &result) }()
	seen := map[string]string{}
	lastWaiting := ""
	progress := func() (*model.PublishProgress, error) {
		return query[model.PublishProgress](ctx, a, id, "", model.QueryProgress)
	}
	print := func(p *model.PublishProgress) {
		for _, r := range p.Regions {
			line := fmt.Sprintf("  %-16s %-10s %s %s", r.Region, r.State, r.Location, r.Error)
			if seen[r.Region] != line {
				seen[r.Region] = line
				fmt.Fprintln(out, strings.TrimRight(line, " "))
			}
		}
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if p, qerr := progress(); qerr == nil {
				print(p)
			}
			if err != nil {
				return fmt.Errorf("publication %s failed: %w", id, err)
			}
			fmt.Fprintf(out, "\nPublished %s %s (%s, package %s), visibility %s\n", result.Package, result.Version, result.Type, result.ArtifactID, permissionText(result.Permission))
			if result.Endpoint == model.EndpointInternet {
				fmt.Fprintln(out, "Pulls work only over the internet endpoint, with a temporary credential.")
			} else {
				fmt.Fprintln(out, "Files are downloaded from each region's internal endpoint.")
			}
			tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "REGION\tLOCATION")
			for _, region := range slices.Sorted(maps.Keys(result.Delivery)) {
				fmt.Fprintf(tw, "%s\t%s\n", region, result.Delivery[region])
			}
			for _, region := range result.Dropped {
				fmt.Fprintf(tw, "%s\t(dropped)\n", region)
			}
			return tw.Flush()
		case <-tick.C:
			p, err := progress()
			if err != nil {
				continue
			}
			print(p)
			if p.WaitingFor != "" && p.WaitingFor != lastWaiting {
				fmt.Fprintf(out, "⏸  waiting for %s\n   e.g. starter retry-region %s <region> | starter drop-region %s <region> | starter abort %s\n", p.WaitingFor, id, id, id)
				if exitOnPause {
					return &exitError{code: exitPaused, err: fmt.Errorf("publication %s waits for an operator decision", id)}
				}
			}
			lastWaiting = p.WaitingFor
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// versionArgs are --package and --version.
type versionArgs struct{ pkg, version string }

func (v *versionArgs) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&v.pkg, "package", "", "package name")
	cmd.Flags().StringVar(&v.version, "version", "", "version name")
}

func (a *app) findVersion(ctx context.Context, v versionArgs) (*cloud.Artifact, *cloud.ArtifactVersion, error) {
	art, err := a.mustFind(ctx, v.pkg)
	if err != nil {
		return nil, nil, err
	}
	ver := findVersion(art, v.version)
	if ver == nil {
		return nil, nil, invalid("package %s has no version %q", v.pkg, v.version)
	}
	return art, ver, nil
}

func versionListCommand(a *app) *cobra.Command {
	var pkg string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a package's versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, err := a.mustFind(cmd.Context(), pkg)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tSTATE\tSOURCE REGION\tREGIONS\tCREATED")
			for _, v := range art.Versions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.VersionName, versionState(&v), v.ArtifactProperty.RegionId, strings.Join(v.SupportRegionIds, ","), v.CreateTime.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&pkg, "package", "", "package name")
	return cmd
}

func versionShowCommand(a *app) *cobra.Command {
	var v versionArgs
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show a version: content, regions, delivery, visibility",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, ver, err := a.findVersion(cmd.Context(), v)
			if err != nil {
				return err
			}
			printVersion(cmd.OutOrStdout(), art, ver)
			return nil
		},
	}
	v.register(cmd)
	return cmd
}

func versionDeleteCommand(a *app) *cobra.Command {
	var v versionArgs
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete a version and what it distributed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			art, ver, err := a.findVersion(cmd.Context(), v)
			if err != nil {
				return err
			}
			if err := a.refuseWhilePublishing(cmd.Context(), art.Name, ver.VersionName); err != nil {
				return err
			}
			if _, err := a.cloudClient().DeleteArtifact(cmd.Context(), &cloud.DeleteArtifactRequest{ArtifactId: art.ArtifactId, VersionName: ver.VersionName}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Version %s of package %s deleted with its distributed content.\n", ver.VersionName, art.Name)
			return nil
		},
	}
	v.register(cmd)
	return cmd
}

// refuseWhilePublishing refuses to delete a version whose distribution or
// publication still runs: its copies would be deleted under it.
func (a *app) refuseWhilePublishing(ctx context.Context, pkg, version string) error {
	for _, id := range []string{model.DistributeWorkflowID(pkg, version), model.PublishWorkflowID(pkg, version)} {
		info, err := a.describe(ctx, id)
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			continue
		}
		if err != nil {
			return err
		}
		if info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return invalid("version %s of package %s is being published by workflow %s: abort it (starter abort %s) or let it end first", version, pkg, id, id)
		}
	}
	return nil
}

func packageRenderCommand(a *app) *cobra.Command {
	var (
		v                        versionArgs
		file, region, formatFlag string
		output                   string
	)
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print a ROS (YAML, JSON) or Terraform template with its image IDs mapped to a region",
		Long: `Replace the image ID of every covered resource of a template with the image
an ECS image package version delivered to the region: ROS ALIYUN::ECS::Instance,
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
				return invalid("package %s is a %s package: only ECS image packages map template image IDs", art.Name, art.ArtifactType)
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
				return invalid("template %s: %w", file, err)
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
	cmd.Flags().StringVar(&file, "template", "", "template file (.yaml/.yml, .json, .tf)")
	cmd.Flags().StringVar(&region, "region", "", "the region the template is deployed in")
	cmd.Flags().StringVar(&formatFlag, "format", "", "ros-yaml, ros-json or terraform (default: from the file name)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the rendered template here instead of stdout")
	_ = cmd.MarkFlagRequired("template")
	_ = cmd.MarkFlagRequired("region")
	return cmd
}
