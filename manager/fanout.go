package manager

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// ErrSlowHandler is the Err of the Lost event a subscriber gets in place of
// the events it fell too far behind to receive; a Resync follows once it
// has caught up.
var ErrSlowHandler = errors.New("event handler fell behind: events dropped")

// maxBacklog is how many events may wait for one subscriber before its
// backlog is dropped and replaced by a Lost event.
const maxBacklog = 8192

// subscriber is one handler with its own mailbox and goroutine: the
// Watcher only appends to the mailbox, so a handler that blocks holds up
// its own events and nothing else.
type subscriber struct {
	name    string
	handle  Handler
	resync  func() // asks the Watcher for a resync
	log     *slog.Logger
	backlog int

	mu       sync.Mutex
	queue    []Event
	overflow bool // the backlog was dropped; events are dropped until it is handled
	wake     chan struct{}
}

func newSubscriber(name string, h Handler, resync func(), log *slog.Logger) *subscriber {
	return &subscriber{name: name, handle: h, resync: resync, log: log, backlog: maxBacklog, wake: make(chan struct{}, 1)}
}

// post appends ev to the mailbox. It never blocks.
func (s *subscriber) post(ev Event) {
	s.mu.Lock()
	switch {
	case s.overflow:
		// Dropped: the Resync that follows the Lost event covers it.
	case len(s.queue) >= s.backlog:
		s.log.Warn("event handler fell behind; its backlog is dropped and a resync will follow", "handler", s.name, "backlog", len(s.queue))
		s.queue = append(s.queue[:0], Event{Lost: true, Err: ErrSlowHandler})
		s.overflow = true
	default:
		s.queue = append(s.queue, ev)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run hands the mailbox to the handler, in order, until ctx ends.
func (s *subscriber) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			if len(s.queue) == 0 {
				s.mu.Unlock()
				break
			}
			ev := s.queue[0]
			s.queue[0] = Event{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			s.handle(ev)
			if ev.Lost && errors.Is(ev.Err, ErrSlowHandler) {
				// Caught up with the Lost event: take events again, and
				// have everything listed anew.
				s.mu.Lock()
				s.overflow = false
				s.mu.Unlock()
				s.resync()
			}
		}
	}
}
