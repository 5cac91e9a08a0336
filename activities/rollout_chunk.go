package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/imagefleet/imagefleet/activities/internal/poll"
	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/model"
)

// ChunkInput drives a chunk of instances (1–model.RolloutChunkSize) through
// one attempt of a task's change. A chunk of one is an operator's retry.
type ChunkInput struct {
	Region   string
	TaskType string
	Image    *model.ImageChange      `json:",omitempty"`
	Script   *model.ScriptChange     `json:",omitempty"`
	Package  *model.OOSPackageChange `json:",omitempty"`
	// ClientToken identifies the chunk's bulk call (RunCommand, OOS
	// StartExecution): derived from the instances and their attempts, so a
	// retried activity repeats no side effect.
	ClientToken string
	Instances   []ChunkInstance
}

// ChunkInstance is one instance of a chunk.
type ChunkInstance struct {
	InstanceID string
	// ClientToken identifies this attempt on this instance, for per-instance
	// calls (ReplaceSystemDisk).
	ClientToken string
	// Previous is the cloud operation of the instance's previous attempt
	// (InstanceProgress.Ref), set on an operator's retry: what it did is
	// looked at before anything runs again.
	Previous string `json:",omitempty"`
}

// InstanceResult is how the change ended on one instance, with the cloud
// operation that made it (Ref).
type InstanceResult struct {
	InstanceID string
	ChangeResult
	Ref string `json:",omitempty"`
}

// ChunkResult is every instance's result, in the chunk's order.
type ChunkResult struct {
	Results []InstanceResult
}

// chunkProgress is the heartbeat of ApplyChangeChunk: what an attempt
// retried after a worker crash resumes from. It outlives the worker that
// wrote it (the next attempt may run on a newer or an older worker), so its
// shape is versioned: a field may be added (a worker that does not know it
// ignores it, and says so), but one that is removed, renamed or changes
// meaning raises chunkProgressVersion, and a worker does not resume from a
// version it does not know.
type chunkProgress struct {
	// Version is chunkProgressVersion; 0 is the same shape, written before
	// the version was kept.
	Version int `json:",omitempty"`
	// Ref is the chunk's bulk operation, once started.
	Ref string `json:",omitempty"`
	// Started are the instances whose per-instance call was answered, with
	// the operation it started.
	Started map[string]string `json:",omitempty"`
	// Done are the instances whose change has ended.
	Done []InstanceResult `json:",omitempty"`
}

// chunkProgressVersion is the shape of chunkProgress this worker writes.
const chunkProgressVersion = 1

// chunkProgressFields are the fields of chunkProgress, as written.
var chunkProgressFields = []string{"Version", "Ref", "Started", "Done"}

// decodeChunkProgress reads a heartbeat of ApplyChangeChunk. Fields this
// worker does not know are ignored and returned (ignored), so that the
// caller can say so; a heartbeat of a newer version, or one that does not
// decode, is an error.
func decodeChunkProgress(raw []byte) (p chunkProgress, ignored []string, err error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return chunkProgress{}, nil, fmt.Errorf("not the progress of a chunk: %w", err)
	}
	for name := range fields {
		if !slices.ContainsFunc(chunkProgressFields, func(f string) bool { return strings.EqualFold(f, name) }) {
			ignored = append(ignored, name)
		}
	}
	slices.Sort(ignored)
	if err := json.Unmarshal(raw, &p); err != nil {
		return chunkProgress{}, ignored, fmt.Errorf("not the progress of a chunk: %w", err)
	}
	if p.Version > chunkProgressVersion {
		return chunkProgress{}, ignored, fmt.Errorf("written in version %d of its shape, this worker knows version %d", p.Version, chunkProgressVersion)
	}
	return p, ignored, nil
}

