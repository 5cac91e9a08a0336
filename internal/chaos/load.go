package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// Roles of operations the harness steers.
const (
	roleNone     = ""
	roleAbort    = "abort"    // the harness aborts it while it waits or shifts
	rolePause    = "pause"    // it pauses after its first batch; the harness resumes it with the temporal CLI
	roleTolerate = "tolerate" // one instance fails for good; the error threshold tolerates it
)

// Regions of the load. doomedRegion refuses copies from the start until the
// operations that copy into it have been aborted; outageRegion is the
// outage the harness lifts after Config.Outage.
const (
	sourceRegion = cloudsim.SeedRegion // cn-hangzhou
	outageRegion = "eu-west-1"
	doomedRegion = "me-central-1"
)

var distributionRegions = []string{"cn-shanghai", outageRegion, "ap-southeast-1"}

// op is one operation of the load and, after the run, what became of it.
type op struct {
	Kind       string `json:"kind"`
	Label      string `json:"label"`
	WorkflowID string `json:"workflowId"`
	Role       string `json:"role,omitempty"`
	Expect     string `json:"expect"` // the ImagefleetState it must end in
	// ExpectStatus is the workflow status it must end in: an aborted run
	// fails (with state Aborted), as its error tells why.
	ExpectStatus string `json:"expectStatus"`

	workflowType string
	input        any

	// What the audit checks in the cloud.
	Package    string   `json:"package,omitempty"`
	Version    string   `json:"version,omitempty"`
	Regions    []string `json:"regions,omitempty"`
	Group      string   `json:"group,omitempty"`
	LB         string   `json:"loadBalancer,omitempty"`
	Instances  []string `json:"-"`
	Failing    string   `json:"failingInstance,omitempty"`
	Suspended  []string `json:"-"`
	Cluster    string   `json:"cluster,omitempty"`
	Service    string   `json:"service,omitempty"`
	TemplateID string   `json:"templateId,omitempty"`
	TaskType   string   `json:"-"`

	// What was there before the run, to compare with after it: a rollout's
	// load balancer weights (server → weight); a deployment's primary task
	// set and its listeners' weights (target group → weight, zero weights
	// left out).
	WeightsBefore map[string]int `json:"-"`
	PrimaryBefore string         `json:"-"`
	ProdListener  string         `json:"-"`
	TestListener  string         `json:"-"`
	ProdBefore    map[string]int `json:"-"`
	TestBefore    map[string]int `json:"-"`

	// The outcome.
	RunID    string        `json:"runId,omitempty"`
	Status   string        `json:"status"`
	State    string        `json:"state"`
	Duration time.Duration `json:"duration"`
	Baseline time.Duration `json:"baselineDuration,omitempty"` // the same operation without chaos
	Operator []string      `json:"operator,omitempty"`         // commands the harness sent

	mu      sync.Mutex
	started bool
}

func (o *op) setStarted(runID string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.RunID, o.started = runID, true
}

func (o *op) isStarted() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.started
}

