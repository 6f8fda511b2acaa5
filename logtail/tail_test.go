package logtail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// guard bounds every wait of these tests: a failure guard against a hang,
// never a timed assertion.
const guard = time.Minute

// outBuf is an io.Writer that tests can wait on: it records each Write.
type outBuf struct {
	mu      sync.Mutex
	writes  []string
	changed chan struct{} // closed and replaced on every Write
}

func newOutBuf() *outBuf { return &outBuf{changed: make(chan struct{})} }

func (b *outBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes = append(b.writes, string(p))
	close(b.changed)
	b.changed = make(chan struct{})
	return len(p), nil
}

func (b *outBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.writes, "")
}

// waitFor waits until everything written is want; done is Tail's result,
// which must not come first.
func (b *outBuf) waitFor(t *testing.T, want string, done <-chan error) {
	t.Helper()
	timeout := time.After(guard)
	for {
		b.mu.Lock()
		got, changed := strings.Join(b.writes, ""), b.changed
		b.mu.Unlock()
		if got == want {
			return
		}
		if !strings.HasPrefix(want, got) {
			t.Fatalf("printed %q, want %q", got, want)
		}
		select {
		case <-changed:
		case err := <-done:
			t.Fatalf("Tail returned %v with %q printed, want %q", err, got, want)
		case <-timeout:
			t.Fatalf("printed %q, still waiting for %q", got, want)
		}
	}
}

// wholeLines checks that every Write held complete lines only.
func (b *outBuf) wholeLines(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.writes {
		if !strings.HasSuffix(w, "\n") {
			t.Errorf("a Write of %q: not whole lines", w)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func numbered(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString("line " + string(rune('a'+i%26)) + strings.Repeat("x", i%7) + "\n")
	}
	return b.String()
}

func TestTailLast(t *testing.T) {
	ten := numbered(1, 10)
	tests := []struct {
		name, text string
		n          int
		want       string
	}{
		{"last three", ten, 3, numbered(8, 10)},
		{"n larger than the file", ten, 50, ten},
		{"n as the file", ten, 10, ten},
		{"all", ten, -1, ten},
		{"none", ten, 0, ""},
		{"empty file", "", 10, ""},
		{"empty file, all", "", -1, ""},
		{"incomplete last line left out", "a\nb\nc", 2, "a\nb\n"},
		{"incomplete last line, all", "a\nb\nc", -1, "a\nb\n"},
		{"no newline at all", "abc", 5, ""},
		{"empty lines", "\n\n\n", 2, "\n\n"},
		{"one line", "only\n", 1, "only\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.log")
			writeFile(t, path, tt.text)
			var out bytes.Buffer
			if err := Tail(context.Background(), path, tt.n, false, &out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("Tail(n=%d) printed %q, want %q", tt.n, out.String(), tt.want)
			}
		})
	}
}

// TestStartOfLast checks the backward search at chunk boundaries: every n,
// every chunk size down to one byte.
func TestStartOfLast(t *testing.T) {
	for _, text := range []string{"", "a", "a\n", "\n", "ab\ncd\n", "ab\ncd", "a\n\nbcd\ne\n\n", numbered(1, 30)} {
		lines := strings.SplitAfter(text, "\n")
		complete := lines[:len(lines)-1] // the last element is the incomplete tail, maybe ""
		for n := -1; n <= len(complete)+1; n++ {
			want := len(text) - len(lines[len(lines)-1])
			if n < 0 || n >= len(complete) {
				want = 0
			} else {
				for _, l := range complete[len(complete)-n:] {
					want -= len(l)
				}
			}
			for _, chunk := range []int{1, 2, 3, 7, 64, tailChunk} {
				got, err := startOfLast(strings.NewReader(text), int64(len(text)), n, chunk)
				if err != nil {
					t.Fatal(err)
				}
				if got != int64(want) {
					t.Errorf("startOfLast(%q, n=%d, chunk=%d) = %d, want %d", text, n, chunk, got, want)
				}
			}
		}
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r    io.ReaderAt
	read int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read += int64(n)
	return n, err
}

// TestStartOfLastReadsLittle: the last lines of a big file are found
// without reading it all.
func TestStartOfLastReadsLittle(t *testing.T) {
	line := strings.Repeat("x", 99) + "\n"
	text := strings.Repeat(line, 100_000) // 10 MB
	r := &countingReader{r: strings.NewReader(text)}
	got, err := startOfLast(r, int64(len(text)), 10, tailChunk)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(text) - 10*len(line)); got != want {
		t.Errorf("start = %d, want %d", got, want)
	}
	if r.read > tailChunk {
		t.Errorf("read %d bytes of %d to find the last 10 lines", r.read, len(text))
	}
}

func TestTailMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.log")
	for _, follow := range []bool{false, true} {
		err := Tail(context.Background(), path, 10, follow, io.Discard)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("follow=%v: Tail = %v, want a not-exist error", follow, err)
		}
	}
}

