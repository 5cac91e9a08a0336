package cloudsim

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/imagefleet/imagefleet/cloud"
)

// Image Builder: image templates (pipelines) and their builds (executions),
// the instance-type catalogue with its stock, image families, images made
// from instances, and the guest-OS check and repair.
//
// The simulator keeps templates and execution records; the build itself is
// imagefleet's ImageBuild workflow, which reports the execution's status with
// UpdateImagePipelineExecution.
//
// Guest-OS problems are injected per image through the admin API
// (POST /admin/guestos-problems): an instance fails the image's items until
// RepairGuestOS repairs them, and an image created from an instance keeps the
// items that were not repaired. Stock is changed per region and instance type
// with POST /admin/stock; RunInstances refuses a sold-out type.

// buildState is Image Builder's part of state.
type buildState struct {
	Vpcs      map[string]*vpcRecord     // by VpcId
	VSwitches map[string]*vSwitchRecord // by VSwitchId
	// SoldOut holds stockKey(region, type) of sold-out instance types.
	SoldOut map[string]bool
	// GuestOSProblems are the check items an image fails, by imageKey.
	GuestOSProblems map[string][]string
	// Repairs are the items repaired on an instance, by repairKey(instance,
	// image): a new system disk starts unrepaired.
	Repairs    map[string][]string
	Pipelines  map[string]*pipelineRecord          // by ImagePipelineId
	Executions map[string]*pipelineExecutionRecord // by ExecutionId
}

func (b *buildState) init() {
	ensure(&b.Vpcs)
	ensure(&b.VSwitches)
	ensure(&b.SoldOut)
	ensure(&b.GuestOSProblems)
	ensure(&b.Repairs)
	ensure(&b.Pipelines)
	ensure(&b.Executions)
}

func stockKey(region, instanceType string) string { return region + "/" + instanceType }
func repairKey(instanceID, imageID string) string { return instanceID + "/" + imageID }

type pipelineRecord struct {
	cloud.ImagePipeline
	OwnerId string
}

type pipelineExecutionRecord struct {
	cloud.ImagePipelineExecution
	OwnerId string
}

func (r *pipelineRecord) scope() (string, string)          { return r.OwnerId, r.RegionId }
func (r *pipelineExecutionRecord) scope() (string, string) { return r.OwnerId, r.RegionId }

var (
	pipelines  = resource{"image template", cloud.CodePipelineNotFound}
	executions = resource{"image build", cloud.CodePipelineExecutionNotFound}
)

// instanceTypes is the catalogue, smallest first.
var instanceTypes = []cloud.InstanceType{
	{InstanceTypeId: "ecs.c7.large", InstanceTypeFamily: "ecs.c7", CpuCoreCount: 2, MemorySize: 4},
	{InstanceTypeId: "ecs.g7.large", InstanceTypeFamily: "ecs.g7", CpuCoreCount: 2, MemorySize: 8},
	{InstanceTypeId: "ecs.c7.xlarge", InstanceTypeFamily: "ecs.c7", CpuCoreCount: 4, MemorySize: 8},
	{InstanceTypeId: "ecs.g7.xlarge", InstanceTypeFamily: "ecs.g7", CpuCoreCount: 4, MemorySize: 16},
	{InstanceTypeId: "ecs.c7.2xlarge", InstanceTypeFamily: "ecs.c7", CpuCoreCount: 8, MemorySize: 16},
	{InstanceTypeId: "ecs.g7.2xlarge", InstanceTypeFamily: "ecs.g7", CpuCoreCount: 8, MemorySize: 32},
}

