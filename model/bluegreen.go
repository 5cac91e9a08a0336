package model

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Blue/green deployment of a container service through task sets (Amazon
// ECS's EXTERNAL deployment controller): a green task set with the new task
// definition is started next to the blue one, tested through a test listener,
// given production traffic step by step through listener weights, and made
// the primary task set; the blue one is then scaled to 0 and deleted. Failed
// health checks or an abort roll back at any point before that.

// BlueGreenWorkflowType is the workflow type of a blue/green deployment.
const BlueGreenWorkflowType = "BlueGreenDeployment"

// OperationBlueGreen is the value of SAOperation for a blue/green deployment.
const OperationBlueGreen = "bluegreen"

// Operator commands of a blue/green deployment: each is a signal and a
// validated update (see the distribution's commands). CommandCancel
// (payload CancelCommand, contract.go) rolls back; it applies until the blue
// task set is being removed. Its old name CommandAbort is still accepted
// (deprecated).
const (
	// CommandPromote ends the current pause, timed or waiting for an operator;
	// with {"full":true} it also skips every remaining step and shifts all
	// traffic at once. Payload PromoteCommand.
	CommandPromote = "promote"
	// CommandPromoteFull is promote with full set. Payload PromoteCommand
	// (may be empty).
	CommandPromoteFull = "promote-full"
)

// QueryProgress returns BlueGreenProgress.

// Error types a deployment ends with; each comes after a complete rollback
// (or, for InvalidSpec, WrongWorkflowID and ServiceNotReady, before anything
// changed). A cloud error with a code of its own (e.g. ClientException of a
// failed primary switch) ends it with that code as its type.
const (
	// ErrTypeServiceNotReady: the service cannot take a blue/green
	// deployment (not EXTERNAL, another deployment's task sets, a target
	// group or listener that does not fit); nothing was changed.
	ErrTypeServiceNotReady = "ServiceNotReady"
	// ErrTypeHealthCheckFailed: targets of the green task set were
	// unhealthy.
	ErrTypeHealthCheckFailed = "HealthCheckFailed"
	// ErrTypeRolledBack: rolled back for a reason without a type of its own
	// (e.g. the stability timeout).
	ErrTypeRolledBack = "RolledBack"
	// ErrTypeBlueGreenCancelled: the operator sent cancel (or its old name
	// abort); benign. The value keeps the old name: clients match on it.
	ErrTypeBlueGreenCancelled = "Aborted"
	// ErrTypeForeignTaskSet: a task set the deployment did not create
	// appeared on the service while it ran (another client's, perhaps under
	// the deployment's own external ID, which anyone can read); it would
	// take green's traffic or be left behind. The deployment rolls back,
	// removing with green any task set under its external ID; the error
	// names every such task set.
	ErrTypeForeignTaskSet = "ForeignTaskSet"
)

// PromoteCommand is the payload of promote and promote-full.
type PromoteCommand struct {
	Full bool `json:"full,omitempty"`
}

// Shift strategies.
const (
	// StrategyAllAtOnce shifts all traffic in one step.
	StrategyAllAtOnce = "all-at-once"
	// StrategyCanary shifts Percent, waits Interval, then shifts the rest.
	StrategyCanary = "canary"
	// StrategyLinear shifts Percent more every Interval until all traffic is
	// shifted.
	StrategyLinear = "linear"
	// StrategySteps runs the explicit Steps.
	StrategySteps = "steps"
)

// ShiftStrategy says how production traffic moves from blue to green.
type ShiftStrategy struct {
	Type string `json:"type"`
	// Percent is the share of traffic shifted by the canary or by each
	// linear step: 1–99.
	Percent int `json:"percent,omitempty"`
	// Interval is a Go duration ("10m"): the canary's bake time or the time
	// between linear steps.
	Interval string `json:"interval,omitempty"`
	// Steps are the explicit steps of StrategySteps.
	Steps []ShiftStep `json:"steps,omitempty"`
}

// ShiftStep is one explicit step: set a weight, or pause. Exactly one of the
// two is set.
type ShiftStep struct {
	// SetWeight is the percentage of production traffic green gets: 0–100.
	SetWeight *int `json:"setWeight,omitempty"`
	// Pause waits for its Duration; without one it waits until an operator
	// sends promote.
	Pause *PauseStep `json:"pause,omitempty"`
}

// PauseStep is a pause; an empty Duration waits for promote.
type PauseStep struct {
	Duration string `json:"duration,omitempty"`
}

// BlueGreenSpec is the input of a blue/green deployment.
type BlueGreenSpec struct {
	// Cluster and Service name the service (EXTERNAL deployment controller):
	// up to 255 letters, digits, hyphens and underscores each.
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	// TaskDefinition is the green task set's task definition
	// ("family:revision" or an ARN).
	TaskDefinition string `json:"taskDefinition"`
	// LaunchType is FARGATE (default), EC2 or EXTERNAL.
	LaunchType      string `json:"launchType,omitempty"`
	PlatformVersion string `json:"platformVersion,omitempty"` // FARGATE only
	// Subnets (1–16) and SecurityGroups (up to 5) of the tasks (awsvpc).
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	AssignPublicIP bool     `json:"assignPublicIp,omitempty"`
	// ContainerName and ContainerPort are what the load balancer sends
	// traffic to.
	ContainerName string `json:"containerName"`
	ContainerPort int    `json:"containerPort"`
	// TargetGroups are the two target groups blue and green alternate
	// between: green gets the one the current primary task set does not use.
	TargetGroups []string `json:"targetGroups"`
	// ProductionListener carries user traffic; TestListener lets green be
	// tested before it gets any.
	ProductionListener string        `json:"productionListener"`
	TestListener       string        `json:"testListener"`
	Strategy           ShiftStrategy `json:"strategy"`
	// TerminationWait is how long blue stays at full scale after green became
	// primary, ready for a fast abort (default 5m).
	TerminationWait string `json:"terminationWait,omitempty"`
	// StabilityTimeout bounds the wait for green to reach a steady state
	// (default 15m).
	StabilityTimeout string `json:"stabilityTimeout,omitempty"`
	// HealthCheckInterval is how often green's targets are checked while a
	// pause lasts (default 30s).
	HealthCheckInterval string `json:"healthCheckInterval,omitempty"`
}

// Defaults and limits of a blue/green deployment.
const (
	DefaultTerminationWait     = 5 * time.Minute
	DefaultStabilityTimeout    = 15 * time.Minute
	DefaultHealthCheckInterval = 30 * time.Second
	maxBlueGreenSubnets        = 16
	maxBlueGreenSecurityGroups = 5
	maxBlueGreenSteps          = 100
)

var containerResourceNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// Planned step kinds.
const (
	StepWeight = "weight" // set green's share of production traffic
	StepPause  = "pause"  // wait a period (promote ends it early)
	StepGate   = "gate"   // wait for promote
)

// PlannedStep is one step of the traffic shift as the workflow runs it.
type PlannedStep struct {
	Kind   string        `json:"kind"`
	Weight int           `json:"weight,omitempty"` // StepWeight
	Pause  time.Duration `json:"pause,omitempty"`  // StepPause
}

func (p PlannedStep) String() string {
	switch p.Kind {
	case StepWeight:
		return fmt.Sprintf("set weight %d%%", p.Weight)
	case StepPause:
		return "pause " + p.Pause.String()
	default:
		return "pause until promote"
	}
}

func parseDuration(field, s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s %s must be a Go duration such as 30s, 10m or 1h", field, Quote(s))
	}
	return d, nil
}

