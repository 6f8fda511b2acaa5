package manager

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// Container is a container as ps shows it: the engine's list entry plus the
// state times the list lacks, so that "Up 5 minutes" is computed when it is
// shown rather than frozen when it was fetched.
type Container struct {
	container.Summary
	// Detailed is set when the times below come from an inspect; otherwise
	// Summary.Status is the engine's text from when it was listed.
	Detailed bool
	// CreatedAt orders containers as the engine does: to the nanosecond
	// once inspected, to the second (Summary.Created) before.
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int
	Health     container.HealthStatus

	// learned is when the engine was asked for this entry: an entry learned
	// after a resync's list was taken is kept over that list's.
	learned time.Time
	// imageRef is Image in normalized form ("" if it is none), parsed once
	// rather than on every List.
	imageRef string
}

// StatusText renders the STATUS column as the engine would at now.
func (c Container) StatusText(now time.Time) string {
	if !c.Detailed {
		return c.Status
	}
	since := func(t time.Time) string { return units.HumanDuration(now.Sub(t)) }
	switch c.State {
	case container.StatePaused:
		return "Up " + since(c.StartedAt) + " (Paused)"
	case container.StateRestarting:
		return "Restarting (" + strconv.Itoa(c.ExitCode) + ") " + since(c.FinishedAt) + " ago"
	case container.StateRunning:
		switch c.Health {
		case "", container.NoHealthcheck:
			return "Up " + since(c.StartedAt)
		case container.Starting:
			return "Up " + since(c.StartedAt) + " (health: starting)"
		default:
			return "Up " + since(c.StartedAt) + " (" + string(c.Health) + ")"
		}
	case container.StateRemoving:
		return "Removal In Progress"
	case container.StateDead:
		return "Dead"
	}
	if c.StartedAt.IsZero() {
		return "Created"
	}
	if c.FinishedAt.IsZero() {
		return ""
	}
	return "Exited (" + strconv.Itoa(c.ExitCode) + ") " + since(c.FinishedAt) + " ago"
}

// Inventory is an in-memory copy of every container on the engine, kept
// fresh by the Watcher's events. ps, name resolution and completion read it
// instead of listing containers on every call: engine 20.10 spends about
// 25 ms listing 200 containers, more than a whole `ps` may take here.
//
// It serves only while it is in sync: from the first resync after the event
// stream (re)connects until the stream is lost. Otherwise the Manager asks
// the engine, so a down engine is still reported as such.
type Inventory struct {
	m *Manager

	// OnUpdate, if set before Start, is called after each container's entry
	// is stored or dropped. It must not block.
	OnUpdate func(id string)

	mu     sync.RWMutex
	synced bool
	items  map[string]Container
	// gone records when containers were found removed, so that a resync
	// listed before the removal does not bring them back.
	gone map[string]time.Time

	// images maps each image reference ("repo:tag", "repo@digest", in
	// normalized form) to the image ID it now names, so that the IMAGE column
	// shows an ID, as docker's does, once a container's tag has moved on.
	images       map[string]string
	tags         []string // every "repo:tag", sorted, for completion
	imagesLoaded bool

	qmu     sync.Mutex
	queued  map[string]bool // IDs waiting for an inspect, de-duplicated
	order   []string
	wake    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	started bool
}

