// Package workqueue is dockman's keyed work queue. Background parts (the
// inventory now, the log keeper and the enforcer next) put keys in from
// their event handlers, which must never block, and workers process them
// level-triggered: a key means "look at this one again", never "do this",
// so processing reads live state and is safe to repeat.
//
// The rules, each tested in workqueue_test.go:
//   - a key waits in the queue at most once: adding it again before a
//     worker takes it does nothing;
//   - a key is processed by one worker at a time;
//   - adding a key while it is processed runs it once more afterwards, once
//     however often it was added;
//   - a key whose processing fails is retried after a delay that doubles
//     from MinBackoff up to MaxBackoff; a success forgets its failures; an
//     error wrapped by NoRetry is not retried; adding a key that waits for
//     a retry runs it now (something changed), keeping its failure count;
//   - Start runs the workers; Stop cancels them and waits for them to
//     return, and drops what is still queued.
package workqueue

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Options tune a Queue; the zero value is one worker and a backoff from
// 100 ms to 1 minute (docker's own restart policy: from 100 ms, doubling,
// capped at a minute).
type Options struct {
	Workers    int
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

// Queue hands keys of type K to a process function, under the rules in the
// package comment. Its methods are safe for concurrent use.
type Queue[K comparable] struct {
	process func(ctx context.Context, key K) error
	opts    Options
	// after schedules a retry; tests replace it to see the delays asked for.
	after func(d time.Duration, f func()) func() bool

	mu      sync.Mutex
	ready   []K // due now, oldest first
	keys    map[K]*entry
	started bool
	stopped bool
	wake    chan struct{} // one token: a worker looks at ready
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// entry is what the queue knows of a key that is queued, being processed,
// or waiting for a retry. A key in none of these states has no entry.
type entry struct {
	queued   bool // in ready
	running  bool
	dirty    bool // added while running: run again afterwards
	failures int
	// stopRetry cancels the pending retry, nil when there is none; gen
	// tells a retry that fires from one that was cancelled meanwhile.
	stopRetry func() bool
	gen       int
}

// New returns a stopped queue that will call process for each key.
func New[K comparable](process func(ctx context.Context, key K) error, opts Options) *Queue[K] {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(time.Minute, opts.MinBackoff)
	}
	return &Queue[K]{
		process: process,
		opts:    opts,
		after: func(d time.Duration, f func()) func() bool {
			return time.AfterFunc(d, f).Stop
		},
		keys: map[K]*entry{},
		wake: make(chan struct{}, 1),
	}
}

// errNoRetry marks an error that retrying will not mend.
var errNoRetry = errors.New("not retried")

type noRetry struct{ err error }

func (e noRetry) Error() string        { return e.err.Error() }
func (e noRetry) Unwrap() []error      { return []error{e.err, errNoRetry} }
func (e noRetry) Is(target error) bool { return target == errNoRetry }

// NoRetry wraps err so that the queue does not retry the key: for errors
// that only a change elsewhere can mend (an event will add the key again).
func NoRetry(err error) error {
	if err == nil {
		return nil
	}
	return noRetry{err}
}

// WillRetry reports whether the queue retries a key whose processing
// returned err.
func WillRetry(err error) bool { return err != nil && !errors.Is(err, errNoRetry) }

// Backoff returns the delay before the retry that follows the given number
// of failures in a row: lo, 2·lo, 4·lo, … capped at hi.
func Backoff(failures int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// Add asks for key to be processed. It never blocks, so event handlers may
// call it. After Stop it does nothing.
func (q *Queue[K]) Add(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return
	}
	e := q.keys[key]
	if e == nil {
		e = &entry{}
		q.keys[key] = e
	}
	switch {
	case e.running:
		e.dirty = true
	case !e.queued:
		q.cancelRetry(e)
		q.push(key, e)
	}
}

// push puts key at the end of ready and wakes a worker. Call with q.mu held.
func (q *Queue[K]) push(key K, e *entry) {
	e.queued = true
	q.ready = append(q.ready, key)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *Queue[K]) cancelRetry(e *entry) {
	if e.stopRetry != nil {
		e.stopRetry()
		e.stopRetry = nil
		e.gen++
	}
}

// Len returns how many keys are due now, waiting for a worker.
func (q *Queue[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ready)
}

// Retrying returns the keys waiting out a backoff and how many times each
// has failed in a row.
func (q *Queue[K]) Retrying() map[K]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := map[K]int{}
	for k, e := range q.keys {
		if e.stopRetry != nil {
			out[k] = e.failures
		}
	}
	return out
}

// Start runs the workers until Stop or until ctx ends. A second Start does
// nothing. It returns no error; the signature is the one every background
// part shares.
func (q *Queue[K]) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || q.stopped {
		return nil
	}
	q.started = true
	ctx, q.cancel = context.WithCancel(ctx)
	for range q.opts.Workers {
		q.wg.Add(1)
		go func() {
			defer q.wg.Done()
			q.work(ctx)
		}()
	}
	return nil
}

// Stop cancels the workers (the context a process call runs with ends),
// waits for them to return, and drops queued keys and pending retries.
func (q *Queue[K]) Stop() {
	q.mu.Lock()
	q.stopped = true
	cancel := q.cancel
	q.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	q.wg.Wait()
	q.mu.Lock()
	for _, e := range q.keys {
		q.cancelRetry(e)
	}
	q.keys, q.ready = map[K]*entry{}, nil
	q.mu.Unlock()
}

// work is one worker: take the oldest due key, process it, settle it.
func (q *Queue[K]) work(ctx context.Context) {
	for {
		key, ok := q.take()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		err := q.process(ctx, key)
		q.settle(ctx, key, err)
	}
}

// take pops the oldest due key and marks it running.
func (q *Queue[K]) take() (K, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var zero K
	if len(q.ready) == 0 {
		return zero, false
	}
	key := q.ready[0]
	q.ready[0] = zero
	q.ready = q.ready[1:]
	if len(q.ready) > 0 {
		// Pass the token on: another worker may take the next key.
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	e := q.keys[key]
	e.queued, e.running = false, true
	return key, true
}

// settle records the outcome of processing key: a retry after a failure,
// another run if the key was added meanwhile, or nothing more.
func (q *Queue[K]) settle(ctx context.Context, key K, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.keys[key]
	if e == nil { // Stop cleared the table while this key ran
		return
	}
	e.running = false
	if q.stopped || ctx.Err() != nil {
		delete(q.keys, key)
		return
	}
	switch {
	case err == nil:
		e.failures = 0
	case errors.Is(err, errNoRetry):
	default:
		e.failures++
		if !e.dirty {
			q.scheduleRetry(key, e)
		}
	}
	if e.dirty {
		e.dirty = false
		q.push(key, e)
		return
	}
	if e.stopRetry == nil {
		delete(q.keys, key)
	}
}

// scheduleRetry arranges for key to be added again after its backoff.
// Call with q.mu held.
func (q *Queue[K]) scheduleRetry(key K, e *entry) {
	e.gen++
	gen := e.gen
	e.stopRetry = q.after(Backoff(e.failures, q.opts.MinBackoff, q.opts.MaxBackoff), func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		cur := q.keys[key]
		if q.stopped || cur != e || e.gen != gen {
			return // cancelled, superseded or stopped meanwhile
		}
		e.stopRetry = nil
		switch {
		case e.running:
			e.dirty = true
		case !e.queued:
			q.push(key, e)
		}
	})
}
