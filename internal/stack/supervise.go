package stack

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"
)

// Supervise keeps the started stack running until ctx ends, then stops it.
// A worker that exits (SIGKILL, SIGTERM, a crash) is reported on out and the
// stack stays up, so failover can be rehearsed: its runs move to the other
// workers, or wait for the next one. The dev server, the cloud or the codec
// server exiting stops the stack with an error: nothing works without them.
func (s *Stack) Supervise(ctx context.Context, out io.Writer) error {
	reported := map[*Process]bool{}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return s.Stop()
		case <-tick.C:
		}
		s.mu.Lock()
		all := slices.Clone(s.all)
		s.mu.Unlock()
		for _, p := range all {
			if reported[p] || !p.Exited() || s.stopping() {
				continue
			}
			reported[p] = true
			if p.Name != "worker" {
				err := fmt.Errorf("%s exited (%s): stopping the stack", p.Label, p.ExitText())
				_ = s.Stop()
				return err
			}
			running := 0
			for _, w := range s.Processes("worker") {
				if !w.Exited() {
					running++
				}
			}
			fmt.Fprintf(out, "\n%s (pid %d) exited (%s); the stack stays up with %d worker(s) running. "+
				"Its runs continue on the others (or on a worker started later).\n\n", p.Label, p.Pid(), p.ExitText(), running)
		}
	}
}

func (s *Stack) stopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// PortTakenError is a port of the stack that something else holds; Role
// is temporal, ui, cloud, codec or metrics (Worker says whose metrics).
type PortTakenError struct {
	Role   string
	Worker int
	Port   int
	Err    error
}

func (e *PortTakenError) Error() string {
	what := e.Role
	if e.Role == "metrics" {
		what = "worker " + strconv.Itoa(e.Worker) + "'s metrics"
	}
	return fmt.Sprintf("port %d (%s) is taken: %v", e.Port, what, e.Err)
}

func (e *PortTakenError) Unwrap() error { return e.Err }

// CheckPorts reports the first port Start would listen on that is already
// taken, before anything starts: a stack that fails half-way (a worker whose
// metrics port is held by another program) is worse than one that does not
// start and names the port.
func (s *Stack) CheckPorts() error {
	type port struct {
		role   string
		worker int
		port   int
	}
	ports := []port{{"temporal", 0, s.cfg.TemporalPort}, {"cloud", 0, s.cfg.CloudPort}}
	if !s.cfg.Headless {
		ports = append(ports, port{"ui", 0, s.cfg.UIPort})
	}
	if s.cfg.CodecServer != "" {
		ports = append(ports, port{"codec", 0, s.cfg.CodecPort})
	}
	if s.cfg.MetricsPort > 0 {
		for n := range s.cfg.Workers {
			ports = append(ports, port{"metrics", n + 1, s.cfg.MetricsPort + n})
		}
	}
	for _, p := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p.port))
		if err != nil {
			return &PortTakenError{Role: p.role, Worker: p.worker, Port: p.port, Err: err}
		}
		l.Close()
	}
	return nil
}
