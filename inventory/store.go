package inventory

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/manager"
)

// store holds the containers, images, networks and volumes the inventory
// knows, and merges what it learns of containers so that knowledge asked
// for later always wins: a resync's list never undoes what an inspect or a
// removal taught after the list was taken, nor does an inspect asked
// before it undo the list, and an inspect result never overwrites a newer
// one. So inspects may run concurrently and no lock is held across engine
// calls.
type store struct {
	mu     sync.RWMutex
	synced bool
	items  map[string]Container
	// gone records when containers were found removed, so that a resync
	// listed before the removal does not bring them back.
	gone   map[string]time.Time
	images imageIndex
	// names are the networks' and volumes' names listed last, by queue
	// key (NetworksKey, VolumesKey), sorted (names.go).
	names map[string][]string
	// gen counts the changes: a reader that keeps something made from the
	// store (the status API's rendered list) knows when to make it again.
	gen atomic.Uint64
}

func newStore() *store {
	return &store{items: map[string]Container{}, gone: map[string]time.Time{}, names: map[string][]string{}}
}

// lost marks the store out of sync: events may be missing until the next
// resync, so readers must ask the engine.
func (s *store) lost() {
	s.mu.Lock()
	s.gen.Add(1)
	s.synced = false
	s.mu.Unlock()
}

// resync merges a full list, taken at listedAt, and returns the IDs that
// need an inspect. What was learned after the list was taken wins over it;
// the list wins over what was learned before: an inspect asked earlier and
// answered later can neither overwrite an entry the list confirms nor bring
// back one it dropped (its destroy event lost). An inspected entry whose
// state and names the list confirms is kept as it is, so a periodic resync
// costs no inspects when nothing changed.
func (s *store) resync(list []container.Summary, listedAt time.Time) []string {
	s.mu.Lock()
	s.gen.Add(1)
	defer s.mu.Unlock()
	for id, at := range s.gone {
		if !at.After(listedAt) {
			delete(s.gone, id) // the list already knows
		}
	}
	fresh := make(map[string]Container, len(list))
	var stale []string
	for i, c := range list {
		if at, ok := s.gone[c.ID]; ok && at.After(listedAt) {
			continue // removed after the list was taken
		}
		old, known := s.items[c.ID]
		switch {
		case known && old.learned.After(listedAt):
			fresh[c.ID] = old
		case known && old.Detailed && old.State == c.State && slices.Equal(old.Names, c.Names) &&
			old.StatusText(listedAt) == c.Status:
			// Nothing changed that the list shows (a missed restart would
			// show in the status's duration): as good as learned now.
			old.learned = listedAt
			fresh[c.ID] = old
		default:
			// The engine lists newest first; within one second, keep its
			// order until an inspect brings the exact time.
			at := time.Unix(c.Created, int64(len(list)-i))
			fresh[c.ID] = Container{Summary: c, CreatedAt: at, learned: listedAt}
			stale = append(stale, c.ID)
		}
	}
	for id, old := range s.items {
		if _, listed := fresh[id]; listed {
			continue
		}
		if old.learned.After(listedAt) {
			fresh[id] = old // created after the list was taken
		} else {
			s.gone[id] = listedAt // gone when the list was taken
		}
	}
	s.items, s.synced = fresh, true
	return stale
}

// put stores an inspect result asked for at asked, unless the container
// was found gone since or a newer result is stored. It reports whether it
// stored c.
func (s *store) put(c Container, asked time.Time) bool {
	c.learned = asked
	s.mu.Lock()
	s.gen.Add(1)
	defer s.mu.Unlock()
	if at, gone := s.gone[c.ID]; gone && !at.Before(asked) {
		return false
	}
	if old, ok := s.items[c.ID]; ok && old.learned.After(asked) {
		return false
	}
	s.items[c.ID] = c
	return true
}

// stale marks an entry whose inspect, asked at asked, failed as known only
// from a list, so that readers ask the engine about it until an event or a
// resync brings it back.
func (s *store) stale(id string, asked time.Time) {
	s.mu.Lock()
	s.gen.Add(1)
	defer s.mu.Unlock()
	if c, ok := s.items[id]; ok && !c.learned.After(asked) {
		c.Detailed = false
		s.items[id] = c
	}
}

// drop removes a container found gone at the given time.
func (s *store) drop(id string, at time.Time) {
	s.mu.Lock()
	s.gen.Add(1)
	defer s.mu.Unlock()
	delete(s.items, id)
	s.gone[id] = at
}

func (s *store) setImages(x imageIndex) {
	s.mu.Lock()
	s.gen.Add(1)
	s.images = x
	s.mu.Unlock()
}

// list returns the containers opts selects, newest first, with the IMAGE
// column as docker shows it, and whether the store could answer: false when
// it is out of sync or a filter is one only the engine can evaluate.
func (s *store) list(opts manager.ListOptions) ([]Container, bool) {
	match, ok := compileFilters(opts.Filters)
	if !ok {
		return nil, false
	}
	// A status filter shows stopped containers without All, as the engine does.
	all := opts.All || len(opts.Filters["status"]) > 0
	s.mu.RLock()
	if !s.synced {
		s.mu.RUnlock()
		return nil, false
	}
	out := make([]Container, 0, len(s.items))
	for _, c := range s.items {
		if (all || manager.IsUp(c.State)) && match(c) {
			c.Image = s.images.column(c)
			out = append(out, c)
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, true
}

// exact reports whether list, returned by list, is as the engine would
// list it: every entry inspected (an entry known only from a list is
// ordered to the second and has a frozen status) and the image references
// known.
func (s *store) exact(list []Container) bool {
	s.mu.RLock()
	loaded := s.images.loaded
	s.mu.RUnlock()
	if !loaded {
		return false
	}
	for _, c := range list {
		if !c.Detailed {
			return false
		}
	}
	return true
}

// settled reports whether the store is in sync, knows the images and has
// inspected every container.
func (s *store) settled() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.synced || !s.images.loaded {
		return false
	}
	for _, c := range s.items {
		if !c.Detailed {
			return false
		}
	}
	return true
}

func (s *store) isSynced() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.synced
}

func (s *store) imageTags() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.images.tags)
}
