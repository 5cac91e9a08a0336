package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/stack"
)

// event is one scheduled kill.
type event struct {
	At   time.Duration `json:"at"`
	Kind string        `json:"kind"` // worker-kill, server-restart, cloud-restart
	Done bool          `json:"done"`
	Note string        `json:"note,omitempty"`
}

// schedule draws the kills' times from the seed: the same seed, the same
// schedule.
func schedule(cfg Config, rng *rand.Rand) []*event {
	var evs []*event
	add := func(n int, kind string) {
		for range n {
			// Not in the first 5 s: the load is still being started.
			at := 5*time.Second + time.Duration(rng.Int64N(int64(cfg.KillWindow)))
			evs = append(evs, &event{At: at.Round(100 * time.Millisecond), Kind: kind})
		}
	}
	add(cfg.WorkerKills, "worker-kill")
	add(cfg.ServerRestarts, "server-restart")
	add(cfg.CloudRestarts, "cloud-restart")
	slices.SortStableFunc(evs, func(a, b *event) int { return int(a.At - b.At) })
	return evs
}

// faults keeps the cloud's fault rules, and puts them back after a cloud
// restart (the simulator does not persist them).
type faults struct {
	mu     sync.Mutex
	admin  *cloud.Admin
	active map[string]cloud.Fault // our name → rule (with the cloud's ID)
	order  []string
}

func (f *faults) add(ctx context.Context, name string, rule cloud.Fault) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	got, err := f.admin.AddFault(ctx, rule)
	if err != nil {
		return fmt.Errorf("fault %s: %w", name, err)
	}
	f.active[name] = got
	f.order = append(f.order, name)
	return nil
}

func (f *faults) remove(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rule, ok := f.active[name]
	if !ok {
		return nil
	}
	if err := f.admin.RemoveFault(ctx, rule.ID); err != nil {
		return fmt.Errorf("lift fault %s: %w", name, err)
	}
	delete(f.active, name)
	f.order = slices.DeleteFunc(f.order, func(n string) bool { return n == name })
	return nil
}

// reinstall puts every active rule back, in order, on a restarted cloud.
func (f *faults) reinstall(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, name := range f.order {
		rule := f.active[name]
		rule.ID, rule.Fired = "", 0
		got, err := f.admin.AddFault(ctx, rule)
		if err != nil {
			return fmt.Errorf("reinstall fault %s: %w", name, err)
		}
		f.active[name] = got
	}
	return nil
}

func (f *faults) clear(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active, f.order = map[string]cloud.Fault{}, nil
	return f.admin.ClearFaults(ctx)
}

// killer runs the kill schedule against the stack.
type killer struct {
	r       *run
	rng     *rand.Rand
	workers []*stack.Process
	cloud   *stack.Process
	server  *stack.Process
}

// do SIGKILLs the process the event names and starts its successor: a
// worker at once, the dev server and the cloud after a short outage.
func (k *killer) do(ctx context.Context, ev *event) error {
	r := k.r
	var (
		slot  **stack.Process
		down  time.Duration
		start func(context.Context) (*stack.Process, error)
		note  string
	)
	switch ev.Kind {
	case "worker-kill":
		slot, start, note = &k.workers[k.rng.IntN(len(k.workers))], r.stack.StartWorker, "SIGKILL worker pid %d, started pid %d"
	case "server-restart":
		slot, down, start, note = &k.server, time.Duration(1+k.rng.IntN(3))*time.Second, r.stack.StartTemporal, "SIGKILL dev server pid %d, restarted as pid %d"
	case "cloud-restart":
		slot, down, start, note = &k.cloud, time.Duration(1+k.rng.IntN(2))*time.Second, r.stack.StartCloud, "SIGKILL cloud pid %d, restarted as pid %d, fault rules reinstalled"
	default:
		ev.Done = true
		return nil
	}
	old := *slot
	if err := old.Kill(); err != nil {
		return err
	}
	time.Sleep(down)
	p, err := start(ctx)
	if err != nil {
		return err
	}
	*slot = p
	if ev.Kind == "cloud-restart" {
		if err := r.faults.reinstall(ctx); err != nil {
			return err
		}
	}
	ev.Note = fmt.Sprintf(note, old.Pid(), p.Pid())
	ev.Done = true
	return nil
}
