package e2e

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// TestWebUIShowsBuildSchedule: a build schedule made by the starter is on
// the Web UI's Schedules page, and its own page shows it paused with its
// note and the workflow type it starts.
func TestWebUIShowsBuildSchedule(t *testing.T) {
	chrome := chromiumPath(t)
	e := newEnv(t, 0.001)
	resp, err := e.cloudC.CreateImagePipeline(t.Context(), &cloud.CreateImagePipelineRequest{
		RegionId: cloudsim.SeedRegion, Name: "ui-scheduled", BaseImageType: cloud.BaseImageFamily, BaseImage: "webapp",
		ClientToken: "ui-scheduled",
	})
	require.NoError(t, err)
	tpl := resp.ImagePipelineId
	id := model.BuildScheduleID(cloudsim.SeedRegion, tpl, "weekly")
	out, code := e.starter("build", "schedule", "create", tpl, "--name", "weekly", "--cron", "0 3 * * 1",
		"--time-zone", "Europe/Berlin", "--paused", "--note", "weekly patched image")
	require.Equal(t, 0, code, out)
	t.Cleanup(func() { _ = e.client.ScheduleClient().GetHandle(t.Context(), id).Delete(t.Context()) })

	b := newBrowser(t, chrome)
	ui := devServer.WebUI() + "/namespaces/default/schedules"
	b.open(ui)
	b.waitForText("the Schedules page lists it", id)
	b.screenshot("schedule-1-list")
	b.open(ui + "/" + url.PathEscape(id))
	b.waitForText("the schedule's page names the workflow it starts", model.ScheduledBuildWorkflowType)
	b.waitForText("the note", "weekly patched image")
	b.waitForText("the time zone", "Europe/Berlin")
	b.screenshot("schedule-2-page")
}
