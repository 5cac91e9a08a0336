package chaos

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/cloudsim"
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
	parent         string          // the parent workflow's ID (a build's distribution)
	maxAttempt     int32
	maxAttemptOf   string
	maxAttemptWhy  string // the failure of the attempt before it
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
	opOf := opFinder(r.ops, execs)

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
	auditPublications(rep, r.ops, fresh, owner, opOf)
	r.auditRollouts(ctx, rep, fresh)
	r.auditBlueGreen(ctx, rep, fresh)
	r.auditBuilds(rep, fresh, owner, opOf, execs)
	r.auditPackages(ctx, rep, fresh, owner, opOf)

	// Histories and logs.
	failures := 0
	for _, ex := range execs {
		failures += len(ex.taskFailures)
		for _, c := range ex.taskFailures {
			rep.violate("history", "workflow task failure in %s: %s", ex.id, c)
		}
	}
	rep.check("no workflow task failure in any history", failures == 0, "%d histories, %d failures", len(execs), failures)
	checkAttempts(rep, execs, attemptLimit(r.cfg, r.chaos))
	r.scanLog(rep)
	return rep, nil
}

// opFinder returns the operation a workflow belongs to: its own, or its
// parent's (a build's distribution is the build's).
func opFinder(ops []*op, execs []*execution) func(workflowID string) *op {
	parent := map[string]string{}
	for _, ex := range execs {
		if ex.parent != "" {
			parent[ex.id] = ex.parent
		}
	}
	return func(workflowID string) *op {
		for range 8 { // a chain of parents, never a loop
			for _, o := range ops {
				if workflowID == o.WorkflowID || strings.HasPrefix(workflowID, o.WorkflowID+"/") {
					return o
				}
			}
			p, ok := parent[workflowID]
			if !ok {
				return nil
			}
			workflowID = p
		}
		return nil
	}
}

// attemptLimit is the highest activity attempt the load's faults explain.
// A step's activity retries on the retry policy of workflows/options.go (1 s,
// doubling up to 30 s): a fault that lasts the outage, plus a minute of
// margin, costs the attempts that fit in that window; each kill or restart
// may cost an activity in flight one more, and the transient and throttle
// dice a few (at a 10 % rate per call, four failed attempts in a row are
// about one in ten thousand). An attempt beyond that is a step retrying
// something no fault explains: an error that should not be retried, or a
// retry loop.
func attemptLimit(cfg Config, chaos bool) int32 {
	window := time.Minute
	kills := 0
	if chaos {
		window += cfg.Outage
		kills = cfg.WorkerKills + cfg.ServerRestarts + cfg.CloudRestarts
	}
	return int32(attemptsWithin(window) + kills + 4)
}

// attemptsWithin counts the attempts the step retry policy starts within d.
func attemptsWithin(d time.Duration) int {
	n, elapsed, wait := 1, time.Duration(0), time.Second
	for {
		elapsed += wait
		if elapsed > d {
			return n
		}
		n++
		wait = min(2*wait, 30*time.Second)
	}
}