// NewInventory returns an Inventory that inspects containers through m.
// Feed it with m.Watch(inv.Handle), run it with Start, and hand it to
// m.UseInventory so that m's Snapshot and Resolve read it.
func NewInventory(m *Manager) *Inventory {
	return &Inventory{m: m, items: map[string]Container{}, gone: map[string]time.Time{}, queued: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// Start runs the worker that inspects containers named by events. A second
// Start does nothing.
func (inv *Inventory) Start(ctx context.Context) {
	if inv.started {
		return
	}
	ctx, inv.cancel = context.WithCancel(ctx)
	inv.done = make(chan struct{})
	inv.started = true
	go func() {
		defer close(inv.done)
		for ctx.Err() == nil {
			id, ok := inv.next()
			if !ok {
				select {
				case <-ctx.Done():
					return
				case <-inv.wake:
					continue
				}
			}
			if id == imagesKey {
				inv.refreshImages(ctx)
				continue
			}
			inv.refresh(ctx, id)
		}
	}()
}

// Stop ends the worker and waits for it.
func (inv *Inventory) Stop() {
	if inv.started {
		inv.cancel()
		<-inv.done
	}
}

// Handle applies a watcher event. It never blocks: lookups are queued.
func (inv *Inventory) Handle(ev Event) {
	switch {
	case ev.Lost:
		inv.mu.Lock()
		inv.synced = false
		inv.mu.Unlock()
	case ev.Resync:
		inv.enqueue(imagesKey)
		for _, id := range inv.applyResync(ev) {
			inv.enqueue(id)
		}
	case ev.Type == events.ImageEventType:
		inv.enqueue(imagesKey)
	case ev.Type == events.ContainerEventType:
		// destroy too: the inspect's "not found" drops the entry, and the
		// watcher's goroutine never waits on an inspect under way.
		inv.enqueue(ev.ID)
	}
}

// applyResync merges a full list into the inventory and returns the IDs
// that need an inspect. What was learned after the list was taken wins over
// it; an inspected entry whose state and names the list confirms is kept
// as it is, so a periodic resync costs no inspects when nothing changed.
func (inv *Inventory) applyResync(ev Event) []string {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	fresh := make(map[string]Container, len(ev.Containers))
	var stale []string
	for i, s := range ev.Containers {
		if at, ok := inv.gone[s.ID]; ok && at.After(ev.ListedAt) {
			continue // removed after the list was taken
		}
		old, known := inv.items[s.ID]
		switch {
		case known && old.learned.After(ev.ListedAt):
			fresh[s.ID] = old
		case known && old.Detailed && old.State == s.State && slices.Equal(old.Names, s.Names) &&
			old.StatusText(ev.ListedAt) == s.Status:
			// Nothing changed that the list shows (a missed restart would
			// show in the status's duration).
			fresh[s.ID] = old
		default:
			// The engine lists newest first; within one second, keep its
			// order until an inspect brings the exact time.
			at := time.Unix(s.Created, int64(len(ev.Containers)-i))
			fresh[s.ID] = Container{Summary: s, CreatedAt: at, learned: ev.ListedAt}
			stale = append(stale, s.ID)
		}
	}
	for id, old := range inv.items {
		if _, listed := fresh[id]; !listed && old.learned.After(ev.ListedAt) {
			fresh[id] = old // created after the list was taken
		}
	}
	for id, at := range inv.gone {
		if !at.After(ev.ListedAt) {
			delete(inv.gone, id) // the list already knows
		}
	}
	inv.items, inv.synced = fresh, true
	return stale
}

// Settled reports whether the inventory is in sync and has inspected every
// container, so that Snapshot answers from memory without filters.
func (inv *Inventory) Settled() bool {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	if !inv.synced || !inv.imagesLoaded {
		return false
	}
	for _, c := range inv.items {
		if !c.Detailed {
			return false
		}
	}
	return true
}

// Synced reports whether the inventory reflects the engine.
func (inv *Inventory) Synced() bool {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	return inv.synced
}

// List returns the containers opts selects, newest first, and whether the
// inventory could answer: false when it is out of sync or a filter is one
// only the engine can evaluate.
func (inv *Inventory) List(opts ListOptions) ([]Container, bool) {
	match, ok := compileFilters(opts.Filters)
	if !ok {
		return nil, false
	}
	// A status filter shows stopped containers without All, as the engine does.
	all := opts.All || len(opts.Filters["status"]) > 0
	inv.mu.RLock()
	if !inv.synced {
		inv.mu.RUnlock()
		return nil, false
	}
	out := make([]Container, 0, len(inv.items))
	for _, c := range inv.items {
		if (all || IsUp(c.State)) && match(c) {
			c.Image = inv.imageColumn(c)
			out = append(out, c)
		}
	}
	inv.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, true
}

// IsUp is docker's notion of a container that `ps` shows without -a:
// running, paused or restarting.
func IsUp(s container.ContainerState) bool {
	return s == container.StateRunning || s == container.StatePaused || s == container.StateRestarting
}

func (inv *Inventory) enqueue(id string) {
	inv.qmu.Lock()
	if !inv.queued[id] {
		inv.queued[id] = true
		inv.order = append(inv.order, id)
	}
	inv.qmu.Unlock()
	select {
	case inv.wake <- struct{}{}:
	default:
	}
}

func (inv *Inventory) next() (string, bool) {
	inv.qmu.Lock()
	defer inv.qmu.Unlock()
	if len(inv.order) == 0 {
		return "", false
	}
	id := inv.order[0]
	inv.order = inv.order[1:]
	delete(inv.queued, id)
	return id, true
}

// inspectTimeout bounds one inspect. The engine answers an inspect only
// once it holds the container's lock, which a stuck operation (a stalled
// `docker cp`) can keep; ps and the other commands must not wait on that.
const inspectTimeout = 5 * time.Second

// refresh inspects one container and stores what it finds; a container
// that is gone is dropped. Knowledge asked for later wins: a result is not
// stored over an entry learned after this inspect was asked for, nor for a
// container found gone since, so concurrent refreshes need no lock. An
// inspect that fails otherwise marks the entry as not inspected, so ps asks
// the engine until an event or a resync brings it back.
func (inv *Inventory) refresh(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	asked := time.Now()
	res, err := inv.m.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		if IsNotFound(err) {
			inv.drop(id, asked)
			return
		}
		inv.mu.Lock()
		if c, ok := inv.items[id]; ok && !c.learned.After(asked) {
			c.Detailed = false
			inv.items[id] = c
		}
		inv.mu.Unlock()
		return
	}
	c := fromInspect(res.Container)
	c.learned = asked
	id = c.ID // the caller may have named it otherwise
	inv.mu.Lock()
	if at, gone := inv.gone[id]; gone && !at.Before(asked) {
		inv.mu.Unlock()
		return
	}
	if old, ok := inv.items[id]; ok && old.learned.After(asked) {
		inv.mu.Unlock()
		return
	}
	inv.items[id] = c
	inv.mu.Unlock()
	inv.updated(id)
}

// ImageTags returns every image tag ("repo:tag") the engine has, as of the
// last image event or resync.
func (inv *Inventory) ImageTags() []string {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	return append([]string(nil), inv.tags...)
}

// imagesKey is the queue entry that asks the worker to re-list images.
const imagesKey = "images"

// refreshImages re-lists images to learn which ID each reference names.
func (inv *Inventory) refreshImages(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	res, err := inv.m.api.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		return // the next image event or resync tries again
	}
	refs := map[string]string{}
	var tags []string
	for _, img := range res.Items {
		for _, t := range img.RepoTags {
			if t != "<none>:<none>" {
				tags = append(tags, t)
			}
		}
		for _, r := range append(append([]string(nil), img.RepoTags...), img.RepoDigests...) {
			if n, ok := normalizeRef(r); ok {
				refs[n] = img.ID
			}
		}
	}
	sort.Strings(tags)
	inv.mu.Lock()
	inv.images, inv.tags, inv.imagesLoaded = refs, tags, true
	inv.mu.Unlock()
	inv.updated(imagesKey)
}