// resumeChunk is the progress a previous attempt of the chunk heartbeated,
// if any. Details this worker cannot read (another version of the shape,
// or no chunk progress at all) are logged and the chunk starts over: every
// call it makes carries a client token, so starting over repeats no side
// effect, it only asks the cloud again.
func resumeChunk(ctx context.Context) chunkProgress {
	if !activity.HasHeartbeatDetails(ctx) {
		return chunkProgress{}
	}
	logger := activity.GetLogger(ctx)
	var raw json.RawMessage
	if err := activity.GetHeartbeatDetails(ctx, &raw); err != nil {
		logger.Warn("The chunk's heartbeat details do not decode: the chunk starts over (no side effect is repeated)", "error", err)
		return chunkProgress{}
	}
	p, ignored, err := decodeChunkProgress(raw)
	if err != nil {
		logger.Warn("The chunk's heartbeat details cannot be resumed from: the chunk starts over (no side effect is repeated)", "error", err)
		return chunkProgress{}
	}
	if len(ignored) > 0 {
		logger.Warn("The chunk's heartbeat details hold fields this worker does not know: resuming without them", "ignored", ignored, "version", p.Version)
	}
	return p
}

// chunkConcurrency bounds the per-instance calls of a chunk in flight.
const chunkConcurrency = 8

// ApplyChangeChunk applies the change to a chunk of instances and waits until
// it has ended on each: one bulk call (a Cloud Assistant command or an OOS
// execution on every instance) or one call per instance (ReplaceSystemDisk,
// at most chunkConcurrency at a time), then one describe call per poll for
// the whole chunk. Throttling and server errors are waited out (Retry-After)
// inside the attempt. It heartbeats the finished instances: an attempt
// retried after a worker crash or a timeout resumes from them, and repeats
// no side effect, since every call carries a client token. A change that
// failed on an instance is its result, not an error: only a chunk that
// cannot be tried at all fails the activity.
func (a *Rollouts) ApplyChangeChunk(ctx context.Context, in ChunkInput) (*ChunkResult, error) {
	if len(in.Instances) == 0 || len(in.Instances) > model.RolloutChunkSize {
		return nil, permanent(ErrTypeRolloutRefused, fmt.Errorf("a chunk holds 1–%d instances, got %d", model.RolloutChunkSize, len(in.Instances)))
	}
	r := &chunkRun{a: a, in: in, done: map[string]InstanceResult{}, p: resumeChunk(ctx)}
	r.p.Version = chunkProgressVersion
	for _, res := range r.p.Done {
		r.done[res.InstanceID] = res
	}
	if r.p.Started == nil {
		r.p.Started = map[string]string{}
	}
	var err error
	switch in.TaskType {
	case model.TaskScript:
		err = r.runScript(ctx)
	case model.TaskOOSPackage:
		err = r.runPackage(ctx)
	case model.TaskImage:
		err = r.runImage(ctx)
	default:
		err = permanent(ErrTypeRolloutRefused, fmt.Errorf("unknown task type %q", in.TaskType))
	}
	if err != nil {
		return nil, err
	}
	out := &ChunkResult{}
	for _, ci := range in.Instances {
		res := r.done[ci.InstanceID]
		res.InstanceID = ci.InstanceID
		res.Output = tail(res.Output, model.MaxKeptOutput)
		out.Results = append(out.Results, res)
	}
	return out, nil
}

// chunkRun is one attempt of ApplyChangeChunk.
type chunkRun struct {
	a    *Rollouts
	in   ChunkInput
	mu   sync.Mutex
	p    chunkProgress
	done map[string]InstanceResult
}

func (r *chunkRun) finish(res InstanceResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.done[res.InstanceID]; ok {
		return
	}
	r.done[res.InstanceID] = res
	r.p.Done = append(r.p.Done, res)
}

func (r *chunkRun) heartbeat(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	activity.RecordHeartbeat(ctx, r.p)
}

// pending are the chunk's instances whose change has not ended.
func (r *chunkRun) pending() []ChunkInstance {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(r.in.Instances), func(ci ChunkInstance) bool { _, ok := r.done[ci.InstanceID]; return ok })
}