// Validate checks the spec without calling the cloud and reports every
// problem at once.
func (s BlueGreenSpec) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !containerResourceNameRE.MatchString(s.Cluster) {
		add("cluster %s must be 1–255 letters, digits, hyphens and underscores", Quote(s.Cluster))
	}
	if !containerResourceNameRE.MatchString(s.Service) {
		add("service %s must be 1–255 letters, digits, hyphens and underscores", Quote(s.Service))
	}
	if s.TaskDefinition == "" {
		add("taskDefinition is required")
	}
	errs = append(errs, checkNames("taskDefinition", s.TaskDefinition, "platformVersion", s.PlatformVersion, "containerName", s.ContainerName,
		"productionListener", s.ProductionListener, "testListener", s.TestListener)...)
	errs = append(errs, checkList("subnets", s.Subnets)...)
	errs = append(errs, checkList("securityGroups", s.SecurityGroups)...)
	errs = append(errs, checkList("targetGroups", s.TargetGroups)...)
	switch s.LaunchTypeOrDefault() {
	case "FARGATE":
	case "EC2", "EXTERNAL":
		if s.PlatformVersion != "" {
			add("platformVersion applies only to the FARGATE launch type")
		}
	default:
		add("launchType %s must be FARGATE, EC2 or EXTERNAL", Quote(s.LaunchType))
	}
	if len(s.Subnets) == 0 || len(s.Subnets) > maxBlueGreenSubnets {
		add("subnets: 1–%d subnets are required, got %d", maxBlueGreenSubnets, len(s.Subnets))
	}
	if len(s.SecurityGroups) > maxBlueGreenSecurityGroups {
		add("securityGroups: at most %d, got %d", maxBlueGreenSecurityGroups, len(s.SecurityGroups))
	}
	if s.ContainerName == "" || s.ContainerPort < 1 || s.ContainerPort > 65535 {
		add("containerName and containerPort (1–65535) are required")
	}
	if len(s.TargetGroups) != 2 || s.TargetGroups[0] == "" || s.TargetGroups[1] == "" || s.TargetGroups[0] == s.TargetGroups[1] {
		add("targetGroups must name two different target groups (blue and green alternate between them)")
	}
	if s.ProductionListener == "" || s.TestListener == "" || s.ProductionListener == s.TestListener {
		add("productionListener and testListener are required and must differ")
	}
	if _, err := parseDuration("terminationWait", s.TerminationWait, 0); err != nil {
		errs = append(errs, err)
	}
	if d, err := parseDuration("stabilityTimeout", s.StabilityTimeout, DefaultStabilityTimeout); err != nil {
		errs = append(errs, err)
	} else if d < time.Second {
		add("stabilityTimeout must be at least 1s")
	}
	if d, err := parseDuration("healthCheckInterval", s.HealthCheckInterval, DefaultHealthCheckInterval); err != nil {
		errs = append(errs, err)
	} else if d < time.Second {
		add("healthCheckInterval must be at least 1s")
	}
	if _, err := s.Strategy.Plan(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return &InvalidSpecError{Errs: errs}
	}
	return nil
}

