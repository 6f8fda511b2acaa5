package manager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// recorder is a Handler that never blocks: it keeps every event (the
// engine is shared, so tests pick theirs by ID) and signals the test.
type recorder struct {
	mu     sync.Mutex
	events []Event
	notify chan struct{} // one pending signal at most
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) handle(ev Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *recorder) snapshot() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// wait returns the first event at index from or later that matches, and
// its index.
func (r *recorder) wait(t *testing.T, from int, what string, match func(Event) bool) (Event, int) {
	t.Helper()
	timeout := time.After(guard)
	for {
		evs := r.snapshot()
		for i := from; i < len(evs); i++ {
			if match(evs[i]) {
				return evs[i], i
			}
		}
		select {
		case <-r.notify:
		case <-timeout:
			t.Fatalf("no %s among %d events", what, len(evs))
		}
	}
}

// of returns the single events about one object, in order.
func (r *recorder) of(id string) []Event {
	var out []Event
	for _, ev := range r.snapshot() {
		if !ev.Resync && ev.ID == id {
			out = append(out, ev)
		}
	}
	return out
}

func isResync(ev Event) bool { return ev.Resync }

func isLost(ev Event) bool { return ev.Lost }

func is(id string, action events.Action) func(Event) bool {
	return func(ev Event) bool { return !ev.Resync && ev.ID == id && ev.Action == action }
}

func hasContainer(list []container.Summary, id string) bool {
	return slices.ContainsFunc(list, func(c container.Summary) bool { return c.ID == id })
}

// watch returns a Watcher for m with handlers subscribed.
func watch(m *Manager, handlers ...Handler) *Watcher {
	w := m.Watch(nil)
	for i, h := range handlers {
		w.Subscribe(fmt.Sprintf("handler %d", i), h)
	}
	return w
}

// stopWatcher calls Stop and fails the test if it does not return.
func stopWatcher(t *testing.T, w *Watcher) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		w.Stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("Watcher.Stop did not return")
	}
}

func actions(evs []Event) []events.Action {
	out := make([]events.Action, len(evs))
	for i, ev := range evs {
		out[i] = ev.Action
	}
	return out
}