// rules are the chunk's poll rules (poll.KeepPlace): throttling and
// server errors are waited out as the cloud asks (Retry-After), heartbeating
// the progress meanwhile, and cost the chunk nothing: it keeps its place.
func (r *chunkRun) rules() poll.Rules {
	rules := poll.KeepPlace(r.a.PollInterval, func(ctx context.Context, _ *cloud.APIError) { r.heartbeat(ctx) })
	// A batch waits for its slowest chunk before its instances return to
	// service: work the cloud ends at once (a short script) must not cost
	// the batch a whole interval.
	rules.Ramp = chunkPollRamp
	return rules
}

// chunkPollRamp is the first wait of a chunk's polls; it doubles up to the
// poll interval (poll.Rules.Ramp): about five more describe calls per
// chunk than polling every interval, whatever the chunk's length.
const chunkPollRamp = 25 * time.Millisecond

// poll calls check until every pending instance has ended: at once, then
// after waits that ramp up to the interval, heartbeating.
func (r *chunkRun) poll(ctx context.Context, check func(ctx context.Context, pending []ChunkInstance) error) error {
	return poll.Until(ctx, r.rules(), func(ctx context.Context) (bool, error) {
		if pending := r.pending(); len(pending) > 0 {
			if err := check(ctx, pending); err != nil {
				return false, err
			}
		}
		r.heartbeat(ctx)
		return len(r.pending()) == 0, nil
	})
}

// refused is the result of an instance whose call the cloud refused for good.
func refused(id string, apiErr *cloud.APIError) InstanceResult {
	return InstanceResult{InstanceID: id, ChangeResult: ChangeResult{Error: apiErr.Message + " (" + apiErr.Code + ")"}}
}

// failChunk ends every pending instance with the cloud's refusal of the
// chunk's bulk call, or returns err if it is not a refusal.
func (r *chunkRun) failChunk(err error) error {
	apiErr, ok := cloud.AsAPIError(err)
	if !ok || apiErr.Retryable() {
		return fromCloud(err)
	}
	for _, ci := range r.pending() {
		r.finish(refused(ci.InstanceID, apiErr))
	}
	return nil
}

// lookBack settles the instances retried by the operator whose previous
// attempt the cloud shows as succeeded (or still running: then that run is
// the one to wait for). Only what really failed runs again. check answers
// whether the previous operation has ended, and its result if it succeeded.
func (r *chunkRun) lookBack(ctx context.Context, check func(ctx context.Context, ci ChunkInstance) (res *InstanceResult, ended bool, err error)) error {
	for _, ci := range r.pending() {
		if ci.Previous == "" {
			continue
		}
		err := poll.Until(ctx, r.rules(), func(ctx context.Context) (bool, error) {
			res, ended, err := check(ctx, ci)
			switch {
			case err != nil:
				return false, err
			case !ended:
				r.heartbeat(ctx)
				return false, nil
			case res != nil:
				r.finish(*res)
			}
			return true, nil
		})
		if err != nil {
			if apiErr, ok := cloud.AsAPIError(err); ok && !apiErr.Retryable() {
				continue // the previous operation is unknown: run again
			}
			return fromCloud(err)
		}
	}
	return nil
}

// startBulk starts the chunk's bulk operation on its pending instances,
// unless the heartbeat says an earlier attempt started it: the same call
// with the same token would only return it again. start returns the
// operation's ID; a refusal fails the pending instances.
func (r *chunkRun) startBulk(ctx context.Context, start func(ids []string) (string, error)) error {
	if r.p.Ref != "" {
		return nil
	}
	var ids []string
	for _, ci := range r.pending() {
		ids = append(ids, ci.InstanceID)
	}
	if len(ids) == 0 {
		return nil
	}
	var ref string
	err := poll.Retry(ctx, r.rules(), func(context.Context) (err error) { ref, err = start(ids); return err })
	if err != nil {
		return r.failChunk(err)
	}
	r.mu.Lock()
	r.p.Ref = ref
	r.mu.Unlock()
	r.heartbeat(ctx)
	return nil
}