// checkAttempts: no activity needed more attempts than limit.
func checkAttempts(rep *Report, execs []*execution, limit int32) {
	var attempt int32
	of, why := "", ""
	over := 0
	for _, ex := range execs {
		if ex.maxAttempt > limit {
			over++
			rep.violate("history", "%s: activity %s needed %d attempts (limit %d); the attempt before failed with: %s",
				ex.id, ex.maxAttemptOf, ex.maxAttempt, limit, trim(ex.maxAttemptWhy))
		}
		if ex.maxAttempt > attempt {
			attempt, of, why = ex.maxAttempt, ex.id+" "+ex.maxAttemptOf, ex.maxAttemptWhy
		}
	}
	rep.HighestAttempt = attempt
	detail := fmt.Sprintf("%d of at most %d", attempt, limit)
	if of != "" {
		detail += " (" + of + ")"
	}
	if attempt > 1 && why != "" {
		if len(why) > 100 {
			why = why[:100] + "…"
		}
		detail += "; before it: " + why
	}
	rep.check("highest activity attempt within what the faults explain", over == 0, "%s", detail)
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

// auditCopies counts the image copies of every distribution (a build's
// included) per region, from the ledger and the cloud's state: one copy per
// region and attempt (an operator's retry-region allows one more; a retry
// that sends a new client token is a second copy), exactly one live copy in
// each region of a distribution that succeeded, and none left by one that
// did not.
func (r *run) auditCopies(ctx context.Context, rep *Report, fresh []cloud.LedgerEntry, owner map[string]string, opOf func(string) *op) {
	type key struct {
		o      *op
		region string
	}
	made := map[key]int{}
	live := map[key][]string{}
	leaks, copies, unchecked := 0, 0, 0
	for _, e := range fresh {
		if e.Action != "CopyImage" {
			continue
		}
		copies++
		o := opOf(owner[e.ClientToken])
		if o == nil {
			continue // checkOnce reports a copy no step asked for
		}
		k := key{o, e.Region}
		made[k]++
		img, err := r.cloud.DescribeImages(ctx, &cloud.DescribeImagesRequest{RegionId: e.Region, ImageIds: []string{e.ResourceId}, IncludeDeleted: true})
		if err != nil {
			unchecked++
			rep.violate("audit", "could not check copy %s in %s of %s: %v", e.ResourceId, e.Region, o.WorkflowID, err)
			continue
		}
		alive := len(img.Images) > 0 && img.Images[0].Status != "Deleted"
		if !alive {
			continue
		}
		if o.State != model.StateSucceeded {
			leaks++
			rep.violate("leak", "copy %s in %s of %s (%s) left behind", e.ResourceId, e.Region, o.WorkflowID, o.State)
		}
		live[k] = append(live[k], e.ResourceId)
	}
	dups, extra, missing := 0, 0, 0
	for _, k := range sortedKeys(made, func(k key) string { return k.o.WorkflowID + " " + k.region }) {
		if allowed := 1 + k.o.retries(k.region); made[k] > allowed {
			dups++
			rep.violate("exactly once", "%s made %d copies in %s, at most %d expected (one, and one per retry-region)", k.o.WorkflowID, made[k], k.region, allowed)
		}
		if n := len(live[k]); n > 1 {
			extra++
			rep.violate("leak", "%s has %d live copies in %s: %v", k.o.WorkflowID, n, k.region, live[k])
		}
	}
	for _, o := range r.ops {
		if (o.Kind != "distribute" && o.Kind != "build") || o.State != model.StateSucceeded {
			continue
		}
		for _, region := range o.Regions {
			if region != sourceRegion && len(live[key{o, region}]) == 0 {
				missing++
				rep.violate("missing", "%s succeeded without a live copy in %s", o.WorkflowID, region)
			}
		}
	}
	rep.check("one copy per region and attempt; one live copy per region of a distribution that succeeded, none of one that did not",
		leaks == 0 && dups == 0 && extra == 0 && missing == 0 && unchecked == 0,
		"%d copies made, %d duplicates, %d left by failed/aborted runs, %d extra live, %d regions without a copy, %d unchecked",
		copies, dups, leaks, extra, missing, unchecked)
}

// retries counts the retry-region commands the harness sent for region.
func (o *op) retries(region string) int {
	n := 0
	for _, c := range o.Operator {
		if c == "retry-region "+region {
			n++
		}
	}
	return n
}

func sortedKeys[K comparable, V any](m map[K]V, name func(K) string) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return name(keys[i]) < name(keys[j]) })
	return keys
}

// contentActions are the ledger actions that deliver a package's content.
var contentActions = []string{"PutObject", "CopyObject", "PushImage", "PushChart"}