func TestWatcher(t *testing.T) {
	e := newEnv(t)
	pre := e.createCmd(t, testenv.Name("pre"), "true")
	rec, rec2 := newRecorder(), newRecorder()
	w := watch(e.m, rec.handle, rec2.handle)
	if up, err := w.Connected(); up || err != nil {
		t.Errorf("Connected before Start = %v, %v", up, err)
	}
	w.Start(t.Context())
	t.Cleanup(w.Stop)

	first, _ := rec.wait(t, 0, "first event", func(Event) bool { return true })
	if !first.Resync {
		t.Fatalf("first event is not a Resync: %+v", first)
	}
	if !hasContainer(first.Containers, pre) {
		t.Errorf("first Resync (%d containers) lacks %s, created before Start", len(first.Containers), ShortID(pre))
	}

	name := testenv.Name("watched")
	renamed := name + "-renamed"
	id := e.createCmd(t, name, "true")
	e.start(t, id)
	e.waitExit(t, id)
	if _, err := e.c.ContainerRename(t.Context(), id, client.ContainerRenameOptions{NewName: renamed}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.ContainerRemove(t.Context(), id, client.ContainerRemoveOptions{}); err != nil {
		t.Fatal(err)
	}

	want := []events.Action{events.ActionCreate, events.ActionStart, events.ActionDie, events.ActionRename, events.ActionDestroy}
	wantNames := []string{name, name, name, renamed, renamed}
	for i, r := range []*recorder{rec, rec2} {
		r.wait(t, 0, "destroy event", is(id, events.ActionDestroy))
		got := r.of(id)
		if !slices.Equal(actions(got), want) {
			t.Fatalf("handler %d: actions %q, want %q", i+1, actions(got), want)
		}
		var last int64
		for j, ev := range got {
			if ev.Type != events.ContainerEventType || ev.Name != wantNames[j] {
				t.Errorf("handler %d: %s event type %q name %q, want container %q", i+1, ev.Action, ev.Type, ev.Name, wantNames[j])
			}
			if ev.TimeNano < last || ev.TimeNano == 0 {
				t.Errorf("handler %d: %s event at %d, after one at %d", i+1, ev.Action, ev.TimeNano, last)
			}
			last = ev.TimeNano
		}
	}
	for _, ev := range rec.snapshot() {
		if ev.Lost {
			t.Errorf("Lost event while the engine was up: %v", ev.Err)
		}
	}
	if first2 := rec2.snapshot()[0]; !first2.Resync {
		t.Errorf("second handler's first event is not a Resync: %+v", first2)
	}
	// The events came after the watcher marked itself connected.
	if up, err := w.Connected(); !up || err != nil {
		t.Errorf("Connected = %v, %v; want true, nil", up, err)
	}
	stopWatcher(t, w)
	n := rec.len()
	e.createCmd(t, testenv.Name("after"), "true")
	// Stop waited for the loop and the subscribers, the only callers of
	// handlers: nothing may be delivered any more.
	if got := rec.len(); got != n {
		t.Errorf("%d events delivered after Stop returned", got-n)
	}
}

// TestWatcherResyncEvery: the periodic re-list delivers Resyncs while
// connected.
func TestWatcherResyncEvery(t *testing.T) {
	e := newEnv(t)
	id := e.createCmd(t, testenv.Name("resync"), "true")
	rec := newRecorder()
	w := watch(e.m, rec.handle)
	w.resyncEvery = 10 * time.Millisecond
	w.Start(t.Context())
	t.Cleanup(w.Stop)
	from := 0
	for i := range 3 {
		ev, at := rec.wait(t, from, fmt.Sprintf("Resync #%d", i+1), isResync)
		if !hasContainer(ev.Containers, id) {
			t.Errorf("Resync #%d lacks %s", i+1, ShortID(id))
		}
		from = at + 1
	}
	if up, err := w.Connected(); !up || err != nil {
		t.Errorf("Connected = %v, %v", up, err)
	}
	stopWatcher(t, w)
}

// watchThroughProxy starts a Watcher on the engine behind a proxy the test
// can cut, recording every event, and waits for its first Resync.
func watchThroughProxy(t *testing.T) (*testenv.Proxy, *recorder, *Watcher) {
	t.Helper()
	p := testenv.NewProxy(t)
	p.Start()
	rec := newRecorder()
	w := watch(newManager(t, p.Host()), rec.handle)
	w.Start(t.Context())
	t.Cleanup(w.Stop)
	rec.wait(t, 0, "first Resync", isResync)
	return p, rec, w
}

// TestWatcherReconnect cuts the engine away under a running watcher, makes
// a container meanwhile, and brings the engine back.
func TestWatcherReconnect(t *testing.T) {
	e := newEnv(t)
	p, rec, w := watchThroughProxy(t)
	before := e.createCmd(t, testenv.Name("before"), "true")
	rec.wait(t, 0, "create event", is(before, events.ActionCreate))
	if up, err := w.Connected(); !up || err != nil {
		t.Fatalf("Connected = %v, %v; want true, nil", up, err)
	}

	mark := rec.len()
	p.Stop()
	lost, at := rec.wait(t, mark, "Lost event", isLost)
	t.Logf("stream lost: %v", lost.Err)
	// Connected turns false before Lost is handed out, and stays so while
	// the engine is away.
	if up, err := w.Connected(); up || err == nil {
		t.Errorf("Connected after Lost = %v, %v; want false and an error", up, err)
	}
	// Retries while the engine is away say it is unreachable.
	lost, _ = rec.wait(t, at+1, "Lost event saying unreachable", func(ev Event) bool { return ev.Lost && errors.Is(ev.Err, ErrUnreachable) })
	oneLine(t, lost.Err)
	if !strings.Contains(lost.Err.Error(), p.Host()) {
		t.Errorf("Lost error %q does not name %s", lost.Err, p.Host())
	}

	mark = rec.len()
	during := e.createCmd(t, testenv.Name("during"), "true")
	p.Start()
	resync, at := rec.wait(t, mark, "Resync after the engine came back", isResync)
	if !hasContainer(resync.Containers, during) {
		t.Errorf("Resync after reconnect (%d containers) lacks %s, created while cut", len(resync.Containers), ShortID(during))
	}
	if !hasContainer(resync.Containers, before) {
		t.Errorf("Resync after reconnect lacks %s", ShortID(before))
	}
	// The cursor replays what happened while cut.
	rec.wait(t, at, "replayed create of the container made while cut", is(during, events.ActionCreate))
	// And live events flow again.
	e.start(t, during)
	rec.wait(t, at, "start event after reconnect", is(during, events.ActionStart))
	if up, err := w.Connected(); !up || err != nil {
		t.Errorf("Connected after reconnect = %v, %v; want true, nil", up, err)
	}
	stopWatcher(t, w)
}

// TestWatcherReconnectNoDuplicates: since is inclusive, so resuming from
// the last event's time replays that event; the watcher must not hand it
// out a second time.
func TestWatcherReconnectNoDuplicates(t *testing.T) {
	e := newEnv(t)
	p, rec, w := watchThroughProxy(t)
	// At least one event before the cut, so the cursor is set.
	before := e.createCmd(t, testenv.Name("before"), "true")
	rec.wait(t, 0, "create event", is(before, events.ActionCreate))

	mark := rec.len()
	p.Stop()
	_, at := rec.wait(t, mark, "Lost event", isLost)
	p.Start()
	_, at = rec.wait(t, at, "Resync after the engine came back", isResync)
	// Replayed events come before live ones: once this create is here,
	// the replay is complete.
	after := e.createCmd(t, testenv.Name("after"), "true")
	rec.wait(t, at, "create event after reconnect", is(after, events.ActionCreate))
	stopWatcher(t, w)

	type key struct {
		typ      events.Type
		action   events.Action
		id       string
		timeNano int64
	}
	seen := map[key]int{}
	for i, ev := range rec.snapshot() {
		if ev.Resync || ev.Lost {
			continue
		}
		k := key{ev.Type, ev.Action, ev.ID, ev.TimeNano}
		if j, dup := seen[k]; dup {
			t.Errorf("%s %s %s at %d delivered twice (events #%d and #%d, reconnect Resync is #%d)", ev.Type, ev.Action, ShortID(ev.ID), ev.TimeNano, j, i, at)
		}
		seen[k] = i
	}
}

// TestWatcherLostSaysUnreachable: when the engine goes away under an open
// event stream, the Lost event (and Connected) must say so with
// ErrUnreachable, like every other error caused by the engine not
// answering, rather than with the transport's "unexpected EOF".
func TestWatcherLostSaysUnreachable(t *testing.T) {
	testenv.Client(t) // skip without an engine
	p, rec, w := watchThroughProxy(t)
	p.Stop()
	lost, _ := rec.wait(t, 0, "Lost event", isLost)
	if !errors.Is(lost.Err, ErrUnreachable) {
		t.Errorf("first Lost event after the engine went away: Err = %v, want ErrUnreachable", lost.Err)
	}
	stopWatcher(t, w)
}

// TestWatcherStopWhileDisconnected: Stop returns while the loop is
// retrying an engine that is not there.
func TestWatcherStopWhileDisconnected(t *testing.T) {
	testenv.Client(t)
	p := testenv.NewProxy(t) // never started
	m := newManager(t, p.Host())
	rec := newRecorder()
	w := watch(m, rec.handle)
	w.Start(t.Context())
	lost, _ := rec.wait(t, 0, "Lost event", isLost)
	if !errors.Is(lost.Err, ErrUnreachable) || !strings.Contains(lost.Err.Error(), p.Host()) {
		t.Errorf("Lost.Err = %v, want ErrUnreachable naming %s", lost.Err, p.Host())
	}
	oneLine(t, lost.Err)
	if up, err := w.Connected(); up || !errors.Is(err, ErrUnreachable) {
		t.Errorf("Connected = %v, %v; want false, ErrUnreachable", up, err)
	}
	stopWatcher(t, w)
	for _, ev := range rec.snapshot() {
		if !ev.Lost {
			t.Errorf("event other than Lost without an engine: %+v", ev)
		}
	}
}

func TestWatcherStop(t *testing.T) {
	t.Run("without Start", func(t *testing.T) {
		w := newManager(t, "unix:///nonexistent/docker.sock").Watch(nil)
		stopWatcher(t, w)
	})
	t.Run("twice", func(t *testing.T) {
		w := newManager(t, "unix:///nonexistent/docker.sock").Watch(nil)
		w.Start(t.Context())
		stopWatcher(t, w)
		stopWatcher(t, w)
	})
	t.Run("after the parent context ended", func(t *testing.T) {
		w := newManager(t, "unix:///nonexistent/docker.sock").Watch(nil)
		ctx, cancel := context.WithCancel(t.Context())
		w.Start(ctx)
		cancel()
		stopWatcher(t, w)
	})
}
