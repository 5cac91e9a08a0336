package workflows

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows/internal/details"
	"github.com/imagefleet/imagefleet/workflows/internal/operator"
)

// releaseStatus is what the release's operator commands change and read.
type releaseStatus struct {
	cancel, rollback, ended bool
}

func (s *releaseStatus) cancelled() bool   { return s.cancel }
func (s *releaseStatus) rollingBack() bool { return s.rollback }
func (s *releaseStatus) stopping() bool    { return s.cancel || s.rollback }
func (s *releaseStatus) end()              { s.ended = true }

// releaseCommands are a release's operator commands.
type releaseCommands struct {
	approve   operator.Command[model.ApproveCommand]
	hold      operator.Command[model.HoldCommand]
	resume    operator.Command[model.ResumeCommand]
	skipGroup operator.Command[model.SkipGroupCommand]
	cancel    operator.Command[model.CancelCommand]
	rollback  operator.Command[model.ReleaseRollbackCommand]
}

func (r *release) registerCommands(ctx workflow.Context) error {
	refused := operator.RecordRefusal(&r.p.LastRefusal, r.logger)
	r.listenToRollouts(ctx)
	c := r.commands(ctx)
	return errors.Join(
		operator.Register(ctx, c.approve, refused),
		operator.Register(ctx, c.hold, refused),
		operator.Register(ctx, c.resume, refused),
		operator.Register(ctx, c.skipGroup, refused),
		operator.Register(ctx, c.cancel, refused),
		operator.Register(ctx, c.rollback, refused),
	)
}

// listenToRollouts shows a group whose rolling update waits for its
// operator (model.SignalRolloutWaiting from the child): the group waits,
// the release is WaitingForOperator, and the command that resolves it is
// the rolling update's.
func (r *release) listenToRollouts(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, model.SignalRolloutWaiting)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var w model.RolloutWaiting
			if !ch.Receive(ctx, &w) {
				return
			}
			g := r.p.Group(w.ScalingGroupID)
			if g == nil || (g.State != model.GroupUpdating && g.State != model.GroupRollingBack) {
				continue
			}
			g.WaitingFor, g.Resolve = "its rolling update", "if it pauses: starter rollout status "+g.ScalingGroupID
			if w.WaitingFor != "" {
				g.WaitingFor = "its rolling update's " + w.WaitingFor
				g.Resolve = fmt.Sprintf("starter rollout resume|retry|skip|rollback %s (or temporal workflow update execute --workflow-id %s …)", g.ScalingGroupID, model.RolloutWorkflowID(g.ScalingGroupID))
			}
			r.state.Waiting(ctx, r.p.WaitingFor != "" || r.groupsWaiting())
			r.updateDetails(ctx)
		}
	})
}

// groupsWaiting reports whether a group's rolling update waits for its
// operator.
func (r *release) groupsWaiting() bool {
	for _, st := range r.p.Stages {
		for _, g := range st.Groups {
			if strings.HasPrefix(g.WaitingFor, "its rolling update's ") {
				return true
			}
		}
	}
	return false
}

// open refuses a command on a release that ended or is stopping.
func (r *release) open() error {
	switch {
	case r.status.ended:
		return fmt.Errorf("the release has ended (%s)", r.p.Phase)
	case r.status.rollback:
		return errors.New("the release is rolling back")
	case r.status.cancel:
		return errors.New("the release is cancelled")
	}
	return nil
}

// awaitingApproval is the stage that waits for its approval, or nil.
func (r *release) awaitingApproval() *model.StageProgress {
	for i := range r.p.Stages {
		if sp := &r.p.Stages[i]; sp.State == model.StageAwaitApproval && sp.Approval == nil {
			return sp
		}
	}
	return nil
}

