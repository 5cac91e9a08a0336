package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// A task set the deployment did not create (another client's, perhaps
// under the deployment's external ID) found before the primary switch or
// before blue's removal rolls the deployment back: it never ends Succeeded
// with the task set left behind.
func TestBlueGreenForeignTaskSetRollsBack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		failOn int // the n-th check finds it
		shifts []int
	}{
		{"before the primary switch", 1, []int{100}},
		{"during the termination wait", 2, []int{100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newBlueGreenEnv(t)
			var checks []activities.TaskSetsCheck
			env.OnActivity(deployments.CheckTaskSets, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.TaskSetsCheck) error {
				n := 0
				env.cloud.locked(func() { checks = append(checks, in); n = len(checks) })
				if n == tc.failOn {
					return temporal.NewNonRetryableApplicationError(`service web has task sets this deployment did not create: ecs-svc/9999 (external ID "imagefleet/run")`, model.ErrTypeForeignTaskSet, nil)
				}
				return nil
			})
			env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyAllAtOnce}))
			p := env.requireRolledBack(t, model.ErrTypeForeignTaskSet)
			require.Contains(t, p.Error, "ecs-svc/9999")
			require.Equal(t, tc.shifts, env.cloud.shifts)
			require.Len(t, checks, tc.failOn)
			for _, c := range checks {
				require.Equal(t, []string{greenID, blueID}, c.Known)
			}
		})
	}
}

// A deployment that meets no foreign task set checks twice and succeeds.
func TestBlueGreenChecksTaskSetsBeforeCommitting(t *testing.T) {
	env := newBlueGreenEnv(t)
	calls := 0
	env.OnActivity(deployments.CheckTaskSets, mock.Anything, mock.Anything).Return(func(context.Context, activities.TaskSetsCheck) error {
		env.cloud.locked(func() { calls++ })
		return nil
	})
	env.execute(blueGreenSpec(model.ShiftStrategy{Type: model.StrategyAllAtOnce}))
	env.requireDeployed(t, 100)
	require.Equal(t, 2, calls)
}
