package shell

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
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
		all := fs.BoolP("all", "a", false, "Show all containers (default shows just running)")
		quiet := fs.BoolP("quiet", "q", false, "Only display container IDs")
		noTrunc := fs.Bool("no-trunc", false, "Don't truncate output")
		filters := fs.StringArrayP("filter", "f", nil, "Filter output based on conditions provided (name, label, status, ancestor, id, ...)")
		offer(fs, "filter", psFilterValues...)
		format := fs.String("format", "table", "Output format: table or json")
		offer(fs, "format", formatValues...)
		return func(ctx context.Context, s *Shell, args []string) error {
			f, err := parseFilters(*filters, psFilterKeys)
			if err != nil {
				return fmt.Errorf("ps: %w", err)
			}
			if err := checkFormat(*format); err != nil {
				return fmt.Errorf("ps: %w", err)
			}
			list, err := s.eng.Containers(ctx, manager.ListOptions{All: *all, Filters: f})
			if err != nil {
				return err
			}
			return renderContainers(s, list, psView{quiet: *quiet, noTrunc: *noTrunc, format: *format, now: time.Now()})
		}
	},
}

// psFilterKeys are the filters the engine understands for containers.
var psFilterKeys = []string{"ancestor", "before", "expose", "exited", "health", "id", "is-task", "label", "name", "network", "publish", "since", "status", "volume"}

// parseFilters turns repeated key=value flags into engine filters, refusing
// keys the engine would reject so the user gets the list of valid ones.
func parseFilters(raw []string, keys []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range raw {
		k, v, ok := strings.Cut(f, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		if !ok || k == "" {
			return nil, fmt.Errorf("bad filter %q: expected key=value", f)
		}
		if !contains(keys, k) {
			return nil, fmt.Errorf("unknown filter %q: use one of %s", k, strings.Join(keys, ", "))
		}
		out[k] = append(out[k], v)
	}
	return out, nil
}

func checkFormat(f string) error {
	if f != "table" && f != "json" {
		return fmt.Errorf("unknown format %q: use table or json", f)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// psView says how to render a container list.
type psView struct {
	quiet, noTrunc bool
	format         string
	now            time.Time
}

func renderContainers(s *Shell, list []container.Summary, v psView) error {
	rows := make([]containerRow, len(list))
	for i, c := range list {
		rows[i] = containerRow{c: c, noTrunc: v.noTrunc, now: v.now}
	}
	switch {
	case v.quiet:
		for _, r := range rows {
			fmt.Fprintln(s.out, r.ID())
		}
		return nil
	case v.format == "json":
		enc := json.NewEncoder(s.out)
		for _, r := range rows {
			if err := enc.Encode(r.JSON()); err != nil {
				return err
			}
		}
		return nil
	}
	table := make([][]string, len(rows))
	for i, r := range rows {
		table[i] = []string{r.ID(), r.Image(), r.Command(), r.Created(), s.paint(s.colorOut, r.Status(), stateColor(r.c.State)...), r.Ports(), r.Names()}
	}
	return writeTable(s.out, []string{"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}, table)
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

// containerRow renders one container, a method per column (docker/cli's
// formatter shape), so each column is testable on its own.
type containerRow struct {
	c       container.Summary
	noTrunc bool
	now     time.Time
}

func (r containerRow) ID() string {
	if r.noTrunc {
		return r.c.ID
	}
	return manager.ShortID(r.c.ID)
}

func (r containerRow) Image() string {
	img := r.c.Image
	if strings.HasPrefix(img, "sha256:") && !r.noTrunc {
		return manager.ShortID(img)
	}
	return img
}

func (r containerRow) Command() string {
	cmd := r.c.Command
	if !r.noTrunc {
		cmd = ellipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}

func (r containerRow) Created() string {
	if r.c.Created == 0 {
		return ""
	}
	return units.HumanDuration(r.now.Sub(time.Unix(r.c.Created, 0))) + " ago"
}

func (r containerRow) Status() string { return r.c.Status }

func (r containerRow) Names() string {
	var names []string
	for _, n := range r.c.Names {
		n = strings.TrimPrefix(n, "/")
		if !strings.Contains(n, "/") {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

// Ports renders published ports as docker does: "127.0.0.1:8080->80/tcp",
// or just "80/tcp" for an exposed, unpublished port.
func (r containerRow) Ports() string {
	ports := append([]container.PortSummary(nil), r.c.Ports...)
	sort.Slice(ports, func(i, j int) bool {
		if ports[i].PrivatePort != ports[j].PrivatePort {
			return ports[i].PrivatePort < ports[j].PrivatePort
		}
		if ports[i].Type != ports[j].Type {
			return ports[i].Type < ports[j].Type
		}
		return ports[i].IP.String() < ports[j].IP.String()
	})
	var out []string
	for _, p := range ports {
		if p.PublicPort == 0 {
			out = append(out, fmt.Sprintf("%d/%s", p.PrivatePort, p.Type))
			continue
		}
		ip := p.IP.String()
		if p.IP.Is6() {
			ip = "[" + ip + "]"
		}
		out = append(out, fmt.Sprintf("%s:%d->%d/%s", ip, p.PublicPort, p.PrivatePort, p.Type))
	}
	return strings.Join(dedupe(out), ", ")
}

// JSON is the shape of one line of `ps --format json`, with docker's keys.
func (r containerRow) JSON() map[string]any {
	labels := make([]string, 0, len(r.c.Labels))
	for k, v := range r.c.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	return map[string]any{
		"ID":           r.ID(),
		"Image":        r.c.Image,
		"Command":      r.Command(),
		"CreatedAt":    time.Unix(r.c.Created, 0).Format("2006-01-02 15:04:05 -0700 MST"),
		"RunningFor":   r.Created(),
		"Status":       r.c.Status,
		"State":        string(r.c.State),
		"Ports":        r.Ports(),
		"Names":        r.Names(),
		"Labels":       strings.Join(labels, ","),
		"Networks":     r.Networks(),
		"Mounts":       r.Mounts(),
		"LocalVolumes": strconv.Itoa(r.LocalVolumes()),
		"Size":         "0B", // as docker without --size
		"Platform":     nil,
	}
}

// Networks lists the networks the container is attached to, by name.
func (r containerRow) Networks() string {
	if r.c.NetworkSettings == nil {
		return ""
	}
	names := make([]string, 0, len(r.c.NetworkSettings.Networks))
	for n := range r.c.NetworkSettings.Networks {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// Mounts lists the container's mounts by volume name, else by source,
// each cut to 15 characters unless --no-trunc, as docker does.
func (r containerRow) Mounts() string {
	var out []string
	for _, m := range r.c.Mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if !r.noTrunc {
			name = ellipsis(name, 15)
		}
		out = append(out, name)
	}
	return strings.Join(out, ",")
}

// LocalVolumes counts the container's volumes of the local driver.
func (r containerRow) LocalVolumes() int {
	n := 0
	for _, m := range r.c.Mounts {
		if m.Driver == "local" {
			n++
		}
	}
	return n
}

// ellipsis shortens s to at most n runes, ending in "…" when cut.
func ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func dedupe(list []string) []string {
	var out []string
	for i, s := range list {
		if i == 0 || list[i-1] != s {
			out = append(out, s)
		}
	}
	return out
}
