package poll

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
)

// ticks stands in for the clock of a Batch's loops: a loop waits in sleep
// until the test lets it run one tick, so a test decides exactly how many
// ticks happen, and no assertion depends on time.
type ticks struct {
	slept chan time.Duration // a loop has finished its calls and waits
	run   chan struct{}      // let one waiting loop run a tick
}

func newTicks() *ticks { return &ticks{slept: make(chan time.Duration), run: make(chan struct{})} }

func (tk *ticks) sleep(_ context.Context, d time.Duration) error {
	tk.slept <- d
	<-tk.run
	return nil
}

// idle waits until a loop waits for its next tick (its calls are over) and
// returns the wait it asked for; the loop stays parked until tick.
func (tk *ticks) idle() time.Duration { return <-tk.slept }

// tick lets one parked loop run a tick.
func (tk *ticks) tick() { tk.run <- struct{}{} }

// fakeCloud answers batched calls from a table of statuses and counts them.
type fakeCloud struct {
	mu     sync.Mutex
	status map[string]string // id → status; missing: not found
	errs   []error           // the next calls' errors, in order
	calls  [][]string        // the IDs of every call, per group+call
	groups []string
}

func (f *fakeCloud) fetch(_ context.Context, group string, ids []string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, slices.Clone(ids))
	f.groups = append(f.groups, group)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	out := map[string]string{}
	for _, id := range ids {
		if st, ok := f.status[id]; ok {
			out[id] = st
		}
	}
	return out, nil
}

func (f *fakeCloud) set(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status[id] = status
}

func (f *fakeCloud) fail(errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, errs...)
}

// takeCalls returns the calls made since the last takeCalls.
func (f *fakeCloud) takeCalls() (calls [][]string, groups []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	calls, groups = f.calls, f.groups
	f.calls, f.groups = nil, nil
	return calls, groups
}

var errFailed = errors.New("resource failed")

// check is done on Available, fails on Failed or a missing resource, and
// otherwise asks to be left out for rest.
func check(rest time.Duration) BatchCheck[string] {
	return func(_ context.Context, st string, found bool) (bool, time.Duration, error) {
		switch {
		case !found:
			return false, 0, errors.New("gone")
		case st == "Available":
			return true, 0, nil
		case st == "Failed":
			return false, 0, errFailed
		}
		return false, rest, nil
	}
}

type harness struct {
	t       *testing.T
	cloud   *fakeCloud
	ticks   *ticks
	batch   *Batch[string]
	mu      sync.Mutex
	waiting []string // codes heartbeated by Rules.Waiting
	now     time.Time
}

func newHarness(t *testing.T, r Rules) *harness {
	h := &harness{t: t, cloud: &fakeCloud{status: map[string]string{}}, ticks: newTicks(), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r.sleep = h.ticks.sleep
	r.Waiting = func(_ context.Context, err *cloud.APIError) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.waiting = append(h.waiting, err.Code)
	}
	h.batch = &Batch[string]{Rules: r, Fetch: h.cloud.fetch}
	h.batch.now = func() time.Time {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.now
	}
	return h
}

// wait starts a waiter for id in group; its result arrives on the channel.
func (h *harness) wait(ctx context.Context, group, id string, rest time.Duration) <-chan error {
	h.cloud.set(id, "Creating")
	done := make(chan error, 1)
	go func() { done <- h.batch.Wait(ctx, group, id, check(rest), nil) }()
	return done
}

// joined waits until n waits are registered in group.
func (h *harness) joined(group string, n int) {
	for h.batch.Waiters(group) != n {
		runtime.Gosched()
	}
}

// step lets the loops of groups loops run one tick each and waits until
// their calls are over.
func (h *harness) step(loops int) {
	for range loops {
		h.ticks.tick()
	}
	for range loops {
		h.ticks.idle()
	}
}

// groups is how many groups have a running loop.
func (h *harness) groups() int {
	h.batch.mu.Lock()
	defer h.batch.mu.Unlock()
	return len(h.batch.groups)
}

// waited waits until Rules.Waiting has been called n times.
func (h *harness) waited(n int) {
	for {
		h.mu.Lock()
		k := len(h.waiting)
		h.mu.Unlock()
		if k >= n {
			return
		}
		runtime.Gosched()
	}
}

