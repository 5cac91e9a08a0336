package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/imagefleet/imagefleet/cloudsim"
	"github.com/imagefleet/imagefleet/internal/codec"
	"github.com/imagefleet/imagefleet/internal/stack"
	"github.com/imagefleet/imagefleet/model"
)

// TestPayloadsEncryptedAtRestAndKeyRotation runs a script rolling update
// whose spec and script carry recognisable markers, rotates the key while
// the task is paused, and publishes a container-image package. Then:
//   - the markers are nowhere in the dev server's database files, while a
//     marker sent in plain by `temporal workflow start --input` is (so the
//     scan does find what is stored in plain);
//   - `temporal workflow show` prints the markers only through the codec
//     server, and only with its bearer token;
//   - payloads of both keys are in the history, and the old key's still
//     decode after rotation;
//   - no registry credential is in any history, decrypted.
func TestPayloadsEncryptedAtRestAndKeyRotation(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "codec.keys")
	const token = "e2e-codec-token"
	e := newEnv(t, 0.002, func(c *stack.Config) {
		c.CodecKeysFile = keys
		c.CodecServer = filepath.Join(binDir, "codecserver")
		c.CodecPort = freePort()
		c.CodecToken = token
	})
	ctx := t.Context()
	codecProc, err := e.stack.StartCodecServer(ctx)
	require.NoError(t, err)
	c := dialWithKeys(t, e.stack.TemporalAddress(), keys)
	started := time.Now().Add(-time.Second)

	tag := strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))[:16]
	specMarker, scriptMarker, plainMarker := "SPECMARK"+tag, "SCRIPTMARK"+tag, "PLAINMARK"+tag
	const group = cloudsim.GroupWeb
	id := model.RolloutWorkflowID(group)
	t.Cleanup(func() { terminateIfRunning(c, id) })

	out, code := e.starter("rollout", "start", group, "--type", "script", "--script", "echo "+scriptMarker,
		"--batches", "2", "--pause-policy", model.PauseFirstBatch, "--description", "patch "+specMarker, "--watch")
	require.Equal(t, 4, code, out)
	firstKey := codecKeyIDs(t, keys)
	require.Len(t, firstKey, 1)

	// Rotate while the task waits: a new key is appended; worker and codec
	// server restart with both.
	genkey, err := exec.CommandContext(ctx, filepath.Join(binDir, "codecserver"), "genkey").Output()
	require.NoError(t, err)
	f, err := os.OpenFile(keys, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(genkey)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	bothKeys := codecKeyIDs(t, keys)
	require.Len(t, bothKeys, 2)
	for _, p := range e.stack.Processes("worker") {
		require.NoError(t, p.Stop())
	}
	require.NoError(t, codecProc.Stop())
	e.startWorker()
	_, err = e.stack.StartCodecServer(ctx)
	require.NoError(t, err)

	// Resumed by the temporal CLI with a plain JSON input, no codec: a
	// payload without encryption metadata passes through decoding.
	out, err = runTemporal(ctx, e.stack, "workflow", "signal", "--workflow-id", id, "--name", model.CommandResume, "--input", "{}")
	require.NoError(t, err, out)
	out, code = e.starter("rollout", "status", group, "--watch")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "Succeeded")

	// The history holds payloads of the first key (the start), the plain
	// signal, and payloads of the new key (what the restarted worker wrote);
	// all of them decode with the rotated keyring, the old key's only with it.
	used := map[string]bool{}
	history := rawHistory(t, c, id)
	require.NoError(t, proxy.VisitPayloads(ctx, history, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				used[string(p.GetMetadata()[codec.MetadataKeyID])] = true
			}
			return ps, nil
		},
	}))
	require.True(t, used[bothKeys[0]] && used[bothKeys[1]], "payloads of both keys, got %v", used)
	require.True(t, used[""], "the CLI's plain signal input")
	require.Len(t, used, 3)
	rotated, err := codec.LoadKeyFile(keys)
	require.NoError(t, err)
	decoded := decodeWith(t, codec.New(rotated), history)
	require.Contains(t, decoded, specMarker)
	require.Contains(t, decoded, scriptMarker)
	newOnly, err := codec.ParseKeys(keyLine(t, keys, bothKeys[1]))
	require.NoError(t, err)
	require.ErrorContains(t, visitDecode(codec.New(newOnly), rawHistory(t, c, id)), bothKeys[0])

	// A container-image package: its publication uses registry credentials.
	out, code = e.starter("package", "create", "--type", model.PackageAcrImage, "--package", "e2e_secret", "--regions", cloudsim.SeedRegion,
		"--version", "v1_0", "--description", "registry credentials test", "--source-region", cloudsim.SeedRegion,
		"--image-ref", "nginx:1.25", "--repo", "web", "--repo-tag", "1.25")
	require.Equal(t, 0, code, out)
	out, code = e.starter("package", "version", "publish", "--package", "e2e_secret", "--version", "v1_0")
	require.Equal(t, 0, code, out)
	require.NotEmpty(t, countEntries(e.ledger(), "GetAuthorizationToken"), "credentials were issued")
	// Other tests' runs share the dev server and hold the package's key.
	ours, err := os.ReadFile(keys)
	require.NoError(t, err)
	theirs, err := os.ReadFile(codecKeys)
	require.NoError(t, err)
	every, err := codec.ParseKeys(string(theirs) + "\n" + string(ours))
	require.NoError(t, err)
	credential := regexp.MustCompile(`crt\.[a-z0-9]{40}`)
	for _, run := range runsSince(t, c, started) {
		text := decodeWith(t, codec.New(every), rawRunHistory(t, c, run.GetWorkflowId(), run.GetRunId()))
		require.False(t, credential.MatchString(text), "a registry credential in the history of %s", run.GetWorkflowId())
	}

	// In plain: started by the CLI without the codec, on a queue no worker polls.
	plainID := "security-control-" + tag
	_, err = runTemporal(ctx, e.stack, "workflow", "start", "--task-queue", "imagefleet-no-worker", "--type", "Nothing",
		"--workflow-id", plainID, "--input", `"`+plainMarker+`"`)
	require.NoError(t, err)
	t.Cleanup(func() { terminateIfRunning(c, plainID) })

	// At rest: the dev server's SQLite files (database and write-ahead log).
	db := readDevDatabase(t)
	require.True(t, bytes.Contains(db, []byte(plainMarker)), "the scan finds a payload stored in plain")
	require.True(t, bytes.Contains(db, []byte(group)), "the scan finds the search attributes (not encrypted)")
	require.False(t, bytes.Contains(db, []byte(specMarker)), "the spec's marker is stored in plain")
	require.False(t, bytes.Contains(db, []byte(scriptMarker)), "the script's marker is stored in plain")

	// Through the CLI: without the codec, with it but without the token, and with both.
	show := []string{"workflow", "show", "--workflow-id", id}
	plain := cliHistory(t, e.stack, show...)
	require.NotContains(t, plain, specMarker)
	require.NotContains(t, plain, scriptMarker)
	require.Contains(t, plain, "encoding="+codec.EncodingEncrypted)
	withCodec := append(slices.Clone(show), "--codec-endpoint", e.stack.CodecEndpoint())
	refused, err := runTemporal(ctx, e.stack, append(withCodec, "--output", "json")...)
	require.Error(t, err, "decoded without the token")
	require.NotContains(t, refused, specMarker)
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.stack.CodecEndpoint()+"/decode", strings.NewReader(`{"payloads":[]}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		want := http.StatusUnauthorized
		if auth == "Bearer "+token {
			want = http.StatusOK
		}
		require.Equal(t, want, resp.StatusCode, "Authorization %q", auth)
	}
	clear := cliHistory(t, e.stack, append(withCodec, "--codec-auth", "Bearer "+token)...)
	require.Contains(t, clear, specMarker)
	require.Contains(t, clear, scriptMarker)
	require.NotContains(t, clear, "encoding="+codec.EncodingEncrypted)
}

// cliHistory runs `temporal workflow show … --output json` and returns the
// history's payloads as text: each one's metadata and data.
func cliHistory(t *testing.T, s *stack.Stack, args ...string) string {
	t.Helper()
	out, err := runTemporal(t.Context(), s, append(args, "--output", "json")...)
	require.NoError(t, err, out)
	var h historypb.History
	require.NoError(t, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal([]byte(out), &h), out)
	require.NotEmpty(t, h.GetEvents())
	return payloadText(t, &h)
}

// payloadText is every payload of msg as "encoding=<…> <data>" lines.
func payloadText(t *testing.T, msg proto.Message) string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, proxy.VisitPayloads(t.Context(), msg, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				fmt.Fprintf(&b, "encoding=%s %s\n", p.GetMetadata()[codec.MetadataEncoding], p.GetData())
			}
			return ps, nil
		},
	}))
	return b.String()
}

// dialWithKeys is a client that encrypts and decrypts with the key file.
func dialWithKeys(t *testing.T, hostPort, keysFile string) client.Client {
	t.Helper()
	kr, err := codec.LoadKeyFile(keysFile)
	require.NoError(t, err)
	opts := client.Options{HostPort: hostPort}
	codec.Apply(&opts, codec.New(kr))
	c, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func codecKeyIDs(t *testing.T, keysFile string) []string {
	t.Helper()
	kr, err := codec.LoadKeyFile(keysFile)
	require.NoError(t, err)
	return kr.IDs()
}

// keyLine is the key file's line of key id.
func keyLine(t *testing.T, keysFile, id string) string {
	t.Helper()
	data, err := os.ReadFile(keysFile)
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, id+"=") {
			return line
		}
	}
	t.Fatalf("no key %s in %s", id, keysFile)
	return ""
}

func rawHistory(t *testing.T, c client.Client, id string) *historypb.History {
	return rawRunHistory(t, c, id, "")
}

// rawRunHistory is a run's history as the server holds it (payloads not
// decoded: GetWorkflowHistory returns events as they are).
func rawRunHistory(t *testing.T, c client.Client, id, runID string) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	iter := c.GetWorkflowHistory(t.Context(), id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	return h
}

func visitDecode(cd *codec.Codec, h *historypb.History) error {
	return proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return cd.Decode(ps)
		},
	})
}

// decodeWith decrypts the history and returns its payloads as text, then
// the whole history as JSON.
func decodeWith(t *testing.T, cd *codec.Codec, h *historypb.History) string {
	t.Helper()
	require.NoError(t, visitDecode(cd, h))
	js, err := protojson.Marshal(h)
	require.NoError(t, err)
	return payloadText(t, h) + string(js)
}

// runsSince lists every run (children included) started after since.
func runsSince(t *testing.T, c client.Client, since time.Time) []*commonpb.WorkflowExecution {
	t.Helper()
	var out []*commonpb.WorkflowExecution
	var token []byte
	for {
		resp, err := c.ListWorkflow(t.Context(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("StartTime >= '%s'", since.UTC().Format(time.RFC3339)), NextPageToken: token,
		})
		require.NoError(t, err)
		for _, info := range resp.GetExecutions() {
			out = append(out, info.GetExecution())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	require.NotEmpty(t, out)
	return out
}

// readDevDatabase returns the bytes of the dev server's SQLite files.
func readDevDatabase(t *testing.T) []byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(devDataDir, "temporal.db*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var all []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue // SQLite's rollback journal comes and goes with each transaction
		}
		require.NoError(t, err)
		all = append(all, data...)
	}
	return all
}

// runTemporal runs the temporal CLI against the stack's dev server.
func runTemporal(ctx context.Context, s *stack.Stack, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, temporalCLI, append(args, "--address", s.TemporalAddress(), "--namespace", "default")...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func terminateIfRunning(c client.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = c.TerminateWorkflow(ctx, id, "", "test cleanup")
}
