package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones of schedules are checked without the host's zone files

	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/model"
)

// Schedules, for every kind of schedule (a scheduled build, and later a
// lifecycle rule): the flags of a model.ScheduleSpec, their mapping to the
// SDK's client.ScheduleSpec and client.ScheduleOptions, and the commands on
// a schedule once it exists (pause, unpause, trigger, delete, list), all
// through the SDK's schedule client: a schedule made here is the Web UI's
// (Schedules page) and `temporal schedule`'s like any other.

// scheduleFlags binds a model.ScheduleSpec inside the spec S to flags.
func scheduleFlags[S any](in *specFlags[S], spec func(*S) *model.ScheduleSpec) {
	in.flag("cron", `cron expression, 5 fields (e.g. "0 3 * * 1": Mondays 03:00) or @daily, @weekly…`, func(s *S) any { return &spec(s).Cron })
	in.flag("every", "interval instead of cron (e.g. 24h, 90s)", func(s *S) any { return &spec(s).Every })
	in.flag("offset", "offset of the interval from the Unix epoch (e.g. --every 24h --offset 3h: daily at 03:00 UTC)", func(s *S) any { return &spec(s).Offset })
	in.flag("time-zone", "IANA time zone the cron expression is read in (default UTC)", func(s *S) any { return &spec(s).TimeZone })
	in.flag("jitter", "random delay of each firing, up to this much (e.g. 10m)", func(s *S) any { return &spec(s).Jitter })
	in.flag("overlap", "what a firing does while the previous run still runs: "+strings.Join(model.OverlapPolicies, ", ")+" (default Skip)", func(s *S) any { return &spec(s).Overlap })
	in.flag("catchup-window", "how late a missed firing (server down) is still taken (default 1h, at least 10s)", func(s *S) any { return &spec(s).CatchupWindow })
	in.flag("paused", "create the schedule paused", func(s *S) any { return &spec(s).Paused })
	in.flag("note", "note kept with the schedule (the Web UI shows it)", func(s *S) any { return &spec(s).Note })
}

var overlapPolicies = map[string]enums.ScheduleOverlapPolicy{
	model.OverlapSkip:           enums.SCHEDULE_OVERLAP_POLICY_SKIP,
	model.OverlapBufferOne:      enums.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	model.OverlapBufferAll:      enums.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	model.OverlapCancelOther:    enums.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
	model.OverlapTerminateOther: enums.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER,
	model.OverlapAllowAll:       enums.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
}

// scheduleOptions maps a schedule's spec and its action to the SDK's
// options; the spec must be valid (an error is invalid input).
func scheduleOptions(id string, s model.ScheduleSpec, action *client.ScheduleWorkflowAction, attrs ...temporal.SearchAttributeUpdate) (client.ScheduleOptions, error) {
	t, err := s.Times()
	if err != nil {
		return client.ScheduleOptions{}, &exitError{code: exitInvalid, err: err}
	}
	spec := client.ScheduleSpec{Jitter: t.Jitter, TimeZoneName: s.TimeZone}
	if s.Cron != "" {
		spec.CronExpressions = []string{s.Cron}
	} else {
		spec.Intervals = []client.ScheduleIntervalSpec{{Every: t.Every, Offset: t.Offset}}
	}
	return client.ScheduleOptions{
		ID:                    id,
		Spec:                  spec,
		Action:                action,
		Overlap:               overlapPolicies[t.Overlap],
		CatchupWindow:         t.CatchupWindow,
		Paused:                s.Paused,
		Note:                  s.Note,
		TypedSearchAttributes: temporal.NewSearchAttributes(attrs...),
	}, nil
}

// createSchedule creates the schedule and prints where to see it and when
// it fires next. A schedule ID in use, or a spec the server refuses, is
// invalid input: nothing was created.
func (a *app) createSchedule(ctx context.Context, out io.Writer, opts client.ScheduleOptions) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	h, err := c.ScheduleClient().Create(ctx, opts)
	var invalidArg *serviceerror.InvalidArgument
	switch {
	case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		return invalid("schedule %s already exists: delete it first, or give another --name", opts.ID)
	case errors.As(err, &invalidArg):
		return invalid("schedule %s refused by the server: %s", opts.ID, invalidArg.Message)
	case err != nil:
		return fmt.Errorf("create schedule %s: %w", opts.ID, err)
	}
	fmt.Fprintf(out, "Created schedule %s\nWeb UI:      %s\n", h.GetID(), a.scheduleURL(h.GetID()))
	if opts.Paused {
		fmt.Fprintln(out, "Paused: it takes no action until `unpause`.")
	}
	if desc, err := h.Describe(ctx); err == nil {
		printNextTimes(out, desc.Info.NextActionTimes)
	}
	return nil
}