// auditPublications counts what every publication delivered, per action
// and region, from the ledger: a file publication copies its object once
// into each region but the source (an operator's retry-region allows one
// more), and nothing uploads or pushes again (the user's draft holds the
// content, which the harness uploaded and pushed before the load). A
// publication that succeeded copied into every such region.
func auditPublications(rep *Report, ops []*op, fresh []cloud.LedgerEntry, owner map[string]string, opOf func(string) *op) {
	type key struct {
		o              *op
		action, region string
	}
	count := map[key]int{}
	for _, e := range fresh {
		if !slices.Contains(contentActions, e.Action) {
			continue
		}
		if o := opOf(owner[e.ClientToken]); o != nil {
			count[key{o, e.Action, e.Region}]++
		}
	}
	bad, n := 0, 0
	for k, c := range count {
		n += c
		if k.o.Kind != "publish" || k.action != "CopyObject" {
			bad++
			rep.violate("exactly once", "%s: %d %s in %s; the content was uploaded before, nothing delivers it again", k.o.WorkflowID, c, k.action, k.region)
		}
	}
	for _, o := range ops {
		if o.Kind != "publish" {
			continue
		}
		for _, region := range o.Regions {
			c := count[key{o, "CopyObject", region}]
			switch allowed := 1 + o.retries(region); {
			case o.TaskType != model.PackageFile || region == sourceRegion:
				if c > 0 {
					bad++
					rep.violate("exactly once", "%s: %d CopyObject into %s, expected none", o.WorkflowID, c, region)
				}
			case c > allowed:
				bad++
				rep.violate("exactly once", "%s: %d CopyObject into %s, at most %d expected (one, and one per retry-region)", o.WorkflowID, c, region, allowed)
			case c == 0 && o.State == model.StateSucceeded:
				bad++
				rep.violate("missing", "%s succeeded without copying its file into %s", o.WorkflowID, region)
			}
		}
	}
	rep.check("one content copy per publication, region and attempt; no upload or push again", bad == 0, "%d deliveries, %d wrong", n, bad)
}

// auditRollouts: one change per instance (the failing one: none, and it
// keeps its image), every instance on the image it should run, no instance
// in Standby, processes and load balancer weights as before the run.
func (r *run) auditRollouts(ctx context.Context, rep *Report, fresh []cloud.LedgerEntry) {
	bad, leaks, instances, unchecked := 0, 0, 0, 0
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
			b, u := r.checkImages(ctx, rep, o)
			bad, unchecked = bad+b, unchecked+u
		}
		g, err := r.cloud.DescribeScalingGroups(ctx, &cloud.DescribeScalingGroupsRequest{RegionId: sourceRegion, ScalingGroupIds: []string{o.Group}})
		if err != nil || len(g.ScalingGroups) != 1 {
			unchecked++
			rep.violate("audit", "could not check group %s: %v", o.Group, err)
		} else {
			sg := g.ScalingGroups[0]
			if sg.StandbyCapacity != 0 {
				leaks++
				rep.violate("leak", "%s: %d instances left in Standby", o.Group, sg.StandbyCapacity)
			}
			if !sameSet(sg.SuspendedProcesses, o.Suspended) {
				leaks++
				rep.violate("leak", "%s: suspended processes %v, before %v", o.Group, sg.SuspendedProcesses, o.Suspended)
			}
		}
		weights, err := r.backendWeights(ctx, o.LB)
		if err != nil {
			unchecked++
			rep.violate("audit", "could not check load balancer %s: %v", o.LB, err)
			continue
		}
		leaks += compareWeights(rep, o.LB, weights, o.WeightsBefore)
	}
	rep.check("one disk replacement or command per instance and attempt; every instance on its expected image", bad == 0 && unchecked == 0,
		"%d instances, %d wrong, %d checks that could not run", instances, bad, unchecked)
	rep.check("no instance in Standby; weights and scaling processes as before", leaks == 0, "%d leaks", leaks)
}

