package model

import (
	"testing"
	"time"
)

func TestCheckCron(t *testing.T) {
	for _, ok := range []string{"0 3 * * 1", "*/15 * * * *", "0 0 1 JAN *", "30 2 * * MON-FRI", "0 0,12 1-15/2 * SUN", "@weekly", "0 0 * * 7"} {
		if err := CheckCron(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "0 0 3 * * 1", "5-1 * * * *", "*/0 * * * *", "@every 5m", "CRON_TZ=UTC 0 3 * * *", "x * * * *"} {
		if CheckCron(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestScheduleSpecTimes(t *testing.T) {
	times, err := ScheduleSpec{Every: "24h", Offset: "3h", Jitter: "5m", TimeZone: "Europe/Berlin"}.Times()
	if err != nil {
		t.Fatal(err)
	}
	if times.Every != 24*time.Hour || times.Offset != 3*time.Hour || times.Jitter != 5*time.Minute ||
		times.CatchupWindow != DefaultCatchupWindow || times.Overlap != OverlapSkip || times.Location.String() != "Europe/Berlin" {
		t.Errorf("times %+v", times)
	}
	for _, bad := range []ScheduleSpec{
		{}, {Cron: "@daily", Every: "1h"}, {Cron: "@daily", Offset: "1h"}, {Every: "1h", Offset: "1h"},
		{Every: "1m", Jitter: "1m"}, {Every: "1500ms"}, {Every: "1h", CatchupWindow: "5s"},
		{Every: "1h", Overlap: "skip"}, {Cron: "@daily", TimeZone: "Local"}, {Every: "-1h"},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestVersionPattern(t *testing.T) {
	p := ScheduledPublish{Package: "webapp", VersionPattern: "v{{.Date}}_{{.Execution}}", Description: "nightly web image"}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	name, err := p.VersionName(NewVersionFields(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), berlin, "exec-ab12"))
	if err != nil || name != "v20270101_exec_ab12" {
		t.Fatalf("name %q, %v", name, err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if (ScheduledPublish{Package: "webapp", Description: "nightly web image"}).Validate() != nil {
		t.Error("the default pattern is refused")
	}
	for _, pattern := range []string{"v1_0_0", "v{{.Week}}", "v-{{.Date}}", "{{.Date", "v{{.Date}}{{.Date}}{{.Date}}{{.Date}}{{.Date}}{{.Date}}{{.Date}}"} {
		if (ScheduledPublish{Package: "webapp", VersionPattern: pattern, Description: "nightly web image"}).Validate() == nil {
			t.Errorf("pattern %q accepted", pattern)
		}
	}
}
