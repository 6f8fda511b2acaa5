package manager

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
)

func TestStatusText(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		name string
		c    Container
		want string
	}{
		{"not detailed keeps list text", Container{Summary: container.Summary{Status: "Up 3 days"}}, "Up 3 days"},
		{"created", Container{Detailed: true, Summary: container.Summary{State: container.StateCreated}}, "Created"},
		{"running", Container{Detailed: true, Summary: container.Summary{State: container.StateRunning}, StartedAt: ago(5 * time.Minute)}, "Up 5 minutes"},
		{"healthy", Container{Detailed: true, Summary: container.Summary{State: container.StateRunning}, StartedAt: ago(time.Hour), Health: container.Healthy}, "Up About an hour (healthy)"},
		{"starting health", Container{Detailed: true, Summary: container.Summary{State: container.StateRunning}, StartedAt: ago(2 * time.Second), Health: container.Starting}, "Up 2 seconds (health: starting)"},
		{"paused", Container{Detailed: true, Summary: container.Summary{State: container.StatePaused}, StartedAt: ago(10 * time.Second)}, "Up 10 seconds (Paused)"},
		{"restarting", Container{Detailed: true, Summary: container.Summary{State: container.StateRestarting}, ExitCode: 1, FinishedAt: ago(3 * time.Second)}, "Restarting (1) 3 seconds ago"},
		{"exited", Container{Detailed: true, Summary: container.Summary{State: container.StateExited}, ExitCode: 137, StartedAt: ago(time.Hour), FinishedAt: ago(2 * time.Minute)}, "Exited (137) 2 minutes ago"},
		{"dead", Container{Detailed: true, Summary: container.Summary{State: container.StateDead}}, "Dead"},
		{"removing", Container{Detailed: true, Summary: container.Summary{State: container.StateRemoving}}, "Removal In Progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.StatusText(now); got != tt.want {
				t.Errorf("StatusText = %q, want %q", got, tt.want)
			}
		})
	}
}

// offlineInventory is an inventory whose Manager is never called.
func offlineInventory(t *testing.T, list ...container.Summary) *Inventory {
	t.Helper()
	m, err := New("unix:///nonexistent/docker.sock")
	if err != nil {
		t.Fatal(err)
	}
	inv := NewInventory(m)
	inv.Handle(Event{Resync: true, Containers: list})
	return inv
}

