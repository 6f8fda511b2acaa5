package shell

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/fatih/color"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/manager"
)

var enforceCommand = &Command{
	Name:       "enforce",
	Usage:      "enforce [on|off|plan|status]",
	Summary:    "Keep exactly the snapshot's containers running (enforce mode)",
	DefaultSub: "status",
	Subcommands: []*Command{
		{
			Name:    "enforce on",
			Usage:   "enforce on [OPTIONS]",
			Summary: "Start enforcing the snapshot (taking one if none exists)",
			Setup: func(fs *pflag.FlagSet) RunFunc {
				var o enforce.OnOptions
				fs.BoolVar(&o.DryRun, "dry-run", false, "Only report what enforcement would do, as it would do it")
				fs.BoolVarP(&o.Force, "force", "f", false, "Do not ask before enforcing an empty snapshot or removing more than half of what runs")
				return controlled(func(ctx context.Context, s *Shell, ctl *enforce.Controller, _ []string) error {
					return runEnforceOn(ctx, s, ctl, o)
				})
			},
		},
		{
			Name:    "enforce off",
			Usage:   "enforce off",
			Summary: "Stop enforcing; the snapshot is kept",
			Setup: func(fs *pflag.FlagSet) RunFunc {
				return controlled(func(_ context.Context, s *Shell, ctl *enforce.Controller, _ []string) error {
					return runEnforceOff(s, ctl)
				})
			},
		},
		{
			Name:    "enforce plan",
			Usage:   "enforce plan",
			Summary: "Show what enforcement would do now, and what it leaves alone and why, without acting",
			Setup: func(fs *pflag.FlagSet) RunFunc {
				return controlled(func(ctx context.Context, s *Shell, ctl *enforce.Controller, _ []string) error {
					return runEnforcePlan(ctx, s, ctl)
				})
			},
		},
		{
			Name:    "enforce status",
			Usage:   "enforce status",
			Summary: "Show whether enforcement is on, its counts, last actions and backoffs",
			Setup: func(fs *pflag.FlagSet) RunFunc {
				return controlled(func(_ context.Context, s *Shell, ctl *enforce.Controller, _ []string) error {
					return runEnforceStatus(s, ctl, time.Now())
				})
			},
		},
	},
}

func runEnforceOn(ctx context.Context, s *Shell, ctl *enforce.Controller, o enforce.OnOptions) error {
	if s.confirm != nil {
		o.Confirm = func(q string) (bool, error) {
			return s.confirm(ctx, strings.ToUpper(q[:1])+q[1:])
		}
	}
	res, err := ctl.On(ctx, o)
	if ctx.Err() != nil {
		return ctx.Err() // Ctrl-C at the question: the shell ends the line
	}
	if errors.Is(err, enforce.ErrNotConfirmed) {
		fmt.Fprintln(s.out, "Enforcement stays off.")
		return nil
	}
	if err != nil {
		return err
	}
	snap := res.Preview.Snapshot
	if res.Taken {
		fmt.Fprintf(s.out, "Snapshot taken: %s%s\n", countNames(snap.Names()), scopeNote(ctl.Scope()))
	}
	mode := "on"
	if o.DryRun {
		mode = "on, as a dry run (actions are reported, not done)"
	}
	todo := planSummary(res.Preview.Actions)
	switch {
	case res.Already:
		fmt.Fprintf(s.out, "Enforcement is %s already. Now: %s.\n", mode, todo)
	case res.Here:
		fmt.Fprintf(s.out, "Enforcement %s: keeping %d snapshot containers running%s. Now: %s.\n",
			mode, len(snap.Containers), scopeNote(ctl.Scope()), todo)
	case res.Elsewhere != "":
		fmt.Fprintf(s.out, "Enforcement %s (saved): dockman pid %s enforces with this state directory. Now: %s.\n", mode, res.Elsewhere, todo)
	default:
		fmt.Fprintf(s.out, "Enforcement %s (saved): a script does not enforce; the interactive shell or the agent on this state directory does while it runs. Now: %s.\n", mode, todo)
	}
	return nil
}

// planSummary says what a plan does in a few words: "2 to start, 1 to
// remove", or "nothing to do".
func planSummary(plan []enforce.Action) string {
	counts := map[enforce.Kind]int{}
	for _, a := range plan {
		counts[a.Kind]++
	}
	var parts []string
	for _, k := range []enforce.Kind{enforce.KindStart, enforce.KindUnpause, enforce.KindRecreate, enforce.KindRemove} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", counts[k], k))
		}
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

