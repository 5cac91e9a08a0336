package workflows

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
)

func (b *build) resolve(ctx workflow.Context) error {
	img, err := b.resolveSource(b.short(ctx, "resolve "+b.tpl.Source), activities.ResolveSourceInput{
		Region: b.tpl.Region, BaseType: b.tpl.SourceType, Base: b.tpl.Source,
	})
	if err != nil {
		return err
	}
	b.progress.SourceImage, b.progress.OSType = img.ID, img.OSType
	// The system disk holds the image: a larger source image than the
	// template's disk size gets a disk of its own size.
	b.diskSize = max(b.tpl.SystemDiskSize, img.SizeGiB)
	return nil
}

func (b *build) network(ctx workflow.Context) error {
	region := b.tpl.Region
	if b.tpl.VSwitchID != "" {
		b.vSwitchID = b.tpl.VSwitchID
		return workflow.ExecuteActivity(b.short(ctx, "check vSwitch "+b.tpl.VSwitchID), builds.CheckBuildVSwitch,
			activities.ResourceInput{Region: region, ID: b.tpl.VSwitchID}).Get(ctx, nil)
	}
	name := "imagebuilder-" + b.progress.ExecutionID
	if b.vpcID == "" {
		var id string
		if err := b.create(ctx, "create a temporary VPC", builds.CreateBuildVpc, activities.NetworkInput{
			Region: region, Name: name, ClientToken: b.token("vpc", b.attempt(model.StepNetwork)),
		}, &id); err != nil {
			return err
		}
		b.vpcID = id
		b.track(model.ResourceVpc, id, region, &b.intermediate)
		if err := ctx.Err(); err != nil {
			return err // cancelled meanwhile: create nothing more
		}
	}
	if b.vSwitchID == "" {
		var id string
		if err := b.create(ctx, "create a temporary vSwitch", builds.CreateBuildVSwitch, activities.NetworkInput{
			Region: region, Name: name, VpcID: b.vpcID, ClientToken: b.token("vswitch", b.attempt(model.StepNetwork)),
		}, &id); err != nil {
			return err
		}
		b.vSwitchID = id
		b.track(model.ResourceVSwitch, id, region, &b.intermediate)
	}
	return ctx.Err()
}

// launch starts the intermediate instance: the template's instance type, or
// the smallest type in stock, trying the next size when one is sold out.
func (b *build) launch(ctx workflow.Context) error {
	if b.instanceID == "" {
		candidates := []string{b.tpl.InstanceType}
		if b.tpl.InstanceType == "" {
			types, err := b.instanceTypes(b.short(ctx, "list instance types"), b.tpl.Region)
			if err != nil {
				return err
			}
			candidates = nil
			for _, t := range types {
				if t.SoldOut {
					b.progress.Attempts = append(b.progress.Attempts, model.InstanceTypeAttempt{InstanceType: t.ID, Result: "SoldOut", Error: "sold out (DescribeInstanceTypes)"})
					continue
				}
				candidates = append(candidates, t.ID)
			}
		}
		id, err := b.launchFirst(ctx, candidates, b.progress.SourceImage, "instance", model.ResourceInstance)
		if err != nil {
			return err
		}
		b.instanceID = id
	}
	return b.awaitRunning(ctx, b.instanceID)
}