func TestInventoryList(t *testing.T) {
	list := []container.Summary{
		{ID: "a1", Names: []string{"/web"}, Created: 3, State: container.StateRunning, Labels: map[string]string{"tier": "front", "team": "a"}},
		{ID: "b2", Names: []string{"/db"}, Created: 2, State: container.StateExited, Labels: map[string]string{"tier": "back"}},
		{ID: "c3", Names: []string{"/web-2"}, Created: 1, State: container.StatePaused},
		{ID: "d4", Names: []string{"/cache"}, Created: 1, State: container.StateCreated},
	}
	inv := offlineInventory(t, list...)
	tests := []struct {
		name    string
		opts    ListOptions
		want    string // IDs, newest first
		decline bool
	}{
		{name: "running only", opts: ListOptions{}, want: "a1 c3"},
		{name: "all", opts: ListOptions{All: true}, want: "a1 b2 c3 d4"},
		{name: "name regexp", opts: ListOptions{All: true, Filters: map[string][]string{"name": {"web"}}}, want: "a1 c3"},
		{name: "name anchored", opts: ListOptions{All: true, Filters: map[string][]string{"name": {"^/web$"}}}, want: "a1"},
		{name: "names ored", opts: ListOptions{All: true, Filters: map[string][]string{"name": {"db", "cache"}}}, want: "b2 d4"},
		{name: "id prefix", opts: ListOptions{All: true, Filters: map[string][]string{"id": {"b"}}}, want: "b2"},
		{name: "label key", opts: ListOptions{All: true, Filters: map[string][]string{"label": {"tier"}}}, want: "a1 b2"},
		{name: "label key=value", opts: ListOptions{All: true, Filters: map[string][]string{"label": {"tier=back"}}}, want: "b2"},
		{name: "labels anded across keys", opts: ListOptions{All: true, Filters: map[string][]string{"label": {"tier=front"}, "name": {"db"}}}, want: ""},
		{name: "status", opts: ListOptions{All: true, Filters: map[string][]string{"status": {"exited", "created"}}}, want: "b2 d4"},
		{name: "ancestor goes to the engine", opts: ListOptions{All: true, Filters: map[string][]string{"ancestor": {"x"}}}, decline: true},
		{name: "bad status goes to the engine", opts: ListOptions{All: true, Filters: map[string][]string{"status": {"sleeping"}}}, decline: true},
		{name: "bad regexp goes to the engine", opts: ListOptions{All: true, Filters: map[string][]string{"name": {"("}}}, decline: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := inv.List(tt.opts)
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
	inv.Handle(Event{Lost: true})
	if _, ok := inv.List(ListOptions{All: true}); ok {
		t.Error("answered after the event stream was lost")
	}
}

func TestFromInspect(t *testing.T) {
	in := container.InspectResponse{
		ID: "abc", Name: "/web", Image: "sha256:img", Path: "sh", Args: []string{"-c", "x"},
		Created: "2026-11-22T10:00:00.5Z",
		State:   &container.State{Status: container.StateExited, ExitCode: 2, StartedAt: "2026-11-22T10:00:01Z", FinishedAt: "2026-11-22T10:05:00Z"},
		Config:  &container.Config{Image: "busybox", Labels: map[string]string{"a": "b"}},
		NetworkSettings: &container.NetworkSettings{Ports: network.PortMap{
			network.MustParsePort("80/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8080"}},
			network.MustParsePort("53/udp"): nil,
		}},
	}
	c := fromInspect(in)
	if !c.Detailed || c.ID != "abc" || Name(c.Summary) != "web" || c.Image != "busybox" || c.ImageID != "sha256:img" || c.Command != "sh -c x" || c.Labels["a"] != "b" {
		t.Errorf("summary = %+v", c.Summary)
	}
	if c.Created != time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).Unix() || c.ExitCode != 2 || c.FinishedAt.IsZero() || c.State != container.StateExited {
		t.Errorf("times/state = %d %d %v %s", c.Created, c.ExitCode, c.FinishedAt, c.State)
	}
	if len(c.Ports) != 2 {
		t.Fatalf("ports = %+v", c.Ports)
	}
	for _, p := range c.Ports {
		if p.PrivatePort == 80 && (p.PublicPort != 8080 || p.IP.String() != "127.0.0.1" || p.Type != "tcp") {
			t.Errorf("port 80 = %+v", p)
		}
		if p.PrivatePort == 53 && (p.PublicPort != 0 || p.Type != "udp") {
			t.Errorf("port 53 = %+v", p)
		}
	}
}