func runEnforceOff(s *Shell, ctl *enforce.Controller) error {
	before, _ := ctl.Status()
	was, err := ctl.Off()
	if err != nil {
		return err
	}
	kept := "no snapshot"
	if snap, _ := ctl.Snapshot(); snap != nil {
		kept = "the snapshot of " + countNames(snap.Names())
	}
	switch {
	case was:
		fmt.Fprintf(s.out, "Enforcement off: %s is kept.\n", kept)
	case before.EnforcedBy != "":
		fmt.Fprintf(s.out, "Enforcement off (saved): dockman pid %s goes on until it exits or is told 'enforce off'.\n", before.EnforcedBy)
	default:
		fmt.Fprintf(s.out, "Enforcement off: %s is kept.\n", kept)
	}
	return nil
}

func runEnforcePlan(ctx context.Context, s *Shell, ctl *enforce.Controller) error {
	snap, err := ctl.Snapshot()
	if err != nil {
		return err
	}
	p, err := ctl.Plan(ctx)
	if err != nil {
		return err
	}
	if snap == nil {
		fmt.Fprintln(s.err, "No snapshot taken yet: planned from one taken now, as 'enforce on' would take it.")
	}
	var rows [][]string
	for _, a := range p.Actions {
		id := "-"
		if a.ID != "" {
			id = manager.ShortID(a.ID)
		}
		rows = append(rows, []string{s.paintKind(a.Kind), a.Name, id, a.Reason})
	}
	if err := writeTable(s.out, []string{"ACTION", "CONTAINER", "CONTAINER ID", "REASON"}, rows); err != nil {
		return err
	}
	if p.Drastic {
		fmt.Fprintf(s.err, "This plan removes %d of the %d running containers: 'enforce on' asks before acting on it.\n", p.RunningRemoved, p.Running)
	}
	return nil
}

// paintKind colours an action: green where nothing is done, yellow for
// starts, red for removals.
func (s *Shell) paintKind(k enforce.Kind) string {
	switch k {
	case enforce.KindLeave:
		return s.paint(s.colorOut, string(k), color.FgGreen)
	case enforce.KindRemove:
		return s.paint(s.colorOut, string(k), color.FgRed)
	}
	return s.paint(s.colorOut, string(k), color.FgYellow)
}

func runEnforceStatus(s *Shell, ctl *enforce.Controller, now time.Time) error {
	st, err := ctl.Status()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	state := st.State
	if strings.HasPrefix(state, "on") {
		state = s.paint(s.colorOut, state, color.FgGreen)
	}
	fmt.Fprintf(w, "Enforcement:\t%s\n", state)
	switch snap := st.Snapshot; {
	case snap == nil:
		fmt.Fprintf(w, "Snapshot:\tnone taken yet\n")
	default:
		fmt.Fprintf(w, "Snapshot:\t%s, taken %s ago\n", countNames(snap.Names()), units.HumanDuration(now.Sub(snap.Taken)))
	}
	if len(st.Scope) > 0 {
		fmt.Fprintf(w, "Scope:\t%s\n", st.Scope.String())
	}
	if st.Here {
		var counts []string
		for _, k := range []enforce.Kind{enforce.KindStart, enforce.KindUnpause, enforce.KindRecreate, enforce.KindRemove} {
			counts = append(counts, fmt.Sprintf("%s %d", k, st.Counts[k]))
		}
		fmt.Fprintf(w, "Actions:\t%s (since this dockman started enforcing)\n", strings.Join(counts, ", "))
	}
	if len(st.Backoff) > 0 {
		var parts []string
		for _, n := range slices.Sorted(maps.Keys(st.Backoff)) {
			parts = append(parts, fmt.Sprintf("%s (next start in %s)", n, roundDuration(st.Backoff[n].Sub(now))))
		}
		fmt.Fprintf(w, "Backoff:\t%s\n", strings.Join(parts, ", "))
	}
	if len(st.Failing) > 0 {
		for i, n := range slices.Sorted(maps.Keys(st.Failing)) {
			label := "Failing:"
			if i > 0 {
				label = ""
			}
			fmt.Fprintf(w, "%s\t%s: %s (retried with backoff)\n", label, n, st.Failing[n])
		}
	}
	fmt.Fprintf(w, "Audit log:\t%s\n", st.AuditLog)
	if err := w.Flush(); err != nil {
		return err
	}
	if len(st.Last) == 0 {
		return nil
	}
	if st.Here {
		fmt.Fprintln(s.out, "\nLast actions:")
	} else {
		fmt.Fprintln(s.out, "\nLast actions (from the audit log):")
	}
	var rows [][]string
	for _, r := range st.Last {
		rows = append(rows, []string{r.Time.Local().Format("15:04:05.000"), s.paintKind(r.Action), r.Container, r.Reason, r.Result})
	}
	return writeTable(s.out, []string{"TIME", "ACTION", "CONTAINER", "REASON", "RESULT"}, rows)
}
