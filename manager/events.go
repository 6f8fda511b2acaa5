package manager

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// Event is what the Watcher hands to its subscribers: either a single
// container event, or a Resync carrying the full container list.
type Event struct {
	// Resync is set after every (re)connect and periodic re-list: Containers
	// then holds every container on the engine and replaces all earlier
	// knowledge, since events may have been missed.
	Resync     bool
	Containers []container.Summary
	// ListedAt is when the resync's list was asked for: anything learned
	// after it is newer than Containers.
	ListedAt time.Time

	// Lost is set when the event stream ends (the engine went away or the
	// connection broke): until the next Resync, events may be missing.
	Lost bool
	Err  error

	// For single events: the object type (container, image, network or
	// volume), the action (create, start, die, stop, destroy, rename, pull,
	// tag, delete, ...), the object's ID (a volume's is its name) and, for
	// containers and networks, its current name.
	Type   events.Type
	Action events.Action
	ID     string
	Name   string
	// TimeNano is the engine's timestamp of the event.
	TimeNano int64
}

// Handler receives a Watcher's events, in order, on a goroutine of its own
// subscription. It should only record the event or enqueue work (a key on
// a work queue) and return: it runs beside the other handlers, never
// blocks the Watcher or them, and one that falls more than maxBacklog
// events behind gets a Lost event (ErrSlowHandler) in place of its backlog,
// then a Resync.
type Handler func(Event)

// Watcher owns dockman's one subscription to the engine's events and fans
// them out to its subscribers. It reconnects with capped exponential backoff
// when the engine goes away, and re-lists all containers after each
// (re)connect and every ResyncEvery, because the engine drops events for
// slow subscribers and forgets them on restart.
type Watcher struct {
	m           *Manager
	log         *slog.Logger
	subs        []*subscriber
	resyncEvery time.Duration
	resyncNow   chan struct{} // one pending request at most

	mu        sync.Mutex
	connected bool
	lastErr   error
	connects  uint64 // sessions that got as far as their first resync

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// watchedTypes are the objects whose events the Watcher hands on.
var watchedTypes = []string{"container", "image", "network", "volume"}

// watchedActions are the container events that change what a container is
// or does, the image events that change which images exist, and the network
// and volume events that change which exist (create and destroy: a network
// or volume removal, pruned or not, is a destroy).
var watchedActions = []string{
	"create", "start", "die", "stop", "destroy", "rename", "pause", "unpause", "restart", "kill",
	"health_status",
	"pull", "tag", "untag", "delete", "import", "load",
}

// Watch returns a Watcher for m's engine that logs its reconnects and
// resyncs to log (nil: nowhere). Subscribe handlers, then Start it.
func (m *Manager) Watch(log *slog.Logger) *Watcher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{m: m, log: log, resyncEvery: 5 * time.Minute, resyncNow: make(chan struct{}, 1)}
}

// Subscribe adds a handler, named for the debug log. Call it before Start.
func (w *Watcher) Subscribe(name string, h Handler) {
	w.subs = append(w.subs, newSubscriber(name, h, w.Resync, w.log))
}

// Start runs the subscribers' goroutines and the watch loop. Stop ends
// them. A second Start does nothing.
func (w *Watcher) Start(ctx context.Context) error {
	if w.cancel != nil {
		return nil
	}
	ctx, w.cancel = context.WithCancel(ctx)
	for _, s := range w.subs {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			s.run(ctx)
		}()
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.loop(ctx)
	}()
	return nil
}

// Stop cancels the watch loop and the subscribers and waits for them to
// return. Events not yet handled are dropped.
func (w *Watcher) Stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	w.wg.Wait()
}

// Resync asks for every container to be listed again now, as after a
// reconnect. It never blocks; requests made while one is pending merge.
func (w *Watcher) Resync() {
	select {
	case w.resyncNow <- struct{}{}:
	default:
	}
}

// Connected reports whether the event stream is up, and the last error seen
// while it was not.
func (w *Watcher) Connected() (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.connected, w.lastErr
}

// Reconnects reports how often the event stream was connected again
// after it was lost (the first connect is not counted).
func (w *Watcher) Reconnects() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return max(w.connects, 1) - 1
}

