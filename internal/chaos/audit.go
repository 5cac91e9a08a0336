package chaos

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// creating are the ledger actions that make something a workflow step must
// make once per attempt.
var creating = []string{"CopyImage", "RunInstances", "CreateVpc", "CreateVSwitch", "CreateImage",
	cloud.ActionCreateTaskSet, "ReplaceSystemDisk", "RunCommand", "StartExecution", "PutObject", "CopyObject", "PushImage", "PushChart"}

// execution is what the audit reads from one workflow history.
type execution struct {
	id, runID, typ string
	tokens         map[string]bool // client tokens its activities were given
	taskFailures   []string        // causes of workflow task failures
	maxAttempt     int32
	maxAttemptOf   string
	result         *model.BuildResult
}

// audit reads the cloud's ledger and state and every workflow history.
func (r *run) audit(ctx context.Context) (*Report, error) {
	rep := &Report{Seed: r.cfg.Seed, Run: r.name, Operations: r.ops, Events: r.events, Violations: []string{}}
	expectations(r.ops)
	ledger, err := r.cloud.Admin().Ledger(ctx)
	if err != nil {
		return nil, err
	}
	var fresh []cloud.LedgerEntry // the load's side effects
	for _, e := range ledger {
		if e.Seq > r.setupSeq {
			fresh = append(fresh, e)
		}
	}
	execs, err := r.histories(ctx)
	if err != nil {
		return nil, err
	}
	owner := map[string]string{} // token → workflow ID
	for _, ex := range execs {
		for t := range ex.tokens {
			owner[t] = ex.id
		}
	}
	opOf := func(workflowID string) *op {
		for _, o := range r.ops {
			if workflowID == o.WorkflowID || strings.HasPrefix(workflowID, o.WorkflowID+"/") {
				return o
			}
		}
		return nil
	}

	// End states.
	ended := 0
	for _, o := range r.ops {
		if o.Status == o.ExpectStatus && o.State == o.Expect {
			ended++
			continue
		}
		rep.violate("end state", "%s %s ended %s/%s, expected %s/%s", o.Kind, o.WorkflowID, o.Status, o.State, o.ExpectStatus, o.Expect)
	}
	rep.check("every workflow in its expected end state", ended == len(r.ops), "%d of %d", ended, len(r.ops))

	checkOnce(rep, fresh, owner)
	r.auditCopies(ctx, rep, fresh, owner, opOf)
	r.auditRollouts(ctx, rep, fresh)
	r.auditBlueGreen(ctx, rep, fresh)
	r.auditBuilds(rep, fresh, owner, execs)
	r.auditPackages(ctx, rep, fresh, owner, opOf)

	// Histories and logs.
	failures, attempt, attemptOf := 0, int32(0), ""
	for _, ex := range execs {
		failures += len(ex.taskFailures)
		for _, c := range ex.taskFailures {
			rep.violate("history", "workflow task failure in %s: %s", ex.id, c)
		}
		if ex.maxAttempt > attempt {
			attempt, attemptOf = ex.maxAttempt, ex.id+" "+ex.maxAttemptOf
		}
	}
	rep.HighestAttempt = attempt
	rep.check("no workflow task failure in any history", failures == 0, "%d histories, %d failures", len(execs), failures)
	rep.check("highest activity attempt", true, "%d (%s)", attempt, attemptOf)
	panics, nondet, errs := r.scanLog(rep)
	rep.check("no panic in any process log", panics == 0, "%d", panics)
	rep.check("no non-determinism error in histories or worker logs", nondet == 0, "%d", nondet)
	rep.check("worker log lines at error level (informational)", true, "%d", errs)
	return rep, nil
}

// perTarget are the bulk calls: one call, with one client token, acts on many
// existing instances and the cloud records one entry per instance.
var perTarget = []string{"RunCommand", "StartExecution"}

