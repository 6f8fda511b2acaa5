// Package inventory is dockman's memory of what the engine holds: every
// container, inspected once and kept fresh by the Watcher's events, and
// which image each tag names. The interactive shell reads it instead of
// asking the engine on every command: engine 20.10 spends about 25 ms
// listing 200 containers, more than a whole `ps` may take here.
//
// It is a background part of the usual shape: Handle only puts keys on a
// work queue; the queue's workers inspect (or re-list images) per key;
// Start and Stop run and end them. Its front (front.go) satisfies the
// shell's Engine: reads from memory, writes through the Manager, then
// refreshes what the write changed, so `ps` right after `stop` shows it.
//
// It answers only while it is in sync: from the first resync after the
// event stream (re)connects until the stream is lost. Otherwise the front
// asks the engine, so a down engine is still reported as such.
package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"

	"github.com/dockman/dockman/internal/workqueue"
	"github.com/dockman/dockman/manager"
)

// Engine is what the inventory needs of Docker: inspects and image,
// network and volume lists to learn from, and for its Front, every call the shell makes, which the
// Front passes on. *manager.Manager provides it.
type Engine interface {
	Host() string
	Containers(ctx context.Context, opts manager.ListOptions) ([]container.Summary, error)
	ListImages(ctx context.Context, opts manager.ImageListOptions) ([]image.Summary, error)
	InspectImage(ctx context.Context, ref string) (image.InspectResponse, json.RawMessage, error)
	InspectVolume(ctx context.Context, name string) (volume.Volume, json.RawMessage, error)
	Networks(ctx context.Context) ([]string, error)
	Volumes(ctx context.Context) ([]string, error)
	Resolve(ctx context.Context, refs ...string) ([]manager.Resolved, error)
	Inspect(ctx context.Context, id string) (container.InspectResponse, json.RawMessage, error)
	Logs(ctx context.Context, id string, opts manager.LogsOptions, stdout, stderr io.Writer) error
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, opts manager.StopOptions) error
	Restart(ctx context.Context, id string, opts manager.StopOptions) error
	Remove(ctx context.Context, id string, opts manager.RemoveOptions) error
	Run(ctx context.Context, spec manager.RunSpec, progress io.Writer) (string, error)
}

var _ Engine = (*manager.Manager)(nil)

// Inventory is the memory of one engine's containers, images, networks and
// volumes.
type Inventory struct {
	m     Engine
	log   *slog.Logger
	store *store
	queue *workqueue.Queue[string]

	// OnUpdate, if set before Start, is called after each container's
	// entry is stored or dropped (with its ID) and after the images,
	// networks or volumes are re-listed (with ImagesKey, NetworksKey or
	// VolumesKey). It must not block.
	OnUpdate func(key string)
}

// ImagesKey is the queue key that asks for the images to be re-listed; no
// container ID looks like it.
const ImagesKey = "images"

// inspectTimeout bounds one inspect. The engine answers an inspect only
// once it holds the container's lock, which a stuck operation (a stalled
// `docker cp`) can keep; ps and the other commands must not wait on that.
const inspectTimeout = 5 * time.Second

// New returns an Inventory that learns through m and logs to log (nil:
// nowhere). Feed it by subscribing Handle to a Watcher; Start runs it.
func New(m Engine, log *slog.Logger) *Inventory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	inv := &Inventory{m: m, log: log, store: newStore()}
	inv.queue = workqueue.New(inv.process, workqueue.Options{
		// Inspects of different containers may run side by side, so that
		// a large engine is learned quickly after a (re)connect.
		Workers:    4,
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: 30 * time.Second,
	})
	return inv
}

// Start runs the workers that inspect containers named by events.
func (inv *Inventory) Start(ctx context.Context) error { return inv.queue.Start(ctx) }

// Stop ends the workers and waits for them.
func (inv *Inventory) Stop() { inv.queue.Stop() }

// Handle applies a Watcher event. It only enqueues: it never calls the
// engine.
func (inv *Inventory) Handle(ev manager.Event) {
	switch {
	case ev.Lost:
		inv.store.lost()
	case ev.Resync:
		inv.queue.Add(ImagesKey)
		inv.queue.Add(NetworksKey)
		inv.queue.Add(VolumesKey)
		for _, id := range inv.store.resync(ev.Containers, ev.ListedAt) {
			inv.queue.Add(id)
		}
	case ev.Type == events.ImageEventType:
		inv.queue.Add(ImagesKey)
	case ev.Type == events.NetworkEventType:
		inv.queue.Add(NetworksKey) // one list per change, however many events
	case ev.Type == events.VolumeEventType:
		inv.queue.Add(VolumesKey)
	case ev.Type == events.ContainerEventType:
		// destroy too: the inspect's "not found" drops the entry.
		inv.queue.Add(ev.ID)
	}
}

