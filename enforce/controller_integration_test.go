package enforce_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/manager"
)

// ctlRig is a Controller fed by its own Watcher, as the shell runs it.
type ctlRig struct {
	ctl     *enforce.Controller
	mu      sync.Mutex
	notices []string
	stop    func()
}

func (r *ctlRig) said(prefix string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.notices {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// startController starts a Controller on state within scope, with a
// Watcher as the runner gives it; stop stops both (as dockman exiting).
func startController(t *testing.T, m *manager.Manager, state string, scope enforce.Scope) *ctlRig {
	t.Helper()
	r := &ctlRig{}
	r.ctl = enforce.NewController(m, enforce.Options{StateDir: state, Scope: scope, StopTimeout: 1,
		Notify: func(msg string) {
			t.Log(msg)
			r.mu.Lock()
			r.notices = append(r.notices, msg)
			r.mu.Unlock()
		}})
	ctx, cancel := context.WithCancel(context.Background())
	w := m.Watch(nil)
	w.Subscribe("enforce", r.ctl.Handle)
	if err := r.ctl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			w.Stop()
			r.ctl.Stop()
			cancel()
		})
	}
	t.Cleanup(r.stop)
	return r
}

// ctlSetup gives a test its engine client, its label (key and value), a
// Manager, the scope of its label and a state directory.
func ctlSetup(t *testing.T) (c *client.Client, key, label string, m *manager.Manager, scope enforce.Scope, state string) {
	t.Helper()
	c = testenv.Client(t)
	key, label = testenv.Label(t, c)
	return c, key, label, newManager(t), enforce.Scope{key: label}, t.TempDir()
}

