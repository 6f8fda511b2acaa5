package shell

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestHistoryBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "history")
	h, err := OpenHistory(path, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if err := h.Add(fmt.Sprintf("ps %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"ps 7", "ps 8", "ps 9", "ps 10", "ps 11"}
	if got := h.Lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("in memory = %q, want %q", got, want)
	}
	// Reopened: exactly the newest five, and the file is rewritten to them.
	h2, err := OpenHistory(path, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := h2.Lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("reopened = %q, want %q", got, want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Split(strings.TrimSpace(string(data)), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("file = %q, want %q", got, want)
	}
}

func TestHistorySkips(t *testing.T) {
	h, err := OpenHistory(filepath.Join(t.TempDir(), "history"), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"ps", "ps", "  ", "", "images", "ps"} {
		if err := h.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := h.Lines(), []string{"ps", "images", "ps"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lines = %q, want %q (blank lines and immediate repeats skipped)", got, want)
	}
}

func TestHistoryUnwritable(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The state dir's place is taken by a file: opening says so in one
	// line (main then goes on without history).
	if _, err := OpenHistory(filepath.Join(blocker, "history"), 10); err == nil || !strings.HasPrefix(err.Error(), "open history: ") {
		t.Errorf("OpenHistory under a file = %v, want an 'open history:' error", err)
	}
	// The file's folder is replaced by a file after opening: Add says so.
	h, err := OpenHistory(filepath.Join(dir, "sub", "history"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Add("ps"); err == nil || !strings.HasPrefix(err.Error(), "save history: ") {
		t.Errorf("Add = %v, want a 'save history:' error", err)
	}
	// Said once: later lines are kept in memory without another error.
	if err := h.Add("images"); err != nil {
		t.Errorf("second Add = %v, want nil", err)
	}
	if got := h.Lines(); !reflect.DeepEqual(got, []string{"ps", "images"}) {
		t.Errorf("lines = %q", got)
	}
}

func TestHistoryLongLinesAndTwoShells(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	// A file holding a line longer than History keeps still opens.
	long := strings.Repeat("x", maxLine+1)
	if err := os.WriteFile(path, []byte("ps\n"+long+"\nimages\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := OpenHistory(path, 3)
	if err != nil {
		t.Fatalf("open with a long line: %v", err)
	}
	if got := a.Lines(); !reflect.DeepEqual(got, []string{"ps", "images"}) {
		t.Errorf("lines = %q", got)
	}
	if err := a.Add(long); err != nil || len(a.Lines()) != 2 {
		t.Errorf("a too long line was recorded (%v)", err)
	}
	// Two shells on one file: both append, and cutting the file back (at
	// load here, or when one has written twice the limit) keeps the newest
	// lines of both.
	b, err := OpenHistory(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"b1", "b2", "b3"} {
		if err := b.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Add("a1"); err != nil {
		t.Fatal(err)
	}
	c, err := OpenHistory(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Lines(), []string{"b2", "b3", "a1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after both = %q, want %q", got, want)
	}
}

func TestHistoryRewriteKeepsOthersLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	a, err := OpenHistory(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenHistory(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		h    *History
		line string
	}{{a, "a1"}, {a, "a2"}, {a, "a3"}, {b, "b1"}} {
		if err := step.h.Add(step.line); err != nil {
			t.Fatal(err)
		}
	}
	// a's 4th line (twice the limit) makes it cut the file back: it reads
	// the file again, so b's line survives.
	if err := a.Add("a4"); err != nil {
		t.Fatal(err)
	}
	got, err := readLines(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b1", "a4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("file = %q, want %q", got, want)
	}
	if got, want := a.Lines(), []string{"b1", "a4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a's lines = %q, want %q", got, want)
	}
}
