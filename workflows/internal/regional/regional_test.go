package regional

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"

	"github.com/imagefleet/imagefleet/model"
)

// work is a run of three regions, eu-west-1 failed and waiting.
func work() (*Work, []string) {
	regions := map[string]*model.RegionStatus{
		"cn-shanghai": {Region: "cn-shanghai", State: model.RegionAvailable},
		"eu-west-1":   {Region: "eu-west-1", State: model.RegionFailed},
		"us-east-1":   {Region: "us-east-1", State: model.RegionDropped},
	}
	w := &Work{
		Noun:      "distribution",
		Logger:    log.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		Status:    func(r string) *model.RegionStatus { return regions[r] },
		CanCancel: func() error { return nil },
	}
	w.decisions = map[string]string{}
	return w, []string{"cn-shanghai", "eu-west-1", "us-east-1"}
}

func TestCancelIsRegisteredWithAbortAsItsAlias(t *testing.T) {
	w, _ := work()
	c := w.Commands()
	require.Equal(t, model.CommandCancel, c.Cancel.Name)
	//lint:ignore SA1019 the deprecated name is still accepted: this is where it is kept working
	require.Equal(t, []string{model.CommandAbort}, c.Cancel.Aliases)
}

func TestWaitingForNamesCancelAndACancelledRunWaitsForNothing(t *testing.T) {
	w, regions := work()
	require.Equal(t, "operator decision for eu-west-1: retry-region, drop-region or cancel", w.WaitingFor(regions))
	require.Equal(t, []string{"us-east-1"}, w.In(regions, model.RegionDropped))

	c := w.Commands()
	require.NoError(t, c.Cancel.Validate(model.CancelCommand{}))
	c.Cancel.Apply(model.CancelCommand{Reason: "wrong image"})
	require.True(t, w.Cancelled())
	require.Empty(t, w.WaitingFor(regions), "a cancelled run waits for nothing")
	require.ErrorContains(t, c.Cancel.Validate(model.CancelCommand{}), "already being aborted")
	require.ErrorContains(t, c.RetryRegion.Validate(model.RegionCommand{Region: "eu-west-1"}), "being aborted")
	require.ErrorContains(t, w.CancelError(), "distribution aborted by the operator: wrong image")
}

func TestRegionDecisionsApplyOnlyToAFailedRegion(t *testing.T) {
	w, regions := work()
	c := w.Commands()
	require.ErrorContains(t, c.DropRegion.Validate(model.RegionCommand{}), "needs a region")
	require.ErrorContains(t, c.DropRegion.Validate(model.RegionCommand{Region: "ap-south-1"}), "not part of this distribution")
	require.ErrorContains(t, c.RetryRegion.Validate(model.RegionCommand{Region: "cn-shanghai"}), "applies only to a failed region")
	require.NoError(t, c.RetryRegion.Validate(model.RegionCommand{Region: "eu-west-1"}))
	c.RetryRegion.Apply(model.RegionCommand{Region: "eu-west-1"})
	require.ErrorContains(t, c.DropRegion.Validate(model.RegionCommand{Region: "eu-west-1"}), "already has a decision")
	require.Empty(t, w.WaitingFor(regions), "a decided region waits for nothing")
}

func TestCancelRefusedWhenThePhaseNoLongerAllowsIt(t *testing.T) {
	w, _ := work()
	w.CanCancel = func() error { return errors.New("publishing has started") }
	require.ErrorContains(t, w.Commands().Cancel.Validate(model.CancelCommand{}), "publishing has started")
}
