package logtail

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func line(i int, s Stream, text string) string {
	return string(appendLine(nil, []byte(stamp(i)), s, false, []byte(text)))
}

// A torn last line (a write cut short) is cut off when the file is opened.
func TestOpenCutsTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a+b.log")
	whole := line(1, Stdout, "one") + line(2, Stdout, "two")
	if err := os.WriteFile(path, []byte(whole+"2026-11-22T17:20:01.0000"), 0o644); err != nil {
		t.Fatal(err)
	}
	lf, err := openLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.close()
	b, _ := os.ReadFile(path)
	if string(b) != whole || lf.size != int64(len(whole)) {
		t.Fatalf("after open: %q (size %d), want %q", b, lf.size, whole)
	}
}

// The tail reads back into rotated files while they are within the window
// and finds the newest stamp even when it is not on the last line.
func TestReadTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a+b.log")
	// stamp(i) is i µs after a base: use a window of 10 µs.
	older := line(1, Stdout, "old") + line(50, Stdout, "a")
	newer := line(55, Stdout, "b") + line(60, Stderr, "c") + line(58, Stdout, "stored late")
	if err := os.WriteFile(path+".1", []byte(older), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(newer), 0o644); err != nil {
		t.Fatal(err)
	}
	tl, err := readTail(path, 10*time.Microsecond)
	if err != nil {
		t.Fatal(err)
	}
	if formatTime(tl.last) != stamp(60) {
		t.Errorf("last = %s, want %s", formatTime(tl.last), stamp(60))
	}
	for _, want := range []string{line(50, Stdout, "a"), line(55, Stdout, "b"), line(60, Stderr, "c"), line(58, Stdout, "stored late")} {
		if tl.recent[lineHash([]byte(want))] != 1 {
			t.Errorf("recent lacks %q", want)
		}
	}
	if tl.recent[lineHash([]byte(line(1, Stdout, "old")))] != 0 || !tl.covered {
		t.Errorf("recent %v, covered %v", tl.recent, tl.covered)
	}
}

func TestRotateKeepsMaxFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a+b.log")
	lf, err := openLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { lf.close() }()
	for i := range 5 {
		if err := lf.write([]byte(line(i, Stdout, "x"))); err != nil {
			t.Fatal(err)
		}
		if err := lf.rotate(3); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range map[int]string{1: line(4, Stdout, "x"), 2: line(3, Stdout, "x")} {
		if b, _ := os.ReadFile(rotated(path, i)); string(b) != want {
			t.Errorf("%s: %q, want %q", rotated(path, i), b, want)
		}
	}
	if _, err := os.Stat(rotated(path, 3)); err == nil {
		t.Errorf("%s kept past 3 files", rotated(path, 3))
	}
	if st, _ := os.Stat(path); st.Size() != 0 {
		t.Errorf("current file not empty after rotation")
	}
}

func TestCursorsDurableRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, err := loadCursors(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 1, 2, 3, 456789012, time.UTC)
	c.update("abc", func(cur *cursor) { cur.Name, cur.Last, cur.Drained = "web", at, "x" })
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	again, err := loadCursors(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := again.get("abc"); got.Name != "web" || !got.Last.Equal(at) || got.Drained != "x" {
		t.Errorf("read back %+v", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, cursorFile+".tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
