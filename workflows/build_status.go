package workflows

// buildPhase is where a build stands, as its operator commands see it.
type buildPhase int

const (
	// buildRunning: a step runs.
	buildRunning buildPhase = iota
	// buildWaiting: a failed step waits for retry-step or cancel (the
	// template keeps its resources on failure).
	buildWaiting
	// buildRetrying: retry-step was accepted; the failed step runs again
	// once the wait ends.
	buildRetrying
	// buildCancelled: cancel was accepted; the build releases what it made
	// and ends. It stays cancelled to the end: a cancel sent again is
	// accepted and changes nothing.
	buildCancelled
	// buildEnded: the build releases after its success or failure, or is
	// done: nothing is left to cancel or retry.
	buildEnded
)

// buildStatus is a build's state machine: running ⇄ waiting → retrying →
// running, and from any of them cancelled or ended. The commands' validators
// read it; their Apply and the run change it only through its transitions.
type buildStatus struct {
	phase buildPhase
}

// Queries.

func (s *buildStatus) cancelled() bool { return s.phase == buildCancelled }

// ended: the build has finished its steps (without a cancel).
func (s *buildStatus) ended() bool { return s.phase == buildEnded }

// waiting: a failed step waits and no retry is requested yet.
func (s *buildStatus) waiting() bool { return s.phase == buildWaiting }

// retryRequested: retry-step was accepted during the wait.
func (s *buildStatus) retryRequested() bool { return s.phase == buildRetrying }

// waitOver: what a failed step waits for has happened.
func (s *buildStatus) waitOver() bool { return s.phase == buildRetrying || s.phase == buildCancelled }

// Transitions.

// wait: a step failed and waits for the operator.
func (s *buildStatus) wait() {
	if s.phase == buildRunning {
		s.phase = buildWaiting
	}
}

// retry: the operator asked to run the failed step again.
func (s *buildStatus) retry() {
	if s.phase == buildWaiting {
		s.phase = buildRetrying
	}
}

// stopWaiting ends the wait of a failed step and reports whether the step
// is to run again; the build runs on (to retry, or to end).
func (s *buildStatus) stopWaiting() (retry bool) {
	switch s.phase {
	case buildRetrying:
		s.phase = buildRunning
		return true
	case buildWaiting:
		s.phase = buildRunning
	}
	return false
}

// cancel: the operator cancelled the build. It reports whether this cancel
// changed anything (a repeated one does not, nor one after the end).
func (s *buildStatus) cancel() bool {
	if s.phase == buildCancelled || s.phase == buildEnded {
		return false
	}
	s.phase = buildCancelled
	return true
}

// end: the build has run its steps (or stopped on a failure) and releases;
// a cancelled build stays cancelled.
func (s *buildStatus) end() {
	if s.phase != buildCancelled {
		s.phase = buildEnded
	}
}
