package activities

import (
	"context"
	"time"
)

// SetCopyTicks makes the shared poller of a's copies wait between ticks with
// sleep: a test lets it tick when it wants, and counts the calls per tick.
// Call it before any AwaitImageAvailable runs.
func SetCopyTicks(a *Images, sleep func(ctx context.Context, d time.Duration) error) {
	a.copies().Sleep = sleep
}

// CopyWaiters is how many AwaitImageAvailable activities wait in a's poller
// of region.
func CopyWaiters(a *Images, region string) int { return a.copies().Waiters(region) }
