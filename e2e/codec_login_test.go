package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/stack"
)

// TestWebUIDecodesThroughATokenProtectedCodecServer drives the dev
// server's Web UI (2.42) in headless Chromium against a codec server that
// asks for a token. The UI cannot send a static token; its codec settings
// ("use my browser setting", the endpoint, "include cross-origin
// credentials") make it send cookies. Before the browser signs in, the
// codec server refuses the UI and the input stays encrypted; after the user
// opened the codec server's /login and entered the token once, the same
// page shows the input decrypted.
func TestWebUIDecodesThroughATokenProtectedCodecServer(t *testing.T) {
	chrome := chromiumPath(t)
	const token = "e2e-web-ui-token"
	uiPort := portOf(strings.TrimPrefix(devServer.WebUI(), "http://"))
	codecPort := freePort()
	e := newEnv(t, 0.002, func(c *stack.Config) {
		c.CodecServer = filepath.Join(binDir, "codecserver")
		c.CodecPort = codecPort
		c.CodecToken = token
		c.UIPort = uiPort // the origin the codec server allows (CORS)
	})
	_, err := e.stack.StartCodecServer(t.Context())
	require.NoError(t, err)

	tag := strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))[:12]
	marker := "UILOGIN" + tag
	id := "codec-login-" + tag
	// Encrypted with the package's key (the codec server's), on a queue no
	// worker polls: the run's input is all the page needs.
	run, err := e.client.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: "imagefleet-no-worker"},
		"Nothing", map[string]string{"description": marker})
	require.NoError(t, err)
	t.Cleanup(func() { terminateIfRunning(e.client, id) })

	b := newBrowser(t, chrome)
	ui := devServer.WebUI()
	// The Web UI's codec settings, as its "Codec Server" dialog stores them
	// in the browser: this endpoint, with cross-origin credentials, instead
	// of the dev server's --ui-codec-endpoint.
	codecURL := "http://localhost:" + strconv.Itoa(codecPort)
	b.open(ui + "/namespaces/default/workflows")
	settings := fmt.Sprintf(`(() => {
	localStorage.setItem("endpoint", JSON.stringify(%q));
	localStorage.setItem("includeCredentials", "true");
	localStorage.setItem("passAccessToken", "false");
	localStorage.setItem("overrideRemoteCodecConfiguration", "true");
	return true;
})()`, codecURL)
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](settings))
	cancel()
	require.NoError(t, err)

	runPage := ui + "/namespaces/default/workflows/" + url.PathEscape(id) + "/" + run.GetRunID() + "/history"
	b.open(runPage)
	// Refused (401): the UI says so and shows the payload as stored.
	encryptedMetadata := base64.StdEncoding.EncodeToString([]byte(codec.EncodingEncrypted))
	b.waitForText("the codec server's refusal", "Codec Server could not connect")
	b.waitForText("the input, still encrypted", encryptedMetadata)
	require.NotContains(t, b.text(), marker)
	b.screenshot("codec-login-1-before")

	// Sign in once at the codec server.
	b.open(codecURL + codec.LoginPath)
	b.run("enter the token", chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), token), chromedp.Submit(chromedp.CSS(`input[name="token"]`)))
	b.waitForText("signed in", "Signed in until")
	b.screenshot("codec-login-2-signed-in")

	b.open(runPage)
	b.waitForText("the input, decrypted through the protected codec server", marker)
	require.NotContains(t, b.text(), encryptedMetadata)
	require.NotContains(t, b.text(), "Codec Server could not connect")
	b.screenshot("codec-login-3-after")
}

// TestCLIWithoutNamespaceIsServedByACodecServerForDefault: the temporal CLI
// sends an empty X-Namespace unless given -n; a codec server restricted to
// the default namespace serves it (it timed out before), and still refuses
// a namespace it does not serve.
func TestCLIWithoutNamespaceIsServedByACodecServerForDefault(t *testing.T) {
	c, err := client.Dial(clientOptions(devServer.TemporalAddress()))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	tag := strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))[:12]
	marker, id := "CLINS"+tag, "codec-cli-ns-"+tag
	_, err = c.ExecuteWorkflow(t.Context(), client.StartWorkflowOptions{ID: id, TaskQueue: "imagefleet-no-worker"},
		"Nothing", map[string]string{"description": marker})
	require.NoError(t, err)
	t.Cleanup(func() { terminateIfRunning(c, id) })

	codecServer := func(namespaces string) string {
		addr := "127.0.0.1:" + strconv.Itoa(freePort())
		endpoint := "http://" + addr
		cmd := exec.CommandContext(t.Context(), filepath.Join(binDir, "codecserver"), "--listen", addr,
			"--namespace", namespaces, "--keys-file", codecKeys)
		cmd.Stdout, cmd.Stderr = logSink, logSink
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		for {
			resp, err := http.Get(endpoint + "/health")
			if err == nil {
				resp.Body.Close()
				return endpoint
			}
			select {
			case <-t.Context().Done():
				t.Fatal("the codec server did not start")
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	// As a user types it: no -n.
	show := func(endpoint string) (string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, temporalCLI, "workflow", "show", "--workflow-id", id,
			"--address", devServer.TemporalAddress(), "--codec-endpoint", endpoint, "--output", "json").CombinedOutput()
		return string(out), err
	}
	out, err := show(codecServer("default"))
	require.NoError(t, err, out)
	require.Contains(t, out, base64.StdEncoding.EncodeToString([]byte(`{"description":"`+marker+`"}`)))

	out, err = show(codecServer("prod"))
	require.Error(t, err, "a namespace the codec server does not serve")
	require.NotContains(t, out, marker)
}
