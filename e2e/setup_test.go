package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/imagefleet/imagefleet/model"
)

// TestSetupRegistersSearchAttributes prepares a fresh namespace the way an
// operator of a self-hosted cluster would, with `starter setup`.
func TestSetupRegistersSearchAttributes(t *testing.T) {
	c, err := client.Dial(client.Options{HostPort: devServer.TemporalAddress()})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.WorkflowService().RegisterNamespace(t.Context(), &workflowservice.RegisterNamespaceRequest{
		Namespace: "imagefleet-setup", WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
	})
	require.NoError(t, err)

	starter := func() string {
		cmd := exec.CommandContext(t.Context(), filepath.Join(binDir, "starter"), "setup")
		cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+devServer.TemporalAddress(), "TEMPORAL_NAMESPACE=imagefleet-setup")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return string(out)
	}
	// The namespace may take a moment to be usable.
	var out string
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		cmd := exec.CommandContext(t.Context(), filepath.Join(binDir, "starter"), "setup")
		cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+devServer.TemporalAddress(), "TEMPORAL_NAMESPACE=imagefleet-setup")
		b, err := cmd.CombinedOutput()
		require.NoError(ct, err, string(b))
		out = string(b)
	}, 30*time.Second, time.Second)
	require.Contains(t, out, "registering")

	resp, err := c.OperatorService().ListSearchAttributes(t.Context(), &operatorservice.ListSearchAttributesRequest{Namespace: "imagefleet-setup"})
	require.NoError(t, err)
	for name, typ := range model.SearchAttributes {
		require.Equal(t, typ, resp.GetCustomAttributes()[name], name)
	}
	require.NotContains(t, starter(), "registering", "a second run finds them all")
}
