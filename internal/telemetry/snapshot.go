package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	neturl "net/url"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Snapshot is the metrics of one or more workers, merged: counters and
// histograms summed over the workers, gauges of the namespace (runs waiting)
// the largest any worker reports.
type Snapshot struct {
	Sources []string
	// Skipped are the endpoints that did not answer, each with why; the
	// snapshot holds none of their figures.
	Skipped  []string
	families map[string]*dto.MetricFamily
}

// Scrape reads the /metrics endpoints at urls and merges them. An endpoint
// that does not answer is skipped (a worker may be stopping) and listed in
// Skipped, which Print shows; no answer at all is an error.
func Scrape(ctx context.Context, urls []string) (*Snapshot, error) {
	s := &Snapshot{families: map[string]*dto.MetricFamily{}}
	var errs []string
	for _, u := range urls {
		fams, err := scrapeOne(ctx, u)
		if err != nil {
			var uerr *neturl.Error
			if errors.As(err, &uerr) {
				err = uerr.Err // without the URL, said once below
			}
			errs = append(errs, u+": "+err.Error())
			s.Skipped = append(s.Skipped, u+": "+err.Error())
			continue
		}
		s.Sources = append(s.Sources, u)
		s.merge(fams)
	}
	if len(s.Sources) == 0 {
		return nil, fmt.Errorf("no metrics endpoint answered: %s", strings.Join(errs, "; "))
	}
	return s, nil
}

// Parse reads one scrape in the Prometheus text format.
func Parse(r io.Reader) (*Snapshot, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{families: map[string]*dto.MetricFamily{}}
	s.merge(fams)
	return s, nil
}

func scrapeOne(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

func (s *Snapshot) merge(fams map[string]*dto.MetricFamily) {
	for name, f := range fams {
		have, ok := s.families[name]
		if !ok {
			s.families[name] = f
			continue
		}
		for _, m := range f.GetMetric() {
			if i := slices.IndexFunc(have.Metric, func(h *dto.Metric) bool { return sameLabels(h, m) }); i >= 0 {
				add(have.GetType(), have.Metric[i], m)
			} else {
				have.Metric = append(have.Metric, m)
			}
		}
	}
}

func add(t dto.MetricType, into, m *dto.Metric) {
	switch t {
	case dto.MetricType_COUNTER:
		*into.Counter.Value += m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		*into.Gauge.Value = math.Max(into.GetGauge().GetValue(), m.GetGauge().GetValue())
	case dto.MetricType_HISTOGRAM:
		h := into.Histogram
		*h.SampleCount += m.GetHistogram().GetSampleCount()
		*h.SampleSum += m.GetHistogram().GetSampleSum()
		for i, b := range m.GetHistogram().GetBucket() {
			if i < len(h.Bucket) {
				*h.Bucket[i].CumulativeCount += b.GetCumulativeCount()
			}
		}
	}
}

func sameLabels(a, b *dto.Metric) bool {
	return labelKey(a) == labelKey(b)
}

func labelKey(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Series is one time series of a snapshot.
type Series struct {
	Labels map[string]string
	Value  float64 // a counter's or gauge's value; a histogram's count
	Sum    float64 // a histogram's sum
	hist   *dto.Histogram
}

// Quantile estimates the q-quantile of a histogram series from its
// buckets (linear within a bucket), as Prometheus's histogram_quantile does,
// but never above the largest value the series can hold (maxObserved): a
// single 3 s observation in the bucket (2.5 s, 5 s] has every quantile 3 s,
// not 3.75 s or 4.9 s.
func (s Series) Quantile(q float64) float64 {
	if s.hist == nil || s.hist.GetSampleCount() == 0 {
		return math.NaN()
	}
	return math.Min(s.interpolate(q), s.maxObserved())
}

func (s Series) interpolate(q float64) float64 {
	rank := q * float64(s.hist.GetSampleCount())
	prevBound, prevCount := 0.0, 0.0
	for _, b := range s.hist.GetBucket() {
		count := float64(b.GetCumulativeCount())
		if count >= rank {
			if count == prevCount {
				return b.GetUpperBound()
			}
			return prevBound + (b.GetUpperBound()-prevBound)*(rank-prevCount)/(count-prevCount)
		}
		prevBound, prevCount = b.GetUpperBound(), count
	}
	return prevBound // beyond the last bound: the last bound is all we know
}

// maxObserved bounds the largest observation from above (the series are
// durations, never negative): it lies in the highest bucket that holds
// one, and it is at most the sum less the least the other observations
// can add up to (each at least its bucket's lower bound).
func (s Series) maxObserved() float64 {
	lowest := 0.0 // the least all observations can add up to
	top, topLower := false, 0.0
	prevBound, prevCount := 0.0, 0.0
	for _, b := range s.hist.GetBucket() {
		count := float64(b.GetCumulativeCount())
		if n := count - prevCount; n > 0 {
			lowest += n * prevBound
			top, topLower = true, prevBound
		}
		prevBound, prevCount = b.GetUpperBound(), count
	}
	if n := float64(s.hist.GetSampleCount()) - prevCount; n > 0 { // above the last bound
		lowest += n * prevBound
		top, topLower = true, prevBound
	}
	if !top {
		return math.Inf(1)
	}
	return math.Max(s.Sum-(lowest-topLower), topLower)
}

// Series returns the series of the metric called name (as exported, e.g.
// imagefleet_cloud_requests_total or imagefleet_image_copy_duration_seconds)
// whose labels include match.
func (s *Snapshot) Series(name string, match map[string]string) []Series {
	f, ok := s.families[name]
	if !ok {
		return nil
	}
	var out []Series
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if !matches(labels, match) {
			continue
		}
		se := Series{Labels: labels}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			se.Value = m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			se.Value = m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			se.Value, se.Sum, se.hist = float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum(), m.GetHistogram()
		default:
			se.Value = m.GetUntyped().GetValue()
		}
		out = append(out, se)
	}
	return out
}

