package workflows

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/lifecycle"
	"github.com/imagefleet/imagefleet/workflows/internal/operator"
	"github.com/imagefleet/imagefleet/workflows/internal/regional"
	"github.com/imagefleet/imagefleet/workflows/internal/saga"
)

// regionalRun is what the two publications of a package version share: a
// distribution (an ECS image, DistributeImagePackage) and a publication
// (file, container image or Helm chart content, PublishPackageVersion).
// Both answer a version published before with its result, prepare the
// version, hold its publication in the cloud, deliver it into every region
// at once with the operator deciding about a failing region (retry-region,
// drop-region, cancel), publish it, and on failure or cancel undo what they
// made. The operation embeds a regionalRun and supplies its steps
// (regionalOp).
type regionalRun struct {
	noun string // "distribution", "publication": names the run in messages
	// pkg and version name the package version the run publishes.
	pkg, version string
	logger       log.Logger
	saga         saga.Saga
	// tokenKey scopes client tokens to this run: stable across worker
	// restarts, retries and resets, new for a new run of the same version
	// (whose old copies a cancel deleted).
	tokenKey string
	// releaseToken is this run's hold on the version (hold).
	releaseToken string
	regions      regional.Work
	status       regionalStatus
	// lastRefusal is the progress field that keeps the last refused command.
	lastRefusal *string
	// regionNames lists the run's regions in their order.
	regionNames func() []string
	// details renders the run's progress as Markdown for the Web UI.
	details func() string
	// answer is the publication (a *R) that a start whose input was
	// refused answers with, its version being published; answerNote says
	// why, kept as the progress's last refusal.
	answer     any
	answerNote string
}

// regionalOp is what an operation does its own way within a regionalRun.
type regionalOp[R any] interface {
	// findPublished returns the result of a version published before (by an
	// earlier run of the workflow ID), or nil; actx has the step options.
	findPublished(actx workflow.Context) (*R, error)
	// findPublishedVersion returns the publication of the version named by
	// the run's package and version alone, or nil: a start whose input is
	// refused answers with it.
	findPublishedVersion(actx workflow.Context) (*R, error)
	// showPublished shows that result in the run's progress.
	showPublished(res *R)
	// prepare readies the version (and the progress's regions) and returns
	// its artifact ID.
	prepare(ctx workflow.Context) (artifactID string, err error)
	// publish makes the delivered version the package's and returns the
	// run's result.
	publish(ctx workflow.Context) (*R, error)
	// copiesDeleted marks the regions whose copies compensation deleted.
	copiesDeleted()
}

// regionalBinding is what bind needs of an operation's progress.
type regionalBinding struct {
	noun, pkg, version                      string
	logger                                  log.Logger
	phase, waitingFor, lastRefusal, errText *string
	regionNames                             func() []string
	details                                 func() string
	regionStatus                            func(region string) *model.RegionStatus
	attempt                                 func(ctx workflow.Context, region string) error
	beforeRetry                             func(ctx workflow.Context, region string, failure error)
	// attempts is the spec's copyAttempts; counts says which failures count
	// (regional.Work's Attempts and Counts).
	attempts int
	counts   func(failure error) bool
}

// bind wires the run to its operation's progress and regional work.
func (r *regionalRun) bind(b regionalBinding) {
	r.noun, r.pkg, r.version, r.logger = b.noun, b.pkg, b.version, b.logger
	r.status.show(b.phase, b.waitingFor, b.errText)
	r.lastRefusal, r.regionNames, r.details = b.lastRefusal, b.regionNames, b.details
	r.regions = regional.Work{
		Noun:        b.noun,
		Logger:      b.logger,
		Status:      b.regionStatus,
		CanCancel:   func() error { return r.status.canCancel(r.noun) },
		Changed:     r.updateDetails,
		Attempt:     b.attempt,
		BeforeRetry: b.beforeRetry,
		Attempts:    b.attempts,
		Counts:      b.counts,
	}
}

// versionLogger is the workflow's logger with the version it publishes.
func versionLogger(ctx workflow.Context, pkg, version string) log.Logger {
	return log.With(workflow.GetLogger(ctx), "package", pkg, "version", version)
}

// start begins the run (lifecycle.Start): the progress query, the version's
// canonical workflow ID, its search attributes, Running, the spec's
// validation, the operator commands.
func (r *regionalRun) start(ctx workflow.Context, progress lifecycle.Query, workflowID, operation string, validate func() error) error {
	info := workflow.GetInfo(ctx)
	r.tokenKey = info.WorkflowExecution.ID + "/" + info.FirstRunID
	r.status.report.Operation = operation
	return lifecycle.Start(ctx, &r.status.state, lifecycle.Setup{
		Queries:    []lifecycle.Query{progress},
		WorkflowID: workflowID,
		SearchAttributes: []temporal.SearchAttributeUpdate{
			model.SAOperation.ValueSet(operation),
			model.SAPackage.ValueSet(r.pkg),
			model.SAVersion.ValueSet(r.version),
		},
		Validate: validate,
		Refused:  r.status.refused,
		Commands: func(ctx workflow.Context) error {
			return r.regions.RegisterCommands(ctx, operator.RecordRefusal(r.lastRefusal, r.logger))
		},
	})
}

