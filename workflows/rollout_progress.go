package workflows

import (
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/metrics"
)

// The task's instances and the summary the progress query answers, bounded
// whatever the group's size; every instance's detail is paged through the
// instances query.

// record keeps an instance's outcome: the one place where an instance's
// change ends, whatever ran it (batch, chunk, operator retry).
func (r *rollout) record(ctx workflow.Context, id string, res model.ChangeResult) {
	metrics.InstanceOutcome(ctx, r.spec.TaskType, res.Succeeded)
	in := r.inst(id)
	in.ExitCode, in.Output, in.Error = res.ExitCode, res.Output, res.Error
	if res.Succeeded {
		in.State = model.InstanceSucceeded
	} else {
		in.State = model.InstanceFailed
	}
}

// inst is the entry of an instance of the task, or nil.
func (r *rollout) inst(id string) *model.InstanceProgress {
	i, ok := r.index[id]
	if !ok {
		return nil
	}
	return &r.insts[i]
}

// changed are the instances the task ran its change on (successfully or
// not): those a rollback rolls back.
func (r *rollout) changed() []string {
	var out []string
	for _, in := range r.insts {
		if in.Attempts > 0 {
			out = append(out, in.InstanceID)
		}
	}
	return out
}

// undecided are the failed instances without an operator decision: those
// counted against the error threshold.
func (r *rollout) undecided() []string {
	var out []string
	for _, in := range r.insts {
		if in.State == model.InstanceFailed && in.Decision == "" {
			out = append(out, in.InstanceID)
		}
	}
	return out
}

// decidable are the failed instances an operator's decision (retry, skip,
// cancel-instance) would be accepted for: those of the open batch without a
// decision. The failures of ended batches are final.
func (r *rollout) decidable() []string {
	var out []string
	for _, in := range r.insts {
		if in.State == model.InstanceFailed && in.Decision == "" && r.status.batchOpen(in.Batch-1) {
			out = append(out, in.InstanceID)
		}
	}
	return out
}

// overThreshold says what brings the failures back within the error
// threshold, naming only commands that would be accepted: a decision on
// each failure of the open batch, and raising the threshold above the
// failures that are final.
func (r *rollout) overThreshold() string {
	open := r.decidable()
	final := r.st.Failures - len(open)
	msg := fmt.Sprintf("%d failed instance(s) exceed the error threshold %d", r.st.Failures, r.st.ErrorThreshold)
	if final > 0 {
		msg += fmt.Sprintf(" (%d failed in batches that have ended: final)", final)
	}
	raise := fmt.Sprintf("raise the threshold to at least %%d with %s", model.CommandSetThreshold)
	switch {
	case len(open) == 0:
		return msg + ": " + fmt.Sprintf(raise, r.st.Failures)
	case final > r.st.ErrorThreshold:
		return msg + fmt.Sprintf(": %s, %s or %s each of %s and ", model.CommandRetry, model.CommandSkip, model.CommandCancelInstance, listSome(open)) + fmt.Sprintf(raise, final)
	}
	return msg + fmt.Sprintf(": %s, %s or %s each of %s, or ", model.CommandRetry, model.CommandSkip, model.CommandCancelInstance, listSome(open)) + fmt.Sprintf(raise, r.st.Failures)
}

// refresh recounts failures, batch and state counts, lists the first
// failed instances and says what the task waits for: the summary that the
// progress query answers, bounded whatever the group's size.
func (r *rollout) refresh() {
	r.st.Failures = len(r.undecided())
	for i := range r.st.Batches {
		r.st.Batches[i].Succeeded, r.st.Batches[i].Failed = 0, 0
	}
	c := model.InstanceCounts{Total: len(r.insts)}
	r.st.FailedInstances = r.st.FailedInstances[:0]
	for _, in := range r.insts {
		b := &r.st.Batches[in.Batch-1]
		switch in.State {
		case model.InstancePending:
			c.Pending++
		case model.InstanceStandby:
			c.Standby++
		case model.InstanceUpdating:
			c.Updating++
		case model.InstanceSucceeded:
			b.Succeeded++
			c.Succeeded++
		case model.InstanceFailed:
			b.Failed++
			c.Failed++
			if len(r.st.FailedInstances) < model.MaxListedFailures {
				r.st.FailedInstances = append(r.st.FailedInstances, in)
			}
		}
		if in.Attempts > 0 {
			c.Changed++
		}
	}
	r.st.Counts, r.st.FailedTotal = c, c.Failed
	r.st.WaitingFor = ""
	// A rollback task cannot itself be rolled back: it does not offer it.
	others := fmt.Sprintf("(or %s, %s)", model.CommandCancel, model.CommandRollback)
	if r.spec.IsRollback() {
		others = fmt.Sprintf("(or %s)", model.CommandCancel)
	}
	ask := "operator: "
	if r.status.retrying > 0 {
		// Resume and rollback wait for them, and their outcome may change
		// what is asked.
		ask += fmt.Sprintf("%d retried instance(s) are being updated; when they end, ", r.status.retrying)
	}
	switch {
	case !r.status.paused():
	case r.st.Status == model.RolloutPausedBatch:
		r.st.WaitingFor = ask + fmt.Sprintf("batch %d of %d is done; check it, then %s %s",
			r.st.CurrentBatch, len(r.st.Batches), model.CommandResume, others)
	case r.st.Status == model.RolloutPausedFailure:
		if r.st.Failures > r.st.ErrorThreshold {
			r.st.WaitingFor = ask + fmt.Sprintf("%s, then %s %s", r.overThreshold(), model.CommandResume, others)
		} else {
			r.st.WaitingFor = ask + fmt.Sprintf("%s %s", model.CommandResume, others)
		}
	}
}

// instancePage answers QueryRolloutInstances.
func (r *rollout) instancePage(q model.InstancesQuery) (model.InstancePage, error) {
	if err := q.Validate(); err != nil {
		return model.InstancePage{}, err
	}
	from := 0
	if q.PageToken != "" {
		n, err := strconv.Atoi(q.PageToken)
		if err != nil || n < 0 {
			return model.InstancePage{}, fmt.Errorf("page token %q is not one this query gave", q.PageToken)
		}
		from = n
	}
	size := q.PageSize
	if size == 0 {
		size = model.DefaultInstancePage
	}
	page := model.InstancePage{Instances: []model.InstanceProgress{}}
	for _, in := range r.insts {
		if !q.Matches(in) {
			continue
		}
		if page.Total >= from && len(page.Instances) < size {
			page.Instances = append(page.Instances, in)
		}
		page.Total++
	}
	if next := from + len(page.Instances); next < page.Total {
		page.NextPageToken = strconv.Itoa(next)
	}
	return page, nil
}

// listSome joins the first ids and says how many more there are, so that a
// message stays short at fleet size.
func listSome(ids []string) string {
	const shown = 20
	if len(ids) <= shown {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:shown], ", "), len(ids)-shown)
}