func printNextTimes(out io.Writer, times []time.Time) {
	for i, t := range times {
		if i == 3 {
			break
		}
		fmt.Fprintf(out, "Next run:    %s\n", t.UTC().Format(time.RFC3339))
	}
}

// scheduleURL is the Web UI page of a schedule.
func (a *app) scheduleURL(id string) string {
	return fmt.Sprintf("%s/namespaces/%s/schedules/%s", config.WebUI(), url.PathEscape(a.namespace), url.PathEscape(id))
}

// scheduleKind is how one kind of schedule is named on the command line:
// Args (e.g. TEMPLATE_ID) and the flags Bind adds name one schedule, whose
// ID the returned function gives.
type scheduleKind struct {
	Noun string // e.g. "build schedule"
	Args string
	Bind func(cmd *cobra.Command) func(args []string) string
}

// scheduleCommands are the commands on an existing schedule of kind k.
func scheduleCommands(a *app, k scheduleKind) []*cobra.Command {
	return []*cobra.Command{schedulePauseCommand(a, k, true), schedulePauseCommand(a, k, false), scheduleTriggerCommand(a, k), scheduleDeleteCommand(a, k)}
}

// handle describes the schedule id: an unknown schedule is invalid input.
func (a *app) scheduleHandle(ctx context.Context, id string) (client.ScheduleHandle, *client.ScheduleDescription, error) {
	c, err := a.client()
	if err != nil {
		return nil, nil, err
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	desc, err := h.Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, nil, invalid("no schedule %s", id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("describe schedule %s: %w", id, err)
	}
	return h, desc, nil
}

func schedulePauseCommand(a *app, k scheduleKind, pause bool) *cobra.Command {
	var note string
	verb, done := "unpause", "Unpaused"
	short := "Unpause a " + k.Noun + ": it fires again on its spec"
	if pause {
		verb, done = "pause", "Paused"
		short = "Pause a " + k.Noun + ": no firing takes an action until unpause (a running run goes on)"
	}
	cmd := &cobra.Command{Use: verb + " " + k.Args, Short: short, Args: cobra.ExactArgs(1)}
	id := k.Bind(cmd)
	cmd.Flags().StringVar(&note, "note", "", "why (kept as the schedule's note)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, out := cmd.Context(), cmd.OutOrStdout()
		h, desc, err := a.scheduleHandle(ctx, id(args))
		if err != nil {
			return err
		}
		if desc.Schedule.State.Paused == pause {
			fmt.Fprintf(out, "Schedule %s was already %s: nothing changed\n", h.GetID(), strings.ToLower(done))
			return nil
		}
		if note == "" {
			note = done + " with the starter"
		}
		if pause {
			err = h.Pause(ctx, client.SchedulePauseOptions{Note: note})
		} else {
			err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: note})
		}
		if err != nil {
			return fmt.Errorf("%s schedule %s: %w", verb, h.GetID(), err)
		}
		fmt.Fprintf(out, "%s schedule %s\n", done, h.GetID())
		if !pause {
			if desc, err := h.Describe(ctx); err == nil {
				printNextTimes(out, desc.Info.NextActionTimes)
			}
		}
		return nil
	}
	return cmd
}

func scheduleTriggerCommand(a *app, k scheduleKind) *cobra.Command {
	var overlap string
	cmd := &cobra.Command{
		Use:   "trigger " + k.Args,
		Short: "Fire a " + k.Noun + " now (also when paused); its overlap policy applies unless --overlap says otherwise",
		Args:  cobra.ExactArgs(1),
	}
	id := k.Bind(cmd)
	cmd.Flags().StringVar(&overlap, "overlap", "", "overlap policy of this firing: "+strings.Join(model.OverlapPolicies, ", ")+" (default the schedule's)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx, out := cmd.Context(), cmd.OutOrStdout()
		policy, ok := overlapPolicies[overlap]
		if overlap != "" && !ok {
			return invalid("overlap %q must be one of %s", overlap, strings.Join(model.OverlapPolicies, ", "))
		}
		h, desc, err := a.scheduleHandle(ctx, id(args))
		if err != nil {
			return err
		}
		effective := desc.Schedule.Policy.Overlap
		if policy != enums.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED {
			effective = policy
		}
		// With Skip, the server drops a firing while a run is running: say
		// so instead of claiming a run that will not happen.
		if running := desc.Info.RunningWorkflows; len(running) > 0 && (effective == enums.SCHEDULE_OVERLAP_POLICY_SKIP || effective == enums.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED) {
			return &exitError{code: exitRefused, err: fmt.Errorf("refused: run %s of schedule %s is still running and the overlap policy is Skip (give --overlap BufferOne to run after it)", running[0].WorkflowID, h.GetID())}
		}
		if err := h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: policy}); err != nil {
			return fmt.Errorf("trigger schedule %s: %w", h.GetID(), err)
		}
		fmt.Fprintf(out, "Triggered schedule %s: it starts a run now (its runs: `%s list`)\n", h.GetID(), strings.TrimSuffix(cmd.CommandPath(), " trigger"))
		return nil
	}
	return cmd
}

