package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/imagefleet/imagefleet/activities/internal/poll"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

// ScalingCloud is every cloud service a rolling update calls.
type ScalingCloud interface {
	cloud.ECS
	cloud.ECSInstances
	cloud.AutoScaling
	cloud.LaunchTemplates
	cloud.CloudAssistant
	cloud.OOS
	cloud.Events
}

// Rollouts are the activities of rolling updates of scaling groups.
type Rollouts struct {
	Cloud ScalingCloud
	// PollInterval is how often ApplyChange asks whether an instance's
	// change has finished.
	PollInterval time.Duration
}

// ErrTypeRolloutRefused marks a rolling update that cannot start: unknown
// group, a scaling activity in progress, too many batches, an image of
// another region, a script type the instances cannot run...
const ErrTypeRolloutRefused = "RolloutRefused"

// RolloutPlan is what a task starts from (cloudops.CheckRollout's answer).
type RolloutPlan = cloudops.RolloutPlan

// ScalingProcesses are the scaling processes a rolling update suspends for
// its run: every process the provider has, in its order. The workflow reads
// them here so that it needs no cloud type.
var ScalingProcesses = slices.Clone(cloud.ScalingProcesses)

// RefusedError says why a rolling update cannot start.
type RefusedError = cloudops.RefusedError

// CheckRollout is cloudops.CheckRollout as an activity: the workflow checks
// the spec again, since any client may start it.
func (a *Rollouts) CheckRollout(ctx context.Context, spec model.RolloutSpec) (*RolloutPlan, error) {
	plan, err := cloudops.CheckRollout(ctx, a.Cloud, spec)
	var refused *RefusedError
	if errors.As(err, &refused) {
		return nil, permanent(ErrTypeRolloutRefused, err)
	}
	return plan, fromCloud(err)
}

// ProcessesInput suspends or resumes scaling processes of a group.
type ProcessesInput struct {
	Region      string
	Group       string
	Processes   []string
	ClientToken string
}

// SuspendProcesses suspends processes (already suspended ones stay so).
func (a *Rollouts) SuspendProcesses(ctx context.Context, in ProcessesInput) error {
	if len(in.Processes) == 0 {
		return nil
	}
	_, err := a.Cloud.SuspendProcesses(ctx, &cloud.SuspendProcessesRequest{RegionId: in.Region, ScalingGroupId: in.Group, Processes: in.Processes, ClientToken: in.ClientToken})
	return fromCloud(err)
}

// ResumeProcesses resumes processes (running ones stay so).
func (a *Rollouts) ResumeProcesses(ctx context.Context, in ProcessesInput) error {
	if len(in.Processes) == 0 {
		return nil
	}
	_, err := a.Cloud.ResumeProcesses(ctx, &cloud.ResumeProcessesRequest{RegionId: in.Region, ScalingGroupId: in.Group, Processes: in.Processes, ClientToken: in.ClientToken})
	return fromCloud(err)
}

// StandbyInput moves instances of a group into or out of Standby.
type StandbyInput struct {
	Region    string
	Group     string
	Instances []string
}

// EnterStandby takes instances out of service (their load-balancer weight
// goes to 0), cloud.MaxStandbyInstances per call, a few calls at a time.
// Instances already in Standby stay there, so a retried attempt is harmless.
func (a *Rollouts) EnterStandby(ctx context.Context, in StandbyInput) error {
	return standbyCalls(ctx, in.Instances, func(ctx context.Context, ids []string) error {
		_, err := a.Cloud.EnterStandby(ctx, &cloud.EnterStandbyRequest{RegionId: in.Region, ScalingGroupId: in.Group, InstanceIds: ids})
		return err
	})
}

// ExitStandby returns instances to service with their weights; instances
// already InService stay so.
func (a *Rollouts) ExitStandby(ctx context.Context, in StandbyInput) error {
	return standbyCalls(ctx, in.Instances, func(ctx context.Context, ids []string) error {
		_, err := a.Cloud.ExitStandby(ctx, &cloud.ExitStandbyRequest{RegionId: in.Region, ScalingGroupId: in.Group, InstanceIds: ids})
		return err
	})
}

// standbyConcurrency bounds the standby calls of a batch in flight.
const standbyConcurrency = 4

