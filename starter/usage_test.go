package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// issue 18: a command called wrongly is invalid input (exit code 2), with
// nothing sent: a flag that does not parse, a number out of range, an
// unknown flag, a flag or an argument missing, an unknown subcommand, and
// an argument that is not valid UTF-8 (it ended in a raw gRPC error). The
// client is never asked.
func TestUsageErrorsAreInvalidInput(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		contains string
	}{
		{"not a number", []string{"rollout", "start", "asg-web", "--batches", "abc"}, `invalid argument "abc" for "--batches"`},
		{"out of range", []string{"rollout", "start", "asg-web", "--batches", "99999999999999999999"}, "value out of range"},
		{"unknown flag", []string{"distribute", "--regoins", "eu-west-1"}, "unknown flag: --regoins"},
		{"flag without its value", []string{"rollout", "cancel", "asg-web", "--reason"}, "flag needs an argument"},
		{"missing argument", []string{"rollout", "skip", "asg-web"}, "accepts 2 arg(s), received 1"},
		{"too many arguments", []string{"status", "a", "b"}, "accepts 1 arg(s), received 2"},
		{"unknown command", []string{"distirbute"}, `unknown command "distirbute" for "starter"`},
		{"unknown subcommand", []string{"rollout", "resmue", "asg-web"}, `unknown command "resmue" for "starter rollout"; did you mean resume?`},
		{"invalid UTF-8 group", []string{"rollout", "status", "asg-\xff"}, `argument 1 "asg-\xff" is not valid UTF-8`},
		{"invalid UTF-8 instance", []string{"rollout", "skip", "asg-web", "i-1\xc3"}, `argument 2 "i-1\xc3" is not valid UTF-8`},
		{"required flag", []string{"service", "create", "--visibility", "Public"}, `required flag(s) "name" not set`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sent := acceptingClient(t)
			root := rootCommand(&app{temporal: c, namespace: "default"})
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(tc.args)
			err := root.ExecuteContext(context.Background())
			require.Equal(t, exitInvalid, exitCode(t, err), "%v", err)
			require.ErrorContains(t, err, tc.contains)
			require.Empty(t, *sent)
			c.AssertNotCalled(t, "DescribeTaskQueue")
		})
	}
}

// Help is not an error.
func TestGroupWithoutSubcommandPrintsHelp(t *testing.T) {
	root := rootCommand(&app{})
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"rollout"})
	require.NoError(t, root.ExecuteContext(context.Background()))
	require.Contains(t, out.String(), "Available Commands")
}

// What the starter prints reaches a terminal as text: control characters,
// bidirectional controls and invalid bytes are escaped, line breaks kept.
func TestPrintableEscapesControlCharacters(t *testing.T) {
	require.Equal(t, `a\x00b\x1b[2Jc\u202ed\xff`+"\nnext\tcol", printable("a\x00b\x1b[2Jc\u202ed\xff\nnext\tcol"))
	require.Equal(t, "网页 ✓", printable("网页 ✓"))
}

// What a status command prints from a run (a refusal echoing a client's
// input) reaches the terminal escaped, also when a character is split
// between two writes.
func TestPrintableWriter(t *testing.T) {
	var b bytes.Buffer
	w := &printableWriter{w: &b}
	msg := []byte("Refused:   skip i-1\x1b[2J\u202e: not failed ✓\n")
	for i := range msg { // one byte at a time
		_, err := w.Write(msg[i : i+1])
		require.NoError(t, err)
	}
	require.NoError(t, w.Flush())
	require.Equal(t, `Refused:   skip i-1\x1b[2J\u202e: not failed ✓`+"\n", b.String())
	b.Reset()
	_, _ = w.Write([]byte("end\xe2\x9c"))
	require.NoError(t, w.Flush())
	require.Equal(t, `end\xe2\x9c`, b.String())
}