// engineState is every container in scope, by name: ID and state.
func engineState(t *testing.T, m *manager.Manager, scope enforce.Scope) map[string]string {
	t.Helper()
	var labels []string
	for k, v := range scope {
		labels = append(labels, k+"="+v)
	}
	list, err := m.Containers(context.Background(), manager.ListOptions{All: true, Filters: map[string][]string{"label": labels}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range list {
		out[manager.Name(c)] = c.ID + " " + string(c.State)
	}
	return out
}

// The snapshot and "on" outlive dockman: a Controller started again on
// the same state directory resumes, and brings back a snapshot container
// deleted while none ran. A plan, before that, acts on nothing.
func TestSnapshotSurvivesRestart(t *testing.T) {
	c, _, label, m, scope, state := ctlSetup(t)
	ctx := context.Background()
	web, db := testenv.Name("ctl-web"), testenv.Name("ctl-db")
	// steady keeps running: the plan at restart removes one of two
	// running containers, not more than half (that would hold it).
	testenv.RunContainer(t, c, label, testenv.Name("ctl-steady"), "sleep", "3600")
	testenv.RunContainer(t, c, label, web, "sleep", "3600")
	dbID := testenv.RunContainer(t, c, label, db, "sleep", "3600")

	first := startController(t, m, state, scope)
	res, err := first.ctl.On(ctx, enforce.OnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Taken || !res.Here || len(res.Preview.Snapshot.Containers) != 3 {
		t.Fatalf("On: taken %v, here %v, snapshot %v", res.Taken, res.Here, res.Preview.Snapshot.Names())
	}
	first.stop()

	// While no dockman runs: db deleted, web stopped, an intruder.
	if _, err := c.ContainerRemove(ctx, dbID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	timeout := 1
	if err := m.Stop(ctx, web, manager.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	intruder := testenv.Name("ctl-intruder")
	testenv.RunContainer(t, c, label, intruder, "sleep", "3600")

	// A Controller that is not started (a script) plans, and acts on
	// nothing.
	idle := enforce.NewController(m, enforce.Options{StateDir: state, Scope: scope})
	before := engineState(t, m, scope)
	p, err := idle.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]enforce.Kind{}
	for _, a := range p.Actions {
		kinds[a.Name] = a.Kind
	}
	want := map[string]enforce.Kind{web: enforce.KindStart, db: enforce.KindRecreate, intruder: enforce.KindRemove}
	for name, k := range want {
		if kinds[name] != k {
			t.Errorf("plan for %s: %q, want %q (plan %+v)", name, kinds[name], k, p.Actions)
		}
	}
	if after := engineState(t, m, scope); !maps.Equal(before, after) {
		t.Fatalf("the plan changed the engine: before %v, after %v", before, after)
	}

	second := startController(t, m, state, scope)
	waitFor(t, "the resume notice", func() bool { return second.said("enforce: on, as when dockman last ran") })
	waitFor(t, "the host back to the snapshot", func() bool {
		s := engineState(t, m, scope)
		_, in := s[intruder]
		return strings.HasSuffix(s[web], " running") && strings.HasSuffix(s[db], " running") && !in
	})
	snap, _ := second.ctl.Snapshot()
	if owner := snap.Owned[db]; owner == "" || owner == dbID {
		t.Errorf("the recreated %s's ID is not recorded as its owner: %q", db, owner)
	}
	if saved, err := enforce.LoadSnapshot(filepath.Join(state, enforce.SnapshotFile)); err != nil || saved.Owned[db] != snap.Owned[db] {
		t.Errorf("the owner is not saved: %v, %v", err, saved)
	}
}

// One enforcer per state directory: a second Controller on it can neither
// turn enforcement on nor edit the snapshot while the first enforces. A
// script (not started) needs --force for an empty snapshot.
func TestOneEnforcerPerStateDir(t *testing.T) {
	c, _, label, m, scope, state := ctlSetup(t)
	ctx := context.Background()
	name := testenv.Name("ctl-one")
	testenv.RunContainer(t, c, label, name, "sleep", "3600")

	script := enforce.NewController(m, enforce.Options{StateDir: state, Scope: scope})
	if _, err := script.AddToSnapshot(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := script.RemoveFromSnapshot(name); err != nil {
		t.Fatal(err)
	}
	if _, err := script.On(ctx, enforce.OnOptions{}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("On with an empty snapshot and no one to ask: %v, want a --force error", err)
	}
	if _, err := os.Stat(filepath.Join(state, enforce.StateFile)); err == nil {
		t.Errorf("a refused On saved the state")
	}
	if _, err := script.AddToSnapshot(ctx, name); err != nil {
		t.Fatal(err)
	}

	first := startController(t, m, state, scope)
	if _, err := first.ctl.On(ctx, enforce.OnOptions{}); err != nil {
		t.Fatal(err)
	}
	second := startController(t, m, state, scope)
	if _, err := second.ctl.On(ctx, enforce.OnOptions{Force: true}); err == nil || !strings.Contains(err.Error(), "enforces with this state directory") {
		t.Errorf("a second enforcer on the state directory: %v", err)
	}
	if err := second.ctl.RemoveFromSnapshot(name); err == nil || !strings.Contains(err.Error(), "edit the snapshot there") {
		t.Errorf("an edit beside the enforcer: %v", err)
	}
	if _, err := first.ctl.Off(); err != nil {
		t.Fatal(err)
	}
	if _, err := second.ctl.On(ctx, enforce.OnOptions{}); err != nil {
		t.Errorf("after the first turned off: %v", err)
	}
}

// A snapshot container outside the scope is refused (enforcement, which
// lists within the scope, would never see it), and a Controller resumes
// nothing that would now remove most of what runs.
func TestScopeAndDrasticResume(t *testing.T) {
	c, key, label, m, scope, state := ctlSetup(t)
	ctx := context.Background()
	name := testenv.Name("ctl-scope")
	testenv.RunContainer(t, c, label, name, "sleep", "3600")
	outside := testenv.Name("ctl-outside")
	testenv.RunBusybox(t, c, label, outside, container.Config{Cmd: []string{"sleep", "3600"},
		Labels: map[string]string{key: label + "-not"}}, container.HostConfig{})

	script := enforce.NewController(m, enforce.Options{StateDir: state, Scope: scope})
	if _, err := script.AddToSnapshot(ctx, outside); err == nil || !strings.Contains(err.Error(), "outside the scope") {
		t.Fatalf("adding a container outside the scope: %v", err)
	}
	if _, err := script.On(ctx, enforce.OnOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		testenv.RunContainer(t, c, label, testenv.Name("ctl-new"+string(rune('a'+i))), "sleep", "3600")
	}
	r := startController(t, m, state, scope)
	waitFor(t, "the notice that enforcement was not resumed", func() bool {
		return r.said("enforce: was on, but now would remove 2 of the 3 running containers: not resumed")
	})
	if r.ctl.Running() {
		t.Fatal("resumed a drastic plan")
	}
	other := enforce.NewController(m, enforce.Options{StateDir: state}) // no scope
	if _, err := other.Plan(ctx); err == nil || !strings.Contains(err.Error(), "taken in scope") {
		t.Errorf("planning a snapshot in another scope: %v", err)
	}
}

// A deleted snapshot container whose image is gone too cannot come
// back: the status says why, and it is retried with backoff (the audit
// log holds more than one failed attempt), not dropped.
func TestRecreateImageGone(t *testing.T) {
	c, _, label, m, scope, state := ctlSetup(t)
	ctx := context.Background()
	// An image of its own: the busybox one with a layer only this test has.
	base := testenv.RunContainer(t, c, label, testenv.Name("ctl-base"), "sh", "-c", "echo "+label+" >/mark; sleep 3600")
	waitFor(t, "the mark written", func() bool {
		_, err := c.ContainerStatPath(ctx, base, client.ContainerStatPathOptions{Path: "/mark"})
		return err == nil
	})
	ref := "dockman-test/gone:" + label
	if _, err := c.ContainerCommit(ctx, base, client.ContainerCommitOptions{Reference: ref}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true}) })
	name := testenv.Name("ctl-gone")
	id := testenv.RunBusybox(t, c, label, name, container.Config{Image: ref, Cmd: []string{"sleep", "3600"}}, container.HostConfig{})
	script := enforce.NewController(m, enforce.Options{StateDir: state, Scope: scope})
	if _, err := script.AddToSnapshot(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImageRemove(ctx, ref, client.ImageRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}

	r := startController(t, m, state, scope)
	if _, err := r.ctl.On(ctx, enforce.OnOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the status to say the image is gone", func() bool {
		st, err := r.ctl.Status()
		return err == nil && strings.Contains(st.Failing[name], "its image") && strings.Contains(st.Failing[name], "is gone")
	})
	waitFor(t, "a retry", func() bool {
		b, _ := os.ReadFile(filepath.Join(state, enforce.AuditFile))
		return strings.Count(string(b), `"container":"`+name+`","action":"recreate"`) >= 2
	})
}

// A shell that does not enforce yet sees what a script added to the
// snapshot meanwhile: enforce on reads the file again, and the container
// added is kept, not taken for an intruder.
func TestOnReadsTheSnapshotAgain(t *testing.T) {
	c, _, label, m, scope, state := ctlSetup(t)
	ctx := context.Background()
	first, added := testenv.Name("ctl-first"), testenv.Name("ctl-added")
	testenv.RunContainer(t, c, label, first, "sleep", "3600")
	shell := startController(t, m, state, scope)
	if _, err := shell.ctl.TakeSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	testenv.RunContainer(t, c, label, added, "sleep", "3600")
	script := enforce.NewController(m, enforce.Options{StateDir: state, Scope: scope})
	if _, err := script.AddToSnapshot(ctx, added); err != nil {
		t.Fatal(err)
	}
	res, err := shell.ctl.On(ctx, enforce.OnOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range res.Preview.Actions {
		if a.Kind != enforce.KindLeave {
			t.Errorf("planned %s %s: %s", a.Kind, a.Name, a.Reason)
		}
	}
	if names := res.Preview.Snapshot.Names(); len(names) != 2 {
		t.Errorf("enforcing %v, want both containers", names)
	}
}

// A snapshot container whose process ends by itself is started again:
// the engine's list may still say running right after the die event, so
// the enforcer must not trust it (it inspects).
func TestRestartsWhatExitsByItself(t *testing.T) {
	c, _, label, m, scope, state := ctlSetup(t)
	ctx := context.Background()
	name := testenv.Name("ctl-exits")
	testenv.RunContainer(t, c, label, name, "sh", "-c", "sleep 2")
	r := startController(t, m, state, scope)
	if _, err := r.ctl.On(ctx, enforce.OnOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, name+" started again twice", func() bool {
		b, _ := os.ReadFile(filepath.Join(state, enforce.AuditFile))
		return strings.Count(string(b), `"container":"`+name+`","id":`) >= 2 &&
			strings.Count(string(b), `"action":"start"`) >= 2
	})
}