// checkOnce: one ledger entry per client token and action (per instance for
// the bulk calls), and no creation without a token a workflow's activity was
// given (owner: token → workflow).
func checkOnce(rep *Report, fresh []cloud.LedgerEntry, owner map[string]string) {
	type key struct{ action, account, token, target string }
	seen := map[key]int{}
	dups, untracked := 0, 0
	for _, e := range fresh {
		if !slices.Contains(creating, e.Action) {
			continue
		}
		if e.ClientToken == "" || owner[e.ClientToken] == "" {
			untracked++
			rep.violate("exactly once", "%s %s (%s) at seq %d has no client token of a workflow step", e.Action, e.ResourceId, e.Detail, e.Seq)
			continue
		}
		k := key{action: e.Action, account: e.Account, token: e.ClientToken}
		if slices.Contains(perTarget, e.Action) {
			k.target = e.ResourceId
		}
		seen[k]++
		if seen[k] == 2 {
			dups++
			rep.violate("exactly once", "%s %s repeated for one step attempt (token %s of %s)", e.Action, e.ResourceId, e.ClientToken, owner[e.ClientToken])
		}
	}
	rep.check("one side effect per step attempt (ledger, by client token)", dups == 0 && untracked == 0,
		"%d creations, %d duplicates, %d without a step's token", countCreations(fresh), dups, untracked)
}

func countCreations(es []cloud.LedgerEntry) int {
	n := 0
	for _, e := range es {
		if slices.Contains(creating, e.Action) {
			n++
		}
	}
	return n
}

// auditCopies: a distribution that did not succeed leaves no copy; one that
// did has one live copy per region.
func (r *run) auditCopies(ctx context.Context, rep *Report, fresh []cloud.LedgerEntry, owner map[string]string, opOf func(string) *op) {
	leaks, copies := 0, 0
	live := map[string]map[string]int{} // op → region → live copies
	for _, e := range fresh {
		if e.Action != "CopyImage" {
			continue
		}
		copies++
		o := opOf(owner[e.ClientToken])
		if o == nil {
			continue
		}
		img, err := r.cloud.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: e.Region, ImageIds: []string{e.ResourceId}, IncludeDeleted: true})
		if err != nil {
			rep.violate("audit", "describe copy %s: %v", e.ResourceId, err)
			continue
		}
		alive := len(img.Images) > 0 && img.Images[0].Status != "Deleted"
		if o.State != model.StateSucceeded && alive {
			leaks++
			rep.violate("leak", "copy %s in %s of %s (%s) left behind", e.ResourceId, e.Region, o.WorkflowID, o.State)
		}
		if alive {
			if live[o.WorkflowID] == nil {
				live[o.WorkflowID] = map[string]int{}
			}
			live[o.WorkflowID][e.Region]++
		}
	}
	extra := 0
	for id, regions := range live {
		for region, n := range regions {
			if n > 1 {
				extra++
				rep.violate("leak", "%s has %d live copies in %s", id, n, region)
			}
		}
	}
	rep.check("no copy of a failed or aborted distribution; one live copy per region", leaks == 0 && extra == 0,
		"%d copies made, %d left by failed/aborted runs, %d extra", copies, leaks, extra)
}