// systemComponents ship with the service.
var systemComponents = []cloud.ImageComponent{
	{ComponentName: "acs:update-os", ComponentType: cloud.ComponentBuild, SystemType: cloud.OSLinux, Type: cloud.CommandShell,
		Description: "update every installed package (needs internet)", RequiresInternet: true,
		Content: "echo updating installed packages\nsleep 1\necho packages updated\n"},
	{ComponentName: "acs:install-nginx", ComponentType: cloud.ComponentBuild, SystemType: cloud.OSLinux, Type: cloud.CommandShell,
		Description: "install NGINX from the distribution's repository (needs internet)", RequiresInternet: true,
		Content: "echo installing nginx\necho nginx installed\n"},
	{ComponentName: "acs:harden-ssh", ComponentType: cloud.ComponentBuild, SystemType: cloud.OSLinux, Type: cloud.CommandShell,
		Description: "disable password login and root login over SSH",
		Content:     "echo sshd: PasswordAuthentication no, PermitRootLogin no\n"},
	{ComponentName: "acs:windows-update", ComponentType: cloud.ComponentBuild, SystemType: cloud.OSWindows, Type: cloud.CommandPowerShell,
		Description: "install pending Windows updates (needs internet)", RequiresInternet: true,
		Content: "Write-Output 'installing updates'\nStart-Sleep 1\nWrite-Output 'updates installed'\n"},
	{ComponentName: "acs:check-boot", ComponentType: cloud.ComponentTest, SystemType: cloud.OSLinux, Type: cloud.CommandShell,
		Description: "check that the system booted and systemd is healthy",
		Content:     "echo boot ok\necho systemd: 0 failed units\n"},
	{ComponentName: "acs:check-network", ComponentType: cloud.ComponentTest, SystemType: cloud.OSLinux, Type: cloud.CommandShell,
		Description: "check that the network is configured by DHCP",
		Content:     "echo eth0: dhcp lease ok\n"},
	{ComponentName: "acs:windows-check-boot", ComponentType: cloud.ComponentTest, SystemType: cloud.OSWindows, Type: cloud.CommandPowerShell,
		Description: "check that Windows booted and its services run",
		Content:     "Write-Output 'boot ok'\n"},
}

// DefaultTestComponent is the test of a template whose test mode is on but
// which names no test component.
const DefaultTestComponent = "acs:check-boot"

// DefaultWindowsTestComponent is DefaultTestComponent for a Windows source.
const DefaultWindowsTestComponent = "acs:windows-check-boot"

// DefaultTestComponentFor is the default test of a template whose source
// image runs osType: a Linux test cannot run on Windows.
func DefaultTestComponentFor(osType string) string {
	if osType == cloud.OSWindows {
		return DefaultWindowsTestComponent
	}
	return DefaultTestComponent
}

func findSystemComponent(name string) (cloud.ImageComponent, bool) {
	i := slices.IndexFunc(systemComponents, func(c cloud.ImageComponent) bool { return c.ComponentName == name })
	if i < 0 {
		return cloud.ImageComponent{}, false
	}
	return systemComponents[i], true
}

var pipelineStatuses = []string{
	cloud.PipelineExecutionPreparing, cloud.PipelineExecutionRepairing, cloud.PipelineExecutionBuilding, cloud.PipelineExecutionTesting,
	cloud.PipelineExecutionDistributing, cloud.PipelineExecutionReleasing, cloud.PipelineExecutionSuccess, cloud.PipelineExecutionFailed,
	cloud.PipelineExecutionCancelling, cloud.PipelineExecutionCancelled,
}

func (s *Server) registerImageBuilder() {
	registerMutation(s, "CreateImagePipeline", s.createImagePipeline)
	registerQuery(s, "DescribeImagePipelines", s.describeImagePipelines)
	registerMutation(s, "DeleteImagePipeline", s.deleteImagePipeline)
	registerMutation(s, "StartImagePipelineExecution", s.startImagePipelineExecution)
	registerQuery(s, "DescribeImagePipelineExecutions", s.describeImagePipelineExecutions)
	registerMutation(s, "CancelImagePipelineExecution", s.cancelImagePipelineExecution)
	registerMutation(s, "UpdateImagePipelineExecution", s.updateImagePipelineExecution)
	registerQuery(s, "DescribeImageComponents", s.describeImageComponents)
	registerQuery(s, "DescribeInstanceTypes", s.describeInstanceTypes)
	registerQuery(s, "DescribeImageFromFamily", s.describeImageFromFamily)
	registerMutation(s, "CreateImage", s.createImage)
	registerQuery(s, "CheckGuestOS", s.checkGuestOS)
	registerMutation(s, "RepairGuestOS", s.repairGuestOS)
	s.registerVPC()
	s.registerECSRPC()
}

// checkStock refuses a sold-out instance type (called by RunInstances).
func (c *call) checkStock(region, instanceType string) error {
	if c.st.Build.SoldOut[stockKey(region, instanceType)] {
		return newError(http.StatusBadRequest, cloud.CodeNoStock, "instance type %s is sold out in %s", instanceType, region)
	}
	return nil
}

