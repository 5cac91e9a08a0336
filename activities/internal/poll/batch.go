package poll

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
)

// DefaultBatchSize is how many IDs one batched call asks about when
// Batch.Size is zero: ECS's DescribeImages takes at most 100 image IDs.
const DefaultBatchSize = 100

// Batch is one poller for many waiters: many activities of one worker
// process wait for resources of the same kind (copies of images), and
// instead of each polling on its own, they register with the Batch, which
// asks about all of them together. Per group (a region of the worker's
// account: one cloud client is one account) it runs one loop while anybody
// waits there; every Interval (one tick) it asks Fetch about the group's
// waited-on IDs, at most Size IDs per call, and hands each waiter its
// answer. The cloud calls per tick are therefore ⌈IDs/Size⌉ per group, not
// one per waiter; a group nobody waits in costs nothing.
//
// Pacing: a waiter's check may say how long its resource certainly stays
// unfinished (a copy at 10 % after a minute has minutes left); such a
// waiter is left out of the calls until then, but only where the calls
// have no room for it: the last call of a tick is filled up with waiters
// not yet due, earliest first, so with up to Size waiters in a group every
// one is asked about every tick, and pacing only saves calls beyond that.
//
// The Rules apply to the shared calls as Until applies them to one
// waiter's: a retryable error (throttling, 5xx, an unreachable cloud)
// delays the group's next tick by its Retry-After or the backoff, and the
// waiters are told (they heartbeat it); MaxErrors such errors in a row fail
// the attempts of every waiter the failing call asked about (their retries
// register again, and the count starts over); any other error of a call
// ends the waits of that call's waiters. A waiter whose context ends leaves
// at once with Stopped(ctx); the others are not disturbed.
type Batch[V any] struct {
	// Rules: the Interval between ticks, and how errors are waited out.
	// Waiting is the default heartbeat of a waiter while an error is.
	Rules Rules
	// Size is the most IDs one call asks about (DefaultBatchSize if zero).
	Size int
	// Fetch asks the cloud about ids in group, in one call (or the pages of
	// one). An ID missing from the answer is reported to its waiter as not
	// found.
	Fetch func(ctx context.Context, group string, ids []string) (map[string]V, error)
	// Sleep waits between ticks (clock.Sleep if nil); a test passes one that
	// waits for its go-ahead, to count calls per tick without timing them.
	Sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	groups map[string]*batchGroup[V]
	now    func() time.Time // time.Now; tests replace it
}

// BatchCheck looks at one answer about the waiter's resource (found is
// false when the cloud did not return it). done ends the wait; an error
// ends it too. rest, if positive, is how long the resource certainly stays
// unfinished: the waiter may be left out of the calls for that long.
type BatchCheck[V any] func(ctx context.Context, v V, found bool) (done bool, rest time.Duration, err error)

type batchGroup[V any] struct {
	waiters map[*batchWaiter[V]]struct{}
}

type batchWaiter[V any] struct {
	id  string
	due time.Time      // left out of the calls until then, if there is no room
	ch  chan answer[V] // capacity 1: the latest answer replaces an unread one
}

type answer[V any] struct {
	v     V
	found bool
	err   error
	fatal bool // err ends the wait even if it is retryable
}

// Wait waits in group until check says id's resource is done, or fails.
// beat heartbeats: with the retryable error the poller waits out (nil
// beat: Rules.Waiting), and with nil whenever no answer came for a few
// seconds (the activity's last progress), so that a long Retry-After or a
// paced waiter never misses its heartbeat timeout.
func (b *Batch[V]) Wait(ctx context.Context, group, id string, check BatchCheck[V], beat func(ctx context.Context, waiting *cloud.APIError)) error {
	r := b.Rules.withDefaults()
	w := &batchWaiter[V]{id: id, ch: make(chan answer[V], 1)}
	b.join(group, w)
	defer b.leave(group, w)
	keepAlive := time.NewTicker(beatEvery)
	defer keepAlive.Stop()
	if beat == nil {
		beat = func(ctx context.Context, err *cloud.APIError) {
			if err != nil {
				r.Waiting(ctx, err)
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return Stopped(ctx)
		case <-keepAlive.C:
			beat(ctx, nil)
		case a := <-w.ch:
			keepAlive.Reset(beatEvery)
			if a.err != nil {
				apiErr, ok := cloud.AsAPIError(a.err)
				if a.fatal || !ok || !apiErr.Retryable() {
					return a.err
				}
				beat(ctx, apiErr)
				continue
			}
			done, rest, err := check(ctx, a.v, a.found)
			if err != nil {
				return err
			}
			if done {
				return nil
			}
			if ctx.Err() != nil {
				return Stopped(ctx)
			}
			b.setDue(w, rest)
		}
	}
}

func (b *Batch[V]) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}

