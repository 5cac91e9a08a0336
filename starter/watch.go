package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"go.temporal.io/api/enums/v1"
	"golang.org/x/term"

	"github.com/imagefleet/imagefleet/internal/codec"
)

// watchInterval is how often a watch asks the run for its progress (a
// variable for the tests).
var watchInterval = 500 * time.Millisecond

// watch is how to watch one operation's runs: watchRun is the one loop that
// every --wait and --watch uses, so that a run's end and its pauses are
// handled the same way for every operation.
type watch[P, R any] struct {
	// Query is the progress query; it is sent to the latest run of the ID,
	// which follows a run that continued as new.
	Query string
	// Show prints what changed in a progress (see changedRows, changedLine,
	// changedFrame).
	Show printer[P]
	// Waiting is the operator decision the run waits for, "" while it does
	// not wait for one.
	Waiting func(*P) string
	// Hint names the commands an operator may send while the run waits.
	Hint string
	// HintFor, when set, names them for the progress the run waits in
	// (instead of Hint): only commands that apply to it.
	HintFor func(*P) string
	// ExitOnPause stops the watch with exit code 4 when the run starts
	// waiting for a decision; otherwise the watch goes on until the run ends.
	ExitOnPause bool
	// Done prints the result of a run that completed (nil: nothing more).
	Done func(out io.Writer, r *R) error
	// Failed prints what a run that did not complete left (nil: nothing).
	Failed func(out io.Writer, err error)
}

// watchRun prints a run's progress as it changes until the run ends, and
// returns its result. When the run starts waiting for an operator decision
// it says so once, with the commands to send; with ExitOnPause it then
// stops (exit code 4). A run that does not complete is exit code 1. runID
// "" watches the latest run of id.
func watchRun[P, R any](ctx context.Context, a *app, out io.Writer, id, runID string, w watch[P, R]) (*R, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	var result R
	go func() { done <- c.GetWorkflow(ctx, id, runID).Get(ctx, &result) }()

	show := func() (p *P, cleared bool) {
		p, err := query[P](ctx, a, id, "", w.Query)
		if err != nil {
			return nil, false // the worker may be busy or restarting: keep watching
		}
		return p, w.Show(out, p)
	}
	waiting := ""
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			show()
			if completedButUnreadable(ctx, a, id, runID, err) {
				// The run did complete: saying it failed would be a lie an
				// operator may act on. Only its result cannot be read here.
				fmt.Fprintf(out, "%s completed; its result is not shown: %v\n", id, err)
				return nil, nil
			}
			if err != nil {
				if w.Failed != nil {
					w.Failed(out, err)
				}
				return nil, fmt.Errorf("%s did not complete: %w", id, err)
			}
			if w.Done != nil {
				if err := w.Done(out, &result); err != nil {
					return nil, err
				}
			}
			return &result, nil
		case <-tick.C:
			p, cleared := show()
			if p == nil {
				continue
			}
			// Said once per decision awaited, and again after a redraw
			// cleared the terminal.
			now := w.Waiting(p)
			if now != "" && (now != waiting || cleared) {
				fmt.Fprintf(out, "⏸  waiting for %s\n", now)
				hint := w.Hint
				if w.HintFor != nil {
					hint = w.HintFor(p)
				}
				if hint != "" {
					fmt.Fprintf(out, "   e.g. %s\n", hint)
				}
				if w.ExitOnPause {
					return nil, &exitError{code: exitPaused, err: fmt.Errorf("%s waits for an operator decision: %s", id, now)}
				}
			}
			waiting = now
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// printer prints what changed in a run's progress since it last printed,
// and says whether it cleared the terminal to do so.
type printer[P any] func(out io.Writer, p *P) (cleared bool)

// row is one line of a progress that changes on its own, e.g. a region's.
type row struct{ key, text string }

// changedRows prints each row whose text changed: a run over many regions
// prints a line per region as that region moves on.
func changedRows[P any](rows func(*P) []row) printer[P] {
	seen := map[string]string{}
	return func(out io.Writer, p *P) bool {
		for _, r := range rows(p) {
			if seen[r.key] != r.text {
				seen[r.key] = r.text
				fmt.Fprintln(out, strings.TrimRight(r.text, " "))
			}
		}
		return false
	}
}

// changedLine prints the progress's one-line summary when it changed.
func changedLine[P any](line func(*P) string) printer[P] {
	last := ""
	return func(out io.Writer, p *P) bool {
		if l := line(p); l != last {
			fmt.Fprintln(out, l)
			last = l
		}
		return false
	}
}

// changedFrame redraws the whole progress when it changed: over the last
// frame on a terminal, after a "---" line elsewhere (a log, a pipe).
func changedFrame[P any](frame func(io.Writer, *P)) printer[P] {
	last := ""
	return func(out io.Writer, p *P) bool {
		var b strings.Builder
		frame(&b, p)
		text := b.String()
		if text == last {
			return false
		}
		tty := isTerminal(out)
		switch {
		case tty:
			fmt.Fprint(out, ansi.CursorHomePosition+ansi.EraseEntireScreen)
		case last != "":
			fmt.Fprintln(out, "---")
		}
		fmt.Fprint(out, text)
		last = text
		return tty
	}
}

// isTerminal reports whether out is a terminal (not a file or a pipe).
func isTerminal(out io.Writer) bool {
	f, ok := out.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// completedButUnreadable reports whether err is a result this starter's keys
// do not decrypt of a run that completed.
func completedButUnreadable(ctx context.Context, a *app, id, runID string, err error) bool {
	var ke *codec.KeyError
	if !errors.As(err, &ke) {
		return false
	}
	c, cerr := a.client()
	if cerr != nil {
		return false
	}
	desc, derr := c.DescribeWorkflowExecution(ctx, id, runID)
	return derr == nil && desc.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
}