// LaunchTypeOrDefault is LaunchType with its default.
func (s BlueGreenSpec) LaunchTypeOrDefault() string {
	if s.LaunchType == "" {
		return "FARGATE"
	}
	return s.LaunchType
}

// Durations returns the termination wait, stability timeout and health-check
// interval with their defaults (the spec must be valid).
func (s BlueGreenSpec) Durations() (terminationWait, stabilityTimeout, healthInterval time.Duration) {
	terminationWait, _ = parseDuration("", s.TerminationWait, DefaultTerminationWait)
	stabilityTimeout, _ = parseDuration("", s.StabilityTimeout, DefaultStabilityTimeout)
	healthInterval, _ = parseDuration("", s.HealthCheckInterval, DefaultHealthCheckInterval)
	return
}

// Plan expands the strategy into the steps the workflow runs. The plan always
// ends with all traffic on green: a final "set weight 100%" is added when the
// strategy's last weight is lower.
func (st ShiftStrategy) Plan() ([]PlannedStep, error) {
	var plan []PlannedStep
	interval := func() (time.Duration, error) {
		d, err := parseDuration("strategy.interval", st.Interval, 0)
		if err == nil && d <= 0 {
			err = fmt.Errorf("strategy %s needs an interval, e.g. \"5m\"", st.Type)
		}
		return d, err
	}
	percent := func() error {
		if st.Percent < 1 || st.Percent > 99 {
			return fmt.Errorf("strategy %s needs a percent from 1 to 99, got %d", st.Type, st.Percent)
		}
		return nil
	}
	extra := func(fields ...string) error {
		for _, f := range fields {
			switch {
			case f == "percent" && st.Percent != 0, f == "interval" && st.Interval != "", f == "steps" && len(st.Steps) > 0:
				return fmt.Errorf("strategy %s takes no %s", st.Type, f)
			}
		}
		return nil
	}
	switch st.Type {
	case StrategyAllAtOnce:
		if err := extra("percent", "interval", "steps"); err != nil {
			return nil, err
		}
	case StrategyCanary, StrategyLinear:
		d, err := interval()
		if err = errors.Join(err, percent(), extra("steps")); err != nil {
			return nil, err
		}
		if st.Type == StrategyCanary {
			plan = append(plan, PlannedStep{Kind: StepWeight, Weight: st.Percent}, PlannedStep{Kind: StepPause, Pause: d})
			break
		}
		for w := st.Percent; w < 100; w += st.Percent {
			plan = append(plan, PlannedStep{Kind: StepWeight, Weight: w}, PlannedStep{Kind: StepPause, Pause: d})
		}
	case StrategySteps:
		if err := extra("percent", "interval"); err != nil {
			return nil, err
		}
		if len(st.Steps) == 0 || len(st.Steps) > maxBlueGreenSteps {
			return nil, fmt.Errorf("strategy steps needs 1–%d steps, got %d", maxBlueGreenSteps, len(st.Steps))
		}
		for i, step := range st.Steps {
			switch {
			case (step.SetWeight == nil) == (step.Pause == nil):
				return nil, fmt.Errorf("step %d must have exactly one of setWeight and pause", i+1)
			case step.SetWeight != nil:
				if w := *step.SetWeight; w < 0 || w > 100 {
					return nil, fmt.Errorf("step %d: setWeight %d must be 0–100", i+1, w)
				}
				plan = append(plan, PlannedStep{Kind: StepWeight, Weight: *step.SetWeight})
			case step.Pause.Duration == "":
				plan = append(plan, PlannedStep{Kind: StepGate})
			default:
				d, err := parseDuration(fmt.Sprintf("step %d: pause.duration", i+1), step.Pause.Duration, 0)
				if err != nil {
					return nil, err
				}
				plan = append(plan, PlannedStep{Kind: StepPause, Pause: d})
			}
		}
	default:
		return nil, fmt.Errorf("strategy type %s must be %s, %s, %s or %s", Quote(st.Type), StrategyAllAtOnce, StrategyCanary, StrategyLinear, StrategySteps)
	}
	last := -1
	for _, p := range plan {
		if p.Kind == StepWeight {
			last = p.Weight
		}
	}
	if last != 100 {
		plan = append(plan, PlannedStep{Kind: StepWeight, Weight: 100})
	}
	return plan, nil
}

