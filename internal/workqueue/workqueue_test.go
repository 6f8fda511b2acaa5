package workqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// guard bounds every wait in these tests; nothing asserts on time.
const guard = 10 * time.Second

// harness runs a Queue[string] whose process function records each call,
// can be held inside a call, and fails as a test's script says.
type harness struct {
	t *testing.T
	q *Queue[string]

	mu       sync.Mutex
	calls    []string       // keys, in the order processing began
	running  map[string]int // calls of a key under way now
	overlap  bool           // a key was ever processed twice at once
	failures map[string][]error
	held     map[string]chan struct{} // a call of this key waits until closed
	entered  chan string              // a call began (buffered: see maxCalls)
	done     chan string              // a call ended (likewise)
	delays   []time.Duration          // retry delays the queue asked for
	retries  []func()                 // the retries, fired by the test
}

// maxCalls bounds the process calls of any test here. A key runs only
// after an Add, and Adds during one run make one more run, so calls never
// outnumber Adds (4000 at most, in TestQueueUnderLoad): the harness's
// channels never fill, whether or not a test reads them.
const maxCalls = 10000

func newHarness(t *testing.T, workers int) *harness {
	h := &harness{
		t:        t,
		running:  map[string]int{},
		failures: map[string][]error{},
		held:     map[string]chan struct{}{},
		entered:  make(chan string, maxCalls),
		done:     make(chan string, maxCalls),
	}
	h.q = New(h.process, Options{Workers: workers, MinBackoff: time.Second, MaxBackoff: 8 * time.Second})
	// Retries are fired by the test, so no rule depends on a clock.
	h.q.after = func(d time.Duration, f func()) func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.delays = append(h.delays, d)
		h.retries = append(h.retries, f)
		return func() bool { return true }
	}
	t.Cleanup(h.q.Stop)
	return h
}

func (h *harness) process(ctx context.Context, key string) error {
	h.mu.Lock()
	h.calls = append(h.calls, key)
	h.running[key]++
	if h.running[key] > 1 {
		h.overlap = true
	}
	hold := h.held[key]
	var err error
	if f := h.failures[key]; len(f) > 0 {
		err, h.failures[key] = f[0], f[1:]
	}
	h.mu.Unlock()
	h.entered <- key
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	h.mu.Lock()
	h.running[key]--
	h.mu.Unlock()
	h.done <- key
	return err
}

func (h *harness) hold(key string) (release func()) {
	ch := make(chan struct{})
	h.mu.Lock()
	h.held[key] = ch
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.held, key)
		h.mu.Unlock()
		close(ch)
	}
}

func (h *harness) failWith(key string, errs ...error) {
	h.mu.Lock()
	h.failures[key] = errs
	h.mu.Unlock()
}