// standbyCalls moves ids in calls of cloud.MaxStandbyInstances, at most
// standbyConcurrency at a time, waiting out throttling; it heartbeats after
// each call.
func standbyCalls(ctx context.Context, ids []string, call func(ctx context.Context, ids []string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, standbyConcurrency)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for chunk := range slices.Chunk(ids, cloud.MaxStandbyInstances) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			beat := func(ctx context.Context, _ *cloud.APIError) { activity.RecordHeartbeat(ctx, chunk[0]) }
			if err := poll.Retry(ctx, poll.KeepPlace(0, beat), func(ctx context.Context) error { return call(ctx, chunk) }); err != nil {
				select {
				case errs <- err:
				default:
				}
				cancel()
				return
			}
			activity.RecordHeartbeat(ctx, chunk[len(chunk)-1])
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return fromCloud(err)
	default:
		return ctx.Err()
	}
}

// ChangeInput applies a task's change to one instance.
type ChangeInput struct {
	Region     string
	InstanceID string
	TaskType   string
	Image      *model.ImageChange      `json:",omitempty"`
	Script     *model.ScriptChange     `json:",omitempty"`
	Package    *model.OOSPackageChange `json:",omitempty"`
	// ClientToken identifies this attempt on this instance: a retried
	// activity repeats no side effect, an operator's retry uses a new one.
	ClientToken string
}

// ChangeResult is how the change ended on the instance (the contract is in
// model, since RollingUpdateBatch returns it too).
type ChangeResult = model.ChangeResult

// ApplyChange starts the change on the instance (system-disk replacement,
// Cloud Assistant command or OOS package execution) and waits for it to end,
// heartbeating. The start is idempotent through the client token, so an
// attempt that resumes after a worker crash watches the same operation.
func (a *Rollouts) ApplyChange(ctx context.Context, in ChangeInput) (*ChangeResult, error) {
	var (
		check func(ctx context.Context) (*ChangeResult, error)
		err   error
	)
	switch in.TaskType {
	case model.TaskImage:
		check, err = a.replaceDisk(ctx, in)
	case model.TaskScript:
		check, err = a.runCommand(ctx, in)
	case model.TaskOOSPackage:
		check, err = a.configurePackage(ctx, in)
	default:
		return nil, permanent(ErrTypeRolloutRefused, fmt.Errorf("unknown task type %q", in.TaskType))
	}
	if err != nil {
		if apiErr, ok := cloud.AsAPIError(err); ok && !apiErr.Retryable() {
			return &ChangeResult{Error: apiErr.Message + " (" + apiErr.Code + ")"}, nil
		}
		return nil, fromCloud(err)
	}
	var res *ChangeResult
	err = poll.Until(ctx, poll.Rules{Interval: a.PollInterval}, func(ctx context.Context) (done bool, err error) {
		if res, err = check(ctx); err != nil || res != nil {
			return res != nil, err
		}
		activity.RecordHeartbeat(ctx, "running")
		return false, nil
	})
	if err != nil {
		return nil, fromCloud(err)
	}
	res.Output = tail(res.Output, model.MaxKeptOutput)
	return res, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func (a *Rollouts) replaceDisk(ctx context.Context, in ChangeInput) (func(context.Context) (*ChangeResult, error), error) {
	if in.Image == nil {
		return nil, permanent(ErrTypeRolloutRefused, errors.New("an image update needs an image"))
	}
	_, err := a.Cloud.ReplaceSystemDisk(ctx, &cloud.ReplaceSystemDiskRequest{RegionId: in.Region, InstanceId: in.InstanceID, ImageId: in.Image.ImageID, ClientToken: in.ClientToken})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (*ChangeResult, error) {
		resp, err := a.Cloud.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: in.Region, InstanceIds: []string{in.InstanceID}})
		switch {
		case err != nil:
			return nil, err
		case len(resp.Instances) == 0:
			return &ChangeResult{Error: "the instance has disappeared"}, nil
		}
		inst := resp.Instances[0]
		switch {
		case inst.Status != cloud.InstanceRunning:
			return nil, nil
		case inst.ImageId != in.Image.ImageID:
			return &ChangeResult{Error: fmt.Sprintf("the instance runs %s, not %s", inst.ImageId, in.Image.ImageID)}, nil
		}
		return &ChangeResult{Succeeded: true, Output: fmt.Sprintf("system disk %s from %s", inst.SystemDisk.DiskId, inst.ImageId)}, nil
	}, nil
}