func pending(t *testing.T, ch <-chan error) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("the wait ended (%v); it should still be waiting", err)
	default:
	}
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

func TestBatchOneCallPerTickPerGroupBeyond100IDs(t *testing.T) {
	h := newHarness(t, Rules{Interval: time.Second})
	ctx := t.Context()
	var inA, inB []<-chan error
	for _, id := range ids("a", 250) {
		inA = append(inA, h.wait(ctx, "region-a", id, 0))
	}
	for _, id := range ids("b", 3) {
		inB = append(inB, h.wait(ctx, "region-b", id, 0))
	}
	h.joined("region-a", 250)
	h.joined("region-b", 3)
	require.Equal(t, time.Second, h.ticks.idle(), "a group's loop waits one interval before its first call")
	require.Equal(t, time.Second, h.ticks.idle())

	for range 3 {
		h.step(2)
		calls, groups := h.cloud.takeCalls()
		// region-a: 250 IDs in calls of at most 100; region-b: one call.
		require.Len(t, calls, 4, "one call per 100 IDs per group and tick, not one per waiter")
		var asked []string
		perGroup := map[string][]int{}
		for i, c := range calls {
			require.LessOrEqual(t, len(c), DefaultBatchSize)
			perGroup[groups[i]] = append(perGroup[groups[i]], len(c))
			asked = append(asked, c...)
		}
		slices.Sort(perGroup["region-a"])
		require.Equal(t, []int{50, 100, 100}, perGroup["region-a"])
		require.Equal(t, []int{3}, perGroup["region-b"])
		slices.Sort(asked)
		require.Equal(t, slices.Concat(ids("a", 250), ids("b", 3)), asked, "every waiter asked about once a tick")
	}
	for _, ch := range slices.Concat(inA, inB) {
		pending(t, ch)
	}

	// Every waiter is woken by the tick after its resource is done.
	for _, id := range slices.Concat(ids("a", 250), ids("b", 3)) {
		h.cloud.set(id, "Available")
	}
	h.ticks.tick()
	h.ticks.tick()
	for _, ch := range slices.Concat(inA, inB) {
		require.NoError(t, <-ch)
	}
	// Nobody waits any more: both loops end at their next tick, without a
	// call, and the groups are gone.
	h.ticks.idle()
	h.ticks.idle()
	h.cloud.takeCalls()
	h.ticks.tick()
	h.ticks.tick()
	for h.groups() > 0 {
		runtime.Gosched()
	}
	calls, _ := h.cloud.takeCalls()
	require.Empty(t, calls)
}

func TestBatchWakesWithinATickAndFailsOnlyItsWaiter(t *testing.T) {
	h := newHarness(t, Rules{Interval: time.Second})
	ctx := t.Context()
	first := h.wait(ctx, "r", "x1", 0)
	second := h.wait(ctx, "r", "x2", 0)
	third := h.wait(ctx, "r", "x3", 0)
	h.joined("r", 3)
	h.ticks.idle()
	h.step(1)
	pending(t, first)

	h.cloud.set("x1", "Available")
	h.cloud.set("x2", "Failed")
	// Exactly one tick more: the loop cannot tick again until the test lets
	// it, so these waits end on that tick's answer.
	h.ticks.tick()
	require.NoError(t, <-first)
	require.ErrorIs(t, <-second, errFailed)
	h.ticks.idle()
	pending(t, third)

	h.step(1)
	calls, _ := h.cloud.takeCalls()
	require.Equal(t, []string{"x3"}, calls[len(calls)-1], "the ended waits are not asked about any more")
	pending(t, third)
}