func (r *chunkRun) runScript(ctx context.Context) error {
	in := r.in
	if in.Script == nil {
		return permanent(ErrTypeRolloutRefused, errors.New("a script execution needs a script"))
	}
	describe := func(ctx context.Context, invokeID string, pending []ChunkInstance, instanceID string) error {
		want := map[string]bool{}
		for _, ci := range pending {
			want[ci.InstanceID] = true
		}
		for page := 1; ; page++ {
			res, err := r.a.Cloud.DescribeInvocationResults(ctx, &cloud.DescribeInvocationResultsRequest{RegionId: in.Region, InvokeId: invokeID,
				InstanceId: instanceID, PageNumber: page, PageSize: cloud.MaxInvocationResultsPage})
			if err != nil {
				return err
			}
			for _, ir := range res.Invocation.InvocationResults {
				if !want[ir.InstanceId] {
					continue
				}
				switch ir.InvocationStatus {
				case cloud.InvocationSuccess:
					r.finish(InstanceResult{InstanceID: ir.InstanceId, Ref: invokeID, ChangeResult: ChangeResult{Succeeded: true, Output: ir.Output}})
				case cloud.InvocationFailed:
					msg := fmt.Sprintf("the script exited with %d", ir.ExitCode)
					if ir.ErrorInfo != "" {
						msg += ": " + ir.ErrorInfo
					}
					r.finish(InstanceResult{InstanceID: ir.InstanceId, Ref: invokeID, ChangeResult: ChangeResult{ExitCode: ir.ExitCode, Output: ir.Output, Error: msg}})
				}
			}
			if page*cloud.MaxInvocationResultsPage >= res.TotalCount {
				return nil
			}
		}
	}
	// A retried instance whose previous command succeeded is not run again;
	// one whose command still runs is waited for.
	if err := r.lookBack(ctx, func(ctx context.Context, ci ChunkInstance) (*InstanceResult, bool, error) {
		res, err := r.a.Cloud.DescribeInvocationResults(ctx, &cloud.DescribeInvocationResultsRequest{RegionId: in.Region, InvokeId: ci.Previous, InstanceId: ci.InstanceID})
		if err != nil || len(res.Invocation.InvocationResults) == 0 {
			return nil, err == nil, err
		}
		switch ir := res.Invocation.InvocationResults[0]; ir.InvocationStatus {
		case cloud.InvocationSuccess:
			return &InstanceResult{InstanceID: ci.InstanceID, Ref: ci.Previous, ChangeResult: ChangeResult{Succeeded: true, Output: ir.Output}}, true, nil
		case cloud.InvocationFailed:
			return nil, true, nil
		}
		return nil, false, nil
	}); err != nil {
		return err
	}
	if err := r.startBulk(ctx, func(ids []string) (string, error) {
		resp, err := r.a.Cloud.RunCommand(ctx, &cloud.RunCommandRequest{
			RegionId: in.Region, Type: in.Script.Type, CommandContent: in.Script.Script, InstanceIds: ids,
			Name: "imagefleet-rollout", ClientToken: in.ClientToken,
		})
		if err != nil {
			return "", err
		}
		return resp.InvokeId, nil
	}); err != nil {
		return err
	}
	return r.poll(ctx, func(ctx context.Context, pending []ChunkInstance) error {
		return describe(ctx, r.p.Ref, pending, "")
	})
}