func (a *Rollouts) runCommand(ctx context.Context, in ChangeInput) (func(context.Context) (*ChangeResult, error), error) {
	if in.Script == nil {
		return nil, permanent(ErrTypeRolloutRefused, errors.New("a script execution needs a script"))
	}
	resp, err := a.Cloud.RunCommand(ctx, &cloud.RunCommandRequest{
		RegionId: in.Region, Type: in.Script.Type, CommandContent: in.Script.Script, InstanceIds: []string{in.InstanceID},
		Name: "imagefleet-rollout", ClientToken: in.ClientToken,
	})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (*ChangeResult, error) {
		res, err := a.Cloud.DescribeInvocationResults(ctx, &cloud.DescribeInvocationResultsRequest{RegionId: in.Region, InvokeId: resp.InvokeId, InstanceId: in.InstanceID})
		if err != nil {
			return nil, err
		}
		if len(res.Invocation.InvocationResults) == 0 {
			return &ChangeResult{Error: "invocation " + resp.InvokeId + " has no result for the instance"}, nil
		}
		r := res.Invocation.InvocationResults[0]
		switch r.InvocationStatus {
		case cloud.InvocationSuccess:
			return &ChangeResult{Succeeded: true, Output: r.Output}, nil
		case cloud.InvocationFailed:
			msg := fmt.Sprintf("the script exited with %d", r.ExitCode)
			if r.ErrorInfo != "" {
				msg += ": " + r.ErrorInfo
			}
			return &ChangeResult{ExitCode: r.ExitCode, Output: r.Output, Error: msg}, nil
		}
		return nil, nil
	}, nil
}

func (a *Rollouts) configurePackage(ctx context.Context, in ChangeInput) (func(context.Context) (*ChangeResult, error), error) {
	if in.Package == nil {
		return nil, permanent(ErrTypeRolloutRefused, errors.New("a package install needs a package"))
	}
	resp, err := a.Cloud.StartExecution(ctx, &cloud.StartExecutionRequest{
		RegionId: in.Region, TemplateName: cloud.TemplateConfigureOOSPackage, ClientToken: in.ClientToken,
		Parameters: cloud.OOSPackageParameters{InstanceIds: []string{in.InstanceID}, PackageName: in.Package.Name, PackageVersion: in.Package.Version, Action: cloud.PackageInstall},
	})
	if err != nil {
		return nil, err
	}
	id := resp.Execution.ExecutionId
	return func(ctx context.Context) (*ChangeResult, error) {
		res, err := a.Cloud.ListExecutions(ctx, &cloud.ListExecutionsRequest{RegionId: in.Region, ExecutionId: id})
		if err != nil {
			return nil, err
		}
		if len(res.Executions) == 0 {
			return &ChangeResult{Error: "execution " + id + " has disappeared"}, nil
		}
		e := res.Executions[0]
		switch e.Status {
		case cloud.ExecutionSuccess:
			return &ChangeResult{Succeeded: true, Output: e.Outputs}, nil
		case cloud.ExecutionFailed:
			return &ChangeResult{ExitCode: 1, Output: e.Outputs, Error: "OOS execution " + id + " failed: " + e.StatusMessage}, nil
		}
		return nil, nil
	}, nil
}

// FailureEventInput reports a failed instance.
type FailureEventInput struct {
	Region      string
	Group       string
	TaskType    string
	InstanceID  string
	Content     string
	ClientToken string
}

// ReportFailure writes the task type's failure event (e.g.
// ACS-ESS-RollingUpdateByRunCommandInScalingGroup) with the group and the
// instance to the event log, where alert rules find it.
func (a *Rollouts) ReportFailure(ctx context.Context, in FailureEventInput) error {
	_, err := a.Cloud.PutCustomEvent(ctx, &cloud.PutCustomEventRequest{ClientToken: in.ClientToken, EventInfo: []cloud.Event{{
		EventName: model.FailureEvent(in.TaskType), Level: cloud.EventCritical, RegionId: in.Region,
		GroupId: in.Group, InstanceId: in.InstanceID, Content: tail(in.Content, 1024),
	}}})
	return fromCloud(err)
}
