package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/manager"
)

var snapshotCommand = &Command{
	Name:       "snapshot",
	Usage:      "snapshot [ls|take|add|rm]",
	Summary:    "Show or edit the containers enforce mode keeps running",
	DefaultSub: "ls",
	Subcommands: []*Command{
		{
			Name:    "snapshot ls",
			Usage:   "snapshot ls [OPTIONS]",
			Summary: "List the snapshot's containers, with what runs under each name now",
			Setup: func(fs *pflag.FlagSet) RunFunc {
				var o snapshotLsOptions
				fs.BoolVarP(&o.quiet, "quiet", "q", false, "Only show the names")
				fs.StringVar(&o.format, "format", "", "Format output: table, table TEMPLATE, json, or a Go template (see 'Formats' in docs/commands.md)")
				offer(fs, "format", formatValues...)
				return controlled(func(ctx context.Context, s *Shell, ctl *enforce.Controller, _ []string) error {
					return runSnapshotLs(ctx, s, ctl, o)
				})
			},
		},
		{
			Name:    "snapshot take",
			Usage:   "snapshot take",
			Summary: "Record the containers running now (in the scope) as the snapshot, replacing it",
			Setup: func(fs *pflag.FlagSet) RunFunc {
				return controlled(func(ctx context.Context, s *Shell, ctl *enforce.Controller, _ []string) error {
					snap, err := ctl.TakeSnapshot(ctx)
					if err != nil {
						return err
					}
					fmt.Fprintf(s.out, "Snapshot taken: %s%s\n", countNames(snap.Names()), scopeNote(ctl.Scope()))
					return nil
				})
			},
		},
		{
			Name:    "snapshot add",
			Usage:   "snapshot add CONTAINER [CONTAINER...]",
			Summary: "Add containers (running or not) to the snapshot, or record them afresh",
			Args:    ArgAnyContainer,
			MinArgs: 1,
			MaxArgs: -1,
			Setup: func(fs *pflag.FlagSet) RunFunc {
				return controlled(func(ctx context.Context, s *Shell, ctl *enforce.Controller, args []string) error {
					names, err := ctl.AddToSnapshot(ctx, args...)
					if err != nil {
						return err
					}
					for _, n := range names {
						fmt.Fprintln(s.out, n)
					}
					return nil
				})
			},
		},
		{
			Name:    "snapshot rm",
			Usage:   "snapshot rm NAME [NAME...]",
			Summary: "Take names out of the snapshot (while enforcing, their containers become intruders)",
			Args:    ArgSnapshotName,
			MinArgs: 1,
			MaxArgs: -1,
			Setup: func(fs *pflag.FlagSet) RunFunc {
				return controlled(func(ctx context.Context, s *Shell, ctl *enforce.Controller, args []string) error {
					if err := ctl.RemoveFromSnapshot(args...); err != nil {
						return err
					}
					for _, n := range args {
						fmt.Fprintln(s.out, strings.TrimPrefix(n, "/"))
					}
					return nil
				})
			},
		},
	},
}

// errNoEnforce is what the enforce commands say in a shell built without
// a Controller (tests of other commands).
var errNoEnforce = errors.New("enforce mode is not available here")

// controlled is the RunFunc of a snapshot or enforce command: fn with
// the shell's enforcement Controller, or errNoEnforce without one.
func controlled(fn func(ctx context.Context, s *Shell, ctl *enforce.Controller, args []string) error) RunFunc {
	return func(ctx context.Context, s *Shell, args []string) error {
		if s.enforce == nil {
			return errNoEnforce
		}
		return fn(ctx, s, s.enforce, args)
	}
}

type snapshotLsOptions struct {
	quiet  bool
	format string
}

// snapshotTable is snapshot ls's default table.
const snapshotTable = "table {{.Name}}\t{{.Image}}\t{{.ID}}\t{{.Status}}"

var snapshotHeader = headerContext{
	"Name":   "NAME",
	"Image":  "IMAGE",
	"ID":     "CONTAINER ID",
	"Status": "STATUS NOW",
}

func runSnapshotLs(ctx context.Context, s *Shell, ctl *enforce.Controller, o snapshotLsOptions) error {
	snap, err := ctl.Snapshot()
	if err != nil {
		return err
	}
	if snap == nil {
		if !o.quiet && o.format == "" {
			fmt.Fprintln(s.err, "No snapshot taken yet: 'snapshot take' records the containers running now.")
		}
		return nil
	}
	live, err := s.eng.Containers(ctx, manager.ListOptions{All: true})
	if err != nil {
		return err
	}
	byName := map[string]container.Summary{}
	for _, c := range live {
		byName[manager.Name(c)] = c
	}
	format := o.format
	switch {
	case (format == "" || format == formatTable) && o.quiet:
		format = "{{.Name}}"
	case format == "" || format == formatTable:
		format = snapshotTable
	}
	lf, err := parseListFormat(format)
	if err != nil {
		return templateError("template parsing error", err)
	}
	var rows []any
	for _, name := range snap.Names() {
		row := &snapshotRow{name: name, saved: snap.Containers[name], owned: snap.Owned[name]}
		if c, ok := byName[name]; ok {
			row.live = &c
		}
		rows = append(rows, row)
	}
	if err := lf.render(s.out, snapshotHeader, rows); err != nil {
		return templateError("template parsing error", err)
	}
	return nil
}

// snapshotRow is one snapshot container as snapshot ls templates see it.
type snapshotRow struct {
	name  string
	saved enforce.Saved
	owned string             // the ID enforcement created for the name, if it did
	live  *container.Summary // what has the name now; nil: nothing
}

// Name is the container's name.
func (r *snapshotRow) Name() string { return r.name }

// Image is the image the saved configuration names.
func (r *snapshotRow) Image() string {
	var c struct{ Config struct{ Image string } }
	_ = json.Unmarshal(r.saved.Container, &c)
	return c.Config.Image
}

// ID is the short ID of the container that has the name now, "-" when
// none has.
func (r *snapshotRow) ID() string {
	if r.live == nil {
		return "-"
	}
	return manager.ShortID(r.live.ID)
}

// Status is docker's status of the container that has the name now;
// "deleted" when none has, and a note when another container has it.
func (r *snapshotRow) Status() string {
	if r.live == nil {
		return "deleted"
	}
	var saved struct{ ID string }
	_ = json.Unmarshal(r.saved.Container, &saved)
	owner := r.owned
	if owner == "" {
		owner = saved.ID
	}
	if owner != "" && r.live.ID != owner {
		return r.live.Status + " (another container: not the snapshot's)"
	}
	return r.live.Status
}

// MarshalJSON is one line of --format json.
func (r *snapshotRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"Name": r.Name(), "Image": r.Image(), "ID": r.ID(), "Status": r.Status()})
}

// countNames says "3 containers (a, b, c)".
func countNames(names []string) string {
	word := "containers"
	if len(names) == 1 {
		word = "container"
	}
	if len(names) == 0 {
		return "0 containers"
	}
	return fmt.Sprintf("%d %s (%s)", len(names), word, strings.Join(names, ", "))
}

// scopeNote says " in scope a=1" for a scope, nothing without one.
func scopeNote(s enforce.Scope) string {
	if len(s) == 0 {
		return ""
	}
	return " in scope " + s.String()
}
