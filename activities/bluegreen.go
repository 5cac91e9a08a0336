package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/imagefleet/imagefleet/activities/internal/poll"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

// Deployments are the activities of a blue/green deployment: task sets of a
// container service (EXTERNAL deployment controller) and the listener weights
// and target health of its load balancer.
type Deployments struct {
	ECS cloud.ContainerService
	ELB cloud.LoadBalancing
	// PollInterval is how often stability and target health are polled
	// (default 1s).
	PollInterval time.Duration
}

// Error types of the blue/green activities (the contract is model's).
const (
	// ErrTypeServiceNotReady: the service cannot take a blue/green deployment
	// (not EXTERNAL, an unknown task set besides the primary, a target group
	// or listener that does not fit).
	ErrTypeServiceNotReady = model.ErrTypeServiceNotReady
	// ErrTypeHealthCheckFailed: targets of the green task set are unhealthy.
	ErrTypeHealthCheckFailed = model.ErrTypeHealthCheckFailed
	// ErrTypeTaskSetGone: a task set the deployment manages disappeared.
	ErrTypeTaskSetGone = "TaskSetGone"
)

// rules are the poll rules of the deployment's waits: every PollInterval
// (1 s by default).
func (a *Deployments) rules() poll.Rules {
	interval := a.PollInterval
	if interval <= 0 {
		interval = time.Second
	}
	return poll.Rules{Interval: interval}
}

// InspectInput names the service and load balancer parts of a deployment.
type InspectInput = cloudops.InspectInput

// ServiceSnapshot is what a deployment needs to know before it starts and to
// roll back: the blue task set and the listeners as they were.
type ServiceSnapshot cloudops.ServiceSnapshot

// InspectService is cloudops.InspectService as an activity.
func (a *Deployments) InspectService(ctx context.Context, in InspectInput) (*ServiceSnapshot, error) {
	snap, err := cloudops.InspectService(ctx, a.ECS, a.ELB, in)
	var refused *cloudops.RefusedError
	if errors.As(err, &refused) {
		return nil, permanent(ErrTypeServiceNotReady, err)
	}
	if err != nil {
		return nil, fromCloud(err)
	}
	return (*ServiceSnapshot)(snap), nil
}

// CreateGreenInput creates the green task set.
type CreateGreenInput struct {
	Cluster         string
	Service         string
	TaskDefinition  string
	LaunchType      string
	PlatformVersion string
	Subnets         []string
	SecurityGroups  []string
	AssignPublicIP  bool
	ContainerName   string
	ContainerPort   int
	TargetGroup     string
	// Scale is the percentage of the service's desired count (0–100).
	Scale      float64
	ExternalID string
	// ClientToken makes the call idempotent: a retry answers the same task set.
	ClientToken string
}

// CreateGreenTaskSet creates the green task set, without traffic.
func (a *Deployments) CreateGreenTaskSet(ctx context.Context, in CreateGreenInput) (*cloud.TaskSet, error) {
	assign := "DISABLED"
	if in.AssignPublicIP {
		assign = "ENABLED"
	}
	resp, err := a.ECS.CreateTaskSet(ctx, &cloud.CreateTaskSetRequest{
		Cluster: in.Cluster, Service: in.Service, ExternalId: in.ExternalID, TaskDefinition: in.TaskDefinition,
		LaunchType: in.LaunchType, PlatformVersion: in.PlatformVersion,
		NetworkConfiguration: &cloud.NetworkConfiguration{AwsvpcConfiguration: &cloud.AwsVpcConfiguration{
			Subnets: in.Subnets, SecurityGroups: in.SecurityGroups, AssignPublicIp: assign,
		}},
		LoadBalancers: []cloud.TaskSetLoadBalancer{{TargetGroupArn: in.TargetGroup, ContainerName: in.ContainerName, ContainerPort: in.ContainerPort}},
		Scale:         &cloud.TaskSetScale{Value: in.Scale, Unit: cloud.ScaleUnitPercent},
		ClientToken:   in.ClientToken,
	})
	if err != nil {
		return nil, fromCloud(err)
	}
	activity.GetLogger(ctx).Info("Created task set", "taskSet", resp.TaskSet.Id, "taskDefinition", in.TaskDefinition)
	return &resp.TaskSet, nil
}