func TestBatchCancelledWaiterLeavesAtOnce(t *testing.T) {
	h := newHarness(t, Rules{Interval: time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	cancelled := h.wait(ctx, "r", "c1", 0)
	other := h.wait(t.Context(), "r", "c2", 0)
	h.joined("r", 2)
	h.ticks.idle()

	cancel()
	err := <-cancelled // no tick needed
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, "Cancelled", appErr.Type())
	require.ErrorIs(t, err, context.Canceled)
	h.joined("r", 1)

	h.step(1)
	calls, _ := h.cloud.takeCalls()
	require.Equal(t, [][]string{{"c2"}}, calls)
	pending(t, other)
}

func TestBatchSameIDAskedOnceWakesEveryWaiter(t *testing.T) {
	h := newHarness(t, Rules{Interval: time.Second})
	one := h.wait(t.Context(), "r", "same", 0)
	two := h.wait(t.Context(), "r", "same", 0)
	h.joined("r", 2)
	h.ticks.idle()
	h.step(1)
	calls, _ := h.cloud.takeCalls()
	require.Equal(t, [][]string{{"same"}}, calls)

	h.cloud.set("same", "Available")
	h.ticks.tick()
	require.NoError(t, <-one)
	require.NoError(t, <-two)
}

func TestBatchThrottlingAndErrors(t *testing.T) {
	h := newHarness(t, Rules{Interval: time.Second, MaxErrors: 3, Backoff: 2 * time.Second, MaxBackoff: 10 * time.Second})
	w := h.wait(t.Context(), "r", "e1", 0)
	h.joined("r", 1)
	require.Equal(t, time.Second, h.ticks.idle())

	// Throttled: the next tick waits the cloud's Retry-After, the waiter
	// heartbeats the code and keeps waiting.
	h.cloud.fail(throttled)
	h.ticks.tick()
	require.Equal(t, 3*time.Second, h.ticks.idle())
	h.waited(1)
	pending(t, w)

	// A 5xx without Retry-After: the backoff (doubled per error in a row).
	// The third error in a row fails the attempt.
	h.cloud.fail(unavailable)
	h.ticks.tick()
	require.Equal(t, 4*time.Second, h.ticks.idle())
	h.waited(2)
	pending(t, w)
	h.cloud.fail(unavailable)
	h.ticks.tick()
	require.ErrorIs(t, <-w, unavailable, "MaxErrors retryable errors in a row fail the attempt")
	h.mu.Lock()
	require.Equal(t, []string{cloud.CodeThrottling, cloud.CodeServiceUnavailable}, h.waiting)
	h.mu.Unlock()
	// The count starts over for the next attempt.
	require.Equal(t, time.Second, h.ticks.idle())

	// An answer resets the count; a non-retryable error ends the waits of
	// its call at once.
	w2 := h.wait(t.Context(), "r", "e2", 0)
	h.joined("r", 1)
	h.cloud.fail(unavailable)
	h.ticks.tick()
	require.Equal(t, 2*time.Second, h.ticks.idle())
	h.ticks.tick() // answers
	require.Equal(t, time.Second, h.ticks.idle(), "an answer resets the backoff")
	h.cloud.fail(invalid)
	h.ticks.tick()
	require.ErrorIs(t, <-w2, invalid)
}

func TestBatchPacedWaitersRideOnlyInSpareRoom(t *testing.T) {
	h := newHarness(t, Rules{Interval: time.Second})
	var chans []<-chan error
	// 100 copies far from done (they ask to be left out for an hour) and 50
	// copies near their end.
	for _, id := range ids("far", 100) {
		chans = append(chans, h.wait(t.Context(), "r", id, time.Hour))
	}
	for _, id := range ids("near", 50) {
		chans = append(chans, h.wait(t.Context(), "r", id, 0))
	}
	h.joined("r", 150)
	h.ticks.idle()

	// First tick: nobody has answered yet, all 150 are due: two calls.
	h.step(1)
	calls, _ := h.cloud.takeCalls()
	require.Len(t, calls, 2)
	// The waiters record their pace from the answers; let them.
	for {
		h.batch.mu.Lock()
		paced := 0
		for w := range h.batch.groups["r"].waiters {
			if !w.due.IsZero() {
				paced++
			}
		}
		h.batch.mu.Unlock()
		if paced == 100 {
			break
		}
		runtime.Gosched()
	}

	// Next tick: the 50 due ones, and the call's spare room filled with 50
	// of the paced ones: one call, not two.
	h.step(1)
	calls, _ = h.cloud.takeCalls()
	require.Len(t, calls, 1)
	require.Len(t, calls[0], DefaultBatchSize)
	require.Subset(t, calls[0], ids("near", 50))

	// An hour later all are due again.
	h.mu.Lock()
	h.now = h.now.Add(time.Hour)
	h.mu.Unlock()
	h.step(1)
	calls, _ = h.cloud.takeCalls()
	require.Len(t, calls, 2)
	for _, ch := range chans {
		pending(t, ch)
	}
}
