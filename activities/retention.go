package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

// RetentionCloud is what a lifecycle run calls: the package and its
// versions, what refers to their images, and the deletion itself.
type RetentionCloud interface {
	cloud.ComputeNest
	cloud.ECS
	cloud.ECSInstances
	cloud.AutoScaling
	cloud.RollingUpdateTasks
	cloud.ImageRetention
	cloud.ImageBuilder
}

// Visibility is the part of a Temporal client that finds running
// operations and reads their input (a running rolling update's images).
type Visibility interface {
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	GetWorkflowHistory(ctx context.Context, workflowID string, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator
}

// Retention are the activities of a lifecycle run (model/retention.go).
type Retention struct {
	Cloud RetentionCloud
	// Visibility and DataConverter are the worker's Temporal client and its
	// data converter; without them a run cannot tell a rule's first run nor
	// see running rolling updates, and refuses to apply a rule.
	Visibility    Visibility
	DataConverter converter.DataConverter
}

// RetentionFactsInput names the rule a run applies.
type RetentionFactsInput struct {
	Rule model.RetentionRule
}

// RetentionFacts is what a run decides from: the package's published
// versions with their copies and what uses each copy.
type RetentionFacts struct {
	ArtifactID string
	Versions   []VersionFacts
	// Services are the non-deleted services associated with the package.
	Services []string
	// RuleRanBefore: an earlier run of the same rule on the package
	// succeeded (visibility), so this is not the rule's first run.
	RuleRanBefore bool
}

// VersionFacts is one published version.
type VersionFacts struct {
	Version       string
	ReleaseTime   time.Time
	Deprecated    bool
	DeprecateTime time.Time
	// SourceTags are the tags of the version's source image.
	SourceTags map[string]string
	Regions    []model.RetentionRegion // with UsedBy, sorted by region
}

// RetentionFacts reads the package, its published versions and what refers
// to each of their copies, region by region.
func (a *Retention) RetentionFacts(ctx context.Context, in RetentionFactsInput) (RetentionFacts, error) {
	if err := a.requireVisibility(); err != nil {
		return RetentionFacts{}, err
	}
	if in.Rule.BuildTemplate != "" {
		return a.buildFacts(ctx, in.Rule)
	}
	var out RetentionFacts
	pkg, err := cloudops.FindArtifact(ctx, a.Cloud, in.Rule.Package)
	if err != nil {
		return out, fromCloud(err)
	}
	if pkg == nil {
		return out, permanent(cloud.CodeArtifactNotFound, fmt.Errorf("package %s does not exist", in.Rule.Package))
	}
	if pkg.ArtifactType != cloud.ArtifactEcsImage {
		return out, permanent(cloud.CodeInvalidParameter, fmt.Errorf("package %s is of type %s: lifecycle rules apply to %s packages", pkg.Name, pkg.ArtifactType, cloud.ArtifactEcsImage))
	}
	out.ArtifactID = pkg.ArtifactId
	services, err := a.Cloud.ListServices(ctx, &cloud.ListServicesRequest{ArtifactId: pkg.ArtifactId})
	if err != nil {
		return out, fromCloud(err)
	}
	for _, s := range services.Services {
		out.Services = append(out.Services, s.ServiceId)
	}
	if out.RuleRanBefore, err = a.ruleRanBefore(ctx, in.Rule); err != nil {
		return out, err
	}
	regions := map[string]bool{}
	for _, v := range pkg.Versions {
		if v.Status != cloud.ArtifactAvailable {
			continue
		}
		for r := range v.ImageDelivery {
			regions[r] = true
		}
	}
	users := map[string]map[string][]string{} // region → image → users
	for _, r := range slices.Sorted(maps.Keys(regions)) {
		if users[r], err = a.imageUsers(ctx, r); err != nil {
			return out, err
		}
	}
	if err := a.rolloutUsers(ctx, users); err != nil {
		return out, err
	}
	for _, v := range pkg.Versions {
		if v.Status != cloud.ArtifactAvailable {
			continue
		}
		vf := VersionFacts{Version: v.VersionName, ReleaseTime: v.ReleaseTime, Deprecated: v.Deprecated, DeprecateTime: v.DeprecateTime}
		if src, err := a.image(ctx, v.ArtifactProperty.RegionId, v.ArtifactProperty.ImageId); err != nil {
			return out, err
		} else if src != nil {
			vf.SourceTags = src.Tags
		}
		for _, r := range slices.Sorted(maps.Keys(v.ImageDelivery)) {
			id := v.ImageDelivery[r]
			reg := model.RetentionRegion{Region: r, ImageID: id, UsedBy: users[r][id]}
			img, err := a.image(ctx, r, id)
			if err != nil {
				return out, err
			}
			if img != nil {
				reg.SizeGiB = img.Size
			}
			vf.Regions = append(vf.Regions, reg)
		}
		out.Versions = append(out.Versions, vf)
	}
	return out, nil
}

func (a *Retention) image(ctx context.Context, region, id string) (*cloud.Image, error) {
	resp, err := a.Cloud.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: region, ImageIds: []string{id}})
	if err != nil {
		return nil, fromCloud(err)
	}
	if len(resp.Images) == 0 {
		return nil, nil
	}
	return &resp.Images[0], nil
}

