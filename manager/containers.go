package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// ListOptions selects the containers Containers returns.
type ListOptions struct {
	// All includes stopped containers.
	All bool
	// Filters are engine-side filters such as name, label, status, ancestor
	// and id, each with one or more values.
	Filters map[string][]string
}

// Containers lists containers, newest first, as the engine reports them.
func (m *Manager) Containers(ctx context.Context, opts ListOptions) ([]container.Summary, error) {
	f := make(client.Filters)
	for k, vs := range opts.Filters {
		f.Add(k, vs...)
	}
	res, err := m.api.ContainerList(ctx, client.ContainerListOptions{All: opts.All, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", m.wrap(err))
	}
	return res.Items, nil
}

// Snapshot lists containers like Containers, but from the Inventory when
// one is attached, in sync, able to evaluate the filters, has inspected
// every container listed and knows which image each reference names;
// otherwise from the engine. (An entry known only from a list has its
// creation time to the second and a status text frozen when listed: ps
// would order and describe it less exactly than docker.)
// The STATUS text is computed now either way.
func (m *Manager) Snapshot(ctx context.Context, opts ListOptions) ([]Container, error) {
	if m.inv != nil {
		if list, ok := m.inv.List(opts); ok && m.inv.exact(list) {
			now := time.Now()
			for i := range list {
				list[i].Status = list[i].StatusText(now)
			}
			return list, nil
		}
	}
	live, err := m.Containers(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Container, len(live))
	for i, s := range live {
		out[i] = Container{Summary: s}
	}
	return out, nil
}

// Resolve finds the containers named by refs (names, full IDs or unique ID
// prefixes) with at most one list call, none when the Inventory is in sync
// and knows them all. It returns one result per ref, in order; a ref that
// names nothing or more than one container gets an error instead.
func (m *Manager) Resolve(ctx context.Context, refs ...string) ([]Resolved, error) {
	out := make([]Resolved, len(refs))
	missed := len(refs) > 0
	if m.inv != nil {
		if cached, ok := m.inv.List(ListOptions{All: true}); ok {
			list := summaries(cached)
			missed = false
			for i, ref := range refs {
				out[i].Ref = ref
				out[i].Container, out[i].Err = Match(list, ref)
				// Trust the cache for full IDs and names only: a prefix
				// could also match a container created a moment ago whose
				// event is still on its way, and must then be ambiguous.
				missed = missed || out[i].Err != nil || !exactMatch(out[i].Container, ref)
			}
		}
	}
	if !missed {
		return out, nil
	}
	// Ask the engine: the inventory is off, out of sync, or a container was
	// created by someone else a moment ago and its event is still on its way.
	all, err := m.Containers(ctx, ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	for i, ref := range refs {
		out[i].Ref = ref
		out[i].Container, out[i].Err = Match(all, ref)
	}
	return out, nil
}

// exactMatch reports whether ref names c by full ID or by name.
func exactMatch(c container.Summary, ref string) bool {
	ref = strings.TrimSpace(ref)
	return c.ID == ref || Name(c) == strings.TrimPrefix(ref, "/")
}

func summaries(list []Container) []container.Summary {
	out := make([]container.Summary, len(list))
	for i, c := range list {
		out[i] = c.Summary
	}
	return out
}

// changed tells the inventory, if any, that this Manager changed container
// id, so that reading it back right away shows the change.
func (m *Manager) changed(ctx context.Context, id string) {
	if m.inv != nil {
		m.inv.refresh(ctx, id)
	}
}

// Resolved is the outcome of resolving one container reference.
type Resolved struct {
	Ref       string
	Container container.Summary
	Err       error
}

// Match picks the container that ref names among list, with docker's
// precedence: full ID, then exact name, then unique ID prefix. An ambiguous
// prefix lists the candidates so the user can type more of it.
func Match(list []container.Summary, ref string) (container.Summary, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return container.Summary{}, fmt.Errorf("empty container name")
	}
	for _, c := range list {
		if c.ID == ref {
			return c, nil
		}
	}
	name := strings.TrimPrefix(ref, "/")
	for _, c := range list {
		if Name(c) == name {
			return c, nil
		}
	}
	var hits []container.Summary
	for _, c := range list {
		if strings.HasPrefix(c.ID, ref) {
			hits = append(hits, c)
		}
	}
	switch len(hits) {
	case 0:
		return container.Summary{}, fmt.Errorf("no such container: %s", ref)
	case 1:
		return hits[0], nil
	}
	cands := make([]string, len(hits))
	for i, c := range hits {
		cands[i] = fmt.Sprintf("%s (%s)", Name(c), ShortID(c.ID))
	}
	sort.Strings(cands)
	return container.Summary{}, fmt.Errorf("ambiguous container %q matches %d containers: %s", ref, len(hits), strings.Join(cands, ", "))
}

// Name returns a container's primary name without the leading slash.
func Name(c container.Summary) string {
	for _, n := range c.Names {
		n = strings.TrimPrefix(n, "/")
		if !strings.Contains(n, "/") { // skip legacy link aliases like /web/db
			return n
		}
	}
	return ""
}

// ShortID returns the 12-character form of an ID, as docker prints it.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Start starts a container.
func (m *Manager) Start(ctx context.Context, id string) error {
	if _, err := m.api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return m.wrap(err)
	}
	m.changed(ctx, id)
	return nil
}

// Stop stops a container, killing it after timeout seconds (nil: the
// container's own stop timeout, 10 s by default).
func (m *Manager) Stop(ctx context.Context, id string, timeout *int) error {
	if _, err := m.api.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: timeout}); err != nil {
		return m.wrap(err)
	}
	m.changed(ctx, id)
	return nil
}

// Restart stops then starts a container, with Stop's timeout semantics.
func (m *Manager) Restart(ctx context.Context, id string, timeout *int) error {
	if _, err := m.api.ContainerRestart(ctx, id, client.ContainerRestartOptions{Timeout: timeout}); err != nil {
		return m.wrap(err)
	}
	m.changed(ctx, id)
	return nil
}

// RemoveOptions says how Remove treats a running container and its volumes.
type RemoveOptions struct {
	Force   bool // kill a running container first
	Volumes bool // also remove its anonymous volumes
}

// Remove deletes a container.
func (m *Manager) Remove(ctx context.Context, id string, opts RemoveOptions) error {
	if _, err := m.api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: opts.Force, RemoveVolumes: opts.Volumes}); err != nil {
		return m.wrap(err)
	}
	if m.inv != nil {
		m.inv.forget(id)
	}
	return nil
}

// Inspect returns the engine's full JSON description of a container, and
// its decoded form.
func (m *Manager) Inspect(ctx context.Context, id string) (container.InspectResponse, json.RawMessage, error) {
	res, err := m.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return container.InspectResponse{}, nil, m.wrap(err)
	}
	return res.Container, res.Raw, nil
}