func (h *harness) start() {
	if err := h.q.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// wait reads from ch until it has seen want (in any order), failing after
// the guard.
func (h *harness) wait(ch chan string, what string, want ...string) {
	h.t.Helper()
	left := slices.Clone(want)
	timeout := time.After(guard)
	for len(left) > 0 {
		select {
		case k := <-ch:
			if i := slices.Index(left, k); i >= 0 {
				left = slices.Delete(left, i, i+1)
			}
		case <-timeout:
			h.t.Fatalf("waiting for %s: %v never came; calls so far %v", what, left, h.callList())
		}
	}
}

// idle waits until the queue has nothing due and nothing running.
func (h *harness) idle() {
	h.t.Helper()
	deadline := time.Now().Add(guard)
	for {
		h.q.mu.Lock()
		busy := len(h.q.ready) > 0
		for _, e := range h.q.keys {
			busy = busy || e.running || e.queued
		}
		h.q.mu.Unlock()
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the queue never went idle; calls %v", h.callList())
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) callList() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

// fireRetries runs the retries scheduled so far, as their timers would.
func (h *harness) fireRetries() {
	h.mu.Lock()
	fs := h.retries
	h.retries = nil
	h.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

func TestQueueRules(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		workers int
		run     func(t *testing.T, h *harness)
		want    []string // calls, in order
	}{
		{
			name:    "a key waits in the queue once",
			workers: 1,
			run: func(t *testing.T, h *harness) {
				for range 5 {
					h.q.Add("a")
				}
				h.q.Add("b")
				h.q.Add("a")
				h.start()
				h.wait(h.done, "a and b", "a", "b")
				h.idle()
			},
			want: []string{"a", "b"},
		},
		{
			name:    "one worker at a time per key, others go on",
			workers: 4,
			run: func(t *testing.T, h *harness) {
				release := h.hold("a")
				h.start()
				h.q.Add("a")
				h.wait(h.entered, "a to begin", "a")
				// a is held: other keys still run on the other workers.
				h.q.Add("b")
				h.wait(h.done, "b beside the held a", "b")
				h.q.Add("c")
				h.wait(h.done, "c beside the held a", "c")
				h.q.Add("a") // while a runs: once more afterwards, never beside it
				release()
				h.wait(h.done, "both runs of a", "a", "a")
				h.idle()
			},
			want: []string{"a", "b", "c", "a"},
		},
		{
			name:    "added while processed: once more afterwards",
			workers: 2,
			run: func(t *testing.T, h *harness) {
				release := h.hold("a")
				h.start()
				h.q.Add("a")
				h.wait(h.entered, "a to begin", "a")
				for range 10 {
					h.q.Add("a")
				}
				release()
				h.wait(h.done, "two runs of a", "a", "a")
				h.idle()
			},
			want: []string{"a", "a"},
		},
		{
			name:    "a failure is retried with capped exponential backoff, a success forgets it",
			workers: 1,
			run: func(t *testing.T, h *harness) {
				h.failWith("a", boom, boom, boom, boom, boom)
				h.start()
				h.q.Add("a")
				for i := range 6 {
					h.wait(h.done, fmt.Sprintf("attempt %d", i+1), "a")
					h.idle()
					if i < 5 {
						if got := h.q.Retrying(); got["a"] != i+1 {
							t.Fatalf("after failure %d: Retrying() = %v", i+1, got)
						}
					}
					h.fireRetries()
				}
				if got := h.q.Retrying(); len(got) != 0 {
					t.Errorf("after the success: Retrying() = %v, want none", got)
				}
				want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
				if !slices.Equal(h.delays, want) {
					t.Errorf("retry delays %v, want %v", h.delays, want)
				}
				// A success forgets the failures: the next one starts over.
				h.failWith("a", boom)
				h.q.Add("a")
				h.wait(h.done, "a after the success", "a")
				h.idle()
				if last := h.delays[len(h.delays)-1]; last != time.Second {
					t.Errorf("first failure after a success waits %v, want 1s", last)
				}
			},
			want: []string{"a", "a", "a", "a", "a", "a", "a"},
		},
		{
			name:    "NoRetry errors are not retried",
			workers: 1,
			run: func(t *testing.T, h *harness) {
				h.failWith("a", NoRetry(boom))
				h.start()
				h.q.Add("a")
				h.wait(h.done, "a", "a")
				h.idle()
				if len(h.delays) != 0 || len(h.q.Retrying()) != 0 {
					t.Errorf("a NoRetry error scheduled retries %v", h.delays)
				}
			},
			want: []string{"a"},
		},
		{
			name:    "added while waiting for a retry: runs now",
			workers: 1,
			run: func(t *testing.T, h *harness) {
				h.failWith("a", boom, boom)
				h.start()
				h.q.Add("a")
				h.wait(h.done, "the failing a", "a")
				h.idle()
				h.q.Add("a") // something changed: do not wait out the backoff
				h.wait(h.done, "a again, at once", "a")
				h.idle()
				// It failed again: the backoff grew, it did not start over.
				if !slices.Equal(h.delays, []time.Duration{time.Second, 2 * time.Second}) {
					t.Errorf("retry delays %v, want [1s 2s]", h.delays)
				}
				h.mu.Lock()
				stale := h.retries[0]
				h.retries = h.retries[1:]
				h.mu.Unlock()
				stale() // the first retry, cancelled by the Add: does nothing
				h.idle()
			},
			want: []string{"a", "a"},
		},
		{
			name:    "Stop cancels the workers, waits for them and drops the rest",
			workers: 1,
			run: func(t *testing.T, h *harness) {
				h.hold("a") // released only by the cancelled context
				h.start()
				h.q.Add("a")
				h.wait(h.entered, "a to begin", "a")
				h.q.Add("b")
				h.q.Stop()
				select {
				case k := <-h.done:
					if k != "a" {
						t.Errorf("after Stop, %q ended; want a, cancelled", k)
					}
				default:
					t.Error("Stop returned before the running call did")
				}
				h.q.Add("c")
				h.fireRetries()
				if h.q.Len() != 0 {
					t.Errorf("after Stop, %d keys are due", h.q.Len())
				}
			},
			want: []string{"a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.workers)
			tt.run(t, h)
			if got := h.callList(); !slices.Equal(got, tt.want) {
				t.Errorf("calls %v, want %v", got, tt.want)
			}
			if h.overlap {
				t.Error("a key was processed by two workers at once")
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{10, 51200 * time.Millisecond},
		{11, time.Minute},
		{1000, time.Minute},
	}
	for _, tt := range tests {
		if got := Backoff(tt.failures, 100*time.Millisecond, time.Minute); got != tt.want {
			t.Errorf("Backoff(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

// TestQueueUnderLoad adds keys from many goroutines while workers process
// them: every key is processed, and never twice at once (run with -race).
func TestQueueUnderLoad(t *testing.T) {
	h := newHarness(t, 4)
	h.start()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				h.q.Add(fmt.Sprintf("k%d", (g*7+i)%50))
			}
		}()
	}
	wg.Wait()
	h.idle()
	seen := map[string]bool{}
	for _, k := range h.callList() {
		seen[k] = true
	}
	if len(seen) != 50 {
		t.Errorf("%d distinct keys processed, want 50", len(seen))
	}
	if h.overlap {
		t.Error("a key was processed by two workers at once")
	}
}