// imageUsers maps each image of region to what refers to it: instances,
// the scaling groups that launch it (their active scaling configuration
// or launch template) and their running rolling update tasks.
func (a *Retention) imageUsers(ctx context.Context, region string) (map[string][]string, error) {
	users := map[string][]string{}
	for page := 1; ; page++ {
		resp, err := a.Cloud.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: region, PageNumber: page, PageSize: 100})
		if err != nil {
			return nil, fromCloud(err)
		}
		for _, i := range resp.Instances {
			users[i.ImageId] = append(users[i.ImageId], fmt.Sprintf("instance %s (%s)", i.InstanceId, i.Status))
		}
		if len(resp.Instances) == 0 || page*resp.PageSize >= resp.TotalCount {
			break
		}
	}
	for page := 1; ; page++ {
		resp, err := a.Cloud.DescribeScalingGroups(ctx, &cloud.DescribeScalingGroupsRequest{RegionId: region, PageNumber: page, PageSize: 50})
		if err != nil {
			return nil, fromCloud(err)
		}
		for _, g := range resp.ScalingGroups {
			if g.ImageId == "" {
				continue
			}
			users[g.ImageId] = append(users[g.ImageId], "scaling group "+g.ScalingGroupId+" ("+groupSource(g)+")")
			tasks, err := a.Cloud.DescribeRollingUpdateTasks(ctx, &cloud.DescribeRollingUpdateTasksRequest{RegionId: region, ScalingGroupId: g.ScalingGroupId})
			if err != nil {
				return nil, fromCloud(err)
			}
			for _, t := range tasks.Tasks {
				if t.Status == cloud.RollingUpdateRunning {
					users[g.ImageId] = append(users[g.ImageId], "rolling update task "+t.TaskId+" of "+g.ScalingGroupId)
				}
			}
		}
		if len(resp.ScalingGroups) == 0 || page*50 >= resp.TotalCount {
			break
		}
	}
	return users, nil
}

// groupSource names what a group launches its image from.
func groupSource(g cloud.ScalingGroup) string {
	switch {
	case g.LaunchTemplateId != "":
		return "launch template " + g.LaunchTemplateId + " version " + cmp.Or(g.LaunchTemplateVersion, cloud.LaunchTemplateDefault)
	case g.ActiveScalingConfigurationId != "":
		return "active scaling configuration " + g.ActiveScalingConfigurationId
	}
	return "its instance configuration source"
}

// ErrTypeNoVisibility: the worker has no Temporal client for its activities.
const ErrTypeNoVisibility = "NoVisibility"

func (a *Retention) requireVisibility() error {
	if a.Visibility == nil || a.DataConverter == nil {
		return permanent(ErrTypeNoVisibility, errors.New("this worker's retention activities have no Temporal client: they cannot see running rolling updates nor earlier runs, so no rule is applied"))
	}
	return nil
}

// ruleRanBefore asks visibility for a successful earlier run of the rule.
func (a *Retention) ruleRanBefore(ctx context.Context, rule model.RetentionRule) (bool, error) {
	if err := a.requireVisibility(); err != nil {
		return false, err
	}
	resp, err := a.Visibility.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		PageSize: 1,
		Query: fmt.Sprintf("WorkflowType = '%s' AND %s = '%s' AND %s = '%s' AND ExecutionStatus = 'Completed'",
			model.RetentionWorkflowType, model.SAPackage.GetName(), rule.Package, model.SARetentionRule.GetName(), rule.Hash()),
	})
	if err != nil {
		return false, err
	}
	return len(resp.Executions) > 0, nil
}