// commands returns the operator commands: validators read the state, Apply
// changes it (ctx is the run's, for the time of an approval).
func (r *release) commands(ctx workflow.Context) releaseCommands {
	return releaseCommands{
		approve: operator.Command[model.ApproveCommand]{
			Name: model.CommandApprove,
			Validate: func(c model.ApproveCommand) error {
				if err := r.open(); err != nil {
					return err
				}
				if err := c.Validate(); err != nil {
					return err
				}
				sp := r.awaitingApproval()
				switch {
				case sp == nil:
					return errors.New("no stage waits for approval")
				case c.Stage != "" && c.Stage != sp.Name:
					return fmt.Errorf("stage %s does not wait for approval: stage %s does", model.Quote(c.Stage), sp.Name)
				}
				return nil
			},
			Apply: func(c model.ApproveCommand) {
				sp := r.awaitingApproval()
				a := model.Approval{Stage: sp.Name, By: c.By, Comment: c.Comment, At: workflow.Now(ctx)}
				sp.Approval = &a
				r.p.Approvals = append(r.p.Approvals, a)
				r.logger.Info("Stage approved", "stage", sp.Name, "by", c.By, "comment", c.Comment)
			},
		},
		hold: operator.Command[model.HoldCommand]{
			Name: model.CommandHold,
			Validate: func(c model.HoldCommand) error {
				if err := r.open(); err != nil {
					return err
				}
				if r.p.Held {
					return errors.New("the release is held already")
				}
				return model.CheckText("reason", c.Reason)
			},
			Apply: func(c model.HoldCommand) { r.p.Held, r.p.HoldReason = true, c.Reason },
		},
		resume: operator.Command[model.ResumeCommand]{
			Name: model.CommandResume,
			Validate: func(model.ResumeCommand) error {
				if err := r.open(); err != nil {
					return err
				}
				if !r.p.Held {
					return errors.New("the release is not held")
				}
				return nil
			},
			Apply: func(model.ResumeCommand) { r.p.Held, r.p.HoldReason = false, "" },
		},
		skipGroup: operator.Command[model.SkipGroupCommand]{
			Name: model.CommandSkipGroup,
			Validate: func(c model.SkipGroupCommand) error {
				if err := r.open(); err != nil {
					return err
				}
				g := r.p.Group(c.ScalingGroupID)
				switch {
				case g == nil:
					return fmt.Errorf("group %s is not in the release", model.Quote(c.ScalingGroupID))
				case g.State != model.GroupPending && g.State != model.GroupFailed:
					return fmt.Errorf("group %s is %s: only a pending or failed group can be skipped (roll the release back to undo an update)", g.ScalingGroupID, g.State)
				}
				return model.CheckText("reason", c.Reason)
			},
			Apply: func(c model.SkipGroupCommand) {
				g := r.p.Group(c.ScalingGroupID)
				g.State, g.WaitingFor, g.Resolve = model.GroupSkipped, "", ""
				if c.Reason != "" {
					g.Error = "skipped: " + c.Reason
				}
			},
		},
		cancel: operator.Command[model.CancelCommand]{
			Name: model.CommandCancel,
			Validate: func(c model.CancelCommand) error {
				if err := r.open(); err != nil {
					return err
				}
				return model.CheckText("reason", c.Reason)
			},
			Apply: func(c model.CancelCommand) {
				r.status.cancel, r.p.CancelReason = true, c.Reason
				r.cancelWork()
			},
		},
		rollback: operator.Command[model.ReleaseRollbackCommand]{
			Name: model.CommandRollback,
			Validate: func(c model.ReleaseRollbackCommand) error {
				if err := r.open(); err != nil {
					return err
				}
				if r.p.Phase != model.ReleasePromoting {
					return fmt.Errorf("the release is %s: no group was changed yet (cancel stops it)", r.p.Phase)
				}
				return model.CheckText("reason", c.Reason)
			},
			Apply: func(c model.ReleaseRollbackCommand) {
				r.status.rollback, r.p.RollbackReason = true, c.Reason
				if r.p.RollbackReason == "" {
					r.p.RollbackReason = "ordered by an operator"
				}
				r.cancelWork()
			},
		},
	}
}

// updateDetails shows the release in the Web UI: phase, what it waits for,
// and the table of stages × groups with links to the child runs.
func (r *release) updateDetails(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, r.details())
}

func (r *release) details() string {
	var d details.Doc
	p := &r.p
	d.Para("**Release %s %s** (package %s) — %s", p.Name, p.Version, r.spec.Package, p.Phase)
	if p.Held {
		d.Para("⏸ Held: %s", p.HoldReason)
	}
	if p.WaitingFor != "" {
		d.Para("⏸ Waiting for %s — %s", p.WaitingFor, p.Resolve)
	}
	if p.Error != "" {
		d.Para("Error: %s", p.Error)
	}
	if p.Build != nil {
		d.Para("build: %s %s", r.link(p.Build), p.Build.State)
	}
	if p.Distribution != nil {
		d.Para("publication: %s %s", r.link(p.Distribution), p.Distribution.State)
	}
	t := d.Table("stage", "group", "region", "state", "image", "rolling update", "waits for")
	for _, sp := range p.Stages {
		stage := sp.Name + " (" + sp.State + ")"
		if sp.Soak != nil {
			stage += fmt.Sprintf(", %d check(s)", sp.Soak.Checks)
		}
		for _, g := range sp.Groups {
			ru := ""
			if g.Rollout != nil {
				ru = r.link(g.Rollout)
			}
			if g.Rollback != nil {
				ru += " rollback " + r.link(g.Rollback)
			}
			waits := g.WaitingFor
			if g.Resolve != "" {
				waits += ": " + g.Resolve
			}
			if g.Error != "" {
				waits += " (" + g.Error + ")"
			}
			t.Row(stage, g.ScalingGroupID, g.RegionID, g.State, g.ImageID, ru, waits)
			stage = ""
		}
	}
	for _, a := range p.Approvals {
		d.Para("✔ stage %s approved by %s: %s", a.Stage, a.By, a.Comment)
	}
	return d.String()
}

// link is a Markdown link to a child run in the Web UI.
func (r *release) link(c *model.ChildRun) string {
	if c.RunID == "" {
		return c.WorkflowID
	}
	return fmt.Sprintf("[%s](/namespaces/%s/workflows/%s/%s/history)", c.WorkflowID, url.PathEscape(r.namespace), url.PathEscape(c.WorkflowID), url.PathEscape(c.RunID))
}