// launchFirst launches an instance of the first type in stock.
func (b *build) launchFirst(ctx workflow.Context, types []string, image, purpose, kind string) (string, error) {
	for _, typ := range types {
		if err := ctx.Err(); err != nil {
			return "", err // cancelled while trying sizes
		}
		var id string
		err := b.create(ctx, "launch a "+typ+" "+purpose, builds.LaunchBuildInstance, activities.LaunchInput{
			Region: b.tpl.Region, ImageID: image, InstanceType: typ, VSwitchID: b.vSwitchID, DiskSize: b.diskSize,
			Name: "imagebuilder-" + purpose + "-" + b.progress.ExecutionID,
			Tags: map[string]string{"imagefleet:build": b.progress.ExecutionID},
			// The step's run number keeps a retried launch from answering
			// the instance a previous run made (and released).
			ClientToken: b.token(purpose, typ, b.attempt(b.progress.Step)),
		}, &id)
		if err == nil {
			if kind == model.ResourceInstance {
				b.progress.Attempts = append(b.progress.Attempts, model.InstanceTypeAttempt{InstanceType: typ, Result: "Launched"})
				b.instanceType = typ
			}
			b.track(kind, id, b.tpl.Region, &b.intermediate)
			return id, ctx.Err()
		}
		if !lifecycle.IsType(err, activities.ErrTypeNoStock) {
			if kind == model.ResourceInstance {
				b.progress.Attempts = append(b.progress.Attempts, model.InstanceTypeAttempt{InstanceType: typ, Result: "Failed", Error: lifecycle.RootMessage(err)})
			}
			return "", err
		}
		if kind == model.ResourceInstance {
			b.progress.Attempts = append(b.progress.Attempts, model.InstanceTypeAttempt{InstanceType: typ, Result: "SoldOut", Error: lifecycle.RootMessage(err)})
		}
		b.logger.Info("Instance type sold out, trying the next size", "instanceType", typ)
		b.updateDetails(ctx)
	}
	// The types tried: those launched here and those the listing showed sold
	// out (which were never launched).
	var tried []string
	if kind == model.ResourceInstance {
		for _, a := range b.progress.Attempts {
			tried = append(tried, a.InstanceType)
		}
	} else {
		tried = types
	}
	what := "none were offered"
	if len(tried) > 0 {
		what = "tried " + strings.Join(tried, ", ")
	}
	return "", temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("no instance type is in stock in %s (%s)", b.tpl.Region, what), ErrTypeNoInstanceType, nil)
}

func (b *build) awaitRunning(ctx workflow.Context, id string) error {
	return workflow.ExecuteActivity(b.long(ctx, "wait for "+id+" to run"), builds.AwaitBuildInstance,
		activities.ResourceInput{Region: b.tpl.Region, ID: id}).Get(ctx, nil)
}

func (b *build) checkGuestOS(ctx workflow.Context, instance string) ([]model.GuestOSCheck, error) {
	var checks []model.GuestOSCheck
	err := workflow.ExecuteActivity(b.short(ctx, "check the guest OS of "+instance), builds.CheckBuildGuestOS,
		activities.ResourceInput{Region: b.tpl.Region, ID: instance}).Get(ctx, &checks)
	return checks, err
}

// checkAndRepair checks the guest OS and, when repair is on, repairs what
// the check found. With repair off the problems are only reported (the test
// then fails on them).
func (b *build) checkAndRepair(ctx workflow.Context) error {
	checks, err := b.checkGuestOS(ctx, b.instanceID)
	if err != nil {
		return err
	}
	abnormal := activities.Abnormal(checks)
	if len(abnormal) > 0 && b.tpl.Repair {
		var repaired []string
		err := workflow.ExecuteActivity(b.short(ctx, "repair "+strings.Join(abnormal, ", ")), builds.RepairBuildGuestOS, activities.RepairInput{
			Region: b.tpl.Region, InstanceID: b.instanceID, Items: abnormal, ClientToken: b.token("repair", b.attempt(model.StepCheck)),
		}).Get(ctx, &repaired)
		if err != nil {
			return err
		}
		after, err := b.checkGuestOS(ctx, b.instanceID)
		if err != nil {
			return err
		}
		// Matched by item: the report after the repair need not list the
		// items in the same order, or the same items.
		before := map[string]string{} // item → detail; read by key only
		for _, c := range checks {
			before[c.Item] = c.Detail
		}
		for i := range after {
			if after[i].Result == model.CheckNormal && slices.Contains(repaired, after[i].Item) {
				after[i].Result = model.CheckRepaired
				after[i].Detail = before[after[i].Item]
			}
		}
		checks = after
	} else if len(abnormal) > 0 {
		b.logger.Warn("Guest-OS problems found; repair is off", "items", abnormal)
	}
	b.progress.Checks = checks
	return nil
}