// TaskSetRef names a task set by ID or ARN.
type TaskSetRef struct {
	Cluster string
	Service string
	TaskSet string
}

// describeTaskSet answers a task set, or a permanent TaskSetGone error.
func (a *Deployments) describeTaskSet(ctx context.Context, in TaskSetRef) (*cloud.TaskSet, error) {
	resp, err := a.ECS.DescribeTaskSets(ctx, &cloud.DescribeTaskSetsRequest{Cluster: in.Cluster, Service: in.Service, TaskSets: []string{in.TaskSet}})
	if err != nil {
		return nil, err
	}
	if len(resp.TaskSets) == 0 || resp.TaskSets[0].Status == cloud.TaskSetDraining {
		return nil, permanent(ErrTypeTaskSetGone, fmt.Errorf("task set %s of service %s no longer exists", in.TaskSet, in.Service))
	}
	return &resp.TaskSets[0], nil
}

// AwaitTaskSetStable polls the task set until it reaches STEADY_STATE with
// all its tasks running, heartbeating its last state. The workflow bounds it
// with a schedule-to-close timeout (the stability timeout).
func (a *Deployments) AwaitTaskSetStable(ctx context.Context, in TaskSetRef) (*cloud.TaskSet, error) {
	var ts *cloud.TaskSet
	err := poll.Until(ctx, a.rules(), func(ctx context.Context) (done bool, err error) {
		if ts, err = a.describeTaskSet(ctx, in); err != nil {
			return false, err
		}
		if ts.StabilityStatus == cloud.StabilitySteady && ts.RunningCount == ts.ComputedDesiredCount {
			return true, nil
		}
		activity.RecordHeartbeat(ctx, fmt.Sprintf("%s: %s, %d/%d running", ts.Id, ts.StabilityStatus, ts.RunningCount, ts.ComputedDesiredCount))
		return false, nil
	})
	if err != nil {
		return nil, fromCloud(err)
	}
	return ts, nil
}

// ListenerInput sets a listener's default actions.
type ListenerInput struct {
	ListenerArn string
	Actions     []cloud.ELBAction
}

// SetListener replaces a listener's default actions (its weights). Setting
// the same actions again changes nothing, so a retry is harmless.
func (a *Deployments) SetListener(ctx context.Context, in ListenerInput) error {
	_, err := a.ELB.ModifyListener(ctx, &cloud.ModifyListenerRequest{ListenerArn: in.ListenerArn, DefaultActions: in.Actions})
	return fromCloud(err)
}

// HealthInput checks the targets of one task set in a target group.
type HealthInput struct {
	TargetGroupArn string
	TaskSetArn     string
	// Expected is how many healthy targets are needed (the task set's
	// computed desired count).
	Expected int
}

// HealthReport is the outcome of a passed health check.
type HealthReport struct {
	Healthy int
}