// plan lists the load's operations; setup prepares what they need.
func plan(cfg Config) []*op {
	var ops []*op
	for i := range cfg.Distributions + 1 {
		o := &op{Kind: "distribute", Package: fmt.Sprintf("chaos_dist_%d", i), Version: "v1_0", Expect: model.StateSucceeded,
			workflowType: model.DistributeWorkflowType, Regions: distributionRegions}
		spec := model.DistributeSpec{Package: o.Package, Version: o.Version, Description: "chaos run distribution",
			SourceRegion: sourceRegion, SourceImage: cloudsim.ImageWebappV1, Regions: o.Regions}
		o.Label = "distribution to " + fmt.Sprint(len(o.Regions)) + " regions"
		if i == cfg.Distributions {
			o.Role, o.Expect, o.Label = roleAbort, model.StateAborted, "distribution aborted while it waits"
			o.Regions = []string{"cn-shanghai", doomedRegion}
			spec.Regions, spec.CopyAttempts = o.Regions, 1
		}
		o.WorkflowID, o.input = model.DistributeWorkflowID(o.Package, o.Version), spec
		ops = append(ops, o)
	}
	types := []string{model.PackageFile, model.PackageAcrImage, model.PackageHelmChart}
	for i := range cfg.Publications*len(types) + 1 {
		typ := types[i%len(types)]
		o := &op{Kind: "publish", Package: fmt.Sprintf("chaos_pub_%d", i), Version: "v1_0", Expect: model.StateSucceeded,
			workflowType: model.PublishWorkflowType, Regions: []string{sourceRegion, outageRegion}, Label: typ + " publication"}
		spec := model.PublishSpec{Package: o.Package, Version: o.Version}
		if i == cfg.Publications*len(types) {
			typ = model.PackageFile
			o.Role, o.Expect, o.Label = roleAbort, model.StateAborted, "file publication aborted while it waits"
			o.Regions = []string{sourceRegion, doomedRegion}
			spec.CopyAttempts = 1
		}
		o.TaskType = typ
		o.WorkflowID, o.input = model.PublishWorkflowID(o.Package, o.Version), spec
		ops = append(ops, o)
	}
	for i := range cfg.Builds {
		ops = append(ops, &op{Kind: "build", Label: "image build distributed to 2 regions", Expect: model.StateSucceeded,
			workflowType: model.BuildWorkflowType, Package: fmt.Sprintf("chaos-build-%d", i), Regions: []string{sourceRegion, "cn-shanghai"}})
	}
	for i := range cfg.Rollouts {
		o := &op{Kind: "rollout", Group: fmt.Sprintf("asg-chaos-%d", i), LB: fmt.Sprintf("lb-chaos-%d", i), Expect: model.StateSucceeded,
			workflowType: model.RolloutWorkflowType, TaskType: model.TaskImage}
		spec := model.RolloutSpec{ScalingGroupID: o.Group, RegionID: sourceRegion, Batches: 2, Description: "chaos run"}
		switch i {
		case 1:
			o.Role, o.Label = roleTolerate, "image update, one instance fails (threshold 1)"
			spec.ErrorThreshold = 1
		case 2:
			o.Role, o.Label, o.TaskType = rolePause, "script, paused after batch 1, resumed with the temporal CLI", model.TaskScript
			spec.PausePolicy = model.PauseFirstBatch
		default:
			o.Label = "image update"
			if i%2 == 1 {
				o.Label, o.TaskType = "script", model.TaskScript
			}
		}
		spec.TaskType = o.TaskType
		if o.TaskType == model.TaskImage {
			spec.Image = &model.ImageChange{ImageID: cloudsim.ImageWebappV2}
		} else {
			spec.Script = &model.ScriptChange{Type: model.ScriptShell, Script: "echo configuring\nsleep 1\necho done"}
		}
		o.WorkflowID, o.input = model.RolloutWorkflowID(o.Group), spec
		ops = append(ops, o)
	}
	for i := range cfg.BlueGreens + 1 {
		o := &op{Kind: "bluegreen", Cluster: fmt.Sprintf("chaos-%d", i), Service: fmt.Sprintf("web%d", i), Expect: model.StateSucceeded,
			workflowType: model.BlueGreenWorkflowType, Label: "blue/green, linear 50% every 2s"}
		if i == cfg.BlueGreens {
			o.Role, o.Expect, o.Label = roleAbort, model.StateAborted, "blue/green aborted mid-shift (30%, manual gate)"
		}
		o.WorkflowID = model.BlueGreenWorkflowID(o.Cluster, o.Service)
		ops = append(ops, o)
	}
	return ops
}

// setup creates in the cloud what the operations start from (before any
// fault or kill): scaling groups, blue/green services, build templates and
// package drafts.
func (r *run) setup(ctx context.Context) error {
	for _, o := range r.ops {
		var err error
		switch o.Kind {
		case "rollout":
			err = r.setupGroup(ctx, o)
		case "bluegreen":
			err = r.setupBlueGreen(ctx, o)
		case "build":
			err = r.setupTemplate(ctx, o)
		case "publish":
			err = r.setupPackage(ctx, o)
		}
		if err != nil {
			return fmt.Errorf("setup of %s: %w", o.Label, err)
		}
	}
	return nil
}

func (r *run) setupGroup(ctx context.Context, o *op) error {
	body, _ := json.Marshal(cloudsim.ScalingGroupSpec{ScalingGroupId: o.Group, RegionId: sourceRegion, ImageId: cloudsim.ImageWebappV1,
		Size: r.cfg.GroupSize, LoadBalancerId: o.LB})
	resp, err := http.Post(r.stack.CloudEndpoint()+"/admin/scaling-groups", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("add scaling group %s: %s", o.Group, resp.Status)
	}
	inst, err := r.cloud.DescribeScalingInstances(ctx, &cloud.DescribeScalingInstancesRequest{RegionId: sourceRegion, ScalingGroupId: o.Group, PageSize: 100})
	if err != nil {
		return err
	}
	for _, in := range inst.ScalingInstances {
		o.Instances = append(o.Instances, in.InstanceId)
	}
	slices.Sort(o.Instances)
	g, err := r.cloud.DescribeScalingGroups(ctx, &cloud.DescribeScalingGroupsRequest{RegionId: sourceRegion, ScalingGroupIds: []string{o.Group}})
	if err != nil {
		return err
	}
	o.Suspended = g.ScalingGroups[0].SuspendedProcesses
	if o.WeightsBefore, err = r.backendWeights(ctx, o.LB); err != nil {
		return err
	}
	if o.Role == roleTolerate {
		o.Failing = o.Instances[1]
	}
	return nil
}

