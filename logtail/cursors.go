package logtail

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dockman/dockman/internal/durable"
)

// cursorFile holds the keeper's since-cursors, beside the logs.
const cursorFile = ".cursors.json"

// cursor is what is kept durably of one container's log.
type cursor struct {
	Name string `json:"name"`
	// Last is the engine's stamp of the newest line known to be on disk
	// (synced before this was saved).
	Last time.Time `json:"last,omitzero"`
	// Drained is the State.FinishedAt of the run whose log was read to its
	// end: a stopped container with this FinishedAt has nothing new.
	Drained string `json:"drained,omitempty"`
	Removed bool   `json:"removed,omitempty"`
}

// cursors is the set of cursors, saved as one JSON file written to a
// temporary file, synced and renamed over the old one, so that a crash at
// any moment leaves either the old set or the new one.
type cursors struct {
	path string

	mu    sync.Mutex
	byID  map[string]cursor
	dirty bool
}

func loadCursors(dir string) (*cursors, error) {
	c := &cursors{path: filepath.Join(dir, cursorFile), byID: map[string]cursor{}}
	b, err := os.ReadFile(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		Containers map[string]cursor `json:"containers"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", c.path, err)
	}
	if doc.Containers != nil {
		c.byID = doc.Containers
	}
	return c, nil
}

func (c *cursors) get(id string) (cursor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.byID[id]
	return cur, ok
}

// update changes one container's cursor.
func (c *cursors) update(id string, fn func(*cursor)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.byID[id]
	before := cur
	fn(&cur)
	if cur != before {
		c.byID[id] = cur
		c.dirty = true
	}
}

func (c *cursors) all() map[string]cursor {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]cursor, len(c.byID))
	for id, cur := range c.byID {
		out[id] = cur
	}
	return out
}

// save writes the cursors durably if they changed.
func (c *cursors) save() error {
	c.mu.Lock()
	if !c.dirty {
		c.mu.Unlock()
		return nil
	}
	b, err := json.MarshalIndent(struct {
		Containers map[string]cursor `json:"containers"`
	}{c.byID}, "", "  ")
	c.dirty = false
	c.mu.Unlock()
	if err == nil {
		err = durable.WriteFile(c.path, append(b, '\n'), 0o644)
	}
	if err != nil {
		c.mu.Lock()
		c.dirty = true
		c.mu.Unlock()
	}
	return err
}

// errLocked says another process keeps the logs in the directory: one
// keeper per directory, or two dockman processes would write every line
// twice.
var errLocked = errors.New("another dockman keeps the logs in this directory")

// LockFile is the log directory's lock: its holder keeps the logs.
const LockFile = ".lock"

// lockDir takes the log directory's lock, DIR/.lock.
func lockDir(dir string) (*durable.Lock, error) {
	lock, err := durable.TryLockFor(filepath.Join(dir, LockFile))
	var held *durable.LockedError
	if errors.As(err, &held) {
		if held.Pid != "" {
			return nil, fmt.Errorf("%w (pid %s)", errLocked, held.Pid)
		}
		return nil, errLocked
	}
	return lock, err
}