// CheckTargetHealth polls the task set's targets until Expected of them are
// healthy. Any unhealthy target fails it at once with a non-retryable
// HealthCheckFailed error.
func (a *Deployments) CheckTargetHealth(ctx context.Context, in HealthInput) (*HealthReport, error) {
	var report HealthReport
	err := poll.Until(ctx, a.rules(), func(ctx context.Context) (bool, error) {
		resp, err := a.ELB.DescribeTargetHealth(ctx, &cloud.DescribeTargetHealthRequest{TargetGroupArn: in.TargetGroupArn})
		if err != nil {
			return false, err
		}
		healthy, waiting := 0, 0
		var bad []string
		for _, t := range resp.TargetHealthDescriptions {
			if t.TaskSetArn != in.TaskSetArn {
				continue
			}
			switch t.State {
			case cloud.TargetHealthy:
				healthy++
			case cloud.TargetUnhealthy:
				bad = append(bad, fmt.Sprintf("%s (%s: %s)", t.TargetId, t.Reason, t.Description))
			default:
				waiting++
			}
		}
		if len(bad) > 0 {
			return false, permanent(ErrTypeHealthCheckFailed, fmt.Errorf("%d of %d targets of the new task set are unhealthy: %s", len(bad), healthy+waiting+len(bad), strings.Join(bad, ", ")))
		}
		if healthy >= in.Expected {
			report.Healthy = healthy
			return true, nil
		}
		activity.RecordHeartbeat(ctx, fmt.Sprintf("%d/%d healthy", healthy, in.Expected))
		return false, nil
	})
	if err != nil {
		return nil, fromCloud(err)
	}
	return &report, nil
}

// MonitorInput watches the targets of a task set during a pause.
type MonitorInput struct {
	HealthInput
	// Interval is the time between checks.
	Interval time.Duration
}

// MonitorTargetHealth checks the task set's targets every Interval until it
// is cancelled (the pause ended), and fails with a non-retryable
// HealthCheckFailed error as soon as one is unhealthy. One activity for a
// whole pause keeps the history small however long an operator takes; so
// transient errors never fail it: the next check tells.
func (a *Deployments) MonitorTargetHealth(ctx context.Context, in MonitorInput) error {
	rules := a.rules()
	if in.Interval > 0 {
		rules.Interval = in.Interval
	}
	checks := 0
	rules.MaxErrors = poll.NoErrorCap
	rules.Waiting = func(ctx context.Context, err *cloud.APIError) {
		activity.GetLogger(ctx).Warn("Health check failed to run", "error", err)
		activity.RecordHeartbeat(ctx, checks)
	}
	return fromCloud(poll.Until(ctx, rules, func(ctx context.Context) (bool, error) {
		resp, err := a.ELB.DescribeTargetHealth(ctx, &cloud.DescribeTargetHealthRequest{TargetGroupArn: in.TargetGroupArn})
		if err != nil {
			return false, err
		}
		var bad []string
		total := 0
		for _, t := range resp.TargetHealthDescriptions {
			if t.TaskSetArn != in.TaskSetArn {
				continue
			}
			total++
			if t.State == cloud.TargetUnhealthy {
				bad = append(bad, fmt.Sprintf("%s (%s: %s)", t.TargetId, t.Reason, t.Description))
			}
		}
		if len(bad) > 0 {
			return false, permanent(ErrTypeHealthCheckFailed, fmt.Errorf("%d of %d targets of the new task set became unhealthy: %s", len(bad), total, strings.Join(bad, ", ")))
		}
		checks++
		activity.RecordHeartbeat(ctx, checks)
		return false, nil
	}))
}

// TaskSetsCheck names the task sets a deployment knows on its service:
// green, and blue if there is one.
type TaskSetsCheck struct {
	Cluster string
	Service string
	Known   []string // task set IDs
}

// CheckTaskSets fails with a non-retryable ForeignTaskSet error when the
// service has a task set, not draining, that is not one of Known: another
// client created it during the deployment, perhaps under the deployment's
// own external ID (anyone can read it). The cloud's lock refuses such a
// task set; this check keeps the promise on a cloud without that lock.
func (a *Deployments) CheckTaskSets(ctx context.Context, in TaskSetsCheck) error {
	resp, err := a.ECS.DescribeTaskSets(ctx, &cloud.DescribeTaskSetsRequest{Cluster: in.Cluster, Service: in.Service})
	if err != nil {
		return fromCloud(err)
	}
	var foreign []string
	for _, ts := range resp.TaskSets {
		if ts.Status == cloud.TaskSetDraining || slices.Contains(in.Known, ts.Id) {
			continue
		}
		foreign = append(foreign, fmt.Sprintf("%s (external ID %q, %s, %s at %v%%)", ts.Id, ts.ExternalId, ts.TaskDefinition, ts.Status, ts.Scale.Value))
	}
	if len(foreign) > 0 {
		return permanent(model.ErrTypeForeignTaskSet, fmt.Errorf("service %s has task sets this deployment did not create: %s; another client created them while it ran",
			in.Service, strings.Join(foreign, ", ")))
	}
	return nil
}

