package shell

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/logtail"
)

// logDir writes a log directory for the tail tests: web's file (15
// lines), old's (a removed container, 3 lines), and the status of both
// plus gone's, whose file was never written (its log is unreadable).
func logDir(t *testing.T) (dir string, files []logtail.FileStatus) {
	t.Helper()
	dir = t.TempDir()
	add := func(name string, state logtail.State, reason string, lines int) {
		id := fakeID(name)
		path := filepath.Join(dir, logtail.FileName(id, name))
		if lines > 0 {
			var b strings.Builder
			for i := 1; i <= lines; i++ {
				fmt.Fprintf(&b, "2026-01-02T03:04:05.%09dZ stdout F %s %d\n", i, name, i)
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		files = append(files, logtail.FileStatus{ID: id, Name: name, Path: path, State: state, Reason: reason})
	}
	add("web", logtail.StateFollowing, "", 15)
	add("old", logtail.StateRemoved, "", 3)
	add("gone", logtail.StateUnreadable, `the "none" log driver keeps no log`, 0)
	return dir, files
}

// logLines are the text of lines from..to of a container's file, as
// logDir writes them.
func logLines(name string, from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "2026-01-02T03:04:05.%09dZ stdout F %s %d\n", i, name, i)
	}
	return b.String()
}

func TestTail(t *testing.T) {
	_, files := logDir(t)
	opts := Options{LogFiles: func() ([]logtail.FileStatus, error) { return files, nil }}
	tests := []struct {
		line string
		want string
	}{
		{"tail web", logLines("web", 6, 15)},
		{"tail -n 2 web", logLines("web", 14, 15)},
		{"tail --lines=3 web", logLines("web", 13, 15)},
		{"tail -n all web", logLines("web", 1, 15)},
		{"tail -n 0 web", ""},
		{"tail -n 100 web", logLines("web", 1, 15)},
		{"tail old", logLines("old", 1, 3)},
		{"tail " + fakeID("old")[:12], logLines("old", 1, 3)},
		{"tail " + fakeID("old")[:5], logLines("old", 1, 3)},
	}
	for _, tt := range tests {
		r := newSession(nil, opts).exec(t, tt.line).ok(t)
		if r.out != tt.want {
			t.Errorf("%q printed %q, want %q", tt.line, r.out, tt.want)
		}
	}
}

func TestTailErrors(t *testing.T) {
	_, files := logDir(t)
	opts := Options{LogFiles: func() ([]logtail.FileStatus, error) { return files, nil }}
	tests := []struct {
		line   string
		wants  []string
		status int
		usage  bool
	}{
		{"tail nope", []string{"error: tail: no log file for container nope"}, StatusFailed, false},
		{"tail gone", []string{`error: tail: no log file for container gone: unreadable: the "none" log driver keeps no log`}, StatusFailed, false},
		{"tail -n x web", []string{`error: tail: invalid argument "x" for "-n, --lines" flag: want a number of lines, or "all"`}, StatusUsage, true},
		{"tail -n -1 web", []string{`invalid argument "-1"`}, StatusUsage, true},
		{"tail", []string{"error: tail: requires at least 1 argument"}, StatusFailed, true},
		{"tail web old", []string{"error: tail: takes at most 1 argument"}, StatusFailed, true},
	}
	for _, tt := range tests {
		r := newSession(nil, opts).exec(t, tt.line)
		r.oneError(t, tt.wants...)
		if got := ExitStatus(r.err); got != tt.status {
			t.Errorf("%q: status %d, want %d", tt.line, got, tt.status)
		}
		if hasUsage := strings.Contains(r.errOut, "usage: tail [OPTIONS] CONTAINER"); hasUsage != tt.usage {
			t.Errorf("%q: usage line printed: %v, want %v (%q)", tt.line, hasUsage, tt.usage, r.errOut)
		}
	}
	r := newSession(nil, Options{}).exec(t, "tail web")
	r.oneError(t, "error: tail: no log directory")
}

// waitBuffer is an io.Writer that a test can wait on.
type waitBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on every Write
}

func newWaitBuffer() *waitBuffer { return &waitBuffer{changed: make(chan struct{})} }

func (b *waitBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.changed)
	b.changed = make(chan struct{})
	return b.b.Write(p)
}

func (b *waitBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor waits until everything written is want, or done has a result.
func (b *waitBuffer) waitFor(t *testing.T, want string, done <-chan error) {
	t.Helper()
	timeout := time.After(guard)
	for {
		b.mu.Lock()
		got, changed := b.b.String(), b.changed
		b.mu.Unlock()
		if got == want {
			return
		}
		select {
		case <-changed:
		case err := <-done:
			t.Fatalf("returned %v with %q printed, want %q", err, got, want)
		case <-timeout:
			t.Fatalf("printed %q, still waiting for %q", got, want)
		}
	}
}

// TestTailFollow: tail -f prints the last lines, then the lines appended,
// and Ctrl-C (the context cancelled) returns to the prompt without error.
func TestTailFollow(t *testing.T) {
	_, files := logDir(t)
	out, errOut := newWaitBuffer(), newWaitBuffer()
	s := New(nil, Options{Out: out, Err: errOut, LogFiles: func() ([]logtail.FileStatus, error) { return files, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Execute(ctx, "tail -f -n 1 web") }()
	want := logLines("web", 15, 15)
	out.waitFor(t, want, done)

	f, err := os.OpenFile(files[0].Path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(logLines("web", 16, 17)); err != nil {
		t.Fatal(err)
	}
	want += logLines("web", 16, 17)
	out.waitFor(t, want, done)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Execute = %v after Ctrl-C, want nil", err)
		}
	case <-time.After(guard):
		t.Fatal("tail -f did not return after Ctrl-C")
	}
	if got := errOut.String(); got != "" {
		t.Errorf("stderr %q, want nothing", got)
	}
}

// TestCompleteTail: tail offers the containers known, then the files of
// those removed, by name and short ID; a name known is offered once.
func TestCompleteTail(t *testing.T) {
	c := testCompleter(t)
	files := []logtail.FileStatus{
		{ID: "aaaa1111" + pad, Name: "web", State: logtail.StateFollowing},
		{ID: "eeee5555" + pad, Name: "old", State: logtail.StateRemoved},
		{ID: "ffff6666" + pad, Name: "old", State: logtail.StateRemoved},
		{ID: "9999aaaa" + pad, Name: "db", State: logtail.StateRemoved}, // an earlier db
	}
	New(nil, Options{Completer: c, LogFiles: func() ([]logtail.FileStatus, error) { return files, nil }})
	tests := []struct {
		before string
		want   []string
	}{
		{"tail ", []string{"api", "db", "nu-db-1", "web", "old", "cccc33330000", "bbbb22220000", "dddd44440000", "aaaa11110000", "9999aaaa0000", "eeee55550000", "ffff66660000"}},
		{"tail o", []string{"old"}},
		{"tail -f e", []string{"eeee55550000"}},
		{"tail web ", []string{}},
		{"tail -n ", []string{"all"}},
	}
	for _, tt := range tests {
		if got := texts(c.Complete(tt.before).Suggestions); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Complete(%q) = %q, want %q", tt.before, got, tt.want)
		}
	}
	// Without log files, the containers known.
	plain := testCompleter(t)
	if got, want := texts(plain.Complete("tail ").Suggestions), texts(plain.containerSuggestions(func(container.ContainerState) bool { return true })); !reflect.DeepEqual(got, want) {
		t.Errorf("Complete(\"tail \") without log files = %q, want %q", got, want)
	}
}
