package activities

import (
	"context"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// The blue/green activities as the workflow calls them: their inputs and
// results are model types, mapped here from and to the cloud's wire types.
// Runs recorded before the workflow's "bluegreen-model-types" change called
// InspectService, CreateGreenTaskSet, AwaitTaskSetStable and SetListener,
// whose results and inputs are the wire types; those stay registered so
// that such runs replay and finish.

// BlueGreenSnapshot is what a deployment needs to know before it starts and
// to roll back: the blue task set and the listeners as they were.
type BlueGreenSnapshot struct {
	// Blue is the primary task set; nil on a service's first deployment.
	Blue             *model.TaskSetProgress
	BlueTargetGroup  string
	GreenTargetGroup string
	// Production and Test are the listeners' forward target groups and
	// weights before the deployment.
	Production []model.TargetWeight
	Test       []model.TargetWeight
}

// InspectBlueGreen checks that the service can take a blue/green
// deployment and returns its snapshot (InspectService as the workflow sees
// it).
func (a *Deployments) InspectBlueGreen(ctx context.Context, in InspectInput) (*BlueGreenSnapshot, error) {
	snap, err := a.InspectService(ctx, in)
	if err != nil {
		return nil, err
	}
	s := snap.BlueGreen()
	return &s, nil
}

// BlueGreen maps InspectService's result.
func (s ServiceSnapshot) BlueGreen() BlueGreenSnapshot {
	return BlueGreenSnapshot{
		Blue: TaskSetOf(s.Blue), BlueTargetGroup: s.BlueTargetGroup, GreenTargetGroup: s.GreenTargetGroup,
		Production: targetWeights(s.ProductionActions), Test: targetWeights(s.TestActions),
	}
}

// LegacyTaskSet is the result of CreateGreenTaskSet and AwaitTaskSetStable:
// the cloud's task set.
type LegacyTaskSet = cloud.TaskSet

// TaskSetOf maps a task set the cloud answered; nil stays nil.
func TaskSetOf(ts *LegacyTaskSet) *model.TaskSetProgress {
	if ts == nil {
		return nil
	}
	p := &model.TaskSetProgress{
		ID: ts.Id, Arn: ts.TaskSetArn, TaskDefinition: ts.TaskDefinition, Status: ts.Status, Scale: ts.Scale.Value,
		Desired: ts.ComputedDesiredCount, Running: ts.RunningCount, Stability: ts.StabilityStatus,
	}
	if len(ts.LoadBalancers) > 0 {
		p.TargetGroup = ts.LoadBalancers[0].TargetGroupArn
	}
	return p
}

// CreateGreen creates the green task set, without traffic.
func (a *Deployments) CreateGreen(ctx context.Context, in CreateGreenInput) (*model.TaskSetProgress, error) {
	ts, err := a.CreateGreenTaskSet(ctx, in)
	return TaskSetOf(ts), err
}

// AwaitGreenStable polls the task set until it reaches STEADY_STATE with
// all its tasks running (AwaitTaskSetStable as the workflow sees it).
func (a *Deployments) AwaitGreenStable(ctx context.Context, in TaskSetRef) (*model.TaskSetProgress, error) {
	ts, err := a.AwaitTaskSetStable(ctx, in)
	return TaskSetOf(ts), err
}

// WeightsInput sets a listener's forward target groups and weights.
type WeightsInput struct {
	ListenerArn string
	// Targets are the target groups and their weights; none leaves the
	// listener without a default action.
	Targets []model.TargetWeight
}

// SetListenerWeights replaces a listener's default action by a forward to
// Targets. Setting the same weights again changes nothing, so a retry is
// harmless.
func (a *Deployments) SetListenerWeights(ctx context.Context, in WeightsInput) error {
	return a.SetListener(ctx, in.Legacy())
}

// Legacy is the input of SetListener, which runs recorded before the model
// types call.
func (in WeightsInput) Legacy() ListenerInput {
	out := ListenerInput{ListenerArn: in.ListenerArn}
	if len(in.Targets) == 0 {
		return out
	}
	groups := make([]cloud.TargetGroupTuple, len(in.Targets))
	for i, t := range in.Targets {
		groups[i] = cloud.TargetGroupTuple{TargetGroupArn: t.TargetGroup, Weight: t.Weight}
	}
	out.Actions = cloud.ForwardWeights(groups...)
	return out
}

// targetWeights flattens a listener's forward actions (the only actions a
// blue/green listener has) into target groups and weights, in order.
func targetWeights(actions []cloud.ELBAction) []model.TargetWeight {
	var out []model.TargetWeight
	for _, a := range actions {
		if a.ForwardConfig == nil {
			continue
		}
		for _, tg := range a.ForwardConfig.TargetGroups {
			out = append(out, model.TargetWeight{TargetGroup: tg.TargetGroupArn, Weight: tg.Weight})
		}
	}
	return out
}