// describeInstanceTypes answers the types with their stock in RegionId; with
// no RegionId (the real action, on the RPC front, takes none), the types
// only: stock is DescribeAvailableResource's.
func (s *Server) describeInstanceTypes(c *call, req *cloud.DescribeInstanceTypesRequest) (*cloud.DescribeInstanceTypesResponse, error) {
	resp := &cloud.DescribeInstanceTypesResponse{InstanceTypes: slices.Clone(instanceTypes)}
	if req.RegionId == "" {
		return resp, nil
	}
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	for i := range resp.InstanceTypes {
		t := &resp.InstanceTypes[i]
		t.Status = cloud.StockWithStock
		if c.st.Build.SoldOut[stockKey(req.RegionId, t.InstanceTypeId)] {
			t.Status = cloud.StockSoldOut
		}
	}
	return resp, nil
}

// latestOfFamily is the newest Available image of family the caller may use.
func (c *call) latestOfFamily(region, family string) (*imageRecord, error) {
	var best *imageRecord
	for _, img := range c.st.Images {
		if img.RegionId != region || img.Deleted || img.ImageFamily != family {
			continue
		}
		if _, ok := img.alias(c.account); !ok {
			continue
		}
		if st, _ := img.status(c.now); st != cloud.ImageAvailable {
			continue
		}
		if best == nil || img.CreationTime.After(best.CreationTime) {
			best = img
		}
	}
	if best == nil {
		return nil, newError(http.StatusNotFound, cloud.CodeImageFamilyNotFound, "image family %q has no Available image in %s", family, region)
	}
	return best, nil
}

func (s *Server) describeImageFromFamily(c *call, req *cloud.DescribeImageFromFamilyRequest) (*cloud.DescribeImageFromFamilyResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	if req.ImageFamily == "" {
		return nil, invalidParam("ImageFamily is required")
	}
	img, err := c.latestOfFamily(req.RegionId, req.ImageFamily)
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeImageFromFamilyResponse{Image: img.view(c.account, c.now)}, nil
}

// CreateDuration is how long making an image of sizeGiB from an instance
// takes at this server's TimeScale: 30 s + 5 s per GiB.
func (s *Server) CreateDuration(sizeGiB int) time.Duration {
	return s.scaled(30*time.Second + time.Duration(sizeGiB)*5*time.Second)
}

// guestOSProblems are the items instance r fails now.
func (c *call) guestOSProblems(r *instanceRecord) []string {
	repaired := c.st.Build.Repairs[repairKey(r.InstanceId, r.ImageId)]
	var out []string
	for _, item := range c.st.Build.GuestOSProblems[imageKey(r.RegionId, r.ImageId)] {
		if !slices.Contains(repaired, item) {
			out = append(out, item)
		}
	}
	return out
}

func (s *Server) createImage(c *call, req *cloud.CreateImageRequest) (*cloud.CreateImageResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	if err := checkImageAttributes("", req.ImageName, req.Description, req.Tags); err != nil {
		return nil, err
	}
	r, err := c.settledInstance(req.RegionId, req.InstanceId, "an image can be made only from")
	if err != nil {
		return nil, err
	}
	if err := c.checkImageQuota(req.RegionId); err != nil {
		return nil, err
	}
	if f, hit := c.instanceFault(r.RegionId, r.InstanceId); hit {
		return nil, instanceFaultError(f, c.action, r.InstanceId)
	}
	src := c.st.Images[imageKey(r.RegionId, r.ImageId)]
	dur := s.CreateDuration(r.SystemDisk.Size)
	img := c.addCustomImage(dur, cloud.Image{
		ImageName:   req.ImageName,
		Description: req.Description,
		RegionId:    req.RegionId,
		Size:        r.SystemDisk.Size,
		OSType:      r.OSType,
		OSName:      r.OSName,
		ImageFamily: req.ImageFamily,
		Tags:        maps.Clone(req.Tags),
	})
	id := img.ImageId
	img.ImageName = cmp.Or(img.ImageName, id)
	if src != nil {
		img.Platform, img.Architecture, img.SourceImageId = src.Platform, src.Architecture, src.ImageId
	}
	if left := c.guestOSProblems(r); len(left) > 0 {
		c.st.Build.GuestOSProblems[imageKey(req.RegionId, id)] = left
		c.touch(c.st.Build.GuestOSProblems, imageKey(req.RegionId, id))
	}
	c.record(req.RegionId, "Image", id, fmt.Sprintf("created from instance %s, %d GiB, ready in %s", r.InstanceId, img.Size, dur.Round(time.Millisecond)))
	return &cloud.CreateImageResponse{ImageId: id}, nil
}

