package metrics

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// RecordActivity is the activity type of Record; every imagefleet worker
// registers it (workflows.Register).
const RecordActivity = "RecordMetrics"

// changeAtCommit: a run's events are recorded by the Record activity rather
// than in the workflow task. Versioned so that runs started before keep
// replaying (they record in the task, as they did).
const changeAtCommit = "metrics-at-commit"

// sendEvery is the longest a queued event waits for the next send while
// the run goes on.
const sendEvery = 5 * time.Minute

// Event is one metric event, or several of the same metric and labels:
// Count to add to a counter, or Durations to observe in a timer. The
// labels are fields, each empty when it does not apply.
type Event struct {
	Metric    string          `json:"metric"`
	Operation string          `json:"operation,omitempty"`
	State     string          `json:"state,omitempty"`
	TaskType  string          `json:"taskType,omitempty"`
	Region    string          `json:"region,omitempty"`
	Count     int64           `json:"count,omitempty"`
	Durations []time.Duration `json:"durations,omitempty"`
}

func (e Event) tags() map[string]string {
	tags := map[string]string{}
	add := func(name, v string) {
		if v != "" {
			tags[name] = v
		}
	}
	add(LabelOperation, e.Operation)
	add(LabelState, e.State)
	add(LabelTaskType, e.TaskType)
	add(LabelRegion, e.Region)
	return tags
}

// sameSeries: e and o are of the same metric and labels.
func (e Event) sameSeries(o Event) bool {
	return e.Metric == o.Metric && e.Operation == o.Operation && e.State == o.State && e.TaskType == o.TaskType && e.Region == o.Region
}

// Record is the activity that records a run's events in the worker's
// metrics. It runs once per send the server accepted (retried only if it
// could not report its completion).
func Record(ctx context.Context, events []Event) error {
	h := activity.GetMetricsHandler(ctx)
	for _, e := range events {
		eh := h.WithTags(e.tags())
		if e.Count != 0 {
			eh.Counter(e.Metric).Inc(e.Count)
		}
		for _, d := range e.Durations {
			eh.Timer(e.Metric).Record(d)
		}
	}
	return nil
}

// Recorder queues a run's events and sends them to Record.
type Recorder struct {
	decided, atCommit bool
	pending           []Event
	lastSent          time.Time
	sent              []workflow.Future
}

type recorderKey struct{}

// WithRecorder gives the run of ctx a Recorder; every operation's workflow
// starts with it, and calls Close when it returns.
func WithRecorder(ctx workflow.Context) (workflow.Context, *Recorder) {
	r := &Recorder{}
	return workflow.WithValue(ctx, recorderKey{}, r), r
}

// emit counts e: queued in the run's Recorder, sent now when urgent; in
// the task itself for a run without one, or one started before
// metrics-at-commit.
func emit(ctx workflow.Context, e Event, urgent bool) {
	r, _ := ctx.Value(recorderKey{}).(*Recorder)
	if r == nil || !r.decide(ctx) {
		recordInTask(ctx, e)
		return
	}
	r.queue(e)
	if urgent || workflow.Now(ctx).Sub(r.lastSent) >= sendEvery {
		r.send(ctx)
	}
}

// decide asks, at the run's first event, how the run counts.
func (r *Recorder) decide(ctx workflow.Context) bool {
	if !r.decided {
		r.decided = true
		r.atCommit = workflow.GetVersion(ctx, changeAtCommit, workflow.DefaultVersion, 1) >= 1
	}
	return r.atCommit
}

// queue adds e to what is to be sent, merged with an event of the same
// series.
func (r *Recorder) queue(e Event) {
	for i := range r.pending {
		if p := &r.pending[i]; p.sameSeries(e) {
			p.Count += e.Count
			p.Durations = append(p.Durations, e.Durations...)
			return
		}
	}
	r.pending = append(r.pending, e)
}

// send schedules the Record activity with the queued events. It does not
// wait for it: Close does.
func (r *Recorder) send(ctx workflow.Context) {
	if len(r.pending) == 0 {
		return
	}
	events := r.pending
	r.pending = nil
	r.lastSent = workflow.Now(ctx)
	// Disconnected: a cancelled run still counts what happened.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	actx := workflow.WithActivityOptions(dctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
		Summary:                "record metrics",
	})
	r.sent = append(r.sent, workflow.ExecuteActivity(actx, RecordActivity, events))
}

// Close sends what is queued and waits until every send has been
// recorded: an activity the run has scheduled but that has not started
// when the run closes is never run. A send that fails is logged; the run
// goes on (metrics are not worth failing an operation for).
func (r *Recorder) Close(ctx workflow.Context) {
	if !r.decided || !r.atCommit {
		return
	}
	r.send(ctx)
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	for _, f := range r.sent {
		if err := f.Get(dctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("Could not record the run's metrics", "error", err)
		}
	}
	r.sent = nil
}

// recordInTask records e through the workflow's metrics handler, which
// records nothing while the run replays but does in every attempt of a
// task.
func recordInTask(ctx workflow.Context, e Event) {
	h := workflow.GetMetricsHandler(ctx).WithTags(e.tags())
	if e.Count != 0 {
		h.Counter(e.Metric).Inc(e.Count)
	}
	for _, d := range e.Durations {
		h.Timer(e.Metric).Record(d)
	}
}
