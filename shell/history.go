package shell

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// History is the list of typed lines, kept in a file so that it survives
// restarts of the shell. It holds at most its limit of lines: the file is
// compacted to the newest ones when it is loaded with too many.
type History struct {
	mu    sync.Mutex
	path  string
	limit int
	lines []string
}

// DefaultHistoryLimit is how many lines History keeps.
const DefaultHistoryLimit = 1000

// OpenHistory loads the history file at path (a missing file is an empty
// history), keeping at most limit lines.
func OpenHistory(path string, limit int) (*History, error) {
	h := &History{path: path, limit: limit}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if l := sc.Text(); strings.TrimSpace(l) != "" {
			h.lines = append(h.lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	if len(h.lines) > limit {
		h.lines = h.lines[len(h.lines)-limit:]
		if err := h.rewrite(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Lines returns a copy of the history, oldest first.
func (h *History) Lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines...)
}

// Add appends a line and writes it to the file at once, so that nothing is
// lost if the shell is killed. A line equal to the previous one is not
// recorded again.
func (h *History) Add(line string) error {
	line = strings.TrimSpace(line)
	if line == "" || strings.ContainsAny(line, "\r\n") {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.lines); n > 0 && h.lines[n-1] == line {
		return nil
	}
	h.lines = append(h.lines, line)
	if len(h.lines) > 2*h.limit {
		// Compact now and then rather than on every line.
		h.lines = h.lines[len(h.lines)-h.limit:]
		return h.rewrite()
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("save history: %w", err)
	}
	return f.Close()
}

// rewrite replaces the file with the lines in memory, atomically.
func (h *History) rewrite() error {
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".history-*")
	if err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(strings.Join(h.lines, "\n") + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("save history: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	if err := os.Rename(tmp.Name(), h.path); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	return nil
}