// SetPrimaryTaskSet makes the task set the service's primary one.
func (a *Deployments) SetPrimaryTaskSet(ctx context.Context, in TaskSetRef) error {
	_, err := a.ECS.UpdateServicePrimaryTaskSet(ctx, &cloud.UpdateServicePrimaryTaskSetRequest{Cluster: in.Cluster, Service: in.Service, PrimaryTaskSet: in.TaskSet})
	return fromCloud(err)
}

// ScaleInput sets a task set's scale.
type ScaleInput struct {
	TaskSetRef
	Percent float64
}

// ScaleTaskSet sets the task set's scale (a percentage of the service's
// desired count).
func (a *Deployments) ScaleTaskSet(ctx context.Context, in ScaleInput) error {
	_, err := a.ECS.UpdateTaskSet(ctx, &cloud.UpdateTaskSetRequest{Cluster: in.Cluster, Service: in.Service, TaskSet: in.TaskSet,
		Scale: cloud.TaskSetScale{Value: in.Percent, Unit: cloud.ScaleUnitPercent}})
	return fromCloud(err)
}

// RemoveInput names the task sets to remove: TaskSet by ID or ARN, and every
// task set with ExternalID (so that one whose creation was answered but not
// recorded is found too).
type RemoveInput struct {
	Cluster    string
	Service    string
	TaskSet    string `json:",omitempty"`
	ExternalID string `json:",omitempty"`
}

// RemoveTaskSets scales the named task sets to 0 and deletes them. Task sets
// already gone are fine; a primary task set is never removed.
func (a *Deployments) RemoveTaskSets(ctx context.Context, in RemoveInput) ([]string, error) {
	resp, err := a.ECS.DescribeTaskSets(ctx, &cloud.DescribeTaskSetsRequest{Cluster: in.Cluster, Service: in.Service})
	if err != nil {
		return nil, fromCloud(err)
	}
	var removed []string
	for _, ts := range resp.TaskSets {
		match := (in.TaskSet != "" && (ts.Id == in.TaskSet || ts.TaskSetArn == in.TaskSet)) || (in.ExternalID != "" && ts.ExternalId == in.ExternalID)
		if !match || ts.Status == cloud.TaskSetDraining {
			continue
		}
		if ts.Status == cloud.TaskSetPrimary {
			return removed, permanent(ErrTypeServiceNotReady, fmt.Errorf("task set %s is the primary task set of service %s: it is not removed", ts.Id, in.Service))
		}
		if ts.Scale.Value > 0 {
			_, err := a.ECS.UpdateTaskSet(ctx, &cloud.UpdateTaskSetRequest{Cluster: in.Cluster, Service: in.Service, TaskSet: ts.Id,
				Scale: cloud.TaskSetScale{Value: 0, Unit: cloud.ScaleUnitPercent}})
			if cloud.IsCode(err, cloud.CodeTaskSetNotFound) {
				continue
			}
			if err != nil {
				return removed, fromCloud(err)
			}
		}
		_, err := a.ECS.DeleteTaskSet(ctx, &cloud.DeleteTaskSetRequest{Cluster: in.Cluster, Service: in.Service, TaskSet: ts.Id})
		if err != nil && !cloud.IsCode(err, cloud.CodeTaskSetNotFound) {
			return removed, fromCloud(err)
		}
		activity.GetLogger(ctx).Info("Removed task set", "taskSet", ts.Id, "externalId", ts.ExternalId)
		removed = append(removed, ts.Id)
	}
	return removed, nil
}
