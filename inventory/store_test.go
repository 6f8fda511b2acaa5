package inventory

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/manager"
)

func TestStoreList(t *testing.T) {
	list := []container.Summary{
		{ID: "a1", Names: []string{"/web"}, Created: 3, State: container.StateRunning, Labels: map[string]string{"tier": "front", "team": "a"}},
		{ID: "b2", Names: []string{"/db"}, Created: 2, State: container.StateExited, Labels: map[string]string{"tier": "back"}},
		{ID: "c3", Names: []string{"/web-2"}, Created: 1, State: container.StatePaused},
		{ID: "d4", Names: []string{"/cache"}, Created: 1, State: container.StateCreated},
	}
	s := newStore()
	s.resync(list, time.Now())
	tests := []struct {
		name    string
		opts    manager.ListOptions
		want    string // IDs, newest first
		decline bool
	}{
		{name: "running only", opts: manager.ListOptions{}, want: "a1 c3"},
		{name: "all", opts: manager.ListOptions{All: true}, want: "a1 b2 c3 d4"},
		{name: "name regexp", opts: manager.ListOptions{All: true, Filters: map[string][]string{"name": {"web"}}}, want: "a1 c3"},
		{name: "name anchored", opts: manager.ListOptions{All: true, Filters: map[string][]string{"name": {"^/web$"}}}, want: "a1"},
		{name: "names ored", opts: manager.ListOptions{All: true, Filters: map[string][]string{"name": {"db", "cache"}}}, want: "b2 d4"},
		{name: "id prefix", opts: manager.ListOptions{All: true, Filters: map[string][]string{"id": {"b"}}}, want: "b2"},
		{name: "label key", opts: manager.ListOptions{All: true, Filters: map[string][]string{"label": {"tier"}}}, want: "a1 b2"},
		{name: "label key=value", opts: manager.ListOptions{All: true, Filters: map[string][]string{"label": {"tier=back"}}}, want: "b2"},
		{name: "labels anded across keys", opts: manager.ListOptions{All: true, Filters: map[string][]string{"label": {"tier=front"}, "name": {"db"}}}, want: ""},
		{name: "status", opts: manager.ListOptions{All: true, Filters: map[string][]string{"status": {"exited", "created"}}}, want: "b2 d4"},
		{name: "ancestor goes to the engine", opts: manager.ListOptions{All: true, Filters: map[string][]string{"ancestor": {"x"}}}, decline: true},
		{name: "bad status goes to the engine", opts: manager.ListOptions{All: true, Filters: map[string][]string{"status": {"sleeping"}}}, decline: true},
		{name: "bad regexp goes to the engine", opts: manager.ListOptions{All: true, Filters: map[string][]string{"name": {"("}}}, decline: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.list(tt.opts)
			if ok == tt.decline {
				t.Fatalf("answered = %v, want %v", ok, !tt.decline)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			if strings.Join(ids, " ") != tt.want {
				t.Errorf("IDs = %q, want %q", strings.Join(ids, " "), tt.want)
			}
		})
	}
	s.lost()
	if _, ok := s.list(manager.ListOptions{All: true}); ok {
		t.Error("answered after the event stream was lost")
	}
}