func (r *chunkRun) runPackage(ctx context.Context) error {
	in := r.in
	if in.Package == nil {
		return permanent(ErrTypeRolloutRefused, errors.New("a package install needs a package"))
	}
	settle := func(e cloud.Execution, pending []ChunkInstance) {
		if e.Status == cloud.ExecutionRunning {
			return
		}
		results := map[string]cloud.ExecutionInstanceResult{}
		for _, ir := range e.InstanceResults {
			results[ir.InstanceId] = ir
		}
		for _, ci := range pending {
			ir, ok := results[ci.InstanceID]
			switch {
			case !ok:
				r.finish(InstanceResult{InstanceID: ci.InstanceID, Ref: e.ExecutionId, ChangeResult: ChangeResult{ExitCode: 1, Error: "OOS execution " + e.ExecutionId + " has no result for the instance"}})
			case ir.Status == cloud.ExecutionSuccess:
				r.finish(InstanceResult{InstanceID: ci.InstanceID, Ref: e.ExecutionId, ChangeResult: ChangeResult{Succeeded: true, Output: ir.Output}})
			default:
				r.finish(InstanceResult{InstanceID: ci.InstanceID, Ref: e.ExecutionId, ChangeResult: ChangeResult{ExitCode: 1, Output: ir.Output,
					Error: "OOS execution " + e.ExecutionId + " failed on the instance: " + e.StatusMessage}})
			}
		}
	}
	describe := func(ctx context.Context, execID string, pending []ChunkInstance) error {
		res, err := r.a.Cloud.ListExecutions(ctx, &cloud.ListExecutionsRequest{RegionId: in.Region, ExecutionId: execID})
		if err != nil {
			return err
		}
		if len(res.Executions) == 0 {
			return &cloud.APIError{Code: cloud.CodeExecutionNotFound, Message: "execution " + execID + " has disappeared"}
		}
		settle(res.Executions[0], pending)
		return nil
	}
	// A retried instance on which the previous execution succeeded is not
	// configured again; a previous execution still running is waited for.
	if err := r.lookBack(ctx, func(ctx context.Context, ci ChunkInstance) (*InstanceResult, bool, error) {
		res, err := r.a.Cloud.ListExecutions(ctx, &cloud.ListExecutionsRequest{RegionId: in.Region, ExecutionId: ci.Previous})
		if err != nil || len(res.Executions) == 0 {
			return nil, err == nil, err
		}
		e := res.Executions[0]
		if e.Status == cloud.ExecutionRunning {
			return nil, false, nil
		}
		for _, ir := range e.InstanceResults {
			if ir.InstanceId == ci.InstanceID && ir.Status == cloud.ExecutionSuccess {
				return &InstanceResult{InstanceID: ci.InstanceID, Ref: ci.Previous, ChangeResult: ChangeResult{Succeeded: true, Output: ir.Output}}, true, nil
			}
		}
		return nil, true, nil
	}); err != nil {
		return err
	}
	if err := r.startBulk(ctx, func(ids []string) (string, error) {
		resp, err := r.a.Cloud.StartExecution(ctx, &cloud.StartExecutionRequest{
			RegionId: in.Region, TemplateName: cloud.TemplateConfigureOOSPackage, ClientToken: in.ClientToken,
			Parameters: cloud.OOSPackageParameters{InstanceIds: ids, PackageName: in.Package.Name, PackageVersion: in.Package.Version, Action: cloud.PackageInstall},
		})
		if err != nil {
			return "", err
		}
		return resp.Execution.ExecutionId, nil
	}); err != nil {
		return err
	}
	return r.poll(ctx, func(ctx context.Context, pending []ChunkInstance) error {
		return describe(ctx, r.p.Ref, pending)
	})
}

