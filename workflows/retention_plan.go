package workflows

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/model"
)

// planRetention decides, from the facts a run read, what becomes of every
// published version at now (newest first): kept (and why), deprecated,
// waiting out its grace period, or deleted. It is pure: the same facts and
// time give the same plan, in a run and in its replay.
//
// A version is kept when the rule keeps it (excluded by tag, among the
// newest N, younger than D), when it is the newest version and the package
// is associated with a service, or when anything refers to one of its
// copies (in use): a version in use is never deprecated nor deleted.
func planRetention(rule model.RetentionRule, times model.RetentionTimes, facts activities.RetentionFacts, now time.Time) []model.RetentionVersion {
	versions := slices.Clone(facts.Versions)
	slices.SortFunc(versions, func(a, b activities.VersionFacts) int {
		return cmp.Or(b.ReleaseTime.Compare(a.ReleaseTime), cmp.Compare(b.Version, a.Version))
	})
	plan := make([]model.RetentionVersion, 0, len(versions))
	for i, v := range versions {
		p := model.RetentionVersion{Version: v.Version, ReleaseTime: v.ReleaseTime, Deprecated: v.Deprecated, Action: model.RetentionKeep,
			Regions: slices.Clone(v.Regions)}
		if v.Deprecated {
			p.DeleteAfter = v.DeprecateTime.Add(times.GracePeriod)
		}
		age := now.Sub(v.ReleaseTime)
		var inUse []string
		for _, r := range v.Regions {
			if len(r.UsedBy) > 0 {
				inUse = append(inUse, r.Region+": "+strings.Join(r.UsedBy, ", "))
			}
		}
		ex, excluded := rule.Excludes(v.SourceTags)
		switch {
		case excluded:
			p.Reason = "excluded by tag " + ex
		case rule.KeepNewest > 0 && i < rule.KeepNewest:
			p.Reason = fmt.Sprintf("among the newest %d versions (#%d)", rule.KeepNewest, i+1)
		case times.KeepYoungerThan > 0 && age < times.KeepYoungerThan:
			p.Reason = fmt.Sprintf("younger than %s (released %s ago)", times.KeepYoungerThan, age.Round(time.Second))
		case len(inUse) > 0:
			p.Reason = "in use: " + strings.Join(inUse, "; ")
		case i == 0 && len(facts.Services) > 0:
			p.Reason = "the newest version, offered by service " + strings.Join(facts.Services, ", ")
		case rule.BuildTemplate != "":
			p.Action = model.RetentionDelete
			p.Reason = "retired by the rule: the build's image is deleted"
		case !v.Deprecated && times.GracePeriod > 0:
			p.Action = model.RetentionDeprecate
			p.Reason = fmt.Sprintf("retired by the rule: deprecated now, copies deleted after the grace period of %s", times.GracePeriod)
		case !v.Deprecated:
			p.Action = model.RetentionDelete
			p.Reason = "retired by the rule: deprecated, then its copies deleted in every region (no grace period)"
		case now.Before(p.DeleteAfter):
			p.Action = model.RetentionWait
			p.Reason = fmt.Sprintf("deprecated %s; copies deleted after %s", v.DeprecateTime.UTC().Format(time.RFC3339), p.DeleteAfter.UTC().Format(time.RFC3339))
		default:
			p.Action = model.RetentionDelete
			p.Reason = fmt.Sprintf("deprecated since %s, grace period of %s over: copies deleted in every region", v.DeprecateTime.UTC().Format(time.RFC3339), times.GracePeriod)
		}
		if p.Action == model.RetentionKeep && v.Deprecated {
			p.Reason += " (stays deprecated)"
		}
		if p.Action != model.RetentionKeep {
			p.State = model.RetentionPlanned
		}
		p.DeprecatedByRun = rule.BuildTemplate == "" && !v.Deprecated && (p.Action == model.RetentionDeprecate || p.Action == model.RetentionDelete)
		if p.Action == model.RetentionDelete {
			for j := range p.Regions {
				p.Regions[j].State = model.RetentionPlanned
			}
		}
		plan = append(plan, p)
	}
	return plan
}