// checkImages: every instance of the rollout's group runs the new image
// but the failing one, which keeps the old. An instance the cloud does not
// answer for is a violation too, as is a lookup that fails: a check that
// could not run proves nothing.
func (r *run) checkImages(ctx context.Context, rep *Report, o *op) (bad, unchecked int) {
	resp, err := r.cloud.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: sourceRegion, InstanceIds: o.Instances})
	if err != nil {
		rep.violate("audit", "%s: could not check the instances' images: %v", o.WorkflowID, err)
		return 0, 1
	}
	seen := map[string]bool{}
	for _, in := range resp.Instances {
		seen[in.InstanceId] = true
		want := cloudsim.ImageWebappV2
		if in.InstanceId == o.Failing {
			want = cloudsim.ImageWebappV1
		}
		if in.ImageId != want {
			bad++
			rep.violate("end state", "%s: instance %s runs %s, expected %s", o.WorkflowID, in.InstanceId, in.ImageId, want)
		}
	}
	for _, id := range o.Instances {
		if !seen[id] {
			bad++
			rep.violate("end state", "%s: instance %s is gone", o.WorkflowID, id)
		}
	}
	return bad, 0
}

// backendWeights reads a load balancer's backend servers' weights.
func (r *run) backendWeights(ctx context.Context, lb string) (map[string]int, error) {
	resp, err := r.cloud.DescribeLoadBalancerAttribute(ctx, &cloud.DescribeLoadBalancerAttributeRequest{RegionId: sourceRegion, LoadBalancerId: lb})
	if err != nil {
		return nil, err
	}
	w := map[string]int{}
	for _, b := range resp.BackendServers {
		w[b.ServerId] = b.Weight
	}
	return w, nil
}

// compareWeights reports every weight that differs from before the run
// (a server gone or added included) and returns how many.
func compareWeights(rep *Report, what string, now, before map[string]int) int {
	n := 0
	for _, id := range slices.Sorted(maps.Keys(before)) {
		w, ok := now[id]
		switch {
		case !ok:
			n++
			rep.violate("leak", "%s: %s no longer has a weight (before %d)", what, id, before[id])
		case w != before[id]:
			n++
			rep.violate("leak", "%s: weight of %s is %d, before %d", what, id, w, before[id])
		}
	}
	for _, id := range slices.Sorted(maps.Keys(now)) {
		if _, ok := before[id]; !ok {
			n++
			rep.violate("leak", "%s: %s has weight %d and had none before", what, id, now[id])
		}
	}
	return n
}

// auditBlueGreen: one task set created per deployment; afterwards one live
// task set per service, the primary, which is the deployment's new task set
// if it succeeded and the one primary before it otherwise; the production
// listener sends all traffic to the primary's target group, and a deployment
// that did not succeed leaves both listeners' weights as they were.
func (r *run) auditBlueGreen(ctx context.Context, rep *Report, fresh []cloud.LedgerEntry) {
	bad, orphans, wrong, unchecked := 0, 0, 0, 0
	for _, o := range r.ops {
		if o.Kind != "bluegreen" {
			continue
		}
		var created []string // task set ARNs
		for _, e := range fresh {
			if e.Action == cloud.ActionCreateTaskSet && strings.Contains(e.ResourceId, "task-set/"+o.Cluster+"/"+o.Service+"/") {
				created = append(created, e.ResourceId)
			}
		}
		if len(created) != 1 {
			bad++
			rep.violate("exactly once", "%s: %d task sets created, expected 1", o.WorkflowID, len(created))
		}
		resp, err := r.cloud.Containers().DescribeServices(ctx, &cloud.DescribeServicesRequest{Cluster: o.Cluster, Services: []string{o.Service}})
		if err != nil || len(resp.Services) != 1 {
			unchecked++
			rep.violate("audit", "could not check service %s/%s: %v", o.Cluster, o.Service, err)
			continue
		}
		var live []string
		var primary *cloud.TaskSet
		for i, ts := range resp.Services[0].TaskSets {
			if ts.Status == cloud.TaskSetDraining {
				continue
			}
			live = append(live, ts.Id+" "+ts.Status)
			if ts.Status == cloud.TaskSetPrimary {
				primary = &resp.Services[0].TaskSets[i]
			}
		}
		if len(live) != 1 || primary == nil {
			orphans++
			rep.violate("leak", "%s: live task sets %v, expected the primary alone", o.WorkflowID, live)
		}
		l, err := r.listenerWeights(ctx, o.ProdListener, o.TestListener)
		if err != nil {
			unchecked++
			rep.violate("audit", "could not check the listeners of %s: %v", o.WorkflowID, err)
			continue
		}
		wrong += checkBlueGreenEnd(rep, o, created, primary, l[o.ProdListener], l[o.TestListener])
	}
	rep.check("one task set per deployment; no orphan task set", bad == 0 && orphans == 0, "%d wrong counts, %d orphans", bad, orphans)
	rep.check("the right primary task set and listener weights after each deployment", wrong == 0 && unchecked == 0,
		"%d wrong, %d checks that could not run", wrong, unchecked)
}