// runRegional is a regional run from its start to its end. It returns once
// every accepted operator command has finished too (they apply at once, so
// this adds no wait today; it keeps the run right if one ever blocks).
func runRegional[R any](ctx workflow.Context, r *regionalRun, op regionalOp[R]) (*R, error) {
	res, err := runSteps(ctx, r, op)
	if herr := lifecycle.AwaitHandlers(ctx); herr != nil && err == nil {
		return nil, herr
	}
	return res, err
}

func runSteps[R any](ctx workflow.Context, r *regionalRun, op regionalOp[R]) (*R, error) {
	if res, ok := r.answer.(*R); ok {
		op.showPublished(res)
		*r.lastRefusal = r.answerNote
		r.logger.Info("Input refused, version published: answering with its publication", "refusal", r.answerNote)
		r.status.published(ctx)
		r.updateDetails(ctx)
		return res, nil
	}
	if done, err := alreadyPublished(ctx, r, op); done != nil || err != nil {
		if err != nil {
			return nil, r.fail(ctx, err, op)
		}
		return done, nil
	}
	artifactID, err := op.prepare(ctx)
	if err == nil {
		err = r.hold(ctx, artifactID)
	}
	if err == nil {
		r.status.replicating()
		r.updateDetails(ctx)
		err = r.regions.Run(ctx, r.regionNames())
	}
	if err == nil {
		var result *R
		if result, err = op.publish(ctx); err == nil {
			r.status.published(ctx)
			r.updateDetails(ctx)
			return result, nil
		}
	}
	return nil, r.fail(ctx, err, op)
}

// alreadyPublished answers a start of a version that an earlier run
// published (a restart of its canonical workflow ID) with that result, so
// that the run ends Succeeded and changes nothing; a version published
// otherwise is refused by prepare (VersionLocked). Versioned: earlier runs
// went straight to prepare.
func alreadyPublished[R any](ctx workflow.Context, r *regionalRun, op regionalOp[R]) (*R, error) {
	if workflow.GetVersion(ctx, changeAnswerPublished, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil, nil
	}
	res, err := op.findPublished(workflow.WithActivityOptions(ctx, stepActivity()))
	if err != nil || res == nil {
		return nil, err
	}
	op.showPublished(res)
	r.logger.Info("Version already published: answering with its result")
	r.status.published(ctx)
	r.updateDetails(ctx)
	return res, nil
}

// changeAnswerRefusedStart: a start of a published version whose input is
// refused answers with the publication instead of failing (InvalidSpec).
const changeAnswerRefusedStart = "answer-refused-start"

// validateOrAnswer is validate for a run's start, except that a start of a
// version that is published, whose input is refused, is not a failed run:
// the version's status stays its publication. It then passes, having kept
// the publication and the refusal in r (runSteps answers with them, changing
// nothing). Versioned: earlier runs failed with InvalidSpec.
func validateOrAnswer[R any](ctx workflow.Context, r *regionalRun, op regionalOp[R], validate func() error) func() error {
	return func() error {
		err := validate()
		if err == nil || workflow.GetVersion(ctx, changeAnswerRefusedStart, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return err
		}
		res, lerr := op.findPublishedVersion(workflow.WithActivityOptions(ctx, stepActivity()))
		if lerr != nil || res == nil {
			return err // not published (or not to be found): refused as ever
		}
		r.answer = res
		r.answerNote = fmt.Sprintf("start: input refused (%s): version %s of package %s is published, and its publication is shown; nothing was changed",
			err, r.version, r.pkg)
		return nil
	}
}

// fail undoes what the run made (the copies, the hold on the version, a
// draft the run created) and returns the error the run ends with.
func (r *regionalRun) fail(ctx workflow.Context, err error, op interface{ copiesDeleted() }) error {
	if r.saga.Len() > 0 {
		r.status.compensating(ctx)
		r.logger.Info("Deleting what the run made", "steps", r.saga.Len(), "cause", err)
		if cerr := lifecycle.Compensate(ctx, &r.saga, &r.status.state); cerr != nil {
			err = fmt.Errorf("%w; and some of what the run made could not be deleted: %v", err, cerr)
		}
		op.copiesDeleted()
	}
	r.status.ended(ctx, err, r.regions.Cancelled())
	r.updateDetails(ctx)
	return err
}

// updateDetails refreshes what the run shows: what a working run waits for
// (and so the state search attribute, Running or WaitingForOperator) and
// the Web UI's current details.
func (r *regionalRun) updateDetails(ctx workflow.Context) {
	r.status.waiting(ctx, r.regions.WaitingFor(r.regionNames()))
	workflow.SetCurrentDetails(ctx, r.details())
}

// delivered maps every Available region to what it holds there (an image
// ID, a location).
func (r *regionalRun) delivered(holds func(region string) string) map[string]string {
	m := map[string]string{}
	for _, region := range r.regions.In(r.regionNames(), model.RegionAvailable) {
		m[region] = holds(region)
	}
	return m
}

// dropped lists the regions the operator dropped.
func (r *regionalRun) dropped() []string {
	return r.regions.In(r.regionNames(), model.RegionDropped)
}