func (r *chunkRun) runImage(ctx context.Context) error {
	in := r.in
	if in.Image == nil {
		return permanent(ErrTypeRolloutRefused, errors.New("an image update needs an image"))
	}
	// One describe call for the whole chunk: an instance has its new disk
	// once it is Running again on the image.
	describe := func(ctx context.Context, pending []ChunkInstance, settleOld bool) error {
		ids := make([]string, 0, len(pending))
		for _, ci := range pending {
			ids = append(ids, ci.InstanceID)
		}
		resp, err := r.a.Cloud.DescribeInstances(ctx, &cloud.DescribeInstancesRequest{RegionId: in.Region, InstanceIds: ids, PageSize: len(ids)})
		if err != nil {
			return err
		}
		found := map[string]cloud.Instance{}
		for _, inst := range resp.Instances {
			found[inst.InstanceId] = inst
		}
		for _, ci := range pending {
			inst, ok := found[ci.InstanceID]
			r.mu.Lock()
			disk, started := r.p.Started[ci.InstanceID]
			r.mu.Unlock()
			switch {
			case !ok:
				r.finish(InstanceResult{InstanceID: ci.InstanceID, Ref: disk, ChangeResult: ChangeResult{Error: "the instance has disappeared"}})
			case inst.Status != cloud.InstanceRunning:
			case inst.ImageId == in.Image.ImageID && (started || settleOld):
				if !started {
					disk = inst.SystemDisk.DiskId
				}
				r.finish(InstanceResult{InstanceID: ci.InstanceID, Ref: disk, ChangeResult: ChangeResult{Succeeded: true,
					Output: fmt.Sprintf("system disk %s from %s", inst.SystemDisk.DiskId, inst.ImageId)}})
			case started:
				r.finish(InstanceResult{InstanceID: ci.InstanceID, Ref: disk, ChangeResult: ChangeResult{Error: fmt.Sprintf("the instance runs %s, not %s", inst.ImageId, in.Image.ImageID)}})
			}
		}
		return nil
	}
	// A retried instance that already runs the image keeps its disk.
	var retried []ChunkInstance
	for _, ci := range r.pending() {
		if _, started := r.p.Started[ci.InstanceID]; ci.Previous != "" && !started {
			retried = append(retried, ci)
		}
	}
	if len(retried) > 0 {
		if err := poll.Retry(ctx, r.rules(), func(ctx context.Context) error { return describe(ctx, retried, true) }); err != nil {
			return fromCloud(err)
		}
	}
	// Per instance, a bounded number at a time.
	sem := make(chan struct{}, chunkConcurrency)
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for _, ci := range r.pending() {
		r.mu.Lock()
		_, started := r.p.Started[ci.InstanceID]
		r.mu.Unlock()
		if started {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var resp *cloud.ReplaceSystemDiskResponse
			err := poll.Retry(ctx, r.rules(), func(ctx context.Context) (err error) {
				resp, err = r.a.Cloud.ReplaceSystemDisk(ctx, &cloud.ReplaceSystemDiskRequest{RegionId: in.Region, InstanceId: ci.InstanceID, ImageId: in.Image.ImageID, ClientToken: ci.ClientToken})
				return err
			})
			if apiErr, ok := cloud.AsAPIError(err); ok && !apiErr.Retryable() {
				r.finish(refused(ci.InstanceID, apiErr))
				return
			}
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			r.mu.Lock()
			r.p.Started[ci.InstanceID] = resp.DiskId
			r.mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fromCloud(firstErr)
	}
	r.heartbeat(ctx)
	return r.poll(ctx, func(ctx context.Context, pending []ChunkInstance) error { return describe(ctx, pending, false) })
}

// FailureEventsInput reports the failed instances of a chunk.
type FailureEventsInput struct {
	Region   string
	Group    string
	TaskType string
	Failures []InstanceFailure
	// ClientToken identifies the chunk's report.
	ClientToken string
}

// InstanceFailure is one failed instance and what to say about it.
type InstanceFailure struct {
	InstanceID string
	Content    string
}

// maxEventsPerCall is how many events one PutCustomEvent takes.
const maxEventsPerCall = 100

// ReportFailures writes the task type's failure event for each failed
// instance, many per PutCustomEvent call.
func (a *Rollouts) ReportFailures(ctx context.Context, in FailureEventsInput) error {
	n := 0
	for chunk := range slices.Chunk(in.Failures, maxEventsPerCall) {
		req := &cloud.PutCustomEventRequest{ClientToken: model.ClientToken(in.ClientToken, fmt.Sprint(n))}
		for _, f := range chunk {
			req.EventInfo = append(req.EventInfo, cloud.Event{
				EventName: model.FailureEvent(in.TaskType), Level: cloud.EventCritical, RegionId: in.Region,
				GroupId: in.Group, InstanceId: f.InstanceID, Content: tail(f.Content, 1024),
			})
		}
		if _, err := a.Cloud.PutCustomEvent(ctx, req); err != nil {
			return fromCloud(err)
		}
		n++
	}
	return nil
}
