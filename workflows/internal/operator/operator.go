// Package operator registers operator commands: each command is both a signal
// (so `temporal workflow signal` and the Web UI's signal button can send it)
// and an update with a validator (so a client gets an immediate accept or the
// reason for refusal). Both paths run the same validation and the same apply.
package operator

import (
	"go.temporal.io/sdk/workflow"
)

// Command is one operator command with a typed payload.
type Command[T any] struct {
	Name string
	// Validate refuses a command that does not apply to the current state.
	// It must not change state.
	Validate func(T) error
	// Apply changes the workflow's state; it must not block.
	Apply func(T)
}

// Register installs the command as a signal and as an update. A refused
// signal cannot answer its sender, so onRefused is told (to log it and keep
// it in the run's queryable state).
func Register[T any](ctx workflow.Context, c Command[T], onRefused func(command string, err error)) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, c.Name,
		func(ctx workflow.Context, payload T) error {
			c.Apply(payload)
			return nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, payload T) error { return c.Validate(payload) }},
	)
	if err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, c.Name)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var payload T
			if !ch.Receive(ctx, &payload) {
				return
			}
			if err := c.Validate(payload); err != nil {
				onRefused(c.Name, err)
				continue
			}
			c.Apply(payload)
		}
	})
	return nil
}
