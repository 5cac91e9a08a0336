// Package operator registers operator commands: each command is both a signal
// (so `temporal workflow signal` and the Web UI's signal button can send it)
// and an update with a validator (so a client gets an immediate accept or the
// reason for refusal). Both paths run the same validation and the same apply.
package operator

import (
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
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
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, payload T) error { return c.Validate(payload) }},
	)
	if err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, name)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var payload T
			if !ch.Receive(ctx, &payload) {
				return
			}
			if err := c.Validate(payload); err != nil {
				onRefused(name, err)
				continue
			}
			c.Apply(payload)
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
