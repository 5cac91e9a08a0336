// Package clock holds the one context-aware sleep every layer uses: the
// cloud client between retries, the activities between polls, the simulated
// cloud for an injected delay.
package clock

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends: then it returns ctx.Err(). Unlike
// time.After in a select, it frees its timer at once when ctx ends first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
