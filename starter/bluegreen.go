package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/specfile"
	"github.com/imagefleet/imagefleet/model"
)

func blueGreenCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bluegreen",
		Short: "Blue/green deployments of container services through task sets",
	}
	cmd.AddCommand(blueGreenStartCommand(a), blueGreenStatusCommand(a), blueGreenPromoteCommand(a), blueGreenAbortCommand(a), blueGreenDemoSetupCommand(a))
	return cmd
}

func blueGreenStartCommand(a *app) *cobra.Command {
	var (
		specFile          string
		spec              model.BlueGreenSpec
		steps             string
		wait, exitOnPause bool
	)
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Deploy a new task definition to a service, blue/green",
		Long: `Create a green task set with the new task definition next to the service's
primary (blue) one, test it through the test listener, shift production
traffic as the strategy says, make it primary and remove blue. Failed health
checks or an abort roll back.

Strategies: all-at-once; canary (--percent, then the rest after --interval);
linear (--percent more every --interval); steps (--steps "20,pause,50,pause:10m":
a number sets green's weight, "pause" waits for promote, "pause:10m" waits).
The spec comes from --spec (YAML or JSON, the fields of model.BlueGreenSpec)
and/or flags; flags override the file. The spec and the service are checked
before anything starts; one deployment per service runs at a time.`,
		Example: `  starter bluegreen start --cluster demo --service web --task-definition web:2 \
    --subnets subnet-0a1b2c3d --container-name web --container-port 8080 \
    --target-groups TG_A,TG_B --production-listener L80 --test-listener L8080 \
    --strategy canary --percent 10 --interval 5m
  starter bluegreen start --spec deploy.yaml --steps "20,pause,100"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			merged, err := loadBlueGreenSpec(specFile, spec, steps, cmd)
			if err != nil {
				return err
			}
			id, runID, err := a.startBlueGreen(cmd.Context(), merged)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			a.printStarted(out, model.BlueGreenWorkflowType, id, runID)
			if !wait {
				return nil
			}
			return a.watchBlueGreen(cmd.Context(), out, id, exitOnPause)
		},
	}
	f := cmd.Flags()
	f.StringVar(&specFile, "spec", "", "spec file (YAML or JSON)")
	f.StringVar(&spec.Cluster, "cluster", "", "cluster name")
	f.StringVar(&spec.Service, "service", "", "service name (EXTERNAL deployment controller)")
	f.StringVar(&spec.TaskDefinition, "task-definition", "", "the new task definition, family:revision or ARN")
	f.StringVar(&spec.LaunchType, "launch-type", "", "FARGATE (default), EC2 or EXTERNAL")
	f.StringVar(&spec.PlatformVersion, "platform-version", "", "Fargate platform version")
	f.StringSliceVar(&spec.Subnets, "subnets", nil, "subnets of the tasks, comma separated (1–16)")
	f.StringSliceVar(&spec.SecurityGroups, "security-groups", nil, "security groups of the tasks (up to 5)")
	f.BoolVar(&spec.AssignPublicIP, "assign-public-ip", false, "give the tasks public IP addresses")
	f.StringVar(&spec.ContainerName, "container-name", "", "container the load balancer sends traffic to")
	f.IntVar(&spec.ContainerPort, "container-port", 0, "its port")
	f.StringSliceVar(&spec.TargetGroups, "target-groups", nil, "the two target groups blue and green alternate between")
	f.StringVar(&spec.ProductionListener, "production-listener", "", "listener ARN of production traffic")
	f.StringVar(&spec.TestListener, "test-listener", "", "listener ARN of test traffic")
	f.StringVar(&spec.Strategy.Type, "strategy", "", "all-at-once, canary, linear or steps")
	f.IntVar(&spec.Strategy.Percent, "percent", 0, "canary / linear: percent of traffic per step (1–99)")
	f.StringVar(&spec.Strategy.Interval, "interval", "", "canary / linear: time between steps, e.g. 5m")
	f.StringVar(&steps, "steps", "", `explicit steps, e.g. "20,pause,50,pause:10m" (implies --strategy steps)`)
	f.StringVar(&spec.TerminationWait, "termination-wait", "", "how long blue stays at scale after the switch (default 5m)")
	f.StringVar(&spec.StabilityTimeout, "stability-timeout", "", "how long green may take to become stable (default 15m)")
	f.StringVar(&spec.HealthCheckInterval, "health-check-interval", "", "health checks during pauses (default 30s)")
	f.BoolVar(&wait, "wait", true, "watch progress until the run ends")
	f.BoolVar(&exitOnPause, "exit-on-pause", false, "with --wait, exit with code 4 when the run waits for promote")
	return cmd
}

// parseSteps reads "20,pause,50,pause:10m".
func parseSteps(s string) ([]model.ShiftStep, error) {
	var steps []model.ShiftStep
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "pause":
			steps = append(steps, model.ShiftStep{Pause: &model.PauseStep{}})
		case strings.HasPrefix(part, "pause:"):
			steps = append(steps, model.ShiftStep{Pause: &model.PauseStep{Duration: strings.TrimPrefix(part, "pause:")}})
		default:
			w, err := strconv.Atoi(strings.TrimSuffix(part, "%"))
			if err != nil {
				return nil, fmt.Errorf("step %q: want a weight (0–100), pause or pause:DURATION", part)
			}
			steps = append(steps, model.ShiftStep{SetWeight: &w})
		}
	}
	return steps, nil
}

func loadBlueGreenSpec(file string, flags model.BlueGreenSpec, steps string, cmd *cobra.Command) (model.BlueGreenSpec, error) {
	var spec model.BlueGreenSpec
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return spec, invalid("read spec: %w", err)
		}
		if err := specfile.Decode(file, data, &spec); err != nil {
			return spec, invalid("%w", err)
		}
	}
	set := cmd.Flags().Changed
	for name, apply := range map[string]func(){
		"cluster":               func() { spec.Cluster = flags.Cluster },
		"service":               func() { spec.Service = flags.Service },
		"task-definition":       func() { spec.TaskDefinition = flags.TaskDefinition },
		"launch-type":           func() { spec.LaunchType = flags.LaunchType },
		"platform-version":      func() { spec.PlatformVersion = flags.PlatformVersion },
		"subnets":               func() { spec.Subnets = flags.Subnets },
		"security-groups":       func() { spec.SecurityGroups = flags.SecurityGroups },
		"assign-public-ip":      func() { spec.AssignPublicIP = flags.AssignPublicIP },
		"container-name":        func() { spec.ContainerName = flags.ContainerName },
		"container-port":        func() { spec.ContainerPort = flags.ContainerPort },
		"target-groups":         func() { spec.TargetGroups = flags.TargetGroups },
		"production-listener":   func() { spec.ProductionListener = flags.ProductionListener },
		"test-listener":         func() { spec.TestListener = flags.TestListener },
		"strategy":              func() { spec.Strategy.Type = flags.Strategy.Type },
		"percent":               func() { spec.Strategy.Percent = flags.Strategy.Percent },
		"interval":              func() { spec.Strategy.Interval = flags.Strategy.Interval },
		"termination-wait":      func() { spec.TerminationWait = flags.TerminationWait },
		"stability-timeout":     func() { spec.StabilityTimeout = flags.StabilityTimeout },
		"health-check-interval": func() { spec.HealthCheckInterval = flags.HealthCheckInterval },
	} {
		if set(name) {
			apply()
		}
	}
	if steps != "" {
		parsed, err := parseSteps(steps)
		if err != nil {
			return spec, invalid("--steps: %w", err)
		}
		spec.Strategy.Steps = parsed
		if spec.Strategy.Type == "" {
			spec.Strategy.Type = model.StrategySteps
		}
	}
	return spec, nil
}

// startBlueGreen checks the spec and the service, then starts the workflow.
func (a *app) startBlueGreen(ctx context.Context, spec model.BlueGreenSpec) (id, runID string, err error) {
	if err := spec.Validate(); err != nil {
		return "", "", &exitError{code: exitInvalid, err: err}
	}
	cc := a.cloudClient()
	_, err = activities.InspectService(ctx, cc.Containers(), cc.ELB(), activities.InspectInput{
		Cluster: spec.Cluster, Service: spec.Service, TargetGroups: spec.TargetGroups,
		ProductionListener: spec.ProductionListener, TestListener: spec.TestListener,
	})
	if err != nil {
		if apiErr, ok := cloud.AsAPIError(err); ok && apiErr.Retryable() {
			return "", "", fmt.Errorf("check service %s/%s: %w", spec.Cluster, spec.Service, err)
		}
		return "", "", invalid("%w", err)
	}
	id = model.BlueGreenWorkflowID(spec.Cluster, spec.Service)
	plan, _ := spec.Strategy.Plan()
	runID, err = a.start(ctx, startRequest{
		ID: id, Type: model.BlueGreenWorkflowType, Input: spec,
		Attributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(model.OperationBlueGreen),
			model.SAService.ValueSet(model.ServiceKey(spec.Cluster, spec.Service)),
			model.SAState.ValueSet(model.StateRunning),
		},
		Summary: fmt.Sprintf("Blue/green deployment of %s to %s/%s (%s)", spec.TaskDefinition, spec.Cluster, spec.Service, spec.Strategy.Type),
		Details: "Steps: " + planText(plan),
		Conflict: func(context.Context) string {
			return fmt.Sprintf("a deployment of %s/%s is running (workflow %s): promote, abort or wait for it", spec.Cluster, spec.Service, id)
		},
	})
	return id, runID, err
}

func planText(plan []model.PlannedStep) string {
	parts := make([]string, len(plan))
	for i, p := range plan {
		parts[i] = p.String()
	}
	return strings.Join(parts, " → ")
}

func (a *app) blueGreenProgress(ctx context.Context, id string) (*model.BlueGreenProgress, error) {
	return query[model.BlueGreenProgress](ctx, a, id, "", model.QueryProgress)
}

func progressLine(p *model.BlueGreenProgress) string {
	line := fmt.Sprintf("%s, %s, traffic blue %d%% / green %d%%", p.Phase, p.CurrentStep(), p.Weights.Blue, p.Weights.Green)
	if p.WaitingFor != "" {
		line += ", waiting for " + p.WaitingFor
	}
	return line
}

// watchBlueGreen prints progress changes until the run ends.
func (a *app) watchBlueGreen(ctx context.Context, out io.Writer, id string, exitOnPause bool) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	run := c.GetWorkflow(ctx, id, "")
	done := make(chan error, 1)
	var result model.BlueGreenResult
	go func() { done <- run.Get(ctx, &result) }()
	last := ""
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if p, qerr := a.blueGreenProgress(ctx, id); qerr == nil && progressLine(p) != last {
				fmt.Fprintln(out, progressLine(p))
			}
			if err != nil {
				return fmt.Errorf("deployment %s did not complete: %w", id, err)
			}
			fmt.Fprintf(out, "\nDeployed %s: task set %s is primary", result.TaskDefinition, result.TaskSetID)
			if result.PreviousTaskSetID != "" {
				fmt.Fprintf(out, ", %s removed", result.PreviousTaskSetID)
			}
			fmt.Fprintln(out)
			return nil
		case <-tick.C:
			p, err := a.blueGreenProgress(ctx, id)
			if err != nil {
				continue // the worker may be busy or restarting
			}
			if line := progressLine(p); line != last {
				fmt.Fprintln(out, line)
				last = line
			}
			if exitOnPause && p.WaitingFor != "" {
				return &exitError{code: exitPaused, err: fmt.Errorf("%s waits for %s", id, p.WaitingFor)}
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func blueGreenStatusCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "status CLUSTER SERVICE",
		Short:   "Show a deployment's phase, step, traffic weights and task sets",
		Example: "  starter bluegreen status demo web",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := model.BlueGreenWorkflowID(args[0], args[1])
			info, err := a.describe(cmd.Context(), id)
			if err != nil {
				return err
			}
			p, err := a.blueGreenProgress(cmd.Context(), id)
			if err != nil {
				return fmt.Errorf("query %s: %w", id, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Workflow:  %s (%s)\nService:   %s/%s\nPhase:     %s, %s\nTraffic:   blue %d%% / green %d%%\n",
				id, info.GetStatus(), p.Cluster, p.Service, p.Phase, p.CurrentStep(), p.Weights.Blue, p.Weights.Green)
			for label, v := range map[string]string{"Waiting:   ": p.WaitingFor, "Error:     ": p.Error, "Aborted:   ": p.AbortReason, "Refused:   ": p.LastRefusal} {
				if v != "" {
					fmt.Fprintf(out, "%s%s\n", label, v)
				}
			}
			if !p.PauseEnds.IsZero() {
				fmt.Fprintf(out, "Paused to: %s\n", p.PauseEnds.Format(time.RFC3339))
			}
			fmt.Fprintf(out, "Steps:     %s\nWeb UI:    %s\n\n", planText(p.Steps), a.webURL(id, info.GetExecution().GetRunId()))
			tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "\tTASK SET\tTASK DEFINITION\tSTATUS\tSCALE\tRUNNING")
			for _, ts := range []struct {
				name string
				p    *model.TaskSetProgress
			}{{"blue", p.Blue}, {"green", p.Green}} {
				if ts.p != nil {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v%%\t%d/%d\n", ts.name, ts.p.ID, ts.p.TaskDefinition, ts.p.Status, ts.p.Scale, ts.p.Running, ts.p.Desired)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if s := info.GetStatus(); endedUnsuccessfully(s) {
				return &exitError{code: exitFailed, err: fmt.Errorf("%s ended %s", id, s)}
			}
			return nil
		},
	}
}

func blueGreenPromoteCommand(a *app) *cobra.Command {
	var full bool
	cmd := &cobra.Command{
		Use:   "promote CLUSTER SERVICE",
		Short: "End the current pause; with --full, shift all traffic now and skip the remaining steps",
		Example: `  starter bluegreen promote demo web
  starter bluegreen promote demo web --full`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := model.CommandPromote
			if full {
				name = model.CommandPromoteFull
			}
			if err := a.sendCommand(cmd.Context(), model.BlueGreenWorkflowID(args[0], args[1]), name, model.PromoteCommand{Full: full}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: accepted\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "skip every remaining step")
	return cmd
}

func blueGreenAbortCommand(a *app) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:     "abort CLUSTER SERVICE",
		Short:   "Roll a deployment back: traffic to blue, blue primary, green removed",
		Example: `  starter bluegreen abort demo web --reason "error rate up"`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.sendCommand(cmd.Context(), model.BlueGreenWorkflowID(args[0], args[1]), model.CommandAbort, model.AbortCommand{Reason: reason}); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "abort: accepted; rolling back")
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the deployment is aborted")
	return cmd
}
