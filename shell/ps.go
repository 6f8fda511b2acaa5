package shell

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

var psCommand = &Command{
	Name:    "ps",
	Usage:   "ps [OPTIONS]",
	Summary: "List containers",
	Setup: func(fs *pflag.FlagSet) RunFunc {
		var o psOptions
		fs.BoolVarP(&o.all, "all", "a", false, "Show all containers (default shows just running)")
		fs.BoolVarP(&o.quiet, "quiet", "q", false, "Only display container IDs")
		fs.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
		fs.BoolVarP(&o.size, "size", "s", false, "Display total file sizes")
		fs.BoolVarP(&o.latest, "latest", "l", false, "Show the latest created container (includes all states)")
		fs.IntVarP(&o.last, "last", "n", -1, "Show n last created containers (includes all states)")
		fs.StringArrayVarP(&o.filters, "filter", "f", nil, "Filter output based on conditions provided (name, label, status, ancestor, id, ...)")
		offer(fs, "filter", psFilterValues...)
		fs.StringVar(&o.format, "format", "", "Format output: table, table TEMPLATE, json, or a Go template (see 'Formats' in docs/commands.md)")
		offer(fs, "format", formatValues...)
		return func(ctx context.Context, s *Shell, args []string) error {
			o.sizeChanged = fs.Changed("size")
			return runPs(ctx, s, o)
		}
	},
}

// psOptions are the flags of ps, as typed.
type psOptions struct {
	all, quiet, noTrunc bool
	size, sizeChanged   bool
	latest              bool
	last                int
	filters             []string
	format              string
}

// runPs lists containers as docker ps does, including when it asks the
// engine for sizes: with -s, or when the template reads .Size (unless
// --size=false was typed).
func runPs(ctx context.Context, s *Shell, o psOptions) error {
	f, err := parseFilters(o.filters, psFilterKeys)
	if err != nil {
		return err
	}
	opts := manager.ListOptions{All: o.all, Filters: f, Limit: o.last, Size: o.size}
	if o.latest && o.last == -1 {
		opts.Limit = 1
	}
	if o.format != "" && o.quiet {
		fmt.Fprintln(s.err, "WARNING: Ignoring custom format, because both --format and --quiet are set.")
	}
	if o.format != "" {
		// As docker: the format as typed is run once on an empty row, to
		// catch errors before asking the engine and to see whether it
		// reads .Size.
		tmpl, err := parseTemplate(o.format)
		if err != nil {
			return templateError("failed to parse template", err)
		}
		used := false
		if err := tmpl.Execute(io.Discard, &containerContext{sizeUsed: &used}); err != nil {
			return templateError("failed to execute template", err)
		}
		if used && !o.quiet && !o.size && !o.sizeChanged {
			opts.Size = true
		}
	}
	list, err := s.eng.Containers(ctx, opts)
	if err != nil {
		return err
	}
	return renderContainers(s, list, psView{quiet: o.quiet, noTrunc: o.noTrunc, size: opts.Size, format: o.format, now: time.Now()})
}

// psFilterKeys are the filters the engine understands for containers.
var psFilterKeys = []string{"ancestor", "before", "expose", "exited", "health", "id", "is-task", "label", "name", "network", "publish", "since", "status", "volume"}

// parseFilters turns repeated key=value flags into engine filters,
// refusing the keys the engine would reject, so the user gets the list of
// valid ones. A filter that is not
// key=value is a usage error (status 125), as docker's flag parsing makes
// it.
func parseFilters(raw []string, keys []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range raw {
		k, v, ok := strings.Cut(f, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, withStatus(StatusUsage, fmt.Errorf("bad filter %q: expected key=value", f))
		}
		if !slices.Contains(keys, k) {
			return nil, fmt.Errorf("unknown filter %q: use one of %s", k, strings.Join(keys, ", "))
		}
		out[k] = append(out[k], v)
	}
	return out, nil
}

// psView says how to render a container list.
type psView struct {
	quiet, noTrunc bool
	size           bool // the SIZE column of the default table
	format         string
	now            time.Time
}

func renderContainers(s *Shell, list []container.Summary, v psView) error {
	rows := make([]*containerContext, len(list))
	for i, c := range list {
		rows[i] = &containerContext{c: c, trunc: !v.noTrunc, now: v.now}
	}
	switch {
	case v.quiet:
		for _, r := range rows {
			fmt.Fprintln(s.out, r.ID())
		}
		return nil
	case v.format == "" || v.format == formatTable:
		return renderPsTable(s, rows, v.size)
	}
	f, err := parseListFormat(v.format)
	if err != nil {
		return templateError("template parsing error", err)
	}
	anyRows := make([]any, len(rows))
	for i, r := range rows {
		anyRows[i] = r
	}
	if err := f.render(s.out, containerHeader, anyRows); err != nil {
		return templateError("template parsing error", err)
	}
	return nil
}

// renderPsTable is docker's default ps table (its columns are those of
// "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t
// {{.Ports}}\t{{.Names}}", with \t{{.Size}} after -s), STATUS coloured
// by state when the output is a terminal.
func renderPsTable(s *Shell, rows []*containerContext, size bool) error {
	header := []string{"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}
	if size {
		header = append(header, "SIZE")
	}
	table := make([][]string, len(rows))
	for i, r := range rows {
		table[i] = []string{r.ID(), r.Image(), r.Command(), r.RunningFor(), s.paint(s.colorOut, r.Status(), stateColor(r.c.State)...), r.Ports(), r.Names()}
		if size {
			table[i] = append(table[i], r.Size())
		}
	}
	return writeTable(s.out, header, table)
}

// stateColor is how a container's state is coloured in tables.
func stateColor(state container.ContainerState) []color.Attribute {
	switch state {
	case container.StateRunning:
		return []color.Attribute{color.FgGreen}
	case container.StatePaused:
		return []color.Attribute{color.FgYellow}
	case container.StateRestarting:
		return []color.Attribute{color.FgMagenta}
	case container.StateExited, container.StateDead:
		return []color.Attribute{color.FgRed}
	}
	return nil
}