// Sum is the total of the values of the matching series (0 if none).
func (s *Snapshot) Sum(name string, match map[string]string) float64 {
	total := 0.0
	for _, se := range s.Series(name, match) {
		total += se.Value
	}
	return total
}

func matches(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// values returns the distinct values of label among the series of name, sorted.
func (s *Snapshot) values(name, label string) []string {
	var out []string
	for _, se := range s.Series(name, nil) {
		if v, ok := se.Labels[label]; ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// Print writes a readable summary: operations, operator waits, instances,
// image copies, cloud calls and the Temporal SDK's main figures.
func (s *Snapshot) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	p("imagefleet metrics from %d worker(s): %s\n", len(s.Sources), strings.Join(s.Sources, ", "))
	for _, sk := range s.Skipped {
		p("NOT COUNTED (did not answer): %s\n", sk)
	}
	p("\n")

	p("OPERATION\tSTARTED\tSUCCEEDED\tFAILED\tABORTED\tWAITING NOW\tWAITS\tWAIT p50\tWAIT p95\n")
	ops := union(s.values("imagefleet_operations_started_total", "operation"), s.values("imagefleet_operations_ended_total", "operation"),
		s.values(MetricRunsWaiting, "operation"))
	for _, op := range ops {
		o := map[string]string{"operation": op}
		waits := s.Series("imagefleet_operator_wait_duration_seconds", o)
		p50, p95 := "-", "-"
		if len(waits) > 0 && waits[0].Value > 0 {
			p50, p95 = dur(waits[0].Quantile(0.5)), dur(waits[0].Quantile(0.95))
		}
		waiting := "-"
		if se := s.Series(MetricRunsWaiting, o); len(se) > 0 {
			waiting = fmt.Sprint(se[0].Value)
		}
		p("%s\t%v\t%v\t%v\t%v\t%s\t%v\t%s\t%s\n", op,
			s.Sum("imagefleet_operations_started_total", o),
			s.Sum("imagefleet_operations_ended_total", map[string]string{"operation": op, "state": "Succeeded"}),
			s.Sum("imagefleet_operations_ended_total", map[string]string{"operation": op, "state": "Failed"}),
			s.Sum("imagefleet_operations_ended_total", map[string]string{"operation": op, "state": "Aborted"}),
			waiting, s.Sum("imagefleet_operator_waits_total", o), p50, p95)
	}
	p("\nROLLING UPDATE TASK TYPE\tINSTANCES CHANGED\tFAILED\n")
	for _, tt := range union(s.values("imagefleet_instances_changed_total", "task_type"), s.values("imagefleet_instances_failed_total", "task_type")) {
		t := map[string]string{"task_type": tt}
		p("%s\t%v\t%v\n", tt, s.Sum("imagefleet_instances_changed_total", t), s.Sum("imagefleet_instances_failed_total", t))
	}
	p("\nIMAGE COPIES INTO\tCOUNT\tMEAN\tp50\tp95\n")
	for _, se := range sorted(s.Series("imagefleet_image_copy_duration_seconds", nil), "region") {
		p("%s\t%v\t%s\t%s\t%s\n", se.Labels["region"], se.Value, dur(se.Sum/se.Value), dur(se.Quantile(0.5)), dur(se.Quantile(0.95)))
	}
	p("\nCLOUD ACTION\tOK\tTHROTTLED\t4XX\t5XX\tMEAN\tp95\n")
	for _, action := range s.values(MetricCloudRequests, "action") {
		a := map[string]string{"action": action}
		all := mergeSeries(s.Series("imagefleet_cloud_request_duration_seconds", a))
		count, sum, p95 := all.Value, all.Sum, dur(all.Quantile(0.95))
		p("%s\t%v\t%v\t%v\t%v\t%s\t%s\n", action,
			s.Sum(MetricCloudRequests, map[string]string{"action": action, "outcome": OutcomeOK}),
			s.Sum(MetricCloudRequests, map[string]string{"action": action, "outcome": OutcomeThrottled}),
			s.Sum(MetricCloudRequests, map[string]string{"action": action, "outcome": Outcome4xx}),
			s.Sum(MetricCloudRequests, map[string]string{"action": action, "outcome": Outcome5xx}),
			dur(sum/count), p95)
	}
	p("\nTEMPORAL SDK\t\n")
	for _, row := range []struct{ label, name string }{
		{"workflows completed", "temporal_workflow_completed_total"},
		{"workflows failed", "temporal_workflow_failed_total"},
		{"workflows continued as new", "temporal_workflow_continue_as_new_total"},
		{"workflow tasks executed", "temporal_workflow_task_execution_latency_seconds"},
		{"workflow task failures", "temporal_workflow_task_execution_failed_total"},
		{"activities executed", "temporal_activity_execution_latency_seconds"},
		{"activity attempts failed", "temporal_activity_execution_failed_total"},
		{"requests to Temporal", "temporal_request_total"},
		{"failed requests to Temporal", "temporal_request_failure_total"},
		{"sticky cache hits", "temporal_sticky_cache_hit_total"},
		{"sticky cache misses", "temporal_sticky_cache_miss_total"},
	} {
		p("%s\t%v\n", row.label, s.Sum(row.name, nil))
	}
	return tw.Flush()
}

// mergeSeries adds up histogram series of the same buckets (e.g. one
// action's calls of every outcome).
func mergeSeries(series []Series) Series {
	var out Series
	for _, se := range series {
		out.Value += se.Value
		out.Sum += se.Sum
		if se.hist == nil {
			continue
		}
		if out.hist == nil {
			out.hist = &dto.Histogram{SampleCount: new(uint64)}
			for _, b := range se.hist.GetBucket() {
				out.hist.Bucket = append(out.hist.Bucket, &dto.Bucket{UpperBound: b.UpperBound, CumulativeCount: new(uint64)})
			}
		}
		*out.hist.SampleCount += se.hist.GetSampleCount()
		for i, b := range se.hist.GetBucket() {
			if i < len(out.hist.Bucket) {
				*out.hist.Bucket[i].CumulativeCount += b.GetCumulativeCount()
			}
		}
	}
	return out
}

func union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, v := range l {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return out
}

func sorted(series []Series, label string) []Series {
	slices.SortFunc(series, func(a, b Series) int { return strings.Compare(a.Labels[label], b.Labels[label]) })
	return series
}

func dur(seconds float64) string {
	if math.IsNaN(seconds) || math.IsInf(seconds, 0) {
		return "-"
	}
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}