// BlueGreenWorkflowID is the workflow ID of a service's deployment: one per
// service, so a second deployment while one runs is refused by Temporal.
func BlueGreenWorkflowID(cluster, service string) string {
	return "bluegreen/" + cluster + "/" + service
}

// ServiceKey is the value of SAService.
func ServiceKey(cluster, service string) string { return cluster + "/" + service }

// Blue/green phases.
const (
	BGPhaseValidating      = "Validating"
	BGPhaseCreatingGreen   = "CreatingGreen"
	BGPhaseTesting         = "Testing"
	BGPhaseShifting        = "Shifting"
	BGPhaseSwitchPrimary   = "SwitchingPrimary"
	BGPhaseTerminationWait = "TerminationWait"
	BGPhaseRemovingBlue    = "RemovingBlue"
	BGPhaseSucceeded       = "Succeeded"
	BGPhaseRollingBack     = "RollingBack"
	BGPhaseRolledBack      = "RolledBack"
	// BGPhaseAborted: cancelled (the cancel command, or a Temporal
	// cancellation) and rolled back; the run's ImagefleetState is Aborted
	// too.
	BGPhaseAborted = "Aborted"
	// BGPhaseFailed: a rollback or blue's removal failed, or the deployment
	// was refused before it changed anything (ServiceNotReady).
	BGPhaseFailed = "Failed"
)