// rolloutUsers adds the images of every running image rolling update
// (its new image and the one it rolls back to) to users.
func (a *Retention) rolloutUsers(ctx context.Context, users map[string]map[string][]string) error {
	var next []byte
	for {
		resp, err := a.Visibility.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			NextPageToken: next,
			Query:         fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", model.RolloutWorkflowType),
		})
		if err != nil {
			return err
		}
		for _, e := range resp.Executions {
			exec := e.GetExecution()
			it := a.Visibility.GetWorkflowHistory(ctx, exec.GetWorkflowId(), exec.GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			if !it.HasNext() {
				continue
			}
			ev, err := it.Next()
			if err != nil {
				return err
			}
			var spec model.RolloutSpec
			if err := a.DataConverter.FromPayloads(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &spec); err != nil || spec.Image == nil {
				continue // not an image update
			}
			if users[spec.RegionID] == nil {
				users[spec.RegionID] = map[string][]string{}
			}
			for _, id := range []string{spec.Image.ImageID, spec.Image.RollbackImageID} {
				if id != "" {
					users[spec.RegionID][id] = append(users[spec.RegionID][id], "running rolling update "+exec.GetWorkflowId())
				}
			}
		}
		if next = resp.GetNextPageToken(); len(next) == 0 {
			return nil
		}
	}
}

// RetentionVersionInput names a version of a package.
type RetentionVersionInput struct {
	ArtifactID  string
	Package     string
	Version     string
	ClientToken string
}

// DeprecateVersion deprecates a published version and answers since when
// it is deprecated (the same time when it already was).
func (a *Retention) DeprecateVersion(ctx context.Context, in RetentionVersionInput) (time.Time, error) {
	resp, err := a.Cloud.ModifyArtifactVersion(ctx, &cloud.ModifyArtifactVersionRequest{
		ArtifactId: in.ArtifactID, VersionName: in.Version, Deprecated: true, ClientToken: in.ClientToken,
	})
	if err != nil {
		return time.Time{}, fromCloud(err)
	}
	return resp.DeprecateTime, nil
}

// DeleteCopyInput names one region's copy of a deprecated version.
type DeleteCopyOfVersionInput struct {
	RetentionVersionInput
	Region string
}

// DeletedCopy is how the deletion of one region's copy ended.
type DeletedCopy struct {
	Deleted bool // the copy is gone (now or by an earlier attempt)
	SizeGiB int  // storage freed by this deletion
	// InUse is the cloud's refusal when something refers to the copy now.
	InUse string
}

var inUseCodes = []string{cloud.CodeImageUsingByInstance, cloud.CodeImageUsingByScalingConfiguration, cloud.CodeImageUsingByLaunchTemplate}

// DeleteVersionCopy deletes a deprecated version's copy in one region. A
// copy that something uses now is not an error: the cloud's refusal is
// answered in InUse, and the copy stays. A copy already gone is done.
func (a *Retention) DeleteVersionCopy(ctx context.Context, in DeleteCopyOfVersionInput) (DeletedCopy, error) {
	resp, err := a.Cloud.DeleteArtifactDelivery(ctx, &cloud.DeleteArtifactDeliveryRequest{
		ArtifactId: in.ArtifactID, VersionName: in.Version, RegionId: in.Region, ClientToken: in.ClientToken,
	})
	if apiErr, ok := cloud.AsAPIError(err); ok && slices.Contains(inUseCodes, apiErr.Code) {
		return DeletedCopy{InUse: apiErr.Message}, nil
	}
	if isNotFound(err) {
		return DeletedCopy{Deleted: true}, nil // an earlier attempt without its token's answer
	}
	if err != nil {
		return DeletedCopy{}, fromCloud(err)
	}
	return DeletedCopy{Deleted: true, SizeGiB: resp.SizeGiB}, nil
}

