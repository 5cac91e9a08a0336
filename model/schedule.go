package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedules: an operation run by a Temporal Schedule (the server's schedule,
// visible on the Web UI's Schedules page and with `temporal schedule`). The
// ScheduleSpec below says when a schedule fires and what happens when its
// previous run is still going; it is the same for every kind of schedule (a
// scheduled build, a lifecycle rule). What a schedule starts is the kind's
// own contract (build_schedule.go for builds).

// Overlap policies of a schedule (ScheduleSpec.Overlap), as Temporal names
// them without the SCHEDULE_OVERLAP_POLICY_ prefix.
const (
	// OverlapSkip: a firing while the previous run is still running does
	// nothing (the default).
	OverlapSkip = "Skip"
	// OverlapBufferOne: start once the previous run ends (at most one waits).
	OverlapBufferOne = "BufferOne"
	// OverlapBufferAll: start each firing in turn after the previous ends.
	OverlapBufferAll = "BufferAll"
	// OverlapCancelOther: cancel the running run, then start.
	OverlapCancelOther = "CancelOther"
	// OverlapTerminateOther: terminate the running run, then start.
	OverlapTerminateOther = "TerminateOther"
	// OverlapAllowAll: start at once, beside the running run.
	OverlapAllowAll = "AllowAll"
)

// OverlapPolicies lists every value of ScheduleSpec.Overlap.
var OverlapPolicies = []string{OverlapSkip, OverlapBufferOne, OverlapBufferAll, OverlapCancelOther, OverlapTerminateOther, OverlapAllowAll}

// Defaults and limits of a schedule.
const (
	// DefaultCatchupWindow: a firing missed while the server was down (or the
	// schedule could not act) is still taken within this window, once.
	DefaultCatchupWindow = time.Hour
	// MinCatchupWindow is the Temporal server's minimum.
	MinCatchupWindow = 10 * time.Second
	// MinInterval is the shortest interval a schedule fires at.
	MinInterval = time.Second
	// MaxScheduleNoteLen bounds the note kept with a schedule.
	MaxScheduleNoteLen = 500
)

// ScheduleSpec is when a schedule fires and how its runs overlap. Exactly
// one of Cron and Every is given. Durations are Go durations ("90s", "1h").
type ScheduleSpec struct {
	// Cron is a cron expression with five fields (minute hour day-of-month
	// month day-of-week, e.g. "0 3 * * 1" for Mondays at 03:00), or one of
	// @yearly, @monthly, @weekly, @daily, @hourly.
	Cron string `json:"cron,omitempty"`
	// Every is an interval (e.g. "168h"); Offset shifts it from the Unix
	// epoch (e.g. every "24h" with offset "3h": daily at 03:00 UTC).
	Every  string `json:"every,omitempty"`
	Offset string `json:"offset,omitempty"`
	// TimeZone is the IANA time zone Cron is read in (default UTC), e.g.
	// "Europe/Berlin"; daylight-saving changes are the server's to apply.
	TimeZone string `json:"timeZone,omitempty"`
	// Jitter delays each firing by a random time up to this much (default
	// none), so that many schedules do not fire at the same instant.
	Jitter string `json:"jitter,omitempty"`
	// Overlap is what a firing does while the previous run still runs
	// (default Skip): one of OverlapPolicies.
	Overlap string `json:"overlap,omitempty"`
	// CatchupWindow is how late a missed firing is still taken (default 1h,
	// at least 10s).
	CatchupWindow string `json:"catchupWindow,omitempty"`
	// Paused creates the schedule paused.
	Paused bool `json:"paused,omitempty"`
	// Note is kept with the schedule (the Web UI shows it).
	Note string `json:"note,omitempty"`
}

// ScheduleTimes are a ScheduleSpec's durations, parsed, with defaults.
type ScheduleTimes struct {
	Every, Offset, Jitter, CatchupWindow time.Duration
	Location                             *time.Location
	Overlap                              string
}

// Times parses the spec's durations and applies the defaults; it reports
// every problem Validate reports.
func (s ScheduleSpec) Times() (ScheduleTimes, error) {
	var errs []error
	t := ScheduleTimes{CatchupWindow: DefaultCatchupWindow, Overlap: s.Overlap, Location: time.UTC}
	dur := func(name, v string, min time.Duration, into *time.Duration) {
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s %q is not a Go duration such as 90s or 24h", name, v))
		case d < min:
			errs = append(errs, fmt.Errorf("%s %q must be at least %s", name, v, min))
		case d%time.Second != 0:
			errs = append(errs, fmt.Errorf("%s %q must be whole seconds", name, v))
		default:
			*into = d
		}
	}
	switch {
	case s.Cron == "" && s.Every == "":
		errs = append(errs, errors.New("a schedule needs a cron expression or an interval (every)"))
	case s.Cron != "" && s.Every != "":
		errs = append(errs, errors.New("a schedule takes a cron expression or an interval (every), not both"))
	case s.Cron != "":
		if err := CheckCron(s.Cron); err != nil {
			errs = append(errs, err)
		}
		if s.Offset != "" {
			errs = append(errs, errors.New("offset applies to an interval (every), not to a cron expression"))
		}
	}
	dur("every", s.Every, MinInterval, &t.Every)
	dur("offset", s.Offset, 0, &t.Offset)
	if t.Every > 0 && t.Offset >= t.Every {
		errs = append(errs, fmt.Errorf("offset %s must be shorter than the interval %s", t.Offset, t.Every))
	}
	dur("jitter", s.Jitter, 0, &t.Jitter)
	if t.Every > 0 && t.Jitter >= t.Every {
		errs = append(errs, fmt.Errorf("jitter %s must be shorter than the interval %s", t.Jitter, t.Every))
	}
	dur("catchupWindow", s.CatchupWindow, MinCatchupWindow, &t.CatchupWindow)
	if s.TimeZone != "" {
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil || s.TimeZone == "Local" {
			errs = append(errs, fmt.Errorf("time zone %q is not an IANA time zone such as Europe/Berlin or UTC", s.TimeZone))
		} else {
			t.Location = loc
		}
	}
	if t.Overlap == "" {
		t.Overlap = OverlapSkip
	} else if !validOverlap(t.Overlap) {
		errs = append(errs, fmt.Errorf("overlap %q must be one of %s", s.Overlap, strings.Join(OverlapPolicies, ", ")))
	}
	if n := len(s.Note); n > MaxScheduleNoteLen {
		errs = append(errs, fmt.Errorf("note must be at most %d bytes, got %d", MaxScheduleNoteLen, n))
	}
	return t, invalidSpec(errs)
}