// normalizeRef spells an image reference the one way the engine keys it:
// "busybox" and "docker.io/library/busybox:latest" are the same.
func normalizeRef(ref string) (string, bool) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", false
	}
	return reference.TagNameOnly(named).String(), true
}

// imageColumn is what docker's list shows as a container's IMAGE: the
// reference it was created from while that still names its image, else the
// image's ID. Call with inv.mu held.
func (inv *Inventory) imageColumn(c Container) string {
	ref := c.Image
	if !c.Detailed || ref == "" || ref == c.ImageID {
		return ref
	}
	if strings.HasPrefix(strings.TrimPrefix(c.ImageID, "sha256:"), strings.TrimPrefix(ref, "sha256:")) {
		return ref // created from an ID (or a prefix of it)
	}
	if !inv.imagesLoaded || (c.imageRef != "" && inv.images[c.imageRef] == c.ImageID) {
		return ref
	}
	return c.ImageID
}

// exact reports whether list, returned by List, is as the engine would list
// it: every entry inspected and the image references known.
func (inv *Inventory) exact(list []Container) bool {
	inv.mu.RLock()
	loaded := inv.imagesLoaded
	inv.mu.RUnlock()
	if !loaded {
		return false
	}
	for _, c := range list {
		if !c.Detailed {
			return false
		}
	}
	return true
}

// drop removes a container found gone at the given time.
func (inv *Inventory) drop(id string, at time.Time) {
	inv.mu.Lock()
	delete(inv.items, id)
	inv.gone[id] = at
	inv.mu.Unlock()
	inv.updated(id)
}

func (inv *Inventory) updated(id string) {
	if inv.OnUpdate != nil {
		inv.OnUpdate(id)
	}
}

func (inv *Inventory) forget(id string) {
	inv.drop(id, time.Now())
}