func (r *run) setupBlueGreen(ctx context.Context, o *op) error {
	d, err := cloudsim.SetupBlueGreenDemo(ctx, r.cloud, o.Cluster, o.Service)
	if err != nil {
		return err
	}
	spec := model.BlueGreenSpec{Cluster: d.Cluster, Service: d.Service, TaskDefinition: d.Service + ":2",
		Subnets: d.Subnets, SecurityGroups: d.SecurityGroups, ContainerName: d.ContainerName, ContainerPort: d.ContainerPort,
		TargetGroups: d.TargetGroups[:], ProductionListener: d.ProductionListener, TestListener: d.TestListener,
		Strategy:        model.ShiftStrategy{Type: model.StrategyLinear, Percent: 50, Interval: "2s"},
		TerminationWait: "2s", HealthCheckInterval: "1s"}
	if o.Role == roleAbort {
		w := 30
		spec.Strategy = model.ShiftStrategy{Type: model.StrategySteps, Steps: []model.ShiftStep{{SetWeight: &w}, {Pause: &model.PauseStep{}}}}
	}
	o.input = spec
	o.PrimaryBefore, o.ProdListener, o.TestListener = d.BlueTaskSet, d.ProductionListener, d.TestListener
	l, err := r.listenerWeights(ctx, o.ProdListener, o.TestListener)
	if err != nil {
		return err
	}
	o.ProdBefore, o.TestBefore = l[o.ProdListener], l[o.TestListener]
	return nil
}

func (r *run) setupTemplate(ctx context.Context, o *op) error {
	resp, err := r.cloud.CreateImagePipeline(ctx, &cloud.CreateImagePipelineRequest{
		RegionId: sourceRegion, Name: o.Package, BaseImageType: cloud.BaseImageFamily, BaseImage: "webapp",
		BuildContent: []cloud.Component{{ComponentName: "acs:harden-ssh"}, {Name: "install app", Content: "echo installing webapp\necho done"}},
		ImageName:    "chaosimg", ToRegionIds: o.Regions, ClientToken: "chaos-template-" + o.Package,
	})
	if err != nil {
		return err
	}
	o.TemplateID = resp.ImagePipelineId
	o.WorkflowID = model.BuildWorkflowID(sourceRegion, o.TemplateID)
	o.input = model.BuildInput{Region: sourceRegion, TemplateID: o.TemplateID}
	return nil
}

// setupPackage creates the draft version with the starter, as a user would.
func (r *run) setupPackage(ctx context.Context, o *op) error {
	args := []string{"package", "create", "--type", o.TaskType, "--package", o.Package, "--version", o.Version,
		"--description", "chaos run package", "--source-region", sourceRegion, "--regions", joinComma(o.Regions)}
	n := o.Package
	switch o.TaskType {
	case model.PackageFile:
		f := filepath.Join(r.dir, n+".tar.gz")
		if err := os.WriteFile(f, []byte("content of "+n), 0o644); err != nil {
			return err
		}
		args = append(args, "--file", f)
	case model.PackageAcrImage:
		args = append(args, "--image-ref", "nginx:1.25", "--repo", "web-"+n, "--repo-tag", "1.25")
	case model.PackageHelmChart:
		f := filepath.Join(r.dir, n+"-0.1.0.tgz")
		// A packaged chart is gzip data (the starter and the cloud check it).
		if err := os.WriteFile(f, []byte("\x1f\x8bchart of "+n), 0o644); err != nil {
			return err
		}
		args = append(args, "--chart", f, "--repo", "chart-"+n, "--repo-tag", "0.1.0")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(r.bin, "starter"), args...)
	cmd.Env = append(os.Environ(), r.stack.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("starter %v: %w\n%s", args, err, out)
	}
	return nil
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

// expectations fills in the end status each operation must reach.
func expectations(ops []*op) {
	for _, o := range ops {
		o.ExpectStatus = "Completed"
		if o.Expect == model.StateAborted {
			o.ExpectStatus = "Failed"
		}
	}
}