// join adds w to group, starting the group's loop if it was idle.
func (b *Batch[V]) join(group string, w *batchWaiter[V]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.groups == nil {
		b.groups = map[string]*batchGroup[V]{}
	}
	g := b.groups[group]
	if g == nil {
		g = &batchGroup[V]{waiters: map[*batchWaiter[V]]struct{}{}}
		b.groups[group] = g
		go b.run(group, g)
	}
	g.waiters[w] = struct{}{}
}

func (b *Batch[V]) leave(group string, w *batchWaiter[V]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if g := b.groups[group]; g != nil {
		delete(g.waiters, w)
	}
}

func (b *Batch[V]) setDue(w *batchWaiter[V], rest time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w.due = time.Time{}
	if rest > 0 {
		w.due = b.clock().Add(rest)
	}
}

// Waiters is how many waits are registered in group (for tests and
// metrics).
func (b *Batch[V]) Waiters(group string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if g := b.groups[group]; g != nil {
		return len(g.waiters)
	}
	return 0
}

// run is a group's loop: a tick, then the calls of that tick, until nobody
// waits in the group.
func (b *Batch[V]) run(group string, g *batchGroup[V]) {
	r := b.Rules.withDefaults()
	if b.Sleep != nil {
		r.sleep = b.Sleep
	}
	size := b.Size
	if size <= 0 {
		size = DefaultBatchSize
	}
	ctx := context.Background()
	errorsInARow := 0
	var lastErr *cloud.APIError
	for {
		wait := r.Interval
		if errorsInARow > 0 {
			wait = r.errorWait(errorsInARow, lastErr)
		}
		_ = r.sleep(ctx, wait)
		calls, stop := b.plan(group, g, size)
		if stop {
			return
		}
		for _, c := range calls {
			found, err := b.Fetch(ctx, group, c.ids)
			if err == nil {
				errorsInARow = 0
				for _, id := range c.ids {
					v, ok := found[id]
					c.tell(id, answer[V]{v: v, found: ok})
				}
				continue
			}
			apiErr, retryable := cloud.AsAPIError(err)
			retryable = retryable && apiErr.Retryable()
			if retryable {
				errorsInARow++
				lastErr = apiErr
			}
			fatal := !retryable || (r.MaxErrors != NoErrorCap && errorsInARow >= r.MaxErrors)
			for _, id := range c.ids {
				c.tell(id, answer[V]{err: err, fatal: fatal})
			}
			if fatal && retryable {
				errorsInARow = 0 // the failed attempts' retries start over
			}
			if retryable {
				break // the rest of this tick's calls wait for the next tick, after the backoff
			}
		}
	}
}

// batchCall is one call of a tick: its IDs and who waits for each (two
// activities may wait for the same image; it is asked about once).
type batchCall[V any] struct {
	ids     []string
	waiters map[string][]*batchWaiter[V]
}

func (c batchCall[V]) tell(id string, a answer[V]) {
	for _, w := range c.waiters[id] {
		w.tell(a)
	}
}

// plan picks the calls of one tick: the IDs due, in calls of size, and the
// last call filled up with IDs not yet due, earliest first. stop: nobody
// waits any more, and the group is gone.
func (b *Batch[V]) plan(group string, g *batchGroup[V], size int) (calls []batchCall[V], stop bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(g.waiters) == 0 {
		delete(b.groups, group)
		return nil, true
	}
	now := b.clock()
	byID := map[string][]*batchWaiter[V]{}
	dueAt := map[string]time.Time{} // an ID is due when its earliest waiter is
	for w := range g.waiters {
		if at, ok := dueAt[w.id]; !ok || w.due.Before(at) {
			dueAt[w.id] = w.due
		}
		byID[w.id] = append(byID[w.id], w)
	}
	var due, later []string
	for id, at := range dueAt {
		if at.After(now) {
			later = append(later, id)
		} else {
			due = append(due, id)
		}
	}
	slices.Sort(due)
	slices.SortFunc(later, func(x, y string) int { return cmp.Or(dueAt[x].Compare(dueAt[y]), cmp.Compare(x, y)) })
	room := size
	if len(due) > 0 {
		room = (size - len(due)%size) % size
	}
	due = append(due, later[:min(room, len(later))]...)
	for ids := range slices.Chunk(due, size) {
		c := batchCall[V]{ids: ids, waiters: make(map[string][]*batchWaiter[V], len(ids))}
		for _, id := range ids {
			c.waiters[id] = byID[id]
		}
		calls = append(calls, c)
	}
	return calls, false
}

// tell hands w the answer, replacing one it has not read yet.
func (w *batchWaiter[V]) tell(a answer[V]) {
	for {
		select {
		case w.ch <- a:
			return
		default:
		}
		select {
		case <-w.ch:
		default:
		}
	}
}