// auditRollouts: one change per instance (the failing one: none, and it
// keeps its image), no instance in Standby, processes and weights as before.
func (r *run) auditRollouts(ctx context.Context, rep *Report, fresh []cloud.LedgerEntry) {
	bad, leaks, instances := 0, 0, 0
	for _, o := range r.ops {
		if o.Kind != "rollout" {
			continue
		}
		action := "ReplaceSystemDisk"
		if o.TaskType == model.TaskScript {
			action = "RunCommand"
		}
		changes := map[string]int{}
		for _, e := range fresh {
			if e.Action == action {
				changes[e.ResourceId]++
			}
		}
		for _, id := range o.Instances {
			instances++
			want := 1
			if id == o.Failing {
				want = 0
			}
			if changes[id] != want {
				bad++
				rep.violate("exactly once", "%s: %d %s on %s, expected %d", o.WorkflowID, changes[id], action, id, want)
			}
		}
		if o.TaskType == model.TaskImage {
			resp, err := r.cloud.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: sourceRegion, InstanceIds: o.Instances})
			if err == nil {
				for _, in := range resp.Instances {
					want := "m-webapp-v2"
					if in.InstanceId == o.Failing {
						want = "m-webapp-v1"
					}
					if in.ImageId != want {
						bad++
						rep.violate("end state", "%s: instance %s runs %s, expected %s", o.WorkflowID, in.InstanceId, in.ImageId, want)
					}
				}
			}
		}
		g, err := r.cloud.DescribeScalingGroups(ctx, &cloud.DescribeScalingGroupsRequest{RegionId: sourceRegion, ScalingGroupIds: []string{o.Group}})
		if err != nil || len(g.ScalingGroups) != 1 {
			rep.violate("audit", "describe group %s: %v", o.Group, err)
			continue
		}
		sg := g.ScalingGroups[0]
		if sg.StandbyCapacity != 0 {
			leaks++
			rep.violate("leak", "%s: %d instances left in Standby", o.Group, sg.StandbyCapacity)
		}
		if !sameSet(sg.SuspendedProcesses, o.Suspended) {
			leaks++
			rep.violate("leak", "%s: suspended processes %v, before %v", o.Group, sg.SuspendedProcesses, o.Suspended)
		}
		lb, err := r.cloud.DescribeLoadBalancerAttribute(ctx, &cloud.DescribeLoadBalancerAttributeRequest{RegionId: sourceRegion, LoadBalancerId: o.LB})
		if err != nil {
			rep.violate("audit", "describe load balancer %s: %v", o.LB, err)
			continue
		}
		for _, b := range lb.BackendServers {
			if b.Weight != 100 {
				leaks++
				rep.violate("leak", "%s: weight of %s is %d, before 100", o.LB, b.ServerId, b.Weight)
			}
		}
	}
	rep.check("one disk replacement or command per instance and attempt", bad == 0, "%d instances, %d wrong", instances, bad)
	rep.check("no instance in Standby; weights and scaling processes as before", leaks == 0, "%d leaks", leaks)
}

// auditBlueGreen: one task set created per deployment, one live task set
// (the primary) per service afterwards.
func (r *run) auditBlueGreen(ctx context.Context, rep *Report, fresh []cloud.LedgerEntry) {
	bad, orphans := 0, 0
	for _, o := range r.ops {
		if o.Kind != "bluegreen" {
			continue
		}
		n := 0
		for _, e := range fresh {
			if e.Action == cloud.ActionCreateTaskSet && strings.Contains(e.ResourceId, "task-set/"+o.Cluster+"/"+o.Service+"/") {
				n++
			}
		}
		if n != 1 {
			bad++
			rep.violate("exactly once", "%s: %d task sets created, expected 1", o.WorkflowID, n)
		}
		resp, err := r.cloud.Containers().DescribeServices(ctx, &cloud.DescribeServicesRequest{Cluster: o.Cluster, Services: []string{o.Service}})
		if err != nil || len(resp.Services) != 1 {
			rep.violate("audit", "describe service %s/%s: %v", o.Cluster, o.Service, err)
			continue
		}
		var live []string
		for _, ts := range resp.Services[0].TaskSets {
			if ts.Status != cloud.TaskSetDraining {
				live = append(live, ts.Id+" "+ts.Status)
			}
		}
		if len(live) != 1 || !strings.HasSuffix(live[0], cloud.TaskSetPrimary) {
			orphans++
			rep.violate("leak", "%s: live task sets %v, expected the primary alone", o.WorkflowID, live)
		}
	}
	rep.check("one task set per deployment; no orphan task set", bad == 0 && orphans == 0, "%d wrong counts, %d orphans", bad, orphans)
}