// runningInstance is an instance of the caller's that is Running.
func (c *call) runningInstance(region, id string) (*instanceRecord, error) {
	if err := checkRegion("RegionId", region); err != nil {
		return nil, err
	}
	r, err := c.ownInstance(region, id)
	if err != nil {
		return nil, err
	}
	if st := r.status(c.now); st != cloud.InstanceRunning {
		return nil, incorrectInstanceStatus("instance %s is %s: the guest OS can be checked and repaired only on a Running instance", id, st)
	}
	return r, nil
}

func (s *Server) checkGuestOS(c *call, req *cloud.CheckGuestOSRequest) (*cloud.CheckGuestOSResponse, error) {
	r, err := c.runningInstance(req.RegionId, req.InstanceId)
	if err != nil {
		return nil, err
	}
	if f, hit := c.instanceFault(r.RegionId, r.InstanceId); hit {
		return nil, instanceFaultError(f, c.action, r.InstanceId)
	}
	osType := cmp.Or(r.OSType, cloud.OSLinux)
	problems := c.guestOSProblems(r)
	resp := &cloud.CheckGuestOSResponse{OSType: osType}
	for _, item := range cloud.GuestOSItems[osType] {
		res := cloud.GuestOSCheckItem{Item: item, Result: cloud.CheckNormal}
		if slices.Contains(problems, item) {
			res.Result, res.Detail = cloud.CheckAbnormal, guestOSDetail(item)
		}
		resp.Items = append(resp.Items, res)
	}
	return resp, nil
}

func guestOSDetail(item string) string {
	switch item {
	case cloud.GuestOSCloudInit:
		return "cloud-init is not installed or not enabled"
	case cloud.GuestOSDhcp:
		return "the primary network interface is not configured by DHCP"
	case cloud.GuestOSVirtio:
		return "the virtio drivers are missing from the initramfs"
	case cloud.GuestOSOnlineResizeFS:
		return "growpart / online file-system resizing is not available"
	case cloud.GuestOSGrub:
		return "the GRUB configuration does not boot the installed kernel"
	case cloud.GuestOSFstab:
		return "/etc/fstab names a device by a path that changes between boots"
	case cloud.GuestOSUpdate:
		return "Windows Update service is disabled"
	case cloud.GuestOSHotfix:
		return "a required hotfix is missing"
	case cloud.GuestOSServer:
		return "a required Windows service is not running"
	}
	return "abnormal"
}

func (s *Server) repairGuestOS(c *call, req *cloud.RepairGuestOSRequest) (*cloud.RepairGuestOSResponse, error) {
	r, err := c.runningInstance(req.RegionId, req.InstanceId)
	if err != nil {
		return nil, err
	}
	osType := cmp.Or(r.OSType, cloud.OSLinux)
	if len(req.Items) == 0 {
		return nil, invalidParam("Items names no check item")
	}
	for _, item := range req.Items {
		if !slices.Contains(cloud.GuestOSItems[osType], item) {
			return nil, invalidParam("%q is not a check item of %s (%s)", item, osType, strings.Join(cloud.GuestOSItems[osType], ", "))
		}
	}
	if f, hit := c.instanceFault(r.RegionId, r.InstanceId); hit {
		return nil, instanceFaultError(f, c.action, r.InstanceId)
	}
	problems := c.guestOSProblems(r)
	resp := &cloud.RepairGuestOSResponse{Repaired: []string{}}
	key := repairKey(r.InstanceId, r.ImageId)
	for _, item := range req.Items {
		if slices.Contains(problems, item) {
			c.st.Build.Repairs[key] = append(c.st.Build.Repairs[key], item)
			c.touch(c.st.Build.Repairs, key)
			resp.Repaired = append(resp.Repaired, item)
		}
	}
	if len(resp.Repaired) > 0 {
		c.record(r.RegionId, "Instance", r.InstanceId, "guest OS repaired: "+strings.Join(resp.Repaired, ", "))
	}
	return resp, nil
}

func (s *Server) describeImageComponents(c *call, req *cloud.DescribeImageComponentsRequest) (*cloud.DescribeImageComponentsResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	resp := &cloud.DescribeImageComponentsResponse{ImageComponents: []cloud.ImageComponent{}}
	for _, comp := range systemComponents {
		if len(req.ComponentNames) == 0 || slices.Contains(req.ComponentNames, comp.ComponentName) {
			resp.ImageComponents = append(resp.ImageComponents, comp)
		}
	}
	return resp, nil
}

