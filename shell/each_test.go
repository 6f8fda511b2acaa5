package shell

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/manager"
)

// guardCtx bounds a unit test that waits on goroutines, so a bug shows as
// a failure rather than a hung test run. It is not a timing assertion.
func guardCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// TestMultiContainerParallel: stop, start, restart and rm act on all their
// containers at once: each operation waits until all have begun, which
// only finishes if none waits for another.
func TestMultiContainerParallel(t *testing.T) {
	for _, cmd := range []string{"stop", "start", "restart", "rm -f"} {
		t.Run(cmd, func(t *testing.T) {
			ctx := guardCtx(t)
			all := names("c", 20)
			eng := newFakeEngine(all...)
			var begun sync.WaitGroup
			begun.Add(len(all))
			wait := func(ctx context.Context) error {
				begun.Done()
				done := make(chan struct{})
				go func() { begun.Wait(); close(done) }()
				select {
				case <-done:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			eng.stop = func(ctx context.Context, _ container.Summary, _ manager.StopOptions) error { return wait(ctx) }
			eng.start = func(ctx context.Context, _ container.Summary) error { return wait(ctx) }
			eng.restart = func(ctx context.Context, _ container.Summary, _ manager.StopOptions) error { return wait(ctx) }
			eng.remove = func(ctx context.Context, _ container.Summary, _ manager.RemoveOptions) error { return wait(ctx) }
			s := newSession(eng, Options{})
			r := s.execCtx(t, ctx, cmd+" "+strings.Join(all, " ")).ok(t)
			got := lines(r.out)
			if len(got) != len(all) {
				t.Fatalf("printed %d lines, want one per container: %q", len(got), r.out)
			}
			for _, n := range all {
				if !strings.Contains(r.out, n+"\n") {
					t.Errorf("success of %s not printed", n)
				}
			}
		})
	}
}

// TestMultiContainerBound: maxParallel operations run at once (the first
// ones wait until that many are under way), and never more.
func TestMultiContainerBound(t *testing.T) {
	ctx := guardCtx(t)
	all := names("c", maxParallel+30)
	eng := newFakeEngine(all...)
	var mu sync.Mutex
	cur, peak := 0, 0
	full := make(chan struct{})
	var fullOnce sync.Once
	eng.stop = func(ctx context.Context, _ container.Summary, _ manager.StopOptions) error {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		if cur == maxParallel {
			fullOnce.Do(func() { close(full) }) // later ones may fill up again
		}
		mu.Unlock()
		defer func() {
			mu.Lock()
			cur--
			mu.Unlock()
		}()
		select {
		case <-full:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s := newSession(eng, Options{})
	s.execCtx(t, ctx, "stop "+strings.Join(all, " ")).ok(t)
	if peak != maxParallel {
		t.Errorf("at most %d stops under way at once, want %d", peak, maxParallel)
	}
}

// TestMultiContainerFailures: every container is tried; failures are
// joined, one line each in the order given, and the successes printed.
func TestMultiContainerFailures(t *testing.T) {
	eng := newFakeEngine("web", "db", "cache")
	eng.stop = func(_ context.Context, c container.Summary, _ manager.StopOptions) error {
		if manager.Name(c) == "db" {
			return errors.New("tried to kill container, but did not receive an exit event")
		}
		return nil
	}
	s := newSession(eng, Options{})
	r := s.exec(t, "stop nosuch web db cache")
	errs := r.errorLines(t, 2)
	if len(errs) == 2 {
		if errs[0] != "error: stop: no such container: nosuch" {
			t.Errorf("first error %q", errs[0])
		}
		if errs[1] != "error: stop: db: tried to kill container, but did not receive an exit event" {
			t.Errorf("second error %q", errs[1])
		}
	}
	if got := strings.Join(sortedLines(r.out), ","); got != "cache,web" {
		t.Errorf("successes printed %q, want cache and web", r.out)
	}
	if want := "stop cache,stop db,stop web"; strings.Join(eng.Calls(), ",") != want {
		t.Errorf("calls %q, want %q", eng.Calls(), want)
	}
	if !r.failed || ExitStatus(r.err) != StatusFailed {
		t.Errorf("failed=%v status %d, want 1", r.failed, ExitStatus(r.err))
	}
}

// TestMultiContainerInterrupted: Ctrl-C (the context cancelled) while a
// multi-container command runs: what finished is printed, what was under
// way is cancelled, nothing new starts, and one error says which were done
// and which were not.
func TestMultiContainerInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(guardCtx(t))
	defer cancel()
	all := names("c", maxParallel+10) // 10 wait for a slot
	eng := newFakeEngine(all...)
	var mu sync.Mutex
	begun := 0
	eng.stop = func(ctx context.Context, c container.Summary, _ manager.StopOptions) error {
		if manager.Name(c) == "c00" {
			return nil // done before the interrupt
		}
		mu.Lock()
		begun++
		if begun == maxParallel-1 { // every slot but c00's is taken: Ctrl-C
			cancel()
		}
		mu.Unlock()
		<-ctx.Done()
		return fmt.Errorf("stop: %w", ctx.Err())
	}
	s := newSession(eng, Options{})
	r := s.execCtx(t, ctx, "stop "+strings.Join(all, " "))
	if r.out != "c00\n" {
		t.Errorf("stdout %q, want only c00", r.out)
	}
	errs := r.errorLines(t, 1)
	if len(errs) != 1 {
		return
	}
	msg := errs[0]
	if !strings.HasPrefix(msg, "error: stop: interrupted: done: c00; not done: c01 (the engine may still finish it), ") {
		t.Errorf("error %q", msg)
	}
	for _, n := range all[1:] {
		if !strings.Contains(msg, n) {
			t.Errorf("%s missing from %q", n, msg)
		}
	}
	if !strings.HasSuffix(msg, ", c59") || strings.Contains(msg, "c59 (") {
		t.Errorf("a container that never began is not listed plainly: %q", msg)
	}
	// c00 and at most maxParallel more: the slot c00 freed may have
	// been taken before the cancel, but no later one.
	if n := len(eng.Calls()); n > maxParallel+1 {
		t.Errorf("%d stops begun, want at most %d", n, maxParallel+1)
	}
	if ExitStatus(r.err) != StatusInterrupted {
		t.Errorf("status %d, want %d", ExitStatus(r.err), StatusInterrupted)
	}
}

// TestStopOptions: -t/--timeout/--time and -s reach the engine; without
// them the container's own settings apply.
func TestStopOptions(t *testing.T) {
	for _, tc := range []struct {
		line    string
		timeout int // -1: nil
		signal  string
	}{
		{"stop web", -1, ""},
		{"stop -t 3 web", 3, ""},
		{"stop --timeout 0 web", 0, ""},
		{"stop --time 7 web", 7, ""},
		{"stop -s SIGINT web", -1, "SIGINT"},
		{"restart --signal 9 -t 1 web", 1, "9"},
	} {
		eng := newFakeEngine("web")
		var got manager.StopOptions
		eng.stop = func(_ context.Context, _ container.Summary, o manager.StopOptions) error { got = o; return nil }
		eng.restart = eng.stop
		s := newSession(eng, Options{})
		s.exec(t, tc.line).ok(t)
		timeout := -1
		if got.Timeout != nil {
			timeout = *got.Timeout
		}
		if timeout != tc.timeout || got.Signal != tc.signal {
			t.Errorf("%q: timeout %d signal %q, want %d %q", tc.line, timeout, got.Signal, tc.timeout, tc.signal)
		}
	}
}

// TestUsageErrors: a flag error is status 125 with the usage line, an
// argument error status 1 with it, as docker gives.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		line   string
		status int
		first  string
	}{
		{"stop --bad web", StatusUsage, "error: stop: unknown flag: --bad"},
		{"stop -t x web", StatusUsage, `error: stop: invalid argument "x" for "-t, --timeout" flag`},
		{"stop", StatusFailed, "error: stop: requires at least 1 argument"},
		{"logs a b", StatusFailed, "error: logs: takes at most 1 argument"},
	} {
		s := newSession(newFakeEngine("web"), Options{})
		r := s.exec(t, tc.line)
		got := lines(r.errOut)
		if len(got) != 2 || !strings.HasPrefix(got[0], tc.first) || !strings.HasPrefix(got[1], "usage: ") {
			t.Errorf("%q: stderr %q, want %q then the usage line", tc.line, r.errOut, tc.first)
		}
		if ExitStatus(r.err) != tc.status {
			t.Errorf("%q: status %d, want %d", tc.line, ExitStatus(r.err), tc.status)
		}
	}
}

func sortedLines(s string) []string { return slices.Sorted(slices.Values(lines(s))) }