func scheduleDeleteCommand(a *app, k scheduleKind) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete " + k.Args,
		Short: "Delete a " + k.Noun + " (a running run goes on; what the schedule remembered of its runs goes)",
		Args:  cobra.ExactArgs(1),
	}
	id := k.Bind(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		h, _, err := a.scheduleHandle(ctx, id(args))
		if err != nil {
			return err
		}
		if err := h.Delete(ctx); err != nil {
			return fmt.Errorf("delete schedule %s: %w", h.GetID(), err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Deleted schedule %s\n", h.GetID())
		return nil
	}
	return cmd
}

// scheduleRow is one schedule as `list` prints it.
type scheduleRow struct {
	ID, Spec, State, Next, Last string
}

// runOutcome says how a schedule's run went, for `list`: the run's status,
// or what its kind reads from a completed run's result.
type runOutcome func(ctx context.Context, c client.Client, run *client.ScheduleWorkflowExecution) string

// runStatus is the outcome of any kind of run: its status, as the server
// names it (Running, Completed, Failed, …).
func runStatus(ctx context.Context, c client.Client, run *client.ScheduleWorkflowExecution) string {
	d, err := c.DescribeWorkflowExecution(ctx, run.WorkflowID, run.FirstExecutionRunID)
	if err != nil {
		return "?"
	}
	return statusName(d.GetWorkflowExecutionInfo().GetStatus())
}

func statusName(s enums.WorkflowExecutionStatus) string {
	name := strings.TrimPrefix(s.String(), "WorkflowExecutionStatus")
	return strings.ReplaceAll(name, "_", "")
}

// listSchedules lists the schedules whose ID begins with prefix, sorted by
// ID, with the outcome of each one's last run. The server's list is
// eventually consistent: a schedule created a moment ago may be missing yet.
func (a *app) listSchedules(ctx context.Context, prefix string, outcome runOutcome) ([]scheduleRow, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	var rows []scheduleRow
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		if !strings.HasPrefix(e.ID, prefix) {
			continue
		}
		r := scheduleRow{ID: e.ID, Spec: describeSpec(e.Spec), State: "active", Next: "-", Last: "-"}
		if e.Paused {
			r.State = "paused"
			if e.Note != "" {
				r.State += " (" + e.Note + ")"
			}
		}
		if len(e.NextActionTimes) > 0 && !e.Paused {
			r.Next = e.NextActionTimes[0].UTC().Format(time.RFC3339)
		}
		if n := len(e.RecentActions); n > 0 {
			last := e.RecentActions[n-1]
			r.Last = last.ActualTime.UTC().Format(time.RFC3339)
			if w := last.StartWorkflowResult; w != nil {
				r.Last += " " + outcome(ctx, c, w)
			}
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(x, y scheduleRow) int { return strings.Compare(x.ID, y.ID) })
	return rows, nil
}

func describeSpec(s *client.ScheduleSpec) string {
	if s == nil {
		return "-"
	}
	var parts []string
	for _, c := range s.Calendars {
		parts = append(parts, calendarString(c))
	}
	for _, iv := range s.Intervals {
		p := "every " + iv.Every.String()
		if iv.Offset > 0 {
			p += " offset " + iv.Offset.String()
		}
		parts = append(parts, p)
	}
	parts = append(parts, s.CronExpressions...)
	out := strings.Join(parts, "; ")
	if s.TimeZoneName != "" {
		out += " (" + s.TimeZoneName + ")"
	}
	if s.Jitter > 0 {
		out += " jitter " + s.Jitter.String()
	}
	return out
}

// calendarString writes a calendar spec back as cron fields (the server
// answers a cron expression as a calendar).
func calendarString(c client.ScheduleCalendarSpec) string {
	ranges := func(rs []client.ScheduleRange, def string) string {
		if len(rs) == 0 {
			return def
		}
		var out []string
		for _, r := range rs {
			s := fmt.Sprint(r.Start)
			if r.End > r.Start {
				s += fmt.Sprintf("-%d", r.End)
			}
			if r.Step > 1 {
				s += fmt.Sprintf("/%d", r.Step)
			}
			out = append(out, s)
		}
		return strings.Join(out, ",")
	}
	return strings.Join([]string{ranges(c.Minute, "0"), ranges(c.Hour, "0"), ranges(c.DayOfMonth, "*"), ranges(c.Month, "*"), ranges(c.DayOfWeek, "*")}, " ")
}

func printSchedules(out io.Writer, rows []scheduleRow) error {
	tw := table(out, "SCHEDULE\tSPEC\tSTATE\tNEXT RUN\tLAST RUN")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Spec, r.State, r.Next, r.Last)
	}
	return tw.Flush()
}