// baseImage resolves a template's source: an image (public, custom or
// shared) or the newest image of a family. Marketplace and community images
// are refused.
func (c *call) baseImage(region, typ, base string) (*imageRecord, error) {
	var img *imageRecord
	var err error
	switch typ {
	case cloud.BaseImageImage:
		img, err = c.usableImage(region, base)
	case cloud.BaseImageFamily:
		if base == "" {
			return nil, invalidParam("BaseImage (the image family) is required")
		}
		img, err = c.latestOfFamily(region, base)
	default:
		return nil, invalidParam("BaseImageType %q must be %s or %s", typ, cloud.BaseImageImage, cloud.BaseImageFamily)
	}
	if err != nil {
		return nil, err
	}
	switch alias, _ := img.alias(c.account); alias {
	case cloud.OwnerMarketplace, cloud.OwnerCommunity:
		return nil, newError(http.StatusBadRequest, cloud.CodeBaseImageUnsupported,
			"image %s is a %s image: a template's source must be a public (system), custom or shared image, or an image family", img.ImageId, alias)
	}
	return img, nil
}

func checkComponents(field string, comps []cloud.Component, wantType string) error {
	if len(comps) > cloud.MaxPipelineComponent {
		return invalidParam("%s has %d components, at most %d", field, len(comps), cloud.MaxPipelineComponent)
	}
	for i, comp := range comps {
		switch {
		case comp.ComponentName != "":
			sys, ok := findSystemComponent(comp.ComponentName)
			if !ok {
				return newError(http.StatusBadRequest, cloud.CodeComponentNotFound, "%s[%d]: no system component %q", field, i, comp.ComponentName)
			}
			if sys.ComponentType != wantType {
				return invalidParam("%s[%d]: %s is a %s component, not a %s component", field, i, comp.ComponentName, sys.ComponentType, wantType)
			}
			if comp.Content != "" {
				return invalidParam("%s[%d]: a system component takes no Content", field, i)
			}
		case strings.TrimSpace(comp.Content) == "":
			return invalidParam("%s[%d]: a component needs ComponentName or Content", field, i)
		case len(comp.Content) > maxCommandContent:
			return invalidParam("%s[%d]: Content is longer than %d KiB", field, i, maxCommandContent/1024)
		case comp.Type != "" && !slices.Contains(commandTypes, comp.Type):
			return invalidParam("%s[%d]: Type %q must be one of %s", field, i, comp.Type, strings.Join(commandTypes, ", "))
		}
	}
	return nil
}

