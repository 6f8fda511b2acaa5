//go:build faulttest

package enforce_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/manager"
)

// TestFaultEngineRestartEnforce restarts dockerd itself while enforcement
// runs within a scope: the engine brings back only the container whose
// restart policy says so, the event stream and every call fail while it
// is away, and once it is back a snapshot container is deleted and an
// intruder started. The host must converge to the snapshot all the same:
// every snapshot name running (the deleted one as a new container), the
// intruder archived and gone. The enforcer sees the engine's shutdown
// (its containers die while the API still answers) and may act during
// it. It disturbs every other user of the engine, so it runs on its own:
// make fault-test (with DOCKER_HOST, on a private engine).
func TestFaultEngineRestartEnforce(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	m := newManager(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*guard)
	defer cancel()
	state := t.TempDir()
	scope := enforce.Scope{key: label}
	sleep := container.Config{Cmd: []string{"sleep", "3600"}}
	no, always, doomed := testenv.Name("enf-fault-no"), testenv.Name("enf-fault-always"), testenv.Name("enf-fault-doomed")
	noID := testenv.RunBusybox(t, c, label, no, sleep,
		container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled}})
	alwaysID := testenv.RunBusybox(t, c, label, always, sleep,
		container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways}})
	doomedID := testenv.RunContainer(t, c, label, doomed, "sleep", "3600")
	snap, err := enforce.Take(ctx, m, scope)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Containers) != 3 {
		t.Fatalf("snapshot holds %v, want the three containers", snap.Names())
	}
	info, err := c.Info(ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	liveRestore := info.Info.LiveRestoreEnabled

	e, w := startEnforcer(ctx, t, m, snap, enforce.Options{StateDir: state, Scope: scope, StopTimeout: 1})
	// Enforcement runs, and sees the engine go: the events of its
	// shutdown (containers killed, "die") reach it while it lasts.
	waitFor(t, "the enforcer's event stream connected", func() bool { up, _ := w.Connected(); return up })
	testenv.RestartEngine(t)

	// The engine is back. Whatever the enforcer has done so far, one
	// snapshot container goes and an intruder comes. The container of
	// that name may be a new one already, or none, if the enforcer was
	// recreating it as the engine went.
	gone := map[string]bool{doomedID: true}
	if ins, err := c.ContainerInspect(ctx, doomed, client.ContainerInspectOptions{}); err == nil {
		gone[ins.Container.ID] = true
		if _, err := c.ContainerRemove(ctx, ins.Container.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
	} else if !cerrdefs.IsNotFound(err) {
		t.Fatal(err)
	}
	intruder := testenv.Name("enf-fault-intruder")
	startIntruder(ctx, t, c, label, intruder)

	running := func(name string) (string, bool) {
		list, err := m.Containers(ctx, manager.ListOptions{Filters: map[string][]string{"name": {"^/" + name + "$"}}})
		if err != nil || len(list) != 1 {
			return "", false
		}
		return list[0].ID, true
	}
	// Running under its name is what the snapshot asks; the same
	// container is what a person would hope for, but one that the
	// engine's restart broke may have had to be made again.
	waitFor(t, no+" (restart policy no) running again", func() bool { _, ok := running(no); return ok })
	waitFor(t, always+" (restart policy always) running", func() bool { _, ok := running(always); return ok })
	waitFor(t, doomed+" recreated", func() bool { id, ok := running(doomed); return ok && !gone[id] })
	for name, id := range map[string]string{no: noID, always: alwaysID} {
		if now, _ := running(name); now != id {
			t.Logf("%s was recreated: %.12s, was %.12s", name, now, id)
		}
	}
	waitFor(t, "the intruder removed", func() bool {
		list, err := m.Containers(ctx, manager.ListOptions{All: true, Filters: map[string][]string{"name": {"^/" + intruder + "$"}}})
		return err == nil && len(list) == 0
	})
	archives, _ := filepath.Glob(filepath.Join(state, "archive", "*-"+intruder+"-*"))
	if len(archives) != 1 {
		t.Fatalf("archives of the intruder: %v", archives)
	}
	if b, _ := os.ReadFile(filepath.Join(archives[0], "inspect.json")); !strings.Contains(string(b), intruder) {
		t.Errorf("the archived inspect output is not the intruder's")
	}
	// The engine does not start a container whose policy is "no" when it
	// comes back (unless it kept it running: live restore): the enforcer
	// did.
	if !liveRestore && len(records(t, state, func(r enforce.Record) bool {
		return r.Container == no && (r.Action == enforce.KindStart || r.Action == enforce.KindRecreate) && r.Result == "ok"
	})) == 0 {
		t.Errorf("no start of %s in the audit log", no)
	}
	if len(records(t, state, func(r enforce.Record) bool {
		return r.Container == doomed && r.Action == enforce.KindRecreate && r.Result == "ok"
	})) == 0 {
		t.Errorf("no recreate of %s in the audit log", doomed)
	}
	counts := e.Status().Counts
	if counts[enforce.KindRecreate] == 0 || counts[enforce.KindRemove] == 0 {
		t.Errorf("Status counts no recreate or no removal: %v", counts)
	}
}

// startIntruder creates and starts a container within the test's label,
// as docker run would. The enforcer may remove it between the two (it
// acts on the create event): a start that finds it gone is no failure.
func startIntruder(ctx context.Context, t *testing.T, c *client.Client, label, name string) {
	t.Helper()
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name,
		Config:     &container.Config{Image: testenv.BusyboxImage(t, c), Cmd: []string{"sleep", "3600"}, Labels: map[string]string{testenv.LabelKey: label}},
		HostConfig: &container.HostConfig{NetworkMode: "none"}})
	if err != nil {
		t.Fatalf("create the intruder: %v", err)
	}
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		t.Fatalf("start the intruder: %v", err)
	}
}
