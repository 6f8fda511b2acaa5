package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// engineEvent is one container event as the engine stamped it.
type engineEvent struct {
	Action string
	ID     string
	Name   string
	Nano   int64  // the engine's timeNano
	Exit   string // a die's exit code
}

// eventLog keeps every container event of the engine (create, start,
// die, destroy) from the moment it is made, so that a latency is read
// off the engine's own clock: the same clock for dockman and for the
// baselines it is compared with.
type eventLog struct {
	mu   sync.Mutex
	evs  []engineEvent
	more chan struct{} // closed (and replaced) when an event is added
	err  error         // the stream's end
}

// watchEvents subscribes to the engine's container events; the
// subscription is in place when it returns, and ends at cleanup.
func watchEvents(b *testing.B, c *client.Client) *eventLog {
	b.Helper()
	l := &eventLog{more: make(chan struct{})}
	onEvents(b, c, make(client.Filters).Add("type", "container").Add("event", "create", "start", "die", "destroy"),
		func(_ context.Context, m events.Message) {
			l.add(engineEvent{Action: string(m.Action), ID: m.Actor.ID, Name: m.Actor.Attributes["name"], Nano: m.TimeNano, Exit: m.Actor.Attributes["exitCode"]})
		},
		func(err error) { l.end(fmt.Errorf("event stream: %v", err)) })
	return l
}

// onEvents hands each engine event matching filters to handle (which
// must not block: it may start a goroutine with the context it is given),
// and the stream's failure, if it fails, to failed (nil: ignored). One
// goroutine reads the stream; it is cancelled and waited for at cleanup.
func onEvents(b *testing.B, c *client.Client, filters client.Filters, handle func(context.Context, events.Message), failed func(error)) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	res := c.Events(ctx, client.EventsListOptions{Filters: filters})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case m := <-res.Messages:
				handle(ctx, m)
			case err := <-res.Err:
				if failed != nil && ctx.Err() == nil {
					failed(err)
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
}

func (l *eventLog) add(ev engineEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, ev)
	close(l.more)
	l.more = make(chan struct{})
}

func (l *eventLog) end(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err = err
	close(l.more)
	l.more = make(chan struct{})
}

// mark is where the events of what is done next begin.
func (l *eventLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.evs)
}

// await returns the first event from index from on that matches, waiting
// for it at most timeout.
func (l *eventLog) await(from int, timeout time.Duration, what string, match func(engineEvent) bool) (engineEvent, error) {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		for _, ev := range l.evs[from:] {
			if match(ev) {
				l.mu.Unlock()
				return ev, nil
			}
		}
		from = len(l.evs)
		more, err := l.more, l.err
		l.mu.Unlock()
		if err != nil {
			return engineEvent{}, fmt.Errorf("waiting for %s: %w", what, err)
		}
		select {
		case <-more:
		case <-deadline:
			return engineEvent{}, fmt.Errorf("no %s within %s", what, timeout)
		}
	}
}

// since is the time from event a to event b, in milliseconds.
func since(a, b engineEvent) float64 {
	return float64(b.Nano-a.Nano) / 1e6
}

// spread is the median and the 90th percentile (nearest rank) of samples.
type spread struct {
	p50, p90 float64
	n        int
}

func summarize(samples []float64) spread {
	if len(samples) == 0 {
		return spread{}
	}
	s := append([]float64(nil), samples...)
	sort.Float64s(s)
	n := len(s)
	p50 := s[n/2]
	if n%2 == 0 {
		p50 = (s[n/2-1] + s[n/2]) / 2
	}
	rank := (9*n + 9) / 10 // ceil(0.9 n)
	return spread{p50: p50, p90: s[rank-1], n: n}
}

func (s spread) String() string {
	return fmt.Sprintf("median %.1f ms, p90 %.1f ms (n=%d)", s.p50, s.p90, s.n)
}
