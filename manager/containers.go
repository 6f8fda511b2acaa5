package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

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
	// Limit, when above 0, keeps only the Limit most recently created
	// containers, in every state (ps -n, ps -l).
	Limit int
	// Size asks the engine for SizeRw and SizeRootFs, which it computes
	// per container at some cost: only ps -s and templates using .Size do.
	Size bool
}

// Containers lists containers, newest first, as the engine reports them.
func (m *Manager) Containers(ctx context.Context, opts ListOptions) ([]container.Summary, error) {
	f := make(client.Filters)
	for k, vs := range opts.Filters {
		f.Add(k, vs...)
	}
	res, err := m.api.ContainerList(ctx, client.ContainerListOptions{All: opts.All, Filters: f, Limit: opts.Limit, Size: opts.Size})
	if err != nil {
		return nil, m.wrapIn("list containers", err)
	}
	return res.Items, nil
}

// Resolve finds the containers named by refs (names, full IDs or unique ID
// prefixes) with one list call. It returns one result per ref, in order; a
// ref that names nothing or more than one container gets an error instead.
func (m *Manager) Resolve(ctx context.Context, refs ...string) ([]Resolved, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	all, err := m.Containers(ctx, ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	out := make([]Resolved, len(refs))
	for i, ref := range refs {
		out[i].Ref = ref
		out[i].Container, out[i].Err = Match(all, ref)
	}
	return out, nil
}

// IsUp is docker's notion of a container that `ps` shows without -a:
// running, paused or restarting.
func IsUp(s container.ContainerState) bool {
	return s == container.StateRunning || s == container.StatePaused || s == container.StateRestarting
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
		return container.Summary{}, noSuchContainer(ref)
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

// noSuchContainer is Match's answer for a ref that names no container;
// IsNotFound recognises it, as it does the engine's own.
type noSuchContainer string

func (e noSuchContainer) Error() string { return "no such container: " + string(e) }

// NotFound marks the error as errdefs' not-found kind.
func (noSuchContainer) NotFound() {}

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

// ShortID returns the 12-character form of an ID, as docker prints it:
// what follows an "algorithm:" prefix ("sha256:"), cut to 12.
func ShortID(id string) string {
	if _, hex, ok := strings.Cut(id, ":"); ok {
		id = hex
	}
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
	return nil
}

// StopOptions say how Stop and Restart stop a container.
type StopOptions struct {
	// Timeout is the seconds to wait before killing the container; nil
	// means the container's own stop timeout (10 s by default).
	Timeout *int
	// Signal is sent first (a name such as "SIGINT" or a number); ""
	// means the container's stop signal (SIGTERM by default).
	Signal string
}

// Stop stops a container: its stop signal, then SIGKILL after the timeout.
func (m *Manager) Stop(ctx context.Context, id string, opts StopOptions) error {
	if _, err := m.api.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: opts.Timeout, Signal: opts.Signal}); err != nil {
		return m.wrap(err)
	}
	return nil
}

// Restart stops then starts a container, with Stop's options.
func (m *Manager) Restart(ctx context.Context, id string, opts StopOptions) error {
	if _, err := m.api.ContainerRestart(ctx, id, client.ContainerRestartOptions{Timeout: opts.Timeout, Signal: opts.Signal}); err != nil {
		return m.wrap(err)
	}
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
