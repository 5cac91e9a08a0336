package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
)

type testProgress struct {
	Step    string
	Waiting string
}

type testResult struct{ Image string }

// fakeRun is a run whose progress steps through progress, one per query
// (the last repeats), and that ends with end once released.
type fakeRun struct {
	client  *mocks.Client
	queries atomic.Int32
	release chan struct{}
}

func newFakeRun(t *testing.T, progress []testProgress, result testResult, end error) *fakeRun {
	f := &fakeRun{client: &mocks.Client{}, release: make(chan struct{})}
	run := &mocks.WorkflowRun{}
	run.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		select {
		case <-f.release:
		case <-args.Get(0).(context.Context).Done():
		}
		*args.Get(1).(*testResult) = result
	}).Return(end)
	f.client.On("GetWorkflow", mock.Anything, "op/x", "").Return(run)
	f.client.On("QueryWorkflow", mock.Anything, "op/x", "", "progress").Return(func(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
		i := int(f.queries.Add(1)) - 1
		v := &mocks.Value{}
		v.On("Get", mock.Anything).Run(func(args mock.Arguments) {
			*args.Get(0).(*testProgress) = progress[min(i, len(progress)-1)]
		}).Return(nil)
		return v, nil
	}).Maybe()
	t.Cleanup(func() {
		select {
		case <-f.release:
		default:
			close(f.release)
		}
	})
	return f
}

// releaseAfter ends the run once it was queried n times.
func (f *fakeRun) releaseAfter(n int32) {
	go func() {
		for f.queries.Load() < n {
			time.Sleep(time.Millisecond)
		}
		close(f.release)
	}()
}

func testWatch(exitOnPause bool, failed *bool) watch[testProgress, testResult] {
	return watch[testProgress, testResult]{
		Query:       "progress",
		Show:        changedLine(func(p *testProgress) string { return "step " + p.Step }),
		Waiting:     func(p *testProgress) string { return p.Waiting },
		Hint:        "starter op resume x",
		ExitOnPause: exitOnPause,
		Done: func(out io.Writer, r *testResult) error {
			_, err := out.Write([]byte("built " + r.Image + "\n"))
			return err
		},
		Failed: func(io.Writer, error) { *failed = true },
	}
}

func fastWatch(t *testing.T) {
	old := watchInterval
	watchInterval = 5 * time.Millisecond
	t.Cleanup(func() { watchInterval = old })
}

// With --exit-on-pause, every operation's watch stops with exit code 4 at
// the first pause, after saying what the run waits for and how to decide.
func TestWatchExitsOnPause(t *testing.T) {
	fastWatch(t)
	f := newFakeRun(t, []testProgress{{Step: "copy"}, {Step: "copy", Waiting: "resume"}}, testResult{}, nil)
	var out bytes.Buffer
	failed := false
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the run never ends
	defer cancel()
	_, err := watchRun(ctx, &app{temporal: f.client}, &out, "op/x", "", testWatch(true, &failed))
	require.Equal(t, exitPaused, exitCode(t, err), "%v", err)
	require.ErrorContains(t, err, "op/x waits for an operator decision: resume")
	require.Equal(t, "step copy\n⏸  waiting for resume\n   e.g. starter op resume x\n", out.String())
}

// Without it, the watch says once that the run waits, keeps watching
// through the pause, and ends with the run's result.
func TestWatchKeepsWatchingThroughAPause(t *testing.T) {
	fastWatch(t)
	f := newFakeRun(t, []testProgress{
		{Step: "copy"}, {Step: "copy", Waiting: "resume"}, {Step: "copy", Waiting: "resume"}, {Step: "copy", Waiting: "resume"},
		{Step: "share"}, {Step: "done"},
	}, testResult{Image: "m-1"}, nil)
	f.releaseAfter(6)
	var out bytes.Buffer
	failed := false
	r, err := watchRun(context.Background(), &app{temporal: f.client}, &out, "op/x", "", testWatch(false, &failed))
	require.NoError(t, err)
	require.Equal(t, "m-1", r.Image)
	require.Equal(t, 1, strings.Count(out.String(), "⏸  waiting for resume"), out.String())
	require.Contains(t, out.String(), "step share\nstep done\nbuilt m-1\n")
	require.False(t, failed)
}

// A run that does not complete is exit code 1 for every operation, after
// the operation printed what the run left.
func TestWatchOfARunThatFails(t *testing.T) {
	fastWatch(t)
	f := newFakeRun(t, []testProgress{{Step: "copy"}}, testResult{}, errors.New("quota exceeded"))
	f.releaseAfter(1)
	var out bytes.Buffer
	failed := false
	_, err := watchRun(context.Background(), &app{temporal: f.client}, &out, "op/x", "", testWatch(true, &failed))
	require.Equal(t, exitFailed, exitCode(t, err))
	require.ErrorContains(t, err, "op/x did not complete: quota exceeded")
	require.True(t, failed)
	require.NotContains(t, out.String(), "built")
}

func TestPrintersPrintOnlyWhatChanged(t *testing.T) {
	var out bytes.Buffer
	rows := changedRows(func(p *[]row) []row { return *p })
	rows(&out, &[]row{{"eu", "  eu  Copying"}, {"us", "  us  Copying   "}})
	rows(&out, &[]row{{"eu", "  eu  Copying"}, {"us", "  us  Available"}})
	require.Equal(t, "  eu  Copying\n  us  Copying\n  us  Available\n", out.String())

	out.Reset()
	frame := changedFrame(func(w io.Writer, s *string) { _, _ = w.Write([]byte(*s + "\n")) })
	for _, s := range []string{"a", "a", "b"} {
		frame(&out, &s)
	}
	require.Equal(t, "a\n---\nb\n", out.String(), "a buffer is no terminal: frames are separated, not cleared")
}

// A redraw that cleared the terminal while the run still waits says again
// what it waits for; a redraw that cleared nothing does not.
func TestWatchRepeatsThePauseAfterAClearedRedraw(t *testing.T) {
	fastWatch(t)
	f := newFakeRun(t, []testProgress{
		{Step: "1", Waiting: "resume"}, {Step: "1", Waiting: "resume"}, {Step: "2", Waiting: "resume"}, {Step: "3"},
	}, testResult{Image: "m-1"}, nil)
	f.releaseAfter(5)
	var out bytes.Buffer
	failed := false
	w := testWatch(false, &failed)
	last := ""
	w.Show = func(out io.Writer, p *testProgress) bool { // a terminal: every change clears it
		if p.Step == last {
			return false
		}
		last = p.Step
		out.Write([]byte("[clear]step " + p.Step + "\n"))
		return true
	}
	_, err := watchRun(context.Background(), &app{temporal: f.client}, &out, "op/x", "", w)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(out.String(), "⏸  waiting for resume"), out.String())
}