func (s *Server) createImagePipeline(c *call, req *cloud.CreateImagePipelineRequest) (*cloud.CreateImagePipelineResponse, error) {
	if err := checkRegion("RegionId", req.RegionId); err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(req.Name); n < 2 || n > 128 {
		return nil, invalidParam("Name must be 2–128 characters, got %d", n)
	}
	if n := utf8.RuneCountInString(req.Description); n > maxDescriptionLen {
		return nil, invalidParam("Description must be at most %d characters, got %d", maxDescriptionLen, n)
	}
	if len(req.Tags) > maxImageTags {
		return nil, invalidParam("at most %d tags, got %d", maxImageTags, len(req.Tags))
	}
	for _, p := range c.st.Build.Pipelines {
		if p.OwnerId == c.account && p.RegionId == req.RegionId && p.Name == req.Name {
			return nil, newError(http.StatusBadRequest, cloud.CodePipelineNameExists, "an image template named %q exists in %s: %s", req.Name, req.RegionId, p.ImagePipelineId)
		}
	}
	base, err := c.baseImage(req.RegionId, req.BaseImageType, req.BaseImage)
	if err != nil {
		return nil, err
	}
	if err := checkComponents("BuildContent", req.BuildContent, cloud.ComponentBuild); err != nil {
		return nil, err
	}
	if err := checkComponents("TestContent", req.TestContent, cloud.ComponentTest); err != nil {
		return nil, err
	}
	if req.VSwitchId != "" {
		if _, err := c.ownVSwitch(req.RegionId, req.VSwitchId); err != nil {
			return nil, err
		}
	}
	if req.InstanceType != "" && !slices.ContainsFunc(instanceTypes, func(t cloud.InstanceType) bool { return t.InstanceTypeId == req.InstanceType }) {
		return nil, newError(http.StatusBadRequest, cloud.CodeInstanceType, "InstanceType %q is not offered", req.InstanceType)
	}
	disk := cmp.Or(req.SystemDiskSize, cloud.DefaultPipelineDisk)
	if disk < cloud.MinPipelineDiskGiB || disk > cloud.MaxPipelineDiskGiB {
		return nil, invalidParam("SystemDiskSize must be %d–%d GiB, got %d", cloud.MinPipelineDiskGiB, cloud.MaxPipelineDiskGiB, disk)
	}
	if req.InternetMaxBandwidthOut < 0 || req.InternetMaxBandwidthOut > 100 {
		return nil, invalidParam("InternetMaxBandwidthOut must be 0–100 Mbit/s, got %d", req.InternetMaxBandwidthOut)
	}
	if n := utf8.RuneCountInString(req.ImageName); req.ImageName != "" && (n < 2 || n > 64) {
		return nil, invalidParam("ImageName (the name prefix) must be 2–64 characters, got %d", n)
	}
	if len(req.ToRegionIds) > cloud.MaxPipelineRegions {
		return nil, invalidParam("ToRegionIds names %d regions, at most %d", len(req.ToRegionIds), cloud.MaxPipelineRegions)
	}
	for _, r := range req.ToRegionIds {
		if err := checkRegion("ToRegionIds", r); err != nil {
			return nil, err
		}
	}
	if len(req.AddAccounts) > cloud.MaxPipelineAccounts {
		return nil, invalidParam("AddAccounts names %d accounts, at most %d", len(req.AddAccounts), cloud.MaxPipelineAccounts)
	}
	for _, a := range req.AddAccounts {
		if !s.accounts[a] {
			return nil, invalidParam("account %q does not exist", a)
		}
		if a == c.account {
			return nil, invalidParam("account %s owns the template: it cannot share the image with itself", a)
		}
	}
	id := newID(c.st.Build.Pipelines, "ip-", 20, lowerAlnum)
	p := cloud.ImagePipeline{
		ImagePipelineId: id, Name: req.Name, Description: req.Description, Tags: maps.Clone(req.Tags),
		RegionId: req.RegionId, BaseImageType: req.BaseImageType, BaseImage: req.BaseImage,
		BuildContent: req.BuildContent, RepairMode: req.RepairMode == nil || *req.RepairMode,
		TestMode: req.TestMode == nil || *req.TestMode, TestContent: req.TestContent,
		VSwitchId: req.VSwitchId, InstanceType: req.InstanceType, SystemDiskSize: disk,
		InternetMaxBandwidthOut: req.InternetMaxBandwidthOut,
		DeleteInstanceOnFailure: req.DeleteInstanceOnFailure == nil || *req.DeleteInstanceOnFailure,
		ImageName:               req.ImageName, ToRegionIds: slices.Clone(req.ToRegionIds), AddAccounts: slices.Clone(req.AddAccounts),
		CreationTime: c.now,
	}
	if p.TestMode && len(p.TestContent) == 0 {
		p.TestContent = []cloud.Component{{ComponentName: DefaultTestComponentFor(base.OSType)}}
	}
	if len(p.ToRegionIds) == 0 {
		p.ToRegionIds = []string{req.RegionId}
	}
	c.st.Build.Pipelines[id] = &pipelineRecord{ImagePipeline: p, OwnerId: c.account}
	c.touch(c.st.Build.Pipelines, id)
	c.record(req.RegionId, "ImagePipeline", id, "created "+req.Name)
	return &cloud.CreateImagePipelineResponse{ImagePipelineId: id}, nil
}

func (c *call) ownPipeline(region, id string) (*pipelineRecord, error) {
	return findOwned(c, c.st.Build.Pipelines, pipelines, region, "", id)
}

func (s *Server) describeImagePipelines(c *call, req *cloud.DescribeImagePipelinesRequest) (*cloud.DescribeImagePipelinesResponse, error) {
	found, err := listOwned(c, c.st.Build.Pipelines, req.RegionId,
		func(p *pipelineRecord) bool {
			return (len(req.ImagePipelineIds) == 0 || slices.Contains(req.ImagePipelineIds, p.ImagePipelineId)) && (req.Name == "" || req.Name == p.Name)
		},
		func(p *pipelineRecord) cloud.ImagePipeline { return p.ImagePipeline },
		func(a, b cloud.ImagePipeline) int { // newest first
			return cmp.Or(b.CreationTime.Compare(a.CreationTime), cmp.Compare(a.ImagePipelineId, b.ImagePipelineId))
		})
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeImagePipelinesResponse{ImagePipelines: found}, nil
}

// runningExecution is the template's unfinished build, or nil.
func (c *call) runningExecution(pipelineID string) *pipelineExecutionRecord {
	for _, e := range c.st.Build.Executions {
		if e.ImagePipelineId == pipelineID && !cloud.PipelineExecutionFinished(e.Status) {
			return e
		}
	}
	return nil
}

