package model

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func validBlueGreen() BlueGreenSpec {
	return BlueGreenSpec{
		Cluster: "demo", Service: "web", TaskDefinition: "web:2",
		Subnets: []string{"subnet-1"}, ContainerName: "web", ContainerPort: 8080,
		TargetGroups:       []string{"tg-a", "tg-b"},
		ProductionListener: "l-80", TestListener: "l-8080",
		Strategy: ShiftStrategy{Type: StrategyAllAtOnce},
	}
}

func weight(w int) *int { return &w }

func TestShiftStrategyPlans(t *testing.T) {
	w := func(n int) PlannedStep { return PlannedStep{Kind: StepWeight, Weight: n} }
	p := func(d time.Duration) PlannedStep { return PlannedStep{Kind: StepPause, Pause: d} }
	gate := PlannedStep{Kind: StepGate}
	for _, tc := range []struct {
		name string
		st   ShiftStrategy
		want []PlannedStep
	}{
		{"all at once", ShiftStrategy{Type: StrategyAllAtOnce}, []PlannedStep{w(100)}},
		{"canary", ShiftStrategy{Type: StrategyCanary, Percent: 10, Interval: "5m"}, []PlannedStep{w(10), p(5 * time.Minute), w(100)}},
		{"linear", ShiftStrategy{Type: StrategyLinear, Percent: 30, Interval: "1m"}, []PlannedStep{w(30), p(time.Minute), w(60), p(time.Minute), w(90), p(time.Minute), w(100)}},
		{"linear dividing 100", ShiftStrategy{Type: StrategyLinear, Percent: 50, Interval: "1m"}, []PlannedStep{w(50), p(time.Minute), w(100)}},
		{"steps", ShiftStrategy{Type: StrategySteps, Steps: []ShiftStep{{SetWeight: weight(20)}, {Pause: &PauseStep{}}, {SetWeight: weight(50)}, {Pause: &PauseStep{Duration: "10m"}}}},
			[]PlannedStep{w(20), gate, w(50), p(10 * time.Minute), w(100)}},
		{"steps ending at 100", ShiftStrategy{Type: StrategySteps, Steps: []ShiftStep{{Pause: &PauseStep{}}, {SetWeight: weight(100)}}}, []PlannedStep{gate, w(100)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := tc.st.Plan()
			require.NoError(t, err)
			require.Equal(t, tc.want, plan)
		})
	}
}

func TestBlueGreenSpecRefusals(t *testing.T) {
	require.NoError(t, validBlueGreen().Validate())
	for _, tc := range []struct {
		name   string
		change func(*BlueGreenSpec)
		want   string
	}{
		{"service name", func(s *BlueGreenSpec) { s.Service = "web.v2" }, "service \"web.v2\""},
		{"service name too long", func(s *BlueGreenSpec) { s.Service = strings.Repeat("s", 256) }, "1–255"},
		{"launch type", func(s *BlueGreenSpec) { s.LaunchType = "LAMBDA" }, "launchType"},
		{"platform version on EC2", func(s *BlueGreenSpec) { s.LaunchType, s.PlatformVersion = "EC2", "1.4.0" }, "platformVersion"},
		{"no subnets", func(s *BlueGreenSpec) { s.Subnets = nil }, "subnets"},
		{"one target group", func(s *BlueGreenSpec) { s.TargetGroups = []string{"tg-a"} }, "two different target groups"},
		{"same listener", func(s *BlueGreenSpec) { s.TestListener = s.ProductionListener }, "must differ"},
		{"unknown strategy", func(s *BlueGreenSpec) { s.Strategy.Type = "blue" }, "strategy type"},
		{"canary without interval", func(s *BlueGreenSpec) { s.Strategy = ShiftStrategy{Type: StrategyCanary, Percent: 10} }, "needs an interval"},
		{"canary at 100", func(s *BlueGreenSpec) { s.Strategy = ShiftStrategy{Type: StrategyCanary, Percent: 100, Interval: "1m"} }, "1 to 99"},
		{"linear with steps", func(s *BlueGreenSpec) {
			s.Strategy = ShiftStrategy{Type: StrategyLinear, Percent: 10, Interval: "1m", Steps: []ShiftStep{{SetWeight: weight(1)}}}
		}, "takes no steps"},
		{"step with both", func(s *BlueGreenSpec) {
			s.Strategy = ShiftStrategy{Type: StrategySteps, Steps: []ShiftStep{{SetWeight: weight(1), Pause: &PauseStep{}}}}
		}, "exactly one"},
		{"weight above 100", func(s *BlueGreenSpec) {
			s.Strategy = ShiftStrategy{Type: StrategySteps, Steps: []ShiftStep{{SetWeight: weight(101)}}}
		}, "0–100"},
		{"bad pause", func(s *BlueGreenSpec) {
			s.Strategy = ShiftStrategy{Type: StrategySteps, Steps: []ShiftStep{{Pause: &PauseStep{Duration: "soon"}}}}
		}, "Go duration"},
		{"bad termination wait", func(s *BlueGreenSpec) { s.TerminationWait = "-1m" }, "terminationWait"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := validBlueGreen()
			tc.change(&s)
			require.ErrorContains(t, s.Validate(), tc.want)
		})
	}
}
