// Package operator registers operator commands: each command is both a signal
// (so `temporal workflow signal` and the Web UI's signal button can send it)
// and an update with a validator (so a client gets an immediate accept or the
// reason for refusal). Both paths run the same validation and the same apply.
//
// Both paths decode the payload with the strict converter of
// internal/payload: a field the command does not have, or one spelled in
// another case ("instanceID"), refuses the command. An update is refused to
// its sender; a signal, which cannot answer, is refused like any other
// refused signal (Refused), never dropped without a word. A refusal
// reaches its sender and lastRefusal escaped and capped (refusal): it
// echoes what a client sent.
package operator

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/internal/payload"
	"github.com/imagefleet/imagefleet/model"
)

// Command is one operator command with a typed payload.
type Command[T any] struct {
	Name string
	// Aliases are old names the command is still accepted under (a renamed
	// public command keeps working until its deprecation ends).
	Aliases []string
	// Validate refuses a command that does not apply to the current state.
	// It must not change state.
	Validate func(T) error
	// Apply changes the workflow's state; it must not block.
	Apply func(T)
}

// Refused is told of a signal that Validate refused, under the name it was
// sent by. A refused signal cannot answer its sender, so the run keeps the
// refusal where a client can read it.
type Refused func(command string, err error)

// RecordRefusal is the usual Refused: it keeps the last refusal in the run's
// progress (last) and logs it.
func RecordRefusal(last *string, logger log.Logger) Refused {
	return func(command string, err error) {
		*last = command + ": " + err.Error()
		logger.Warn("Operator command refused", "command", command, "error", err)
	}
}

// Register installs the command, under its name and each alias, as a signal
// and as an update.
func Register[T any](ctx workflow.Context, c Command[T], onRefused Refused) error {
	for _, name := range append([]string{c.Name}, c.Aliases...) {
		if err := register(ctx, name, c, onRefused); err != nil {
			return err
		}
	}
	return nil
}

func register[T any](ctx workflow.Context, name string, c Command[T], onRefused Refused) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, payload T) error {
			c.Apply(payload)
			return nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, payload T) error { return refusal(c.Validate(payload)) }},
	)
	if err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, name)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			// Received raw (the SDK has already removed the codec): a
			// payload the SDK failed to decode would be dropped with only
			// a line in the worker's log.
			var raw converter.RawValue
			if !ch.Receive(ctx, &raw) {
				return
			}
			cmd, err := decode[T](raw)
			if err == nil {
				err = c.Validate(cmd)
			}
			if err != nil {
				onRefused(name, refusal(err))
				continue
			}
			c.Apply(cmd)
		}
	})
	return nil
}

// AwaitSignals waits until every signal delivered under names has been
// received: validated, then applied or refused (and the refusal kept). A
// run calls it before it continues as new, so that no signal is left in a
// channel that the next run never reads.
func AwaitSignals(ctx workflow.Context, names ...string) error {
	return workflow.Await(ctx, func() bool {
		for _, name := range names {
			if workflow.GetSignalChannel(ctx, name).Len() > 0 {
				return false
			}
		}
		return true
	})
}

// maxRefusal is how many characters of a refusal a sender or lastRefusal
// gets: a refusal echoes what was sent (an instance ID, a region), which
// can be long.
const maxRefusal = 1000

// refusal is err as its sender and lastRefusal show it: what it echoes
// with control characters escaped (model.Escape), and cut at maxRefusal
// characters. An error that needs neither is returned as it is (its type
// kept).
func refusal(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := model.Cut(model.Escape(msg), maxRefusal)
	if clean == msg {
		return err
	}
	return errors.New(clean)
}

// decode reads a signal's payload strictly, as the update path reads it. A
// signal sent without input is the command's zero value, for Validate to
// judge.
func decode[T any](raw converter.RawValue) (T, error) {
	var cmd T
	if p := raw.Payload(); p != nil {
		if err := payload.Converter.FromPayload(p, &cmd); err != nil {
			return cmd, fmt.Errorf("the payload was refused: %w", err)
		}
	}
	return cmd, nil
}
