package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// ExampleReleaseSpec is a valid three-stage release (tests in other
// packages build theirs the same way).
func exampleRelease() ReleaseSpec {
	return ReleaseSpec{
		Name:    "web",
		Source:  ReleaseSource{Image: &ReleaseImage{Region: "cn-hangzhou", ImageID: "m-webapp-v2"}},
		Package: "webapp", Version: "v2_0_0", Description: "web tier image v2",
		Regions: []string{"cn-hangzhou", "cn-shanghai", "cn-beijing"},
		Stages: []ReleaseStage{
			{Name: "canary", Groups: []ReleaseGroup{{"asg-web-hz", "cn-hangzhou"}}, Gate: ReleaseGate{Soak: "10m", Verify: &Verification{}}},
			{Name: "regional-1", Groups: []ReleaseGroup{{"asg-web-sh", "cn-shanghai"}, {"asg-api-sh", "cn-shanghai"}}, Parallelism: 1, Gate: ReleaseGate{Approval: true}},
			{Name: "global", Groups: []ReleaseGroup{{"asg-web-bj", "cn-beijing"}}},
		},
	}
}

func TestReleaseSpecValid(t *testing.T) {
	s := exampleRelease()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	d := s.Distribution("m-webapp-v2")
	if strings.Join(d.Regions, ",") != "cn-shanghai,cn-beijing" || d.SourceRegion != "cn-hangzhou" {
		t.Fatalf("distribution %+v", d)
	}
	if got := ReleaseWorkflowID("web", "v2_0_0"); got != "release/web/v2_0_0" {
		t.Fatal(got)
	}
	tpl := exampleRelease()
	tpl.Source = ReleaseSource{Template: &BuildInput{Region: "cn-hangzhou", TemplateID: "ip-web"}}
	if err := tpl.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestReleaseSpecInvalid(t *testing.T) {
	cases := map[string]struct {
		edit func(*ReleaseSpec)
		want string
	}{
		"two sources":          {func(s *ReleaseSpec) { s.Source.Template = &BuildInput{Region: "cn-hangzhou", TemplateID: "ip-web"} }, "exactly one of template or image"},
		"no source":            {func(s *ReleaseSpec) { s.Source.Image = nil }, "exactly one of template or image"},
		"region not published": {func(s *ReleaseSpec) { s.Stages[2].Groups[0].RegionID = "eu-west-1" }, "not one of the publication's regions"},
		"group twice":          {func(s *ReleaseSpec) { s.Stages[2].Groups[0] = ReleaseGroup{"asg-web-hz", "cn-hangzhou"} }, "already in stage canary"},
		"stage named twice":    {func(s *ReleaseSpec) { s.Stages[1].Name = "canary" }, "named twice"},
		"empty stage":          {func(s *ReleaseSpec) { s.Stages[0].Groups = nil }, "at least one group"},
		"no stages":            {func(s *ReleaseSpec) { s.Stages = nil }, "give 1–20 stages"},
		"bad soak":             {func(s *ReleaseSpec) { s.Stages[0].Gate.Soak = "forever" }, "soak"},
		"long soak":            {func(s *ReleaseSpec) { s.Stages[0].Gate.Soak = "200h" }, "soak"},
		"fast verify":          {func(s *ReleaseSpec) { s.Stages[0].Gate.Verify.Every = "10ms" }, "verify.every"},
		"bad name":             {func(s *ReleaseSpec) { s.Name = "web/x" }, "name"},
		"only source region": {func(s *ReleaseSpec) {
			s.Regions = []string{"cn-hangzhou"}
			s.Stages = s.Stages[:1]
		}, "besides the source"},
		"bad version": {func(s *ReleaseSpec) { s.Version = "v" }, "publication"},
		"too many groups": {func(s *ReleaseSpec) {
			for i := range MaxReleaseGroups {
				s.Stages[2].Groups = append(s.Stages[2].Groups, ReleaseGroup{ScalingGroupID: "asg-" + strings.Repeat("x", 1+i%50) + string(rune('a'+i/50)), RegionID: "cn-beijing"})
			}
		}, "at most 100 groups"},
		"too many checks":      {func(s *ReleaseSpec) { s.Stages[0].Gate = ReleaseGate{Soak: "168h", Verify: &Verification{Every: "1m"}} }, "at most 2000"},
		"negative parallelism": {func(s *ReleaseSpec) { s.Stages[1].Parallelism = -1 }, "parallelism"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := exampleRelease()
			c.edit(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestApproveCommandValidate(t *testing.T) {
	if err := (ApproveCommand{}).Validate(); err == nil {
		t.Fatal("an approval without by was accepted")
	}
	if err := (ApproveCommand{By: "ana", Comment: strings.Repeat("x", MaxApprovalComment+1)}).Validate(); err == nil {
		t.Fatal("a long comment was accepted")
	}
	if err := (ApproveCommand{By: "ana", Comment: "canary clean"}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// The progress of the largest release (100 groups, every field filled,
// errors at their cap) stays far below Temporal's 512 KB payload warning:
// it is the query's answer, the result and the details of a stop error.
func TestReleaseProgressSizeAtTheLimit(t *testing.T) {
	spec := exampleRelease()
	spec.Stages = nil
	for s := range 10 {
		st := ReleaseStage{Name: "stage-" + string(rune('a'+s)), Gate: ReleaseGate{Approval: true, Soak: "1h", Verify: &Verification{}}}
		for g := range MaxReleaseGroups / 10 {
			st.Groups = append(st.Groups, ReleaseGroup{ScalingGroupID: "asg-" + strings.Repeat("x", 50) + string(rune('a'+s)) + string(rune('a'+g)), RegionID: "cn-beijing"})
		}
		spec.Stages = append(spec.Stages, st)
	}
	p := NewReleaseProgress(spec)
	run := &ChildRun{WorkflowID: "rollout/" + strings.Repeat("x", 64), RunID: strings.Repeat("r", 36), State: StateFailed, Error: strings.Repeat("e", MaxGroupError)}
	for i := range p.Stages {
		p.Stages[i].Soak = &SoakProgress{Until: time.Now(), Checks: 100, Failure: strings.Repeat("f", 1000)}
		p.Stages[i].Approval = &Approval{Stage: p.Stages[i].Name, By: strings.Repeat("b", 64), Comment: strings.Repeat("c", MaxApprovalComment), At: time.Now()}
		p.Approvals = append(p.Approvals, *p.Stages[i].Approval)
		for j := range p.Stages[i].Groups {
			g := &p.Stages[i].Groups[j]
			g.ImageID, g.PreviousImageID = "m-"+strings.Repeat("i", 20), "m-"+strings.Repeat("p", 20)
			g.Rollout, g.Rollback = run, run
			g.Error, g.WaitingFor, g.Resolve = strings.Repeat("e", MaxGroupError), "a decision", strings.Repeat("r", 80)
		}
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 400<<10 {
		t.Fatalf("the progress of %d groups is %d bytes", MaxReleaseGroups, len(data))
	}
	t.Logf("progress of %d groups, every field at its cap: %d KB", MaxReleaseGroups, len(data)>>10)
}
