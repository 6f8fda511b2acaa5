package enforce_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/manager"
)

const guard = 2 * time.Minute

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Enforcement within a scope: a stopped snapshot container is started, a
// deleted one recreated, an intruder archived and removed, an exempt one
// left alone, and a container squatting a snapshot name removed so that
// the snapshot container can come back.
func TestEnforcerKeepsTheSnapshot(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	m, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	state := t.TempDir()
	scope := enforce.Scope{key: label}
	web, db, squatted := testenv.Name("enf-web"), testenv.Name("enf-db"), testenv.Name("enf-sq")
	webID := testenv.RunContainer(t, c, label, web, "sleep", "3600")
	dbID := testenv.RunContainer(t, c, label, db, "sleep", "3600")
	sqID := testenv.RunContainer(t, c, label, squatted, "sleep", "3600")
	snap, err := enforce.Take(ctx, m, scope)
	if err != nil {
		t.Fatal(err)
	}
	// A squatter takes a snapshot name while enforcement is off.
	if _, err := c.ContainerRemove(ctx, sqID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	squatter := testenv.RunContainer(t, c, label, squatted, "sleep", "3601")

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := enforce.New(m, snap, enforce.Options{StateDir: state, Scope: scope, StopTimeout: 1, Log: log,
		Notify: func(msg string) { t.Log(msg) }})
	w := m.Watch(log)
	w.Subscribe("enforce", e.Handle)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	running := func(name string) (string, bool) {
		list, err := m.Containers(ctx, manager.ListOptions{Filters: map[string][]string{"name": {"^/" + name + "$"}}})
		if err != nil || len(list) != 1 {
			return "", false
		}
		return list[0].ID, true
	}
	waitFor(t, "the squatter removed and "+squatted+" recreated", func() bool {
		id, ok := running(squatted)
		return ok && id != squatter
	})

	timeout := 1
	if err := m.Stop(ctx, webID, manager.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(ctx, dbID, manager.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	exempt := testenv.Name("enf-exempt")
	exemptID := testenv.RunBusybox(t, c, label, exempt, container.Config{Cmd: []string{"sleep", "3600"},
		Labels: map[string]string{enforce.IgnoreLabel: "ignore"}}, container.HostConfig{})
	intruder := testenv.Name("enf-intruder")
	testenv.RunContainer(t, c, label, intruder, "sh", "-c", "echo intruder was here; sleep 3600")

	waitFor(t, web+" started again", func() bool { _, ok := running(web); return ok })
	waitFor(t, db+" recreated", func() bool { id, ok := running(db); return ok && id != dbID })
	waitFor(t, "the intruder removed", func() bool {
		list, _ := m.Containers(ctx, manager.ListOptions{All: true, Filters: map[string][]string{"name": {"^/" + intruder + "$"}}})
		return len(list) == 0
	})
	archives, _ := filepath.Glob(filepath.Join(state, "archive", "*-"+intruder+"-*"))
	if len(archives) != 1 {
		t.Fatalf("archives of the intruder: %v", archives)
	}
	if b, _ := os.ReadFile(filepath.Join(archives[0], "container.log")); !strings.Contains(string(b), "intruder was here") {
		t.Errorf("the archived log lacks the intruder's output: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(archives[0], "inspect.json")); !strings.Contains(string(b), intruder) {
		t.Errorf("the archived inspect output is not the intruder's")
	}
	if id, ok := running(exempt); !ok || id != exemptID {
		t.Errorf("the exempt container was touched")
	}
	audit, _ := os.ReadFile(filepath.Join(state, enforce.AuditFile))
	for _, want := range []string{`"action":"start"`, `"action":"recreate"`, `"action":"remove"`} {
		if !strings.Contains(string(audit), want) {
			t.Errorf("audit log lacks %s:\n%s", want, audit)
		}
	}
}
