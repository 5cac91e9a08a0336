package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/imagefleet/imagefleet/model"
)

// usageErrors makes every mistake in how a command is called invalid input
// (exit code 2, nothing sent): a flag that does not parse (`--batches abc`,
// a number out of range, an unknown flag, a flag without its value), a
// missing required flag, a wrong number of arguments, an unknown
// subcommand, and an argument that is not valid UTF-8 (it would become a
// workflow ID or a cloud name, and end in a raw gRPC error). Call it on the
// finished command tree.
func usageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usage(c, err) })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		args := c.Args
		if c.HasSubCommands() && !c.Runnable() {
			// A group: cobra would print its help and exit 0 for an
			// unknown subcommand of it.
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					err := fmt.Errorf("unknown command %s for %q", model.Quote(args[0]), cmd.CommandPath())
					if cmd.SuggestionsMinimumDistance <= 0 {
						cmd.SuggestionsMinimumDistance = 2 // cobra's default for its own suggestions
					}
					if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
						err = fmt.Errorf("%w; did you mean %s?", err, strings.Join(s, " or "))
					}
					return usage(cmd, err)
				}
				return cmd.Help()
			}
			args = cobra.ArbitraryArgs
		}
		c.Args = func(cmd *cobra.Command, a []string) error {
			if args != nil {
				if err := args(cmd, a); err != nil {
					return usage(cmd, err)
				}
			}
			for i, s := range a {
				// Not sendable at all (gRPC strings are UTF-8). Control
				// characters are the specs' to refuse (model): an existing
				// run's ID that holds one can still be named.
				if !utf8.ValidString(s) {
					return usage(cmd, fmt.Errorf("argument %d %s is not valid UTF-8", i+1, model.Quote(s)))
				}
			}
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return usage(cmd, err)
			}
			return nil
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// usage is invalid input in how cmd was called, with a pointer to its help.
func usage(cmd *cobra.Command, err error) error {
	return &exitError{code: exitInvalid, err: fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
}

// printable escapes what a terminal would interpret in a message printed
// raw (model.Escape): what a message echoes from input or from the server
// reaches the terminal as text.
func printable(msg string) string { return model.Escape(msg) }

// printableWriter passes what the starter prints through printable: a
// status line echoes text from a run (a refusal naming an instance ID that
// a client sent, a description), which must reach the terminal as text. A
// character split between two writes is held until it is whole.
type printableWriter struct {
	w    io.Writer
	part []byte // the start of an incomplete UTF-8 sequence
}

func (p *printableWriter) Write(b []byte) (int, error) {
	data := append(p.part, b...)
	p.part = nil
	// Hold back an incomplete character at the end (at most 3 bytes).
	for cut := len(data) - 1; cut >= 0 && cut >= len(data)-3; cut-- {
		if utf8.RuneStart(data[cut]) {
			if !utf8.FullRune(data[cut:]) {
				p.part = append([]byte(nil), data[cut:]...)
				data = data[:cut]
			}
			break
		}
	}
	if _, err := io.WriteString(p.w, printable(string(data))); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Flush writes a held incomplete character, escaped.
func (p *printableWriter) Flush() error {
	if len(p.part) == 0 {
		return nil
	}
	_, err := io.WriteString(p.w, printable(string(p.part)))
	p.part = nil
	return err
}
