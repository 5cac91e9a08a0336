package model

import "testing"

// FuzzBuildScheduleSpec: `starter build schedule create --spec` and a
// schedule's action input (ScheduledBuildInput) decode and validate
// without a panic, within a second (see fuzz_test.go).
func FuzzBuildScheduleSpec(f *testing.F) {
	base := ScheduledBuildInput{Region: "cn-hangzhou", TemplateID: "ip-123", ScheduleName: "nightly"}
	publishing := base
	publishing.Publish = &ScheduledPublish{Package: "webapp", VersionPattern: "v{{.Date}}_{{.Time}}", TimeZone: "Europe/Berlin", Description: "nightly web image"}
	fuzzSpec[BuildScheduleSpec](f,
		BuildScheduleSpec{ScheduledBuildInput: base, Schedule: ScheduleSpec{Cron: "0 3 * * MON-FRI", TimeZone: "Asia/Shanghai", Jitter: "5m"}},
		BuildScheduleSpec{ScheduledBuildInput: publishing, Schedule: ScheduleSpec{Every: "24h", Offset: "2h", Overlap: OverlapBufferOne, CatchupWindow: "1h"}},
		`{"region":"cn-hangzhou","templateId":"ip-1","scheduleName":"a","schedule":{"cron":"*/15 1-5/2 * JAN,FEB 0"}}`,
	)
}

func FuzzScheduledBuildInput(f *testing.F) {
	fuzzSpec[ScheduledBuildInput](f,
		ScheduledBuildInput{Region: "cn-hangzhou", TemplateID: "ip-123", ScheduleName: "default", Always: true, RetryWindow: "2h"},
		`{"region":"cn-hangzhou","templateId":"ip-1","scheduleName":"x","publish":{"package":"web","versionPattern":"{{.Execution}}","description":"0123456789"}}`,
	)
}