// auditBuilds: one instance per launch attempt, and every intermediate
// instance, VPC, vSwitch and image released.
func (r *run) auditBuilds(rep *Report, fresh []cloud.LedgerEntry, owner map[string]string, execs []*execution) {
	keep := map[string]bool{}
	for _, ex := range execs {
		if ex.result != nil {
			keep[ex.result.ImageID] = true
			for _, id := range ex.result.Images {
				keep[id] = true
			}
		}
	}
	made := map[string]string{} // resource → kind
	var order []string
	launches := 0
	for _, e := range fresh {
		switch e.Action {
		case "RunInstances", "CreateVpc", "CreateVSwitch", "CreateImage":
			if e.Action == "RunInstances" {
				launches++
			}
			made[e.ResourceId] = e.ResourceType
			order = append(order, e.ResourceId)
		case "DeleteInstances", "DeleteVpc", "DeleteVSwitch", "DeleteImage":
			delete(made, e.ResourceId)
		}
	}
	leaks := 0
	for _, id := range order {
		if kind, ok := made[id]; ok && !keep[id] {
			leaks++
			delete(made, id)
			rep.violate("leak", "build %s %s left behind", kind, id)
		}
	}
	rep.check("one build instance per step attempt; no intermediate instance, VPC, vSwitch or image left", leaks == 0,
		"%d instances launched, %d leaks", launches, leaks)
}

// auditPackages: an aborted or failed distribution leaves no draft version
// it created (a draft that existed before it stays, with nothing
// delivered); an aborted publication keeps the user's draft, with nothing
// delivered.
func (r *run) auditPackages(ctx context.Context, rep *Report, fresh []cloud.LedgerEntry, owner map[string]string, opOf func(string) *op) {
	own := createdDrafts(fresh, owner, opOf)
	bad := 0
	for _, o := range r.ops {
		if !endedWithoutPublishing(o) {
			continue
		}
		art, err := r.cloud.GetArtifact(ctx, &cloud.GetArtifactRequest{Name: o.Package})
		if err != nil {
			continue // no package: nothing left
		}
		if !checkLeftVersion(rep, o, art.Artifact.Versions, own[o]) {
			bad++
		}
	}
	rep.check("no draft of an aborted or failed distribution; no delivery of an aborted publication", bad == 0, "%d", bad)
}

// endedWithoutPublishing: a distribution or publication that was aborted or
// failed.
func endedWithoutPublishing(o *op) bool {
	if o.Kind != "distribute" && o.Kind != "publish" {
		return false
	}
	return o.Role == roleAbort || o.State == model.StateAborted || o.State == model.StateFailed
}

// createdDrafts finds the operations whose own client token created their
// draft version (CreateArtifact in the ledger).
func createdDrafts(fresh []cloud.LedgerEntry, owner map[string]string, opOf func(string) *op) map[*op]bool {
	own := map[*op]bool{}
	for _, e := range fresh {
		if e.Action != "CreateArtifact" || e.ClientToken == "" {
			continue
		}
		if o := opOf(owner[e.ClientToken]); o != nil && strings.HasSuffix(e.Detail, "draft version "+o.Version) {
			own[o] = true
		}
	}
	return own
}

