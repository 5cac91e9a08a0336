package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The bench measures its two sides in turn (bare Temporal, imagefleet, bare,
// imagefleet, …, at least three rounds) and keeps the machine's load beside
// every sample: a ratio is a figure only where its two sides saw about the
// same load.

// loadTolerance: two loads (1-minute load averages) are comparable when
// they differ by at most this fraction of the larger one, or by at most
// loadSlack (below it the difference is noise on a quiet machine).
const (
	loadTolerance = 0.25
	loadSlack     = 0.5
)

// loadAvg1 is the machine's 1-minute load average (/proc/loadavg); -1 when
// it cannot be read (not Linux): then no ratio is a figure.
func loadAvg1() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// load is the load a sample saw: the 1-minute load average when it started
// and when it ended.
type load struct{ start, end float64 }

func (l load) mean() float64 { return (l.start + l.end) / 2 }

func (l load) known() bool { return l.start >= 0 && l.end >= 0 }

func (l load) String() string {
	if !l.known() {
		return "load ?"
	}
	return fmt.Sprintf("load %.2f→%.2f", l.start, l.end)
}

// comparable says whether two samples saw about the same load.
func comparable(a, b load) bool {
	if !a.known() || !b.known() {
		return false
	}
	x, y := a.mean(), b.mean()
	d := max(x, y) - min(x, y)
	return d <= loadSlack || d <= loadTolerance*max(x, y)
}

// measure runs f between two readings of the load.
func measure[T any](f func() (T, error)) (T, load, error) {
	l := load{start: loadAvg1()}
	v, err := f()
	l.end = loadAvg1()
	return v, l, err
}

// sample is one measured value (a rate, a duration in seconds, …) and the
// load it saw.
type sample struct {
	v    float64
	load load
}

// ratio is one round's ratio of two samples, or why it is not a figure.
type ratio struct {
	v     float64
	ok    bool
	a, b  load
	round int
}

func newRatio(round int, num, den sample) ratio {
	r := ratio{round: round, a: num.load, b: den.load, ok: comparable(num.load, den.load) && den.v > 0}
	if den.v > 0 {
		r.v = num.v / den.v
	}
	return r
}

// stats are the median and the spread (lowest, highest) of values.
type stats struct {
	n                 int
	median, low, high float64
}

func statsOf(vs []float64) stats {
	if len(vs) == 0 {
		return stats{}
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stats{n: len(s), median: m, low: s[0], high: s[len(s)-1]}
}

func values(ss []sample) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = s.v
	}
	return out
}

// figure is the ratio over the rounds whose two sides saw comparable
// loads: the median and spread of those, and how many rounds were left out.
func figure(rs []ratio) (st stats, left int) {
	var vs []float64
	for _, r := range rs {
		if r.ok {
			vs = append(vs, r.v)
		} else {
			left++
		}
	}
	return statsOf(vs), left
}

// seconds formats a duration in seconds.
func seconds(v float64) string {
	return time.Duration(v * float64(time.Second)).Round(time.Millisecond).String()
}