func (s *Server) deleteImagePipeline(c *call, req *cloud.DeleteImagePipelineRequest) (*cloud.DeleteImagePipelineResponse, error) {
	p, err := c.ownPipeline(req.RegionId, req.ImagePipelineId)
	if err != nil {
		return nil, err
	}
	if e := c.runningExecution(p.ImagePipelineId); e != nil {
		return nil, newError(http.StatusBadRequest, cloud.CodeOperationConflict, "image template %s has build %s running (%s): cancel it first", p.ImagePipelineId, e.ExecutionId, e.Status)
	}
	delete(c.st.Build.Pipelines, p.ImagePipelineId)
	c.touch(c.st.Build.Pipelines, p.ImagePipelineId)
	c.record(p.RegionId, "ImagePipeline", p.ImagePipelineId, "deleted")
	return &cloud.DeleteImagePipelineResponse{}, nil
}

func (s *Server) startImagePipelineExecution(c *call, req *cloud.StartImagePipelineExecutionRequest) (*cloud.StartImagePipelineExecutionResponse, error) {
	p, err := c.ownPipeline(req.RegionId, req.ImagePipelineId)
	if err != nil {
		return nil, err
	}
	if e := c.runningExecution(p.ImagePipelineId); e != nil {
		return nil, newError(http.StatusBadRequest, cloud.CodeOperationConflict, "image template %s already has build %s running (%s): only one build per template runs at a time", p.ImagePipelineId, e.ExecutionId, e.Status)
	}
	id := newID(c.st.Build.Executions, "exec-", 20, lowerAlnum)
	c.st.Build.Executions[id] = &pipelineExecutionRecord{OwnerId: c.account, ImagePipelineExecution: cloud.ImagePipelineExecution{
		ExecutionId: id, ImagePipelineId: p.ImagePipelineId, RegionId: p.RegionId,
		Status: cloud.PipelineExecutionPreparing, CreationTime: c.now, ModifiedTime: c.now,
	}}
	c.touch(c.st.Build.Executions, id)
	c.record(p.RegionId, "ImagePipelineExecution", id, "started for "+p.ImagePipelineId)
	return &cloud.StartImagePipelineExecutionResponse{ExecutionId: id}, nil
}

func (c *call) ownExecution(region, id string) (*pipelineExecutionRecord, error) {
	return findOwned(c, c.st.Build.Executions, executions, region, "", id)
}

func (s *Server) describeImagePipelineExecutions(c *call, req *cloud.DescribeImagePipelineExecutionsRequest) (*cloud.DescribeImagePipelineExecutionsResponse, error) {
	found, err := listOwned(c, c.st.Build.Executions, req.RegionId,
		func(e *pipelineExecutionRecord) bool {
			return (req.ImagePipelineId == "" || req.ImagePipelineId == e.ImagePipelineId) &&
				(req.ExecutionId == "" || req.ExecutionId == e.ExecutionId) && (req.Status == "" || req.Status == e.Status)
		},
		func(e *pipelineExecutionRecord) cloud.ImagePipelineExecution { return e.ImagePipelineExecution },
		func(a, b cloud.ImagePipelineExecution) int { // newest first
			return cmp.Or(b.CreationTime.Compare(a.CreationTime), cmp.Compare(a.ExecutionId, b.ExecutionId))
		})
	if err != nil {
		return nil, err
	}
	return &cloud.DescribeImagePipelineExecutionsResponse{ImagePipelineExecutions: found}, nil
}

func (s *Server) cancelImagePipelineExecution(c *call, req *cloud.CancelImagePipelineExecutionRequest) (*cloud.CancelImagePipelineExecutionResponse, error) {
	e, err := c.ownExecution(req.RegionId, req.ExecutionId)
	if err != nil {
		return nil, err
	}
	switch {
	case cloud.PipelineExecutionFinished(e.Status):
		return nil, newError(http.StatusBadRequest, cloud.CodePipelineExecutionFinished, "image build %s has ended (%s): there is nothing to cancel", e.ExecutionId, e.Status)
	case e.Status == cloud.PipelineExecutionCancelling:
		return &cloud.CancelImagePipelineExecutionResponse{}, nil // cancelling already: no side effect
	}
	e.Status, e.ModifiedTime = cloud.PipelineExecutionCancelling, c.now
	c.touch(c.st.Build.Executions, e.ExecutionId)
	c.record(e.RegionId, "ImagePipelineExecution", e.ExecutionId, "cancelling")
	return &cloud.CancelImagePipelineExecutionResponse{}, nil
}

