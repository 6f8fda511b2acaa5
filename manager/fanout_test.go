package manager

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// blocker is a handler that records each event and then blocks until
// released: the misbehaving handler the fan-out contract guards against.
type blocker struct {
	*recorder
	release chan struct{}
	once    sync.Once
}

func newBlocker() *blocker { return &blocker{recorder: newRecorder(), release: make(chan struct{})} }

func (b *blocker) handle(ev Event) {
	b.recorder.handle(ev)
	<-b.release
}

func (b *blocker) unblock() { b.once.Do(func() { close(b.release) }) }

// fakeWatch returns a Watcher on a fake engine whose event stream the test
// feeds, and a counter of the engine's container lists (one per resync).
func fakeWatch(t *testing.T) (*Watcher, chan events.Message, func() int) {
	t.Helper()
	var mu sync.Mutex
	lists := 0
	api := &fakeAPI{
		events: make(chan events.Message),
		list: func(client.ContainerListOptions) ([]container.Summary, error) {
			mu.Lock()
			defer mu.Unlock()
			lists++
			return nil, nil
		},
	}
	m := &Manager{api: api, host: "fake://"}
	return m.Watch(nil), api.events, func() int {
		mu.Lock()
		defer mu.Unlock()
		return lists
	}
}

// send feeds n container start events, one per container, to the stream.
func send(t *testing.T, stream chan<- events.Message, n int) {
	t.Helper()
	for i := range n {
		msg := events.Message{
			Type: events.ContainerEventType, Action: events.ActionStart,
			Actor: events.Actor{ID: fmt.Sprintf("c%03d", i)}, TimeNano: int64(i + 1),
		}
		select {
		case stream <- msg:
		case <-time.After(guard):
			t.Fatalf("the Watcher stopped taking events after %d", i)
		}
	}
}

// started returns the IDs of the start events among evs, in order.
func started(evs []Event) []string {
	var ids []string
	for _, ev := range evs {
		if ev.Action == events.ActionStart {
			ids = append(ids, ev.ID)
		}
	}
	return ids
}

// TestFanOutBlockedHandler: one handler blocks on its first event; the
// Watcher goes on taking events and the other handlers see every one of
// them at once. Once released, the blocked handler gets its backlog, in
// order.
func TestFanOutBlockedHandler(t *testing.T) {
	w, stream, _ := fakeWatch(t)
	stuck, a, b := newBlocker(), newRecorder(), newRecorder()
	w.Subscribe("stuck", stuck.handle)
	w.Subscribe("a", a.handle)
	w.Subscribe("b", b.handle)
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stuck.unblock()
		stopWatcher(t, w)
	})
	stuck.wait(t, 0, "the first resync, in which it blocks", isResync)

	const n = 500
	send(t, stream, n)
	for name, r := range map[string]*recorder{"a": a, "b": b} {
		r.wait(t, 0, "start of the last container", is(fmt.Sprintf("c%03d", n-1), events.ActionStart))
		if got := started(r.snapshot()); len(got) != n {
			t.Errorf("handler %s saw %d of %d events while another was blocked", name, len(got), n)
		}
	}
	if got := stuck.len(); got != 1 {
		t.Errorf("the blocked handler was handed %d events, want just the one it blocks in", got)
	}

	stuck.unblock()
	stuck.wait(t, 0, "its backlog", is(fmt.Sprintf("c%03d", n-1), events.ActionStart))
	got := started(stuck.snapshot())
	for i, id := range got {
		if want := fmt.Sprintf("c%03d", i); id != want {
			t.Fatalf("backlog event %d is %s, want %s: out of order or missing", i, id, want)
		}
	}
	if len(got) != n {
		t.Errorf("the released handler saw %d of %d events", len(got), n)
	}
}

// TestFanOutOverflow: a handler that falls more than its backlog behind
// gets a Lost event (ErrSlowHandler) in place of what it missed, then a
// Resync once it has caught up; the others lose nothing.
func TestFanOutOverflow(t *testing.T) {
	w, stream, lists := fakeWatch(t)
	stuck, other := newBlocker(), newRecorder()
	w.Subscribe("stuck", stuck.handle)
	w.Subscribe("other", other.handle)
	w.subs[0].backlog = 10
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stuck.unblock()
		stopWatcher(t, w)
	})
	stuck.wait(t, 0, "the first resync", isResync)

	const n = 50
	send(t, stream, n)
	other.wait(t, 0, "start of the last container", is(fmt.Sprintf("c%03d", n-1), events.ActionStart))
	if got := started(other.snapshot()); len(got) != n {
		t.Errorf("the other handler saw %d of %d events", len(got), n)
	}
	resyncs := lists()
	stuck.unblock()
	lost, i := stuck.wait(t, 1, "the Lost event for its dropped backlog", isLost)
	if !errors.Is(lost.Err, ErrSlowHandler) {
		t.Errorf("Lost.Err = %v, want ErrSlowHandler", lost.Err)
	}
	stuck.wait(t, i+1, "the Resync after it caught up", isResync)
	if lists() <= resyncs {
		t.Error("no resync was asked of the engine after the overflow")
	}
	if got := started(stuck.snapshot()); len(got) >= n {
		t.Errorf("the overflowed handler was handed all %d events; its backlog limit is 10", len(got))
	}
}