// checkBlueGreenEnd checks which task set ended primary and the listeners'
// weights (target group → weight, zero weights left out) and returns how
// many are wrong.
func checkBlueGreenEnd(rep *Report, o *op, created []string, primary *cloud.TaskSet, prod, test map[string]int) int {
	wrong := 0
	if primary == nil {
		rep.violate("end state", "%s: the service has no primary task set", o.WorkflowID)
		return 1
	}
	succeeded := o.State == model.StateSucceeded
	switch {
	case succeeded && !slices.Contains(created, primary.TaskSetArn):
		wrong++
		rep.violate("end state", "%s succeeded but the primary task set is %s (%s), not the one it created %v", o.WorkflowID, primary.Id, primary.TaskDefinition, created)
	case !succeeded && primary.Id != o.PrimaryBefore:
		wrong++
		rep.violate("end state", "%s ended %s but the primary task set is %s (%s), not %s as before", o.WorkflowID, o.State, primary.Id, primary.TaskDefinition, o.PrimaryBefore)
	}
	tg := ""
	if len(primary.LoadBalancers) > 0 {
		tg = primary.LoadBalancers[0].TargetGroupArn
	}
	if _, ok := prod[tg]; !ok || len(prod) != 1 {
		wrong++
		rep.violate("end state", "%s: production listener weights %v, expected all traffic on the primary's target group %s", o.WorkflowID, prod, tg)
	}
	if !succeeded {
		if !maps.Equal(prod, o.ProdBefore) {
			wrong++
			rep.violate("end state", "%s: production listener weights %v, before %v", o.WorkflowID, prod, o.ProdBefore)
		}
		if !maps.Equal(test, o.TestBefore) {
			wrong++
			rep.violate("end state", "%s: test listener weights %v, before %v", o.WorkflowID, test, o.TestBefore)
		}
	}
	return wrong
}

// listenerWeights reads listeners' weights by target group (zero weights
// left out).
func (r *run) listenerWeights(ctx context.Context, arns ...string) (map[string]map[string]int, error) {
	resp, err := r.cloud.ELB().DescribeListeners(ctx, &cloud.DescribeListenersRequest{ListenerArns: arns})
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	for _, l := range resp.Listeners {
		w := l.Weights()
		maps.DeleteFunc(w, func(_ string, v int) bool { return v == 0 })
		out[l.ListenerArn] = w
	}
	for _, a := range arns {
		if out[a] == nil {
			return nil, fmt.Errorf("listener %s not found", a)
		}
	}
	return out, nil
}

// buildMakes are what a build makes once: its VPC, vSwitch, instance and
// image. A template with tests also launches one instance from the new
// image (testLaunchAction).
var buildMakes = []string{"CreateVpc", "CreateVSwitch", "RunInstances", "CreateImage"}