// Validate checks the spec without calling the server.
func (s ScheduleSpec) Validate() error {
	_, err := s.Times()
	return err
}

func validOverlap(p string) bool {
	for _, o := range OverlapPolicies {
		if o == p {
			return true
		}
	}
	return false
}

// cronFields are the five fields of a cron expression: name, range, and the
// names a field accepts besides numbers.
var cronFields = []struct {
	name     string
	min, max int
	names    []string
}{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{"day of week", 0, 7, []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

var cronAliases = []string{"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}

// CheckCron checks a five-field cron expression (or an @ alias) the way the
// Temporal server reads it: each field a list of *, N, N-M, with an optional
// /step.
func CheckCron(expr string) error {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "@") {
		for _, a := range cronAliases {
			if expr == a {
				return nil
			}
		}
		return fmt.Errorf("cron %q: the @ forms are %s (use every for an interval)", expr, strings.Join(cronAliases, ", "))
	}
	if strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "TZ=") {
		return fmt.Errorf("cron %q: give the time zone with timeZone, not in the expression", expr)
	}
	fields := strings.Fields(expr)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("cron %q must have 5 fields (minute hour day-of-month month day-of-week), got %d", expr, len(fields))
	}
	for i, f := range fields {
		spec := cronFields[i]
		for _, part := range strings.Split(f, ",") {
			if err := checkCronPart(part, spec.min, spec.max, spec.names); err != nil {
				return fmt.Errorf("cron %q: %s field %q: %w", expr, spec.name, f, err)
			}
		}
	}
	return nil
}

func checkCronPart(part string, min, max int, names []string) error {
	rng, step, hasStep := strings.Cut(part, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n < 1 || n > max-min+1 {
			return fmt.Errorf("step %q must be 1–%d", step, max-min+1)
		}
	}
	if rng == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	a, err := cronValue(lo, min, max, names)
	if err != nil {
		return err
	}
	if !isRange {
		return nil
	}
	b, err := cronValue(hi, min, max, names)
	if err != nil {
		return err
	}
	if b < a {
		return fmt.Errorf("range %s is backwards", rng)
	}
	return nil
}

func cronValue(v string, min, max int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(v, n) {
			return i + min, nil
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("%q must be %d–%d", v, min, max)
	}
	return n, nil
}
