package inventory

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"

	"github.com/dockman/dockman/manager"
)

// Front is the shell's Engine served by an Inventory. Reads come from
// memory when the inventory can answer exactly as the engine would, else
// from the Manager; writes go through the Manager and then refresh the
// entries they changed, so that reading back right away shows the change.
// The Manager itself is never switched into a cached mode: script mode
// uses it as it is.
type Front struct{ inv *Inventory }

// Front returns the Engine that inv serves.
func (inv *Inventory) Front() *Front { return &Front{inv: inv} }

// Host returns the engine address.
func (f *Front) Host() string { return f.inv.m.Host() }

// Containers lists containers, newest first, as the engine would: from
// memory when the inventory is in sync, can evaluate the filters, has
// inspected every container listed and knows which image each reference
// names; otherwise from the engine. STATUS is computed now either way.
// Sizes are never kept in memory (the engine computes them per request),
// so a list asking for them always goes to the engine.
func (f *Front) Containers(ctx context.Context, opts manager.ListOptions) ([]container.Summary, error) {
	if opts.Size {
		return f.inv.m.Containers(ctx, opts)
	}
	mem := opts
	if opts.Limit > 0 {
		// As the engine: a limit lists every state, newest first.
		mem.All, mem.Limit = true, 0
	}
	if list, ok := f.inv.store.list(mem); ok && f.inv.store.exact(list) {
		if opts.Limit > 0 && len(list) > opts.Limit {
			list = list[:opts.Limit]
		}
		return summaries(list, time.Now()), nil
	}
	return f.inv.m.Containers(ctx, opts)
}

// Resolve finds the containers named by refs (names, full IDs or unique ID
// prefixes). Full IDs and names are trusted from memory; a prefix could
// also match a container created a moment ago whose event is still on its
// way, and must then be ambiguous, so a prefix or an unknown name is
// resolved by the engine (one list call for all refs).
func (f *Front) Resolve(ctx context.Context, refs ...string) ([]manager.Resolved, error) {
	list, ok := f.inv.store.list(manager.ListOptions{All: true})
	if !ok || len(refs) == 0 {
		return f.inv.m.Resolve(ctx, refs...)
	}
	known := summaries(list, time.Now())
	out := make([]manager.Resolved, len(refs))
	for i, ref := range refs {
		c, err := manager.Match(known, ref)
		if err != nil || !exactMatch(c, ref) {
			return f.inv.m.Resolve(ctx, refs...)
		}
		out[i] = manager.Resolved{Ref: ref, Container: c}
	}
	return out, nil
}

// exactMatch reports whether ref names c by full ID or by name.
func exactMatch(c container.Summary, ref string) bool {
	ref = strings.TrimSpace(ref)
	return c.ID == ref || manager.Name(c) == strings.TrimPrefix(ref, "/")
}

// ListImages lists images from the engine.
func (f *Front) ListImages(ctx context.Context, opts manager.ImageListOptions) ([]image.Summary, error) {
	return f.inv.m.ListImages(ctx, opts)
}

// Inspect returns the engine's full description of a container.
func (f *Front) Inspect(ctx context.Context, id string) (container.InspectResponse, json.RawMessage, error) {
	return f.inv.m.Inspect(ctx, id)
}

// InspectImage returns the engine's full description of an image.
func (f *Front) InspectImage(ctx context.Context, ref string) (image.InspectResponse, json.RawMessage, error) {
	return f.inv.m.InspectImage(ctx, ref)
}

// InspectVolume returns the engine's full description of a volume.
func (f *Front) InspectVolume(ctx context.Context, name string) (volume.Volume, json.RawMessage, error) {
	return f.inv.m.InspectVolume(ctx, name)
}

// Logs copies a container's output from the engine.
func (f *Front) Logs(ctx context.Context, id string, opts manager.LogsOptions, stdout, stderr io.Writer) error {
	return f.inv.m.Logs(ctx, id, opts, stdout, stderr)
}

// Start starts a container, then refreshes its entry.
func (f *Front) Start(ctx context.Context, id string) error {
	return f.thenRefresh(ctx, id, f.inv.m.Start(ctx, id))
}

// Stop stops a container (see manager.Manager.Stop), then refreshes its entry.
func (f *Front) Stop(ctx context.Context, id string, opts manager.StopOptions) error {
	return f.thenRefresh(ctx, id, f.inv.m.Stop(ctx, id, opts))
}

// Restart restarts a container, then refreshes its entry.
func (f *Front) Restart(ctx context.Context, id string, opts manager.StopOptions) error {
	return f.thenRefresh(ctx, id, f.inv.m.Restart(ctx, id, opts))
}

// Remove deletes a container, then forgets it.
func (f *Front) Remove(ctx context.Context, id string, opts manager.RemoveOptions) error {
	if err := f.inv.m.Remove(ctx, id, opts); err != nil {
		return err
	}
	f.inv.forget(id)
	return nil
}

// Run creates and starts a container (see manager.Manager.Run), then
// learns it, even when it was created but failed to start.
func (f *Front) Run(ctx context.Context, spec manager.RunSpec, progress io.Writer) (string, error) {
	id, err := f.inv.m.Run(ctx, spec, progress)
	if id != "" {
		_ = f.inv.refresh(ctx, id) // a failure leaves the entry to the engine
	}
	return id, err
}

// thenRefresh refreshes id after a write that succeeded, and returns the
// write's error.
func (f *Front) thenRefresh(ctx context.Context, id string, err error) error {
	if err == nil {
		_ = f.inv.refresh(ctx, id) // a failure leaves the entry to the engine
	}
	return err
}