// DeleteRetiredVersion deletes a version whose copies are deleted; a
// version already gone is done.
func (a *Retention) DeleteRetiredVersion(ctx context.Context, in RetentionVersionInput) error {
	_, err := a.Cloud.DeleteArtifact(ctx, &cloud.DeleteArtifactRequest{ArtifactId: in.ArtifactID, VersionName: in.Version})
	if isNotFound(err) {
		return nil
	}
	return fromCloud(err)
}

// buildFacts reads the images a build template's successful builds made in
// its region (each a "version" named by the build's execution ID) and what
// uses each: instances, scaling groups, running rolling updates, and a
// package version that holds it (as its source or a delivered copy).
func (a *Retention) buildFacts(ctx context.Context, rule model.RetentionRule) (RetentionFacts, error) {
	var out RetentionFacts
	resp, err := a.Cloud.DescribeImagePipelineExecutions(ctx, &cloud.DescribeImagePipelineExecutionsRequest{
		RegionId: rule.Region, ImagePipelineId: rule.BuildTemplate, Status: cloud.PipelineExecutionSuccess})
	if err != nil {
		return out, fromCloud(err)
	}
	if out.RuleRanBefore, err = a.ruleRanBefore(ctx, rule); err != nil {
		return out, err
	}
	users := map[string]map[string][]string{}
	if users[rule.Region], err = a.imageUsers(ctx, rule.Region); err != nil {
		return out, err
	}
	if err := a.rolloutUsers(ctx, users); err != nil {
		return out, err
	}
	arts, err := a.Cloud.ListArtifacts(ctx, &cloud.ListArtifactsRequest{})
	if err != nil {
		return out, fromCloud(err)
	}
	for _, art := range arts.Artifacts {
		for _, v := range art.Versions {
			held := map[string]string{}
			for r, id := range v.ImageDelivery {
				held[r+"/"+id] = "delivered by"
			}
			held[v.ArtifactProperty.RegionId+"/"+v.ArtifactProperty.ImageId] = "the source of"
			for key, how := range held {
				region, id, _ := strings.Cut(key, "/")
				if region == rule.Region {
					users[region][id] = append(users[region][id], fmt.Sprintf("%s version %s of package %s", how, v.VersionName, art.Name))
				}
			}
		}
	}
	for _, e := range resp.ImagePipelineExecutions {
		if e.ImageId == "" {
			continue
		}
		img, err := a.image(ctx, rule.Region, e.ImageId)
		if err != nil {
			return out, err
		}
		if img == nil {
			continue // deleted already
		}
		usedBy := slices.Clone(users[rule.Region][e.ImageId])
		slices.Sort(usedBy)
		out.Versions = append(out.Versions, VersionFacts{Version: e.ExecutionId, ReleaseTime: e.CreationTime, SourceTags: img.Tags,
			Regions: []model.RetentionRegion{{Region: rule.Region, ImageID: e.ImageId, SizeGiB: img.Size, UsedBy: usedBy}}})
	}
	return out, nil
}

// DeleteBuildImageInput names one image a build made.
type DeleteBuildImageInput struct {
	Region, ImageID, ClientToken string
}

// DeleteBuildImage deletes an image a build made. An image something uses
// now (an instance, a scaling group's source, a package version) is not an
// error: the cloud's refusal is answered in InUse. One already gone is done.
func (a *Retention) DeleteBuildImage(ctx context.Context, in DeleteBuildImageInput) (DeletedCopy, error) {
	img, err := a.image(ctx, in.Region, in.ImageID)
	if err != nil {
		return DeletedCopy{}, err
	}
	_, err = a.Cloud.DeleteImage(ctx, &cloud.DeleteImageRequest{RegionId: in.Region, ImageId: in.ImageID, ClientToken: in.ClientToken})
	if apiErr, ok := cloud.AsAPIError(err); ok && (slices.Contains(inUseCodes, apiErr.Code) || apiErr.Code == cloud.CodeImageManagedByService) {
		return DeletedCopy{InUse: apiErr.Message}, nil
	}
	if isNotFound(err) {
		return DeletedCopy{Deleted: true}, nil
	}
	if err != nil {
		return DeletedCopy{}, fromCloud(err)
	}
	out := DeletedCopy{Deleted: true}
	if img != nil {
		out.SizeGiB = img.Size
	}
	return out, nil
}
