package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/internal/cloudops"
	"github.com/imagefleet/imagefleet/model"
)

func blueGreenCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bluegreen",
		Short: "Blue/green deployments of container services through task sets",
	}
	cmd.AddCommand(blueGreenStartCommand(a), blueGreenStatusCommand(a), blueGreenPromoteCommand(a), blueGreenDemoSetupCommand(a))
	cmd.AddCommand(blueGreenCancelCommands(a)...)
	return cmd
}

func blueGreenStartCommand(a *app) *cobra.Command {
	var (
		spec              *specFlags[model.BlueGreenSpec]
		steps             string
		wait, exitOnPause bool
	)
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Deploy a new task definition to a service, blue/green",
		Long: `Create a green task set with the new task definition next to the service's
primary (blue) one, test it through the test listener, shift production
traffic as the strategy says, make it primary and remove blue. Failed health
checks or a cancel roll back.

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
			s, err := spec.load()
			if err != nil {
				return err
			}
			if steps != "" {
				if s.Strategy.Steps, err = parseSteps(steps); err != nil {
					return invalid("--steps: %w", err)
				}
				s.Strategy.Type = cmp.Or(s.Strategy.Type, model.StrategySteps)
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			return a.startAndWatch(ctx, out, a.blueGreenPlan(s), wait, func() error {
				return a.watchBlueGreen(ctx, out, s.Cluster, s.Service, exitOnPause)
			})
		},
	}
	spec = newSpecFlags[model.BlueGreenSpec](cmd, nil)
	type S = model.BlueGreenSpec
	spec.flag("cluster", "cluster name", func(s *S) any { return &s.Cluster })
	spec.flag("service", "service name (EXTERNAL deployment controller)", func(s *S) any { return &s.Service })
	spec.flag("task-definition", "the new task definition, family:revision or ARN", func(s *S) any { return &s.TaskDefinition })
	spec.flag("launch-type", "FARGATE (default), EC2 or EXTERNAL", func(s *S) any { return &s.LaunchType })
	spec.flag("platform-version", "Fargate platform version", func(s *S) any { return &s.PlatformVersion })
	spec.flag("subnets", "subnets of the tasks, comma separated (1–16)", func(s *S) any { return &s.Subnets })
	spec.flag("security-groups", "security groups of the tasks (up to 5)", func(s *S) any { return &s.SecurityGroups })
	spec.flag("assign-public-ip", "give the tasks public IP addresses", func(s *S) any { return &s.AssignPublicIP })
	spec.flag("container-name", "container the load balancer sends traffic to", func(s *S) any { return &s.ContainerName })
	spec.flag("container-port", "its port", func(s *S) any { return &s.ContainerPort })
	spec.flag("target-groups", "the two target groups blue and green alternate between", func(s *S) any { return &s.TargetGroups })
	spec.flag("production-listener", "listener ARN of production traffic", func(s *S) any { return &s.ProductionListener })
	spec.flag("test-listener", "listener ARN of test traffic", func(s *S) any { return &s.TestListener })
	spec.flag("strategy", "all-at-once, canary, linear or steps", func(s *S) any { return &s.Strategy.Type })
	spec.flag("percent", "canary / linear: percent of traffic per step (1–99)", func(s *S) any { return &s.Strategy.Percent })
	spec.flag("interval", "canary / linear: time between steps, e.g. 5m", func(s *S) any { return &s.Strategy.Interval })
	spec.flag("termination-wait", "how long blue stays at scale after the switch (default 5m)", func(s *S) any { return &s.TerminationWait })
	spec.flag("stability-timeout", "how long green may take to become stable (default 15m)", func(s *S) any { return &s.StabilityTimeout })
	spec.flag("health-check-interval", "health checks during pauses (default 30s)", func(s *S) any { return &s.HealthCheckInterval })
	cmd.Flags().StringVar(&steps, "steps", "", `explicit steps, e.g. "20,pause,50,pause:10m" (implies --strategy steps)`)
	waitFlags(cmd, &wait, &exitOnPause, true, false)
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

// blueGreenPlan checks the spec and the service, then starts the workflow.
func (a *app) blueGreenPlan(spec model.BlueGreenSpec) runPlan {
	id := model.BlueGreenWorkflowID(spec.Cluster, spec.Service)
	plan, _ := spec.Strategy.Plan()
	return runPlan{
		Validate: spec.Validate,
		Check: func(ctx context.Context) error {
			cc := a.cloudClient()
			_, err := cloudops.InspectService(ctx, cc.Containers(), cc.ELB(), cloudops.InspectInput{
				Cluster: spec.Cluster, Service: spec.Service, TargetGroups: spec.TargetGroups,
				ProductionListener: spec.ProductionListener, TestListener: spec.TestListener,
			})
			if err != nil {
				return checkFailed("check service "+spec.Cluster+"/"+spec.Service, err)
			}
			return nil
		},
		startRequest: startRequest{
			ID: id, Type: model.BlueGreenWorkflowType, Input: spec,
			Operation: model.OperationBlueGreen,
			Keys: []temporal.SearchAttributeUpdate{
				model.SAService.ValueSet(model.ServiceKey(spec.Cluster, spec.Service)),
			},
			Summary: fmt.Sprintf("Blue/green deployment of %s to %s/%s (%s)", spec.TaskDefinition, spec.Cluster, spec.Service, spec.Strategy.Type),
			Details: "Steps: " + planText(plan),
			Conflict: func(context.Context) string {
				return fmt.Sprintf("a deployment of %s/%s is running (workflow %s): promote, cancel or wait for it", spec.Cluster, spec.Service, id)
			},
		},
	}
}

func planText(plan []model.PlannedStep) string {
	parts := make([]string, len(plan))
	for i, p := range plan {
		parts[i] = p.String()
	}
	return strings.Join(parts, " → ")
}

// watchBlueGreen prints progress changes until the run ends.
func (a *app) watchBlueGreen(ctx context.Context, out io.Writer, cluster, service string, exitOnPause bool) error {
	_, err := watchRun(ctx, a, out, model.BlueGreenWorkflowID(cluster, service), "", watch[model.BlueGreenProgress, model.BlueGreenResult]{
		Query: model.QueryProgress,
		Show: changedLine(func(p *model.BlueGreenProgress) string {
			return fmt.Sprintf("%s, %s, traffic blue %d%% / green %d%%", p.Phase, p.CurrentStep(), p.Weights.Blue, p.Weights.Green)
		}),
		Waiting:     func(p *model.BlueGreenProgress) string { return p.WaitingFor },
		Hint:        fmt.Sprintf("starter bluegreen promote %[1]s %[2]s [--full] | starter bluegreen cancel %[1]s %[2]s", cluster, service),
		ExitOnPause: exitOnPause,
		Done: func(out io.Writer, r *model.BlueGreenResult) error {
			fmt.Fprintf(out, "\nDeployed %s: task set %s is primary", r.TaskDefinition, r.TaskSetID)
			if r.PreviousTaskSetID != "" {
				fmt.Fprintf(out, ", %s removed", r.PreviousTaskSetID)
			}
			fmt.Fprintln(out)
			return nil
		},
	})
	return err
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
			p, err := query[model.BlueGreenProgress](cmd.Context(), a, id, "", model.QueryProgress)
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
			tw := table(out, "\tTASK SET\tTASK DEFINITION\tSTATUS\tSCALE\tRUNNING")
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
			return endedStatus(id, info.GetStatus())
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
			return a.decide(cmd, model.BlueGreenWorkflowID(args[0], args[1]), name, model.PromoteCommand{Full: full}, name, "")
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "skip every remaining step")
	return a.replyTimeoutFlag(cmd)
}

// blueGreenCancelCommands roll a deployment back: cancel, and abort, its
// deprecated old name.
func blueGreenCancelCommands(a *app) []*cobra.Command {
	return stopCommands(a, decision{
		Use:        "cancel CLUSTER SERVICE",
		Short:      "Roll a deployment back: traffic to blue, blue primary, green removed",
		Example:    `  starter bluegreen cancel demo web --reason "error rate up"`,
		Args:       2,
		WorkflowID: func(args []string) string { return model.BlueGreenWorkflowID(args[0], args[1]) },
		Accepted:   "rolling back",
	})
}