// TaskSetProgress is a task set as the deployment last saw it (also what
// the deployment's activities answer for a task set).
type TaskSetProgress struct {
	ID             string  `json:"id"`
	Arn            string  `json:"arn"`
	TaskDefinition string  `json:"taskDefinition"`
	Status         string  `json:"status"` // PRIMARY | ACTIVE | DRAINING | Deleted
	Scale          float64 `json:"scale"`
	Desired        int     `json:"desired"`
	Running        int     `json:"running"`
	Stability      string  `json:"stability,omitempty"`
	TargetGroup    string  `json:"targetGroup"`
}

// Statuses of a task set (TaskSetProgress.Status): the cloud's, and Deleted
// once the deployment removed it.
const (
	TaskSetPrimary = "PRIMARY"
	TaskSetActive  = "ACTIVE"
	TaskSetDeleted = "Deleted"
)

// TargetWeight is a target group's weight in a listener's forward action.
type TargetWeight struct {
	TargetGroup string `json:"targetGroup"`
	Weight      int    `json:"weight"`
}

// Weights are the production listener's shares of traffic in percent.
type Weights struct {
	Blue  int `json:"blue"`
	Green int `json:"green"`
}

// BlueGreenProgress is the answer to QueryProgress.
type BlueGreenProgress struct {
	Cluster string `json:"cluster"`
	Service string `json:"service"`
	Phase   string `json:"phase"`
	// Steps is the plan; Step the index of the step running (-1 before the
	// shift starts, len(Steps) after it).
	Steps      []PlannedStep    `json:"steps"`
	Step       int              `json:"step"`
	Weights    Weights          `json:"weights"`
	Blue       *TaskSetProgress `json:"blue,omitempty"`
	Green      *TaskSetProgress `json:"green,omitempty"`
	WaitingFor string           `json:"waitingFor,omitempty"`
	// PauseEnds is when the current timed pause ends.
	PauseEnds   time.Time `json:"pauseEnds,omitzero"`
	AbortReason string    `json:"abortReason,omitempty"`
	// Error is why the deployment rolled back or failed.
	Error       string `json:"error,omitempty"`
	LastRefusal string `json:"lastRefusal,omitempty"`
}

// CurrentStep describes the step running, for people.
func (p *BlueGreenProgress) CurrentStep() string {
	if p.Step >= 0 && p.Step < len(p.Steps) {
		return fmt.Sprintf("step %d/%d: %s", p.Step+1, len(p.Steps), p.Steps[p.Step])
	}
	return strings.ToLower(p.Phase)
}

// BlueGreenResult is the result of a successful deployment.
type BlueGreenResult struct {
	Cluster        string `json:"cluster"`
	Service        string `json:"service"`
	TaskSetID      string `json:"taskSetId"` // the new primary (green)
	TaskDefinition string `json:"taskDefinition"`
	// PreviousTaskSetID is the removed blue task set (empty on a first
	// deployment).
	PreviousTaskSetID string `json:"previousTaskSetId,omitempty"`
	TargetGroup       string `json:"targetGroup"`
	// Promoted tells whether an operator skipped steps with promote-full.
	Promoted bool `json:"promoted,omitempty"`
}