// checkLeftVersion checks what an aborted or failed operation left of its
// version: nothing if it created the draft, else the draft with nothing
// delivered. It reports a violation and returns false.
func checkLeftVersion(rep *Report, o *op, versions []cloud.ArtifactVersion, created bool) bool {
	for _, v := range versions {
		if v.VersionName != o.Version {
			continue
		}
		if created {
			rep.violate("leak", "%s: draft version %s of %s that it created is left (%s)", o.WorkflowID, v.VersionName, o.Package, v.Status)
			return false
		}
		if v.Status != cloud.ArtifactDraft || len(v.ImageDelivery) > 0 || len(v.Delivery) > 0 {
			rep.violate("leak", "%s: version %s of %s is %s with deliveries %v %v", o.WorkflowID, v.VersionName, o.Package, v.Status, v.ImageDelivery, v.Delivery)
			return false
		}
	}
	return true
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// histories reads every workflow of the run's namespace (children included).
func (r *run) histories(ctx context.Context) ([]*execution, error) {
	var out []*execution
	var next []byte
	for {
		resp, err := r.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", PageSize: 200, NextPageToken: next})
		if err != nil {
			return nil, err
		}
		for _, info := range resp.GetExecutions() {
			ex := &execution{id: info.GetExecution().GetWorkflowId(), runID: info.GetExecution().GetRunId(), typ: info.GetType().GetName(), tokens: map[string]bool{}}
			if err := r.readHistory(ctx, ex); err != nil {
				return nil, err
			}
			out = append(out, ex)
		}
		next = resp.GetNextPageToken()
		if len(next) == 0 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

func (r *run) readHistory(ctx context.Context, ex *execution) error {
	dc := r.dc
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	scheduled := map[int64]string{}
	it := r.tc.GetWorkflowHistory(ctx, ex.id, ex.runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return fmt.Errorf("history of %s: %w", ex.id, err)
		}
		switch a := ev.GetAttributes().(type) {
		case *historypb.HistoryEvent_ActivityTaskScheduledEventAttributes:
			scheduled[ev.GetEventId()] = a.ActivityTaskScheduledEventAttributes.GetActivityType().GetName()
			for _, p := range a.ActivityTaskScheduledEventAttributes.GetInput().GetPayloads() {
				var v any
				if dc.FromPayload(p, &v) == nil {
					collectTokens(v, ex.tokens)
				}
			}
		case *historypb.HistoryEvent_ActivityTaskStartedEventAttributes:
			at := a.ActivityTaskStartedEventAttributes
			if at.GetAttempt() > ex.maxAttempt {
				ex.maxAttempt, ex.maxAttemptOf = at.GetAttempt(), scheduled[at.GetScheduledEventId()]
			}
		case *historypb.HistoryEvent_WorkflowTaskFailedEventAttributes:
			f := a.WorkflowTaskFailedEventAttributes
			ex.taskFailures = append(ex.taskFailures, f.GetCause().String()+": "+f.GetFailure().GetMessage())
		case *historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes:
			if ex.typ == model.BuildWorkflowType {
				var res model.BuildResult
				if ps := a.WorkflowExecutionCompletedEventAttributes.GetResult().GetPayloads(); len(ps) > 0 && dc.FromPayload(ps[0], &res) == nil {
					ex.result = &res
				}
			}
		}
	}
	return nil
}

// collectTokens gathers every ClientToken in an activity input, however
// deep (a bulk activity carries one per instance).
func collectTokens(v any, into map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if s, ok := val.(string); ok && strings.EqualFold(k, "ClientToken") && s != "" {
				into[s] = true
				continue
			}
			collectTokens(val, into)
		}
	case []any:
		for _, val := range t {
			collectTokens(val, into)
		}
	}
}

// scanLog counts panics, non-determinism errors and error-level lines in
// the processes' output.
func (r *run) scanLog(rep *Report) (panics, nondet, errs int) {
	f, err := os.Open(r.logPath)
	if err != nil {
		rep.violate("audit", "read the stack log: %v", err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1024*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		low := strings.ToLower(line)
		switch {
		case strings.Contains(low, "panic"):
			panics++
			rep.violate("log", "panic: %s", trim(line))
		case strings.Contains(low, "nondetermin") || strings.Contains(low, "non-determin"):
			nondet++
			rep.violate("log", "non-determinism: %s", trim(line))
		}
		if strings.HasPrefix(line, "worker") && (strings.Contains(line, `"level":"error"`) || strings.Contains(line, " ERR ")) {
			errs++
			// Without chaos nothing cancels an activity but the workflow that
			// no longer needs it, which is no error.
			if !r.chaos && strings.Contains(low, "context canceled") {
				rep.violate("log", "a cancellation logged as an error: %s", trim(line))
			}
		}
	}
	return
}

func trim(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
