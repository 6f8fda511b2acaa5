package enforce

import (
	"maps"
	"sync"
	"sync/atomic"
)

// store holds the snapshot that the Controller edits and its Enforcer
// reads, copy-on-write: a published *Snapshot is never changed again, so a
// reader takes it and reads without a lock, never waiting on an edit's
// fsync; every edit works on a copy, is saved durably, and only then
// published. Edits are serialised, so the enforcer noting a recreated
// container's ID and a person adding a name cannot lose one another.
type store struct {
	path string // "": memory only

	mu  sync.Mutex // serialises edits and reloads
	cur atomic.Pointer[Snapshot]
}

func newStore(path string, snap *Snapshot) *store {
	s := &store{path: path}
	s.cur.Store(snap)
	return s
}

// get returns the current snapshot (nil when none was taken): read it,
// never change it.
func (s *store) get() *Snapshot { return s.cur.Load() }

// edit applies fn to a copy of the snapshot (an empty one when none was
// taken), saves the copy and publishes it. When fn or the save fails,
// nothing changes.
func (s *store) edit(fn func(*Snapshot) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.cur.Load().clone()
	if err := fn(next); err != nil {
		return err
	}
	if s.path != "" {
		if err := next.Save(s.path); err != nil {
			return err
		}
	}
	s.cur.Store(next)
	return nil
}

// reload reads the snapshot from its file again: another dockman (a
// script, a shell since closed) may have changed it since it was read.
func (s *store) reload() error {
	if s.path == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := LoadSnapshot(s.path)
	if err != nil {
		return err
	}
	s.cur.Store(snap)
	return nil
}

// clone copies the snapshot's maps; the saved inspect outputs are shared,
// as nothing writes to them.
func (s *Snapshot) clone() *Snapshot {
	if s == nil {
		return &Snapshot{Containers: map[string]Saved{}}
	}
	c := *s
	c.Containers = maps.Clone(s.Containers)
	if c.Containers == nil {
		c.Containers = map[string]Saved{}
	}
	c.Owned = maps.Clone(s.Owned)
	return &c
}