// runComponent runs one component and records its output.
func (b *build) runComponent(ctx workflow.Context, phase, instance string, comp model.TemplateComponent, token string) error {
	out, err := b.runComponentActivity(b.long(ctx, phase+" component "+componentLabel(comp)), activities.ComponentInput{
		Region: b.tpl.Region, InstanceID: instance, OSType: b.progress.OSType, Phase: phase, Component: comp,
		PublicBandwidth: b.tpl.PublicBandwidth, ClientToken: token,
	})
	if err != nil {
		return err
	}
	b.progress.Components = append(b.progress.Components, out)
	b.updateDetails(ctx)
	if out.Status != model.ComponentSucceeded {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s component %s failed: %s", strings.ToLower(phase), out.Name, out.Error), ErrTypeComponentFailed, nil)
	}
	return nil
}

func componentLabel(c model.TemplateComponent) string {
	return cmpOr(c.Component, c.Name, "inline command")
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// components runs the build components in order; a retry goes on from the
// one that failed.
func (b *build) components(ctx workflow.Context) error {
	for i := b.componentsDone; i < len(b.tpl.Components); i++ {
		token := b.token("component", fmt.Sprint(i), b.attempt(model.StepComponents))
		if err := b.runComponent(ctx, model.ComponentPhaseBuild, b.instanceID, b.tpl.Components[i], token); err != nil {
			return err
		}
		b.componentsDone = i + 1
	}
	return nil
}

// imageName is <prefix>_<executionId>, or the execution ID.
func (b *build) imageName() string {
	if b.tpl.ImageNamePrefix == "" {
		return b.progress.ExecutionID
	}
	return b.tpl.ImageNamePrefix + "_" + b.progress.ExecutionID
}

func (b *build) createImage(ctx workflow.Context) error {
	region := b.tpl.Region
	if b.progress.ImageID == "" {
		var id string
		if err := b.create(ctx, "create image "+b.imageName(), builds.CreateBuildImage, activities.CreateImageInput{
			Region: region, InstanceID: b.instanceID, Name: b.imageName(),
			Description: fmt.Sprintf("built by image template %s (%s)", b.tpl.Name, b.tpl.ID),
			Tags:        map[string]string{"imagefleet:template": b.tpl.ID, "imagefleet:build": b.progress.ExecutionID},
			ClientToken: b.token("image", b.attempt(model.StepCreateImage)),
		}, &id); err != nil {
			return err
		}
		b.progress.ImageID = id
		b.track(model.ResourceImage, id, region, &b.outputs)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	err := workflow.ExecuteActivity(b.long(ctx, "wait for image "+b.progress.ImageID), images.AwaitImageAvailable,
		activities.AwaitImageInput{Region: region, ImageID: b.progress.ImageID}).Get(ctx, nil)
	if lifecycle.IsType(err, activities.ErrTypeCopyFailed) {
		// A failed image cannot become Available: a retry makes a new one.
		if rerr := b.release(ctx, b.progress.ImageID); rerr == nil {
			b.progress.ImageID = ""
		}
	}
	return err
}

// test launches an instance of the new image, checks its guest OS, runs the
// test components and releases the instance.
func (b *build) test(ctx workflow.Context) error {
	id, err := b.launchFirst(ctx, []string{b.instanceType}, b.progress.ImageID, "test", model.ResourceTestInstance)
	if id != "" {
		defer func() {
			dctx, cancel := workflow.NewDisconnectedContext(ctx)
			defer cancel()
			_ = b.release(dctx, id) // logged; the final release tries again
		}()
	}
	if err != nil {
		return err
	}
	if err := b.awaitRunning(ctx, id); err != nil {
		return err
	}
	checks, err := b.checkGuestOS(ctx, id)
	if err != nil {
		return err
	}
	if abnormal := activities.Abnormal(checks); len(abnormal) > 0 {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the new image fails the guest-OS check: %s (repair is %s)", strings.Join(abnormal, ", "), onOff(b.tpl.Repair)), ErrTypeGuestOSCheck, nil)
	}
	for i, comp := range b.tpl.Tests {
		if err := b.runComponent(ctx, model.ComponentPhaseTest, id, comp, b.token("test", fmt.Sprint(i), b.attempt(model.StepTest))); err != nil {
			return err
		}
	}
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
