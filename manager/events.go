package manager

import (
	"context"
	"errors"
	"fmt"
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

	// Lost is set when the event stream ends (the engine went away or the
	// connection broke): until the next Resync, events may be missing.
	Lost bool
	Err  error

	// For single events: the object type (container or image), the action
	// (create, start, die, stop, destroy, rename, pull, tag, delete, ...),
	// the object's ID and, for containers, its current name.
	Type   events.Type
	Action events.Action
	ID     string
	Name   string
	// TimeNano is the engine's timestamp of the event.
	TimeNano int64
}

// Handler receives events on the Watcher's goroutine, in order. It must not
// block: hand slow work to your own goroutine.
type Handler func(Event)

// Watcher owns dockman's one subscription to the engine's events and fans
// them out. It reconnects with capped exponential backoff when the engine goes
// away, and re-lists all containers after each (re)connect and every
// ResyncEvery, because the engine drops events for slow subscribers and
// forgets them on restart.
type Watcher struct {
	m           *Manager
	handlers    []Handler
	resyncEvery time.Duration

	mu        sync.Mutex
	connected bool
	lastErr   error

	cancel context.CancelFunc
	done   chan struct{}
}

// watchedActions are the container events that change what a container is
// or does, and the image events that change which images exist.
var watchedActions = []string{
	"create", "start", "die", "stop", "destroy", "rename", "pause", "unpause", "restart", "kill",
	"pull", "tag", "untag", "delete", "import", "load",
}

// Watch returns a Watcher that will feed handlers once started.
func (m *Manager) Watch(handlers ...Handler) *Watcher {
	return &Watcher{m: m, handlers: handlers, resyncEvery: 5 * time.Minute}
}

// Start launches the watch loop. Stop ends it.
func (w *Watcher) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go func() {
		defer close(w.done)
		w.loop(ctx)
	}()
}

// Stop cancels the watch loop and waits for it to return.
func (w *Watcher) Stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	<-w.done
}

// Connected reports whether the event stream is up, and the last error seen
// while it was not.
func (w *Watcher) Connected() (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.connected, w.lastErr
}

func (w *Watcher) setState(up bool, err error) {
	w.mu.Lock()
	w.connected, w.lastErr = up, err
	w.mu.Unlock()
}

const (
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
)

func (w *Watcher) loop(ctx context.Context) {
	backoff := backoffMin
	var since int64
	for {
		start := time.Now()
		last, err := w.session(ctx, since)
		if last > since {
			since = last
		}
		if ctx.Err() != nil {
			return
		}
		w.setState(false, err)
		w.emit(Event{Lost: true, Err: err})
		if time.Since(start) > 10*time.Second {
			backoff = backoffMin // the stream was healthy for a while
		}
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

// session subscribes once and pumps events until the stream ends. It returns
// the timestamp of the last event delivered.
func (w *Watcher) session(ctx context.Context, since int64) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := make(client.Filters).Add("type", "container", "image").Add("event", watchedActions...)
	opts := client.EventsListOptions{Filters: f}
	if since > 0 {
		opts.Since = formatNano(since)
	}
	// Subscribe before listing, so that nothing between the two is lost.
	sub := w.m.api.Events(ctx, opts)
	if err := w.resync(ctx); err != nil {
		return since, err
	}
	w.setState(true, nil)

	last, seenAtLast := since, map[string]bool{}
	tick := time.NewTicker(w.resyncEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case err := <-sub.Err:
			if err == nil {
				err = errors.New("event stream closed")
			}
			return last, w.m.wrap(err)
		case <-tick.C:
			if err := w.resync(ctx); err != nil {
				return last, err
			}
		case msg := <-sub.Messages:
			// since is inclusive: drop the events at the cursor already seen.
			key := msg.Actor.ID + "/" + string(msg.Action)
			if msg.TimeNano < last || (msg.TimeNano == last && seenAtLast[key]) {
				continue
			}
			if msg.TimeNano > last {
				last, seenAtLast = msg.TimeNano, map[string]bool{}
			}
			seenAtLast[key] = true
			w.emit(Event{Type: msg.Type, Action: msg.Action, ID: msg.Actor.ID, Name: msg.Actor.Attributes["name"], TimeNano: msg.TimeNano})
		}
	}
}

func (w *Watcher) resync(ctx context.Context) error {
	list, err := w.m.Containers(ctx, ListOptions{All: true})
	if err != nil {
		return err
	}
	w.emit(Event{Resync: true, Containers: list})
	return nil
}

func (w *Watcher) emit(ev Event) {
	for _, h := range w.handlers {
		h(ev)
	}
}

// formatNano renders a UnixNano time the way the events API takes it.
func formatNano(ns int64) string {
	return fmt.Sprintf("%d.%09d", ns/1e9, ns%1e9)
}
