package stack

import (
	"net"
	"strconv"
)

// EnvWorkerStopTimeout is the worker's --stop-timeout as an environment variable.
const EnvWorkerStopTimeout = "IMAGEFLEET_WORKER_STOP_TIMEOUT"

// DefaultMetricsPort is where devstack's first worker serves /metrics.
const DefaultMetricsPort = 9464

// nextMetricsAddr is the metrics address of a worker about to start: the
// first of MetricsPort, MetricsPort+1, … that no running worker of this
// stack holds; a free port when MetricsPort is zero; none when it is -1.
func (s *Stack) nextMetricsAddr() (string, error) {
	switch {
	case s.cfg.MetricsPort < 0:
		return "", nil
	case s.cfg.MetricsPort == 0:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		defer l.Close()
		return l.Addr().String(), nil
	}
	held := map[string]bool{}
	for _, p := range s.Processes("worker") {
		if !p.Exited() {
			held[p.MetricsAddr] = true
		}
	}
	for port := s.cfg.MetricsPort; ; port++ {
		if addr := "127.0.0.1:" + strconv.Itoa(port); !held[addr] {
			return addr, nil
		}
	}
}

// MetricsURLs are the /metrics URLs of the running workers.
func (s *Stack) MetricsURLs() []string {
	var urls []string
	for _, p := range s.Processes("worker") {
		if !p.Exited() && p.MetricsAddr != "" {
			urls = append(urls, "http://"+p.MetricsAddr+"/metrics")
		}
	}
	return urls
}
