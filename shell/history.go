package shell

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// History is the list of typed lines, kept in a file so that it survives
// restarts of the shell. It holds the newest limit lines. Lines are appended
// to the file as they come; the file is cut back to the newest limit lines
// when it has grown to twice that, and when it is loaded with more.
type History struct {
	mu        sync.Mutex
	path      string
	limit     int
	lines     []string
	fileLines int  // lines in the file, which may hold up to 2*limit
	broken    bool // a save failed: keep lines in memory only, say so once
}

// DefaultHistoryLimit is how many lines History keeps.
const DefaultHistoryLimit = 1000

// OpenHistory loads the history file at path (a missing file is an empty
// history), keeping at most limit lines.
func OpenHistory(path string, limit int) (*History, error) {
	h := &History{path: path, limit: limit}
	// Make sure lines can be saved, so that a state dir that cannot hold
	// the file is reported once, here, and not before every command.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	w, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	w.Close()
	if h.lines, err = readLines(path); err != nil {
		return nil, err
	}
	h.fileLines = len(h.lines)
	if len(h.lines) > limit {
		h.lines = h.lines[len(h.lines)-limit:]
		if err := h.rewrite(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// maxLine is the longest line History keeps; a longer one (a paste gone
// wrong) is not recorded, and skipped if a file holds one.
const maxLine = 64 * 1024

// readLines returns the non-blank lines of the history file, oldest first.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	defer f.Close()
	var lines []string
	r := bufio.NewReader(f)
	for {
		l, err := r.ReadString('\n')
		l = strings.TrimRight(l, "\r\n")
		if strings.TrimSpace(l) != "" && len(l) <= maxLine {
			lines = append(lines, l)
		}
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
	}
}

// Lines returns a copy of the history, oldest first.
func (h *History) Lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines...)
}

// Add appends a line and writes it to the file at once, so that nothing is
// lost if the shell is killed. A line equal to the previous one is not
// recorded again. After a failed save it keeps lines in memory only: the
// failure is returned once, not on every line.
func (h *History) Add(line string) error {
	line = strings.TrimSpace(line)
	if line == "" || len(line) > maxLine || strings.ContainsAny(line, "\r\n") {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.lines); n > 0 && h.lines[n-1] == line {
		return nil
	}
	h.lines = append(h.lines, line)
	if len(h.lines) > h.limit {
		h.lines = h.lines[len(h.lines)-h.limit:]
	}
	if h.broken {
		return nil
	}
	err := h.save(line)
	h.broken = err != nil
	return err
}

// save appends line to the file, and cuts the file back to the newest
// lines once it holds twice the limit (now and then, not on every line).
func (h *History) save(line string) error {
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
	if err := f.Close(); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	h.fileLines++
	if h.fileLines >= 2*h.limit {
		return h.rewrite()
	}
	return nil
}

// rewrite replaces the file with the lines in memory, atomically.
func (h *History) rewrite() error {
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return fmt.Errorf("save history: %w", err)
	}
	// Keep the file's newest lines, not just ours: another dockman may have
	// appended since we loaded it.
	if onDisk, err := readLines(h.path); err == nil && len(onDisk) >= len(h.lines) {
		h.lines = onDisk
	}
	if len(h.lines) > h.limit {
		h.lines = h.lines[len(h.lines)-h.limit:]
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
	h.fileLines = len(h.lines)
	return nil
}
