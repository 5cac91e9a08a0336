package e2e

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/imagefleet/imagefleet/internal/stack"
)

// writeHistory saves a run's full history as the JSON the replayer reads
// (runID empty: the latest run).
func writeHistory(ctx context.Context, c client.Client, id, runID, path string) error {
	var events []*historypb.HistoryEvent
	iter := c.GetWorkflowHistory(ctx, id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return err
		}
		events = append(events, ev)
	}
	history := &historypb.History{Events: events}
	if err := decodePayloads(ctx, history); err != nil {
		return err
	}
	data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(history)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// killWorkers SIGKILLs every worker of the stack.
func killWorkers(t *testing.T, s *stack.Stack) {
	t.Helper()
	for _, p := range s.Processes("worker") {
		require.NoError(t, p.Kill())
	}
}