const testLaunchAction = "RunInstances of a test instance"

// testLaunch: the launch is the build's test instance, started from the
// image the same build created (the cloud's ledger says "created from
// <image>").
func testLaunch(e cloud.LedgerEntry, o *op, images map[string]*op) bool {
	from, ok := strings.CutPrefix(e.Detail, "created from ")
	if !ok {
		return false
	}
	from, _, _ = strings.Cut(from, ",")
	return images[from] == o
}

// auditBuilds: each build made its VPC, vSwitch, instance and image once
// (counted by the build's client tokens: a retry with a new token is a
// second one), and released every one but the image it produced.
func (r *run) auditBuilds(rep *Report, fresh []cloud.LedgerEntry, owner map[string]string, opOf func(string) *op, execs []*execution) {
	keep := map[string]bool{}
	for _, ex := range execs {
		if ex.result != nil {
			keep[ex.result.ImageID] = true
			for _, id := range ex.result.Images {
				keep[id] = true
			}
		}
	}
	type key struct {
		o      *op
		action string
	}
	images := map[string]*op{} // image → the build that created it
	for _, e := range fresh {
		if o := opOf(owner[e.ClientToken]); o != nil && e.Action == "CreateImage" {
			images[e.ResourceId] = o
		}
	}
	count := map[key]int{}
	made := map[string]string{} // resource → kind
	var order []string
	launches := 0
	for _, e := range fresh {
		switch e.Action {
		case "RunInstances", "CreateVpc", "CreateVSwitch", "CreateImage":
			if e.Action == "RunInstances" {
				launches++
			}
			if o := opOf(owner[e.ClientToken]); o != nil {
				action := e.Action
				if action == "RunInstances" && testLaunch(e, o, images) {
					action = testLaunchAction
				}
				count[key{o, action}]++
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
	dups := 0
	for _, o := range r.ops {
		if o.Kind != "build" {
			continue
		}
		for _, action := range buildMakes {
			n := count[key{o, action}]
			if n > 1 || (n == 0 && o.State == model.StateSucceeded) {
				dups++
				rep.violate("exactly once", "%s: %d %s, expected 1", o.WorkflowID, n, action)
			}
		}
		if n := count[key{o, testLaunchAction}]; n > 1 {
			dups++
			rep.violate("exactly once", "%s: %d %s, expected at most 1", o.WorkflowID, n, testLaunchAction)
		}
	}
	rep.check("one VPC, vSwitch, instance and image per build; no intermediate instance, VPC, vSwitch or image left", leaks == 0 && dups == 0,
		"%d instances launched, %d wrong counts, %d leaks", launches, dups, leaks)
}

// auditPackages: an aborted or failed distribution leaves no draft version
// it created (a draft that existed before it stays, with nothing
// delivered); an aborted publication keeps the user's draft, with nothing
// delivered. A version that cannot be read is a violation: the check could
// not be made.
func (r *run) auditPackages(ctx context.Context, rep *Report, fresh []cloud.LedgerEntry, owner map[string]string, opOf func(string) *op) {
	own := createdDrafts(fresh, owner, opOf)
	bad := 0
	for _, o := range r.ops {
		if !endedWithoutPublishing(o) {
			continue
		}
		var versions []cloud.ArtifactVersion
		art, err := r.cloud.GetArtifact(ctx, &cloud.GetArtifactRequest{Name: o.Package})
		switch {
		case err == nil:
			versions = art.Artifact.Versions
		case !cloud.IsCode(err, cloud.CodeArtifactNotFound):
			bad++
			rep.violate("audit", "%s: could not read package %s: %v", o.WorkflowID, o.Package, err)
			continue
		}
		if !checkLeftVersion(rep, o, versions, own[o]) {
			bad++
		}
	}
	rep.check("no draft of an aborted or failed distribution; an aborted publication's draft kept, with nothing delivered", bad == 0, "%d", bad)
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
// version: nothing if it created the draft, else the draft, still there,
// with nothing delivered. It reports a violation and returns false.
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
		return true
	}
	if !created {
		rep.violate("lost", "%s: the draft version %s of %s that it did not create is gone", o.WorkflowID, o.Version, o.Package)
		return false
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
			ex := &execution{id: info.GetExecution().GetWorkflowId(), runID: info.GetExecution().GetRunId(), typ: info.GetType().GetName(),
				parent: info.GetParentExecution().GetWorkflowId(), tokens: map[string]bool{}}
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
	fc := temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc})
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
				ex.maxAttemptWhy = ""
				if f := at.GetLastFailure(); f != nil {
					// Failure messages are encrypted with the payloads.
					ex.maxAttemptWhy = fc.FailureToError(f).Error()
				}
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

// scanLog checks the processes' output: no panic, no non-determinism
// error, and every worker line at error level explained by what the run
// did to the stack (see errorCause).
func (r *run) scanLog(rep *Report) {
	f, err := os.Open(r.logPath)
	if err != nil {
		rep.violate("audit", "read the stack log: %v", err)
		rep.check("process logs read", false, "%v", err)
		return
	}
	defer f.Close()
	scanLines(rep, f, r.chaos)
}

// scanLines is scanLog on a log's lines.
func scanLines(rep *Report, in io.Reader, chaos bool) {
	panics, nondet := 0, 0
	causes := map[string]int{}
	errs, unexplained := 0, 0
	sc := bufio.NewScanner(in)
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
		if !strings.HasPrefix(line, "worker") || !(strings.Contains(line, `"level":"error"`) || strings.Contains(line, " ERR ")) {
			continue
		}
		errs++
		cause := errorCause(line, chaos)
		if cause == "" {
			unexplained++
			rep.violate("log", "a worker error no fault or kill of the run explains: %s", trim(line))
			continue
		}
		causes[cause]++
	}
	if err := sc.Err(); err != nil {
		rep.violate("audit", "read the stack log: %v", err)
	}
	rep.check("no panic in any process log", panics == 0, "%d", panics)
	rep.check("no non-determinism error in histories or worker logs", nondet == 0, "%d", nondet)
	detail := fmt.Sprintf("%d lines, %d unexplained", errs, unexplained)
	for _, c := range slices.Sorted(maps.Keys(causes)) {
		detail += fmt.Sprintf("; %d %s", causes[c], c)
	}
	rep.check("every worker error explained by an injected fault, a kill or a restart", unexplained == 0, "%s", detail)
}

// faultMark is how the simulated cloud marks the answer of a fault rule:
// "(fault f-3)", "(injected fault f-3)".
var faultMark = regexp.MustCompile(`\((injected )?fault [^()\s]+\)`)

// killMarks are the errors of a call to a process that was killed or is
// restarting (the cloud, the dev server) or of an activity whose worker
// stopped.
var killMarks = []string{"connection refused", "connection reset", "broken pipe", "eof", "simulator is shut down",
	"i/o timeout", "server closed", "transport is closing", "error reading from server", "context canceled", "context deadline exceeded"}

// errorCause names what explains a worker line at error level: a fault the
// harness installed in the cloud (its answer carries the rule's mark), or,
// in a run with chaos, a kill or restart. "" means nothing does: a bug, or
// an error the workflows should not have met. Without chaos a cancellation
// is no error at all (only the workflow that no longer needs an activity
// cancels it).
func errorCause(line string, chaos bool) string {
	if faultMark.MatchString(line) {
		return "injected cloud faults"
	}
	if !chaos {
		return ""
	}
	low := strings.ToLower(line)
	for _, m := range killMarks {
		if strings.Contains(low, m) {
			return "kills and restarts"
		}
	}
	return ""
}

func trim(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
