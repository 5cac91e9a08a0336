package workflows

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// A run that began before changeBuildModelTypes goes on with the activities
// that answer the cloud's wire types (a worker upgraded mid-run), and builds
// the same image; a new run calls only the model-typed ones. The replay test
// covers the recorded histories of such runs.
func TestBuildRunsFromBeforeModelTypesKeepTheirActivities(t *testing.T) {
	for _, tc := range []struct {
		version   workflow.Version
		want, not []string
	}{
		{workflow.DefaultVersion, []string{"StartBuildExecution", "ResolveBuildSource", "BuildInstanceTypes", "RunBuildComponent"}, []string{"StartBuild", "ResolveSource", "ListBuildInstanceTypes", "RunComponent"}},
		{1, []string{"StartBuild", "ResolveSource", "ListBuildInstanceTypes", "RunComponent"}, []string{"StartBuildExecution", "ResolveBuildSource", "BuildInstanceTypes", "RunBuildComponent"}},
	} {
		t.Run(map[workflow.Version]string{workflow.DefaultVersion: "recorded run", 1: "new run"}[tc.version], func(t *testing.T) {
			env := newBuildEnv(t)
			env.OnGetVersion(changeBuildModelTypes, workflow.DefaultVersion, 1).Return(tc.version)
			var mu sync.Mutex
			called := map[string]bool{}
			env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				mu.Lock()
				defer mu.Unlock()
				called[info.ActivityType.Name] = true
			})
			env.problems(t, cloudsim.ImageWebappV2, cloud.GuestOSDhcp)
			tpl := env.template(t, baseTemplate("legacy"))

			env.execute(tpl, "")

			require.NoError(t, env.GetWorkflowError())
			p := env.progress(t)
			require.Equal(t, model.StepDone, p.Step)
			require.Equal(t, cloudsim.ImageWebappV2, p.SourceImage)
			require.Equal(t, "ecs.c7.large", p.Attempts[0].InstanceType)
			require.Contains(t, p.Checks, model.GuestOSCheck{Item: cloud.GuestOSDhcp, Result: model.CheckRepaired, Detail: "the primary network interface is not configured by DHCP"})
			require.Len(t, p.Components, 3)
			require.Contains(t, p.Components[1].Output, "installing webapp 2.1")
			env.requireReleaseOrder(t)
			mu.Lock()
			defer mu.Unlock()
			for _, name := range tc.want {
				require.True(t, called[name], name)
			}
			for _, name := range tc.not {
				require.False(t, called[name], name)
			}
		})
	}
}