// follow starts Tail with follow on path in the background and returns
// its output and where its result arrives; the test's end cancels it.
func follow(t *testing.T, path string, n int) (context.CancelFunc, *outBuf, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := newOutBuf()
	done := make(chan error, 1)
	returned := make(chan struct{})
	go func() {
		done <- Tail(ctx, path, n, true, out)
		close(returned)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-returned:
		case <-time.After(guard):
			t.Error("Tail did not return once cancelled")
		}
	})
	return cancel, out, done
}

func TestTailFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	writeFile(t, path, numbered(1, 12))
	_, out, done := follow(t, path, 2)
	want := numbered(11, 12)
	out.waitFor(t, want, done)

	appendFile(t, path, "new 1\nnew 2\n")
	want += "new 1\nnew 2\n"
	out.waitFor(t, want, done)

	// A line written in two writes is printed once complete, whole.
	appendFile(t, path, "two wr")
	appendFile(t, path, "ites\n")
	want += "two writes\n"
	out.waitFor(t, want, done)
	out.wholeLines(t)
}

// TestTailFollowRotation: the keeper renames x.log to x.log.1 and creates
// a new x.log; Tail reads the old file to its end, then the new one from
// its start, as tail -F does; and once more.
func TestTailFollowRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	writeFile(t, path, "a\n")
	_, out, done := follow(t, path, 10)
	out.waitFor(t, "a\n", done)

	rename(t, path, path+".1")
	appendFile(t, path+".1", "b (old file, after the rename)\n")
	writeFile(t, path, "c (new file)\n")
	want := "a\nb (old file, after the rename)\nc (new file)\n"
	out.waitFor(t, want, done)
	appendFile(t, path, "d\n")
	want += "d\n"
	out.waitFor(t, want, done)

	rename(t, path+".1", path+".2")
	rename(t, path, path+".1")
	writeFile(t, path, "")
	appendFile(t, path, "e\n")
	want += "e\n"
	out.waitFor(t, want, done)
	// The rotated file is no longer followed.
	appendFile(t, path+".1", "not printed\n")
	appendFile(t, path, "f\n")
	want += "f\n"
	out.waitFor(t, want, done)
}

// TestTailFollowRenamed: a file renamed away for good (its container was
// renamed) is followed still, under its new name.
func TestTailFollowRenamed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0123456789ab+old.log")
	writeFile(t, path, "a\n")
	_, out, done := follow(t, path, 10)
	out.waitFor(t, "a\n", done)
	renamed := filepath.Join(dir, "0123456789ab+new.log")
	rename(t, path, renamed)
	appendFile(t, renamed, "b\n")
	out.waitFor(t, "a\nb\n", done)
}

// TestTailFollowTruncated: a file truncated under Tail is read again from
// its start.
func TestTailFollowTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	writeFile(t, path, "a long first line\n")
	_, out, done := follow(t, path, 10)
	out.waitFor(t, "a long first line\n", done)
	writeFile(t, path, "b\n") // O_TRUNC
	out.waitFor(t, "a long first line\nb\n", done)
}

// TestTailFollowEmpty: following an empty file prints its lines as they
// come, the first line written in two parts.
func TestTailFollowEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	writeFile(t, path, "")
	_, out, done := follow(t, path, 10)
	appendFile(t, path, "fir")
	appendFile(t, path, "st\n")
	out.waitFor(t, "first\n", done)
	out.wholeLines(t)
}

// TestTailFollowCancel: cancelling ends the follow without an error, and
// the file is left as it was.
func TestTailFollowCancel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	writeFile(t, path, "a\n")
	cancel, out, done := follow(t, path, 10)
	out.waitFor(t, "a\n", done)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Tail = %v after cancel, want nil", err)
		}
	case <-time.After(guard):
		t.Fatal("Tail did not return once cancelled")
	}
	// Cancelled before it starts: it returns at once, without error.
	ctx, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if err := Tail(ctx, path, 10, true, io.Discard); err != nil {
		t.Errorf("Tail with a cancelled context = %v, want nil", err)
	}
}

// TestCopierPartial: the copier holds back an incomplete line until its
// newline is read, and writes it whole.
func TestCopierPartial(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	writeFile(t, path, "")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := newOutBuf()
	c := &copier{f: f, w: out}
	ctx := context.Background()
	for _, step := range []struct{ write, want string }{
		{"par", ""},
		{"tial", ""},
		{" line\nnext", "partial line\n"},
		{"\n", "partial line\nnext\n"},
		{"", "partial line\nnext\n"},
	} {
		appendFile(t, path, step.write)
		if err := c.copy(ctx); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != step.want {
			t.Errorf("after %q: printed %q, want %q", step.write, got, step.want)
		}
	}
	out.wholeLines(t)
}
