package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/model"
)

// screenshotDir holds the browser test's screenshots (git-ignored).
const screenshotDir = "screenshots"

// TestWebUIShowsPausedRolloutAndAppliesResume drives the dev server's Web UI
// in headless Chromium for a rolling update paused after its first batch:
// the run list filtered by ImagefleetState shows it; its page shows the
// input decrypted through the codec server, the summary, the spec in the
// static details and the current details naming what the task waits for;
// a resume sent from the UI's update dialog is applied.
func TestWebUIShowsPausedRolloutAndAppliesResume(t *testing.T) {
	chrome := chromiumPath(t)
	e := newEnv(t, 0.002)
	tag := strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))[:12]
	specMarker, scriptMarker := "UISPEC"+tag, "UISCRIPT"+tag
	const group = cloudsim.GroupWeb
	id := model.RolloutWorkflowID(group)
	t.Cleanup(func() { terminateIfRunning(e.client, id) })

	out, code := e.starter("rollout", "start", group, "--type", "script", "--script", "echo "+scriptMarker,
		"--batches", "2", "--pause-policy", model.PauseFirstBatch, "--description", "ui "+specMarker, "--watch")
	require.Equal(t, 4, code, out)
	desc, err := e.client.DescribeWorkflowExecution(t.Context(), id, "")
	require.NoError(t, err)
	runID := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()

	b := newBrowser(t, chrome)
	ui := devServer.WebUI() + "/namespaces/default/workflows"

	// The run list, filtered by the state attribute.
	query := fmt.Sprintf(`%s="%s"`, model.SAState.GetName(), model.StateWaitingForOperator)
	b.open(ui + "?query=" + url.QueryEscape(query))
	b.waitForText("list filtered by "+query, id)
	b.screenshot("1-run-list-waiting-for-operator")

	// The run page: summary, input decrypted, static and current details.
	b.open(ui + "/" + url.PathEscape(id) + "/" + runID + "/history")
	b.waitForText("summary", "Rolling update (ScriptExecution) of "+group+" in 2 batch(es)")
	b.waitForText("current details", "Waiting for operator: batch 1 of 2 is done")
	b.waitForText("static details (spec)", "scalingGroupId")
	b.waitForText("the script, decrypted", scriptMarker)
	b.waitForText("the input, decrypted", `"description": "ui `+specMarker+`"`)
	require.NotContains(t, b.text(), "binary/encrypted", "a payload the Web UI did not decode")
	b.screenshot("2-run-page-paused")

	// Resume from the update dialog.
	b.run("open the update dialog",
		chromedp.Click(chromedp.CSS(`#workflow-actions button[aria-haspopup]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="update-button"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="update-confirmation-modal"]`)),
	)
	b.chooseUpdate(model.CommandResume)
	b.screenshot("3-update-dialog-resume")
	b.run("submit the update", chromedp.Click(chromedp.CSS(`[data-testid="update-confirmation-modal"] button[type="submit"]`)))

	st := e.awaitRollout(group, "resumed from the Web UI", func(st model.RolloutState) bool {
		return st.Status == model.RolloutSucceeded
	})
	require.Equal(t, model.RolloutSucceeded, st.Status)
	b.open(ui + "/" + url.PathEscape(id) + "/" + runID + "/history")
	b.waitForText("the run completed", "Completed")
	b.screenshot("4-run-page-completed")
}

// chromiumPath finds Chromium (`go tool task chromium` installs it from
// Debian's packages); IMAGEFLEET_CHROMIUM names another binary.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("IMAGEFLEET_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is needed for the Web UI test: install it with `go tool task chromium` (apt-get install chromium), or set IMAGEFLEET_CHROMIUM")
	return ""
}

type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T, chrome string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1400),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first run starts the browser, which lives as long as that run's
	// context: it gets ctx itself, later steps contexts with a timeout.
	require.NoError(t, chromedp.Do(ctx), "start Chromium (%s)", chrome)
	require.NoError(t, os.MkdirAll(screenshotDir, 0o755))
	return &browser{t: t, ctx: ctx}
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

func (b *browser) open(u string) {
	b.t.Helper()
	b.run("open "+u, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("body")))
}

// text is the page's visible text.
func (b *browser) text() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	require.NoError(b.t, err)
	return s
}

// waitForText waits until the page shows want (the Web UI loads and
// decodes asynchronously).
func (b *browser) waitForText(what, want string) {
	b.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		cancel()
		if err == nil && strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
			b.t.Fatalf("the Web UI does not show %s (%q) after 90s; it shows:\n%s", what, want, s)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// chooseUpdate picks the update by name in the dialog and gives it {} as input.
func (b *browser) chooseUpdate(name string) {
	b.t.Helper()
	b.run("choose update "+name,
		chromedp.Click(chromedp.CSS(`#update-select`)),
		chromedp.Click(fmt.Sprintf(`//li[@role="option"][normalize-space()=%q]`, name)),
		chromedp.Click(chromedp.CSS(`[data-testid="update-confirmation-modal"] .cm-content`)),
		chromedp.KeyEvent("{}"),
	)
}

func (b *browser) screenshot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(screenshotDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	abs, _ := filepath.Abs(path)
	b.t.Logf("screenshot: %s", abs)
}
