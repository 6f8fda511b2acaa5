package inventory

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/manager"
)

// guard bounds every wait of these tests. It is a failure guard, never a
// pacing: nothing waits for it to pass.
const guard = 30 * time.Second

// follow runs an Inventory on the real engine behind m, fed by a Watcher
// as the runner wires it, and returns it once it is in sync. updates
// receives every key the inventory stores, drops or re-lists.
func follow(t *testing.T, m *manager.Manager) (*Inventory, <-chan string) {
	t.Helper()
	return followThrough(t, m, m)
}

// followThrough is follow with the inventory asking eng, which wraps m.
func followThrough(t *testing.T, m *manager.Manager, eng Engine) (*Inventory, <-chan string) {
	t.Helper()
	inv := New(eng, nil)
	updates := make(chan string, 4096)
	inv.OnUpdate = func(key string) {
		select {
		case updates <- key:
		default:
		}
	}
	w := m.Watch(nil)
	w.Subscribe("inventory", inv.Handle)
	ctx := context.Background()
	if err := inv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Stop()
		inv.Stop()
	})
	// A resync queues an image list: its update comes after the resync.
	waitFor(t, updates, "the first resync", inv.Synced)
	return inv, updates
}

// waitFor reads updates until cond holds.
func waitFor(t *testing.T, updates <-chan string, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(guard)
	for !cond() {
		select {
		case <-updates:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func newManager(t *testing.T) *manager.Manager {
	t.Helper()
	m, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestFollowsEngine(t *testing.T) {
	c := testenv.Client(t)
	img := testenv.BusyboxImage(t, c)
	_, label := testenv.Label(t, c)
	m := newManager(t)
	inv, updates := follow(t, m)
	front := inv.Front()
	byLabel := manager.ListOptions{All: true, Filters: map[string][]string{"label": {testenv.LabelKey + "=" + label}}}
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
	if manager.Name(got.Summary) != name || !strings.HasPrefix(got.StatusText(time.Now()), "Up ") {
		t.Errorf("entry = %q %q", manager.Name(got.Summary), got.StatusText(time.Now()))
	}

	// Changes made through the front are visible as soon as the call returns.
	zero := 0
	if err := front.Stop(context.Background(), id, manager.StopOptions{Timeout: &zero}); err != nil {
		t.Fatal(err)
	}
	if got, ok := find(); !ok || got.State != container.StateExited || !strings.HasPrefix(got.StatusText(time.Now()), "Exited (137)") {
		t.Errorf("right after Stop: %+v", got.Summary)
	}
	listed, err := front.Containers(context.Background(), byLabel)
	if err != nil || len(listed) != 1 || !strings.HasPrefix(listed[0].Status, "Exited") {
		t.Errorf("Containers after Stop = %+v, %v", listed, err)
	}
	if err := front.Remove(context.Background(), id, manager.RemoveOptions{}); err != nil {
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
	res, err := front.Resolve(context.Background(), id3.ID[:16])
	if err != nil || res[0].Err != nil || res[0].Container.ID != id3.ID {
		t.Errorf("Resolve fresh container = %+v, %v", res, err)
	}
}

func TestAgreesWithEngine(t *testing.T) {
	c := testenv.Client(t)
	_, value := testenv.Label(t, c)
	token := testenv.Name("agree")
	create := func(name string, labels map[string]string, cmd ...string) string {
		t.Helper()
		labels[testenv.LabelKey] = value
		res, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{
			Name:       name,
			Config:     &container.Config{Image: testenv.BusyboxImage(t, c), Cmd: cmd, Labels: labels},
			HostConfig: &container.HostConfig{NetworkMode: "none"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	start := func(id string) {
		t.Helper()
		if _, err := c.ContainerStart(context.Background(), id, client.ContainerStartOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	web := create(token+"-web", map[string]string{"dmt.role": "web", "dmt.tier": "front"}, "sleep", "600")
	start(web)
	db := create(token+"-db", map[string]string{"dmt.role": "db"}, "true")
	start(db)
	wait := c.ContainerWait(context.Background(), db, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-wait.Result:
	case err := <-wait.Error:
		t.Fatal(err)
	}
	cache := create(token+"-cache", map[string]string{"dmt.role": "web"}, "true") // never started
	mine := []string{web, db, cache}

	m := newManager(t)
	inv, _ := follow(t, m)

	label := testenv.LabelKey + "=" + value
	tests := []struct {
		name    string
		all     bool
		filters map[string][]string
	}{
		{"label", true, map[string][]string{"label": {label}}},
		{"label, running only", false, map[string][]string{"label": {label}}},
		{"status without all", false, map[string][]string{"label": {label}, "status": {"exited"}}},
		{"two statuses without all", false, map[string][]string{"label": {label}, "status": {"created", "exited"}}},
		{"two statuses", true, map[string][]string{"label": {label}, "status": {"created", "running"}}},
		{"name substring", true, map[string][]string{"name": {token}}},
		{"name anchored with slash", true, map[string][]string{"name": {"^/" + token + "-web$"}}},
		{"name anchored without slash", true, map[string][]string{"name": {"^" + token + "-web$"}}},
		{"two names", true, map[string][]string{"name": {token + "-db", token + "-cache"}}},
		{"id prefix", true, map[string][]string{"id": {web[:12]}}},
		{"id middle", true, map[string][]string{"id": {db[20:40]}}},
		{"id with a caret", true, map[string][]string{"id": {"^" + web[:12]}}},
		{"full id", true, map[string][]string{"id": {cache}}},
		{"label key only", true, map[string][]string{"label": {label, "dmt.role"}}},
		{"two labels must both match", true, map[string][]string{"label": {label, "dmt.role=web"}}},
		{"three labels must all match", true, map[string][]string{"label": {label, "dmt.role=web", "dmt.tier=front"}}},
		{"label and status", true, map[string][]string{"label": {label, "dmt.role=web"}, "status": {"created"}}},
	}
	// keep narrows a list to this test's containers: the engine is shared.
	keep := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			if slices.Contains(mine, id) {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := manager.ListOptions{All: tt.all, Filters: tt.filters}
			cached, answered := inv.List(opts)
			if !answered {
				t.Skip("the inventory leaves this one to the engine")
			}
			live, err := m.Containers(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var liveIDs, cachedIDs []string
			for _, c := range live {
				liveIDs = append(liveIDs, c.ID)
			}
			for _, c := range cached {
				cachedIDs = append(cachedIDs, c.ID)
			}
			if got, want := keep(cachedIDs), keep(liveIDs); !slices.Equal(got, want) {
				t.Errorf("inventory lists %s, the engine %s (web %s, db %s, cache %s)",
					got, want, manager.ShortID(web), manager.ShortID(db), manager.ShortID(cache))
			}
		})
	}
}

// countingEngine counts the network and volume lists made through it.
type countingEngine struct {
	*manager.Manager
	networkLists, volumeLists atomic.Int32
}

func (c *countingEngine) Networks(ctx context.Context) ([]string, error) {
	c.networkLists.Add(1)
	return c.Manager.Networks(ctx)
}

func (c *countingEngine) Volumes(ctx context.Context) ([]string, error) {
	c.volumeLists.Add(1)
	return c.Manager.Volumes(ctx)
}

// TestNamesFollowEngine: a network and a volume made by someone else
// appear in the inventory through their events, are read from memory
// (completion reads them on every key) and go when removed.
func TestNamesFollowEngine(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c) // its cleanup removes the network and volume if the test does not
	m := newManager(t)
	eng := &countingEngine{Manager: m}
	inv, updates := followThrough(t, m, eng)
	ctx := context.Background()
	labels := map[string]string{testenv.LabelKey: label}

	netName, volName := testenv.Name("net"), testenv.Name("vol")
	// Internal: no route out, and no traffic is sent on it.
	netRes, err := c.NetworkCreate(ctx, netName, client.NetworkCreateOptions{Internal: true, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: volName, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, updates, "the new network and volume", func() bool {
		return slices.Contains(inv.Networks(), netName) && slices.Contains(inv.Volumes(), volName)
	})
	nets, vols := eng.networkLists.Load(), eng.volumeLists.Load()
	for range 100 {
		if !slices.Contains(inv.Networks(), netName) || !slices.Contains(inv.Volumes(), volName) {
			t.Fatal("a name known went missing")
		}
	}
	if eng.networkLists.Load() != nets || eng.volumeLists.Load() != vols {
		t.Errorf("reading the names listed networks %d and volumes %d times", eng.networkLists.Load()-nets, eng.volumeLists.Load()-vols)
	}

	if _, err := c.NetworkRemove(ctx, netRes.ID, client.NetworkRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VolumeRemove(ctx, volName, client.VolumeRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, updates, "the network and volume to go", func() bool {
		return !slices.Contains(inv.Networks(), netName) && !slices.Contains(inv.Volumes(), volName)
	})
}