// liveInventory follows the real engine for m (NewLive), and returns its
// Inventory once it has synced. updates receives every ID the inventory stores
// or drops.
func liveInventory(t *testing.T, m *Manager) (*Inventory, <-chan string) {
	t.Helper()
	synced := make(chan struct{}, 1)
	live := NewLive(m, func(ev Event) {
		if ev.Resync {
			select {
			case synced <- struct{}{}:
			default:
			}
		}
	})
	inv := live.Inventory()
	updates := make(chan string, 1024)
	inv.OnUpdate = func(id string) {
		select {
		case updates <- id:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	live.Start(ctx)
	t.Cleanup(func() {
		live.Stop()
		cancel()
	})
	select {
	case <-synced:
	case <-time.After(30 * time.Second):
		t.Fatal("inventory never synced")
	}
	return inv, updates
}

// waitFor reads updates until cond holds for the inventory.
func waitFor(t *testing.T, updates <-chan string, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-updates:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestInventoryFollowsEngine(t *testing.T) {
	c := testenv.Client(t)
	img := testenv.BusyboxImage(t, c)
	_, label := testenv.Label(t, c)
	m, err := New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	inv, updates := liveInventory(t, m)
	byLabel := ListOptions{All: true, Filters: map[string][]string{"label": {testenv.LabelKey + "=" + label}}}
	find := func() (Container, bool) {
		list, ok := inv.List(byLabel)
		if !ok || len(list) != 1 {
			return Container{}, false
		}
		return list[0], true
	}

	// A container made by someone else arrives through events.
	name := testenv.Name("inv")
	id := testenv.RunContainer(t, c, label, name, "sleep", "600")
	waitFor(t, updates, "the running container", func() bool {
		got, ok := find()
		return ok && got.ID == id && got.State == container.StateRunning && got.Detailed
	})
	got, _ := find()
	if Name(got.Summary) != name || !strings.HasPrefix(got.StatusText(time.Now()), "Up ") {
		t.Errorf("entry = %q %q", Name(got.Summary), got.StatusText(time.Now()))
	}

	// This Manager's own changes are visible as soon as the call returns.
	zero := 0
	if err := m.Stop(context.Background(), id, &zero); err != nil {
		t.Fatal(err)
	}
	if got, ok := find(); !ok || got.State != container.StateExited || !strings.HasPrefix(got.StatusText(time.Now()), "Exited (137)") {
		t.Errorf("right after Stop: %+v", got.Summary)
	}
	snap, err := m.Snapshot(context.Background(), byLabel)
	if err != nil || len(snap) != 1 || !strings.HasPrefix(snap[0].Status, "Exited") {
		t.Errorf("Snapshot after Stop = %+v, %v", snap, err)
	}
	if err := m.Remove(context.Background(), id, RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := find(); ok {
		t.Error("removed container still listed")
	}

	// A removal by someone else arrives through events too.
	id2 := testenv.RunContainer(t, c, label, testenv.Name("inv"), "sleep", "600")
	waitFor(t, updates, "the second container", func() bool { got, ok := find(); return ok && got.ID == id2 })
	if _, err := c.ContainerRemove(context.Background(), id2, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, updates, "the removal", func() bool { list, ok := inv.List(byLabel); return ok && len(list) == 0 })

	// Resolve finds a container the inventory has not heard of yet.
	id3, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{
		Name:       testenv.Name("inv"),
		Config:     &container.Config{Image: img, Cmd: []string{"true"}, Labels: map[string]string{testenv.LabelKey: label}},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Resolve(context.Background(), id3.ID[:16])
	if err != nil || res[0].Err != nil || res[0].Container.ID != id3.ID {
		t.Errorf("Resolve fresh container = %+v, %v", res, err)
	}
}

func TestApplyResyncKeepsNewerKnowledge(t *testing.T) {
	t0 := time.Now()
	inv := offlineInventory(t)
	listed := t0.Add(-time.Second) // the resync's list was taken before what follows
	inv.mu.Lock()
	inv.items = map[string]Container{
		"fresh":     {Summary: container.Summary{ID: "fresh", Names: []string{"/fresh"}, State: container.StateExited}, Detailed: true, learned: t0},
		"new":       {Summary: container.Summary{ID: "new", Names: []string{"/new"}, State: container.StateCreated}, Detailed: true, learned: t0},
		"same":      {Summary: container.Summary{ID: "same", Names: []string{"/same"}, State: container.StateRunning}, Detailed: true, StartedAt: listed.Add(-time.Hour), learned: listed.Add(-time.Hour)},
		"restarted": {Summary: container.Summary{ID: "restarted", Names: []string{"/restarted"}, State: container.StateRunning}, Detailed: true, StartedAt: listed.Add(-time.Hour), learned: listed.Add(-time.Hour)},
		"changed":   {Summary: container.Summary{ID: "changed", Names: []string{"/changed"}, State: container.StateRunning}, Detailed: true, learned: listed.Add(-time.Hour)},
		"vanished":  {Summary: container.Summary{ID: "vanished", Names: []string{"/vanished"}, State: container.StateRunning}, Detailed: true, learned: listed.Add(-time.Hour)},
	}
	inv.gone = map[string]time.Time{"removed": t0}
	inv.mu.Unlock()

	stale := inv.applyResync(Event{Resync: true, ListedAt: listed, Containers: []container.Summary{
		{ID: "fresh", Names: []string{"/fresh"}, State: container.StateRunning},                                 // stopped since: keep ours
		{ID: "removed", Names: []string{"/removed"}, State: container.StateRunning},                             // removed since: stay gone
		{ID: "same", Names: []string{"/same"}, State: container.StateRunning, Status: "Up About an hour"},       // unchanged: keep, no inspect
		{ID: "restarted", Names: []string{"/restarted"}, State: container.StateRunning, Status: "Up 2 seconds"}, // restarted unseen: inspect
		{ID: "changed", Names: []string{"/changed"}, State: container.StateExited},                              // changed: take, inspect
		{ID: "other", Names: []string{"/other"}, State: container.StateExited},                                  // unknown: take, inspect
	}})
	list, ok := inv.List(ListOptions{All: true})
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