func (w *Watcher) setState(up bool, err error) {
	w.mu.Lock()
	w.connected, w.lastErr = up, err
	if up {
		w.connects++
	}
	w.mu.Unlock()
}

const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
	// eventBuffer is how many events may wait for the handlers; past that the
	// pump blocks and the engine may drop events (a resync repairs that).
	eventBuffer = 4096
)

func (w *Watcher) loop(ctx context.Context) {
	backoff := backoffMin
	cur := &cursor{seen: map[string]bool{}}
	first := true
	for {
		start := time.Now()
		err := w.session(ctx, cur)
		if ctx.Err() != nil {
			return
		}
		wasUp, _ := w.Connected()
		w.setState(false, err)
		w.emit(Event{Lost: true, Err: err})
		if time.Since(start) > 10*time.Second {
			backoff = backoffMin // the stream was healthy for a while
		}
		// Say it once at warning level; each retry after that is detail.
		level := slog.LevelDebug
		if wasUp || first {
			level = slog.LevelWarn
		}
		first = false
		w.log.Log(ctx, level, "event stream lost; reconnecting", "host", w.m.host, "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, backoffMax)
	}
}

// cursor is where the event stream resumes: the time of the last event
// delivered, and which events at exactly that time were delivered. It
// outlives sessions because since is inclusive: a new session replays the
// events at the cursor, which must not be handed out again.
type cursor struct {
	last int64
	seen map[string]bool
}

// fresh reports whether msg was not delivered yet, and records it.
func (c *cursor) fresh(msg events.Message) bool {
	key := string(msg.Type) + "/" + msg.Actor.ID + "/" + string(msg.Action)
	if msg.TimeNano < c.last || (msg.TimeNano == c.last && c.seen[key]) {
		return false
	}
	if msg.TimeNano > c.last {
		c.last, c.seen = msg.TimeNano, map[string]bool{}
	}
	c.seen[key] = true
	return true
}

// session subscribes once, from the cursor, and pumps events until the
// stream ends.
func (w *Watcher) session(ctx context.Context, cur *cursor) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := make(client.Filters).Add("type", watchedTypes...).Add("event", watchedActions...)
	opts := client.EventsListOptions{Filters: f}
	if cur.last > 0 {
		opts.Since = formatNano(cur.last)
	}
	// Subscribe before listing, so that nothing between the two is lost.
	sub := w.m.api.Events(ctx, opts)
	// The engine gives each subscriber 100 ms to take an event, then drops
	// it. Take them at once into our own buffer, so that the resync below and
	// slow handlers never make the engine drop one.
	msgs := make(chan events.Message, eventBuffer)
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-sub.Messages:
				select {
				case msgs <- m:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	defer func() { cancel(); <-pumped }()
	if err := w.resync(ctx); err != nil {
		return err
	}
	w.setState(true, nil)
	w.log.Info("event stream connected", "host", w.m.host, "since", opts.Since)

	tick := time.NewTicker(w.resyncEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-sub.Err:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return w.m.wrapStream(err)
		case <-tick.C:
			if err := w.resync(ctx); err != nil {
				return err
			}
		case <-w.resyncNow:
			if err := w.resync(ctx); err != nil {
				return err
			}
		case msg := <-msgs:
			if cur.fresh(msg) {
				w.emit(Event{Type: msg.Type, Action: msg.Action, ID: msg.Actor.ID, Name: msg.Actor.Attributes["name"], TimeNano: msg.TimeNano})
			}
		}
	}
}

func (w *Watcher) resync(ctx context.Context) error {
	at := time.Now()
	list, err := w.m.Containers(ctx, ListOptions{All: true})
	if err != nil {
		return err
	}
	w.log.Debug("resync", "containers", len(list), "took", time.Since(at))
	w.emit(Event{Resync: true, Containers: list, ListedAt: at})
	return nil
}

// emit posts ev to every subscriber's mailbox; it never waits on a handler.
func (w *Watcher) emit(ev Event) {
	for _, s := range w.subs {
		s.post(ev)
	}
}

// formatNano renders a UnixNano time the way the events API takes it.
func formatNano(ns int64) string {
	return fmt.Sprintf("%d.%09d", ns/1e9, ns%1e9)
}
