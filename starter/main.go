// Command starter is imagefleet's command line: it starts operations, shows
// their progress and sends operator commands. Temporal connection settings
// come from the environment like the worker's (TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, temporal.toml profiles).
//
// Exit codes: 0 done, 1 the operation or a call failed, 2 invalid input
// (nothing was started), 3 an operator command was refused, 4 the run waits
// for an operator decision (with --exit-on-pause; a rolling update's --watch
// stops there unless --exit-on-pause=false), 5 an operator command is
// pending: the server holds it but the run has not answered in time (no
// worker), so it may still be applied.
//
// Every operation's commands are built from the same pieces: a start path
// (start.go: check the spec, start under the canonical workflow ID, print
// the Web UI link), one watch loop (watch.go), one decide command for
// operator commands (decide.go) and one way to merge a spec file with flags
// (specflags.go). The checks shared with the activities are in
// internal/cloudops.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitFailed  = 1
	exitInvalid = 2
	exitRefused = 3
	exitPaused  = 4
	exitPending = 5
)

// exitError carries the process exit code of an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func invalid(format string, args ...any) error {
	return &exitError{code: exitInvalid, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := newApp(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(exitInvalid)
	}
	root := rootCommand(app)
	out := &printableWriter{w: os.Stdout}
	root.SetOut(out)
	err = root.ExecuteContext(ctx)
	_ = out.Flush()
	app.close()
	app.shutdown()
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) && ee.code == exitPending {
			fmt.Fprintln(os.Stderr, printable(err.Error())) // not an error: it may still be applied
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "error:", printable(err.Error()))
		if ee != nil {
			os.Exit(ee.code)
		}
		os.Exit(exitFailed)
	}
}

// rootCommand is the starter's command tree.
func rootCommand(app *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "starter",
		Short:         "Start, watch and steer imagefleet operations",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) { cmd.SetContext(app.startSpan(cmd.Context(), cmd.CommandPath())) }
	root.PersistentPostRun = func(*cobra.Command, []string) { app.close() }
	root.AddCommand(cancelCommands(app)...) // cancel, and abort (deprecated)
	root.AddCommand(
		distributeCommand(app),
		statusCommand(app),
		regionDecisionCommand(app, "retry-region"),
		regionDecisionCommand(app, "drop-region"),
		serviceCommand(app),
		packageCommand(app),
		blueGreenCommand(app),
		demoCommand(app),
		rolloutCommand(app),
		setupCommand(app),
		buildTemplateCommand(app),
		templateCommand(app), // deprecated: build-template
		buildCommand(app),
		releaseCommand(app),
	)
	usageErrors(root)
	return root
}
