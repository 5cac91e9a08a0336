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

	// The run page: the input, decrypted through the codec server.
	runPage := ui + "/" + url.PathEscape(id) + "/" + runID
	b.open(runPage + "/history")
	b.waitForText("the input, decrypted", `"description": "ui `+specMarker+`"`)
	b.waitForText("the script in the input, decrypted", `"script": "echo `+scriptMarker+`"`)
	b.screenshot("2-run-page-input")

	// Its user metadata: summary, static details (the spec, Markdown) and
	// current details (Markdown, from the workflow), each decrypted.
	b.run("open the User Metadata tab", chromedp.Click(`//a[normalize-space()="User Metadata"] | //button[normalize-space()="User Metadata"]`))
	b.waitForText("the summary", "Rolling update (ScriptExecution) of "+group+" in 2 batch(es)")
	b.waitForText("the spec as a table in the static details", "scalingGroupId\t"+group)
	b.waitForText("the script in the static details", "echo "+scriptMarker)
	b.waitForText("the current details naming what the task waits for", "Waiting for operator: batch 1 of 2 is done; check it, then resume")
	require.NotContains(t, b.text(), "binary/encrypted", "a payload the Web UI did not decode")
	b.screenshot("3-run-page-user-metadata")

	// Resume from the update dialog ("More Actions" → "Send an Update"). The
	// Web UI renders its header twice (narrow and wide layouts): each step
	// acts on the element that is visible.
	b.clickVisible("the actions menu", `button[aria-controls="workflow-actions"]`, "")
	b.clickVisible("Send an Update", `[data-testid="update-button"]`, "")
	b.clickVisible("the update name list", `dialog[open] [data-testid="update-select-button"]`, "")
	b.clickVisible("the update "+model.CommandResume, `dialog[open] li[role="option"]`, model.CommandResume)
	b.clickVisible("the update's data editor", `dialog[open] [contenteditable="true"][data-language="json"]`, "")
	b.run("type the update's input", chromedp.KeyEvent("{}"))
	b.screenshot("4-update-dialog-resume")
	b.clickVisible("Submit", `dialog[open] [data-testid="confirm-modal-button"]`, "")

	st := e.awaitRollout(group, "resumed from the Web UI", func(st model.RolloutState) bool {
		return st.Status == model.RolloutSucceeded
	})
	require.Equal(t, model.RolloutSucceeded, st.Status)
	b.open(runPage + "/history")
	b.waitForText("the run completed", "Completed")
	b.waitForText("the result, decrypted", `"status": "`+model.RolloutSucceeded+`"`)
	b.screenshot("5-run-page-completed")
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
		b.dumpHTML("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

func (b *browser) open(u string) {
	b.t.Helper()
	b.run("open "+u, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("body")))
}

// pageText is the page's visible text, with that of its same-origin
// frames: the Web UI renders Markdown (summary, details) in iframes.
const pageText = `(() => {
	const parts = [document.body.innerText];
	for (const f of document.querySelectorAll('iframe')) {
		try { parts.push(f.contentDocument.body.innerText); } catch (e) {}
	}
	return parts.join('\n');
})()`

// text is the page's visible text.
func (b *browser) text() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageText))
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
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageText))
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

// clickVisible clicks the first visible, enabled element that matches the
// CSS selector (and whose text is text, when given), once there is one.
func (b *browser) clickVisible(what, selector, text string) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => {
	const el = [...document.querySelectorAll(%q)].find(e =>
		e.getClientRects().length > 0 && !e.disabled && e.getAttribute('aria-disabled') !== 'true' &&
		(%q === '' || e.textContent.trim() === %q));
	if (!el) return false;
	el.scrollIntoView({block: 'center'});
	el.focus();
	el.click();
	return true;
})()`, selector, text, text)
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		clicked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && clicked {
			time.Sleep(300 * time.Millisecond) // let the page react (menus, dialogs open)
			return
		}
		if time.Now().After(deadline) {
			name := "failed-" + strings.ReplaceAll(what, " ", "-")
			b.screenshot(name)
			b.dumpHTML(name)
			b.t.Fatalf("browser: nothing visible to click for %s (%s %q): %v", what, selector, text, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
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
	// The page's text beside it, for a reader without an image viewer.
	if text, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageText)); err == nil {
		_ = os.WriteFile(filepath.Join(screenshotDir, name+".txt"), []byte(text), 0o644)
	}
}

// dumpHTML saves the page's HTML beside the screenshots, to see why a step
// found nothing to click.
func (b *browser) dumpHTML(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err == nil {
		_ = os.WriteFile(filepath.Join(screenshotDir, name+".html"), []byte(html), 0o644)
	}
}