// fromInspect builds the list entry from an inspect, as the engine's list
// would show it, plus the state times.
func fromInspect(in container.InspectResponse) Container {
	c := Container{Detailed: true}
	s := &c.Summary
	s.ID = in.ID
	s.Names = []string{"/" + strings.TrimPrefix(in.Name, "/")}
	s.ImageID = in.Image
	s.Command = commandLine(in.Path, in.Args)
	if t, err := time.Parse(time.RFC3339Nano, in.Created); err == nil {
		s.Created, c.CreatedAt = t.Unix(), t
	}
	if in.Config != nil {
		s.Image = in.Config.Image
		c.imageRef, _ = normalizeRef(in.Config.Image)
		s.Labels = in.Config.Labels
	}
	if in.HostConfig != nil {
		s.HostConfig.NetworkMode = string(in.HostConfig.NetworkMode)
	}
	s.Mounts = in.Mounts
	if in.NetworkSettings != nil {
		s.NetworkSettings = &container.NetworkSettingsSummary{Networks: in.NetworkSettings.Networks}
		for port, bindings := range in.NetworkSettings.Ports {
			if len(bindings) == 0 {
				s.Ports = append(s.Ports, container.PortSummary{PrivatePort: port.Num(), Type: string(port.Proto())})
			}
			for _, b := range bindings {
				pub, _ := strconv.Atoi(b.HostPort)
				s.Ports = append(s.Ports, container.PortSummary{IP: b.HostIP, PrivatePort: port.Num(), PublicPort: uint16(pub), Type: string(port.Proto())})
			}
		}
	}
	if st := in.State; st != nil {
		s.State = st.Status
		c.ExitCode = st.ExitCode
		c.StartedAt = parseTime(st.StartedAt)
		c.FinishedAt = parseTime(st.FinishedAt)
		if st.Health != nil {
			c.Health = st.Health.Status
		}
	}
	s.Status = c.StatusText(time.Now())
	return c
}

// parseTime reads the engine's RFC 3339 times; its zero time
// ("0001-01-01T00:00:00Z") stays zero.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// compileFilters turns the filters the inventory can evaluate into one
// predicate, with the engine's semantics: values of one key are ORed, keys
// are ANDed; name and id are regular expressions matched anywhere (the name
// against "/name"), label is key or key=value. Any other key, or a bad
// expression, makes it decline so the engine answers (and reports errors).
func compileFilters(f map[string][]string) (func(Container) bool, bool) {
	var preds []func(Container) bool
	for key, vals := range f {
		var alts []func(Container) bool
		for _, v := range vals {
			switch key {
			case "name":
				re, err := regexp.Compile(v)
				if err != nil {
					return nil, false
				}
				// The engine tries both "/web" and "web".
				alts = append(alts, func(c Container) bool {
					for _, n := range c.Names {
						if re.MatchString(n) || re.MatchString(strings.TrimPrefix(n, "/")) {
							return true
						}
					}
					return false
				})
			case "id":
				// A plain prefix for the engine, not an expression.
				alts = append(alts, func(c Container) bool { return strings.HasPrefix(c.ID, v) })
			case "label":
				// Every label value must hold (AND), unlike other keys.
				k, val, hasVal := strings.Cut(v, "=")
				preds = append(preds, func(c Container) bool {
					got, ok := c.Labels[k]
					return ok && (!hasVal || got == val)
				})
			case "status":
				switch container.ContainerState(v) {
				case container.StateCreated, container.StateRunning, container.StatePaused, container.StateRestarting,
					container.StateRemoving, container.StateExited, container.StateDead:
				default:
					return nil, false // let the engine say what is wrong
				}
				alts = append(alts, func(c Container) bool { return string(c.State) == v })
			default:
				return nil, false
			}
		}
		if len(alts) == 0 {
			continue // label: its values went to preds one by one
		}
		preds = append(preds, func(c Container) bool {
			for _, p := range alts {
				if p(c) {
					return true
				}
			}
			return false
		})
	}
	return func(c Container) bool {
		for _, p := range preds {
			if !p(c) {
				return false
			}
		}
		return true
	}, true
}

// commandLine renders a container's command as the engine's list does:
// arguments holding a space are wrapped in single quotes.
func commandLine(path string, args []string) string {
	if len(args) == 0 {
		return path
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.Contains(a, " ") {
			a = "'" + a + "'"
		}
		quoted[i] = a
	}
	return path + " " + strings.Join(quoted, " ")
}