// process is the queue's worker function: re-list images, networks or
// volumes, or inspect one container.
func (inv *Inventory) process(ctx context.Context, key string) error {
	switch key {
	case ImagesKey:
		return inv.refreshImages(ctx)
	case NetworksKey:
		return inv.refreshNames(ctx, key, inv.m.Networks)
	case VolumesKey:
		return inv.refreshNames(ctx, key, inv.m.Volumes)
	}
	return inv.refresh(ctx, key)
}

// refresh inspects one container and stores what it finds; a container
// that is gone is dropped. An inspect that fails otherwise marks the entry
// as known only from a list and is retried with backoff, except when the
// engine is unreachable: the resync after the reconnect covers that.
func (inv *Inventory) refresh(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	asked := time.Now()
	in, _, err := inv.m.Inspect(ctx, id)
	switch {
	case manager.IsNotFound(err):
		inv.store.drop(id, asked)
		inv.updated(id)
		return nil
	case err != nil:
		inv.store.stale(id, asked)
		if errors.Is(err, manager.ErrUnreachable) {
			return workqueue.NoRetry(err)
		}
		if !errors.Is(ctx.Err(), context.Canceled) { // not stopping
			inv.log.Debug("inspect failed; will retry", "container", manager.ShortID(id), "err", err)
		}
		return err
	}
	c := fromInspect(in)
	if inv.store.put(c, asked) {
		inv.updated(c.ID)
	}
	return nil
}

// refreshImages re-lists images to learn which ID each reference names.
func (inv *Inventory) refreshImages(ctx context.Context) error {
	return inv.relist(ctx, ImagesKey, func(ctx context.Context) error {
		images, err := inv.m.ListImages(ctx, manager.ImageListOptions{})
		if err != nil {
			return err
		}
		inv.store.setImages(newImageIndex(images))
		return nil
	})
}

// relist runs one re-list of the engine's images, networks or volumes
// (key) with a deadline, then tells OnUpdate. An unreachable engine is not
// retried: the resync after the reconnect lists everything again.
func (inv *Inventory) relist(ctx context.Context, key string, list func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	if err := list(ctx); err != nil {
		if errors.Is(err, manager.ErrUnreachable) {
			return workqueue.NoRetry(err)
		}
		return err
	}
	inv.updated(key)
	return nil
}

// forget drops a container this dockman has just removed.
func (inv *Inventory) forget(id string) {
	inv.store.drop(id, time.Now())
	inv.updated(id)
}

func (inv *Inventory) updated(key string) {
	if inv.OnUpdate != nil {
		inv.OnUpdate(key)
	}
}

// List returns the containers opts selects from memory, newest first, and
// whether the inventory could answer: false when it is out of sync or a
// filter needs the engine. STATUS texts are those of when each entry was
// learned; StatusText renders them for any time.
func (inv *Inventory) List(opts manager.ListOptions) ([]Container, bool) {
	return inv.store.list(opts)
}

// KnownContainers returns every container in memory, or nil when the
// inventory is out of sync. It never asks the engine: completion reads it
// on every key, so it leaves STATUS as it was learned rather than render
// it for each container.
func (inv *Inventory) KnownContainers() []container.Summary {
	list, _ := inv.store.list(manager.ListOptions{All: true})
	out := make([]container.Summary, len(list))
	for i, c := range list {
		out[i] = c.Summary
	}
	return out
}

// ImageTags returns every image tag ("repo:tag") the engine has, as of the
// last image event or resync.
func (inv *Inventory) ImageTags() []string { return inv.store.imageTags() }

// Generation changes whenever what the inventory knows changes (it
// counts up): what was made from a List may be kept until it changes.
func (inv *Inventory) Generation() uint64 { return inv.store.gen.Load() }

// Synced reports whether the inventory reflects the engine.
func (inv *Inventory) Synced() bool { return inv.store.isSynced() }

// Settled reports whether the inventory is in sync, knows the images and
// has inspected every container, so that a plain `ps -a` is answered from
// memory.
func (inv *Inventory) Settled() bool { return inv.store.settled() }

// summaries returns the list entries of list with their STATUS as of now.
func summaries(list []Container, now time.Time) []container.Summary {
	out := make([]container.Summary, len(list))
	for i, c := range list {
		out[i] = c.Summary
		out[i].Status = c.StatusText(now)
	}
	return out
}