func TestResyncKeepsNewerKnowledge(t *testing.T) {
	t0 := time.Now()
	s := newStore()
	listed := t0.Add(-time.Second) // the resync's list was taken before what follows
	s.mu.Lock()
	s.items = map[string]Container{
		"fresh":     {Summary: container.Summary{ID: "fresh", Names: []string{"/fresh"}, State: container.StateExited}, Detailed: true, learned: t0},
		"new":       {Summary: container.Summary{ID: "new", Names: []string{"/new"}, State: container.StateCreated}, Detailed: true, learned: t0},
		"same":      {Summary: container.Summary{ID: "same", Names: []string{"/same"}, State: container.StateRunning}, Detailed: true, StartedAt: listed.Add(-time.Hour), learned: listed.Add(-time.Hour)},
		"restarted": {Summary: container.Summary{ID: "restarted", Names: []string{"/restarted"}, State: container.StateRunning}, Detailed: true, StartedAt: listed.Add(-time.Hour), learned: listed.Add(-time.Hour)},
		"changed":   {Summary: container.Summary{ID: "changed", Names: []string{"/changed"}, State: container.StateRunning}, Detailed: true, learned: listed.Add(-time.Hour)},
		"vanished":  {Summary: container.Summary{ID: "vanished", Names: []string{"/vanished"}, State: container.StateRunning}, Detailed: true, learned: listed.Add(-time.Hour)},
	}
	s.gone = map[string]time.Time{"removed": t0}
	s.mu.Unlock()

	stale := s.resync([]container.Summary{
		{ID: "fresh", Names: []string{"/fresh"}, State: container.StateRunning},                                 // stopped since: keep ours
		{ID: "removed", Names: []string{"/removed"}, State: container.StateRunning},                             // removed since: stay gone
		{ID: "same", Names: []string{"/same"}, State: container.StateRunning, Status: "Up About an hour"},       // unchanged: keep, no inspect
		{ID: "restarted", Names: []string{"/restarted"}, State: container.StateRunning, Status: "Up 2 seconds"}, // restarted unseen: inspect
		{ID: "changed", Names: []string{"/changed"}, State: container.StateExited},                              // changed: take, inspect
		{ID: "other", Names: []string{"/other"}, State: container.StateExited},                                  // unknown: take, inspect
	}, listed)
	list, ok := s.list(manager.ListOptions{All: true})
	if !ok {
		t.Fatal("not synced after a resync")
	}
	got := map[string]container.ContainerState{}
	for _, c := range list {
		got[c.ID] = c.State
	}
	want := map[string]container.ContainerState{
		"fresh": container.StateExited, "new": container.StateCreated, "same": container.StateRunning, "restarted": container.StateRunning,
		"changed": container.StateExited, "other": container.StateExited,
	}
	if !maps.Equal(got, want) {
		t.Errorf("after resync: %v, want %v", got, want)
	}
	slices.Sort(stale)
	if !slices.Equal(stale, []string{"changed", "other", "restarted"}) {
		t.Errorf("to inspect: %q, want [changed other restarted]", stale)
	}
}

// TestResyncOutranksOlderInspects: an inspect asked before a resync's list
// was taken and answered after it is older knowledge than the list. It must
// neither bring back a container the list dropped (its destroy event lost)
// nor overwrite one the list confirmed.
func TestResyncOutranksOlderInspects(t *testing.T) {
	t0 := time.Now()
	asked, listed := t0, t0.Add(time.Second)
	s := newStore()
	running := container.Summary{ID: "kept", Names: []string{"/kept"}, State: container.StateRunning, Status: "Up 1 second"}
	s.resync([]container.Summary{
		{ID: "dropped", Names: []string{"/dropped"}, State: container.StateRunning},
		running,
	}, t0.Add(-time.Minute))
	kept := Container{Summary: running, Detailed: true, StartedAt: listed.Add(-time.Second)}
	if !s.put(kept, t0.Add(-time.Second)) {
		t.Fatal("the first inspect of kept was not stored")
	}

	// Inspects asked at `asked`; the list at `listed` says dropped is gone
	// and kept is as known; then the inspects answer.
	s.resync([]container.Summary{running}, listed)
	if s.put(Container{Summary: container.Summary{ID: "dropped", Names: []string{"/dropped"}, State: container.StateRunning}, Detailed: true}, asked) {
		t.Error("an inspect older than the list brought back a container the list dropped")
	}
	stale := kept
	stale.State = container.StateExited
	if s.put(stale, asked) {
		t.Error("an inspect older than the list overwrote what the list confirmed")
	}
	list, _ := s.list(manager.ListOptions{All: true})
	if len(list) != 1 || list[0].ID != "kept" || list[0].State != container.StateRunning {
		t.Errorf("after the resync and the late inspects: %+v", list)
	}
	// An inspect asked after the list wins, as ever.
	if !s.put(stale, listed.Add(time.Millisecond)) {
		t.Error("an inspect newer than the list was refused")
	}
}