func (s *Server) updateImagePipelineExecution(c *call, req *cloud.UpdateImagePipelineExecutionRequest) (*cloud.UpdateImagePipelineExecutionResponse, error) {
	e, err := c.ownExecution(req.RegionId, req.ExecutionId)
	if err != nil {
		return nil, err
	}
	if req.Status != "" && !slices.Contains(pipelineStatuses, req.Status) {
		return nil, invalidParam("Status %q must be one of %s", req.Status, strings.Join(pipelineStatuses, ", "))
	}
	if cloud.PipelineExecutionFinished(e.Status) {
		if req.Status == e.Status || req.Status == "" {
			return &cloud.UpdateImagePipelineExecutionResponse{}, nil
		}
		return nil, newError(http.StatusBadRequest, cloud.CodePipelineExecutionFinished, "image build %s has ended (%s)", e.ExecutionId, e.Status)
	}
	// A build being cancelled stays CANCELLING until it ends.
	if e.Status == cloud.PipelineExecutionCancelling && req.Status != "" && !cloud.PipelineExecutionFinished(req.Status) {
		req.Status = ""
	}
	before := e.ImagePipelineExecution
	e.Status = cmp.Or(req.Status, e.Status)
	e.Step = cmp.Or(req.Step, e.Step)
	e.Message = cmp.Or(req.Message, e.Message)
	e.ImageId = cmp.Or(req.ImageId, e.ImageId)
	if e.ImagePipelineExecution == before {
		return &cloud.UpdateImagePipelineExecutionResponse{}, nil
	}
	e.ModifiedTime = c.now
	c.touch(c.st.Build.Executions, e.ExecutionId)
	c.record(e.RegionId, "ImagePipelineExecution", e.ExecutionId, fmt.Sprintf("%s %s %s", e.Status, e.Step, e.Message))
	return &cloud.UpdateImagePipelineExecutionResponse{}, nil
}

// SetStock marks an instance type sold out (or in stock) in a region.
func (s *Server) SetStock(r cloud.StockRule) error {
	if err := checkRegion("RegionId", r.RegionId); err != nil {
		return err
	}
	if !slices.ContainsFunc(instanceTypes, func(t cloud.InstanceType) bool { return t.InstanceTypeId == r.InstanceType }) {
		return invalidParam("InstanceType %q is not offered", r.InstanceType)
	}
	return s.adminChange(func(st *state) {
		if r.SoldOut {
			st.Build.SoldOut[stockKey(r.RegionId, r.InstanceType)] = true
		} else {
			delete(st.Build.SoldOut, stockKey(r.RegionId, r.InstanceType))
		}
	})
}

// SetGuestOSProblems sets the guest-OS check items an image fails.
func (s *Server) SetGuestOSProblems(p cloud.GuestOSProblems) error {
	if err := checkRegion("RegionId", p.RegionId); err != nil {
		return err
	}
	all := slices.Concat(cloud.GuestOSItems[cloud.OSLinux], cloud.GuestOSItems[cloud.OSWindows])
	for _, item := range p.Items {
		if !slices.Contains(all, item) {
			return invalidParam("%q is not a guest-OS check item", item)
		}
	}
	return s.adminChange(func(st *state) {
		key := imageKey(p.RegionId, p.ImageId)
		if len(p.Items) == 0 {
			delete(st.Build.GuestOSProblems, key)
		} else {
			st.Build.GuestOSProblems[key] = slices.Clone(p.Items)
		}
	})
}

// adminChange applies an admin change to the state and saves it.
func (s *Server) adminChange(f func(*state)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return unavailable("the simulator is shut down")
	}
	f(s.st)
	if err := s.save(); err != nil {
		s.rollback()
		return internalError("saving state: %v", err)
	}
	return nil
}

func (s *Server) adminSetStock(r *http.Request) (any, error) {
	var rule cloud.StockRule
	body, err := readAdminBody(r)
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(body, &rule); err != nil {
		return nil, invalidParam("malformed stock rule: %v", err)
	}
	return rule, s.SetStock(rule)
}

func (s *Server) adminSetGuestOSProblems(r *http.Request) (any, error) {
	var p cloud.GuestOSProblems
	body, err := readAdminBody(r)
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(body, &p); err != nil {
		return nil, invalidParam("malformed guest-OS problems: %v", err)
	}
	return p, s.SetGuestOSProblems(p)
}
