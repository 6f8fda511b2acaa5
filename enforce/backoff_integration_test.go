package enforce_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/internal/workqueue"
	"github.com/dockman/dockman/manager"
)

// The restart backoff the enforcer promises, docker's restart policy's:
// from 100 ms, doubling, capped at a minute.
const (
	promisedMin = 100 * time.Millisecond
	promisedMax = time.Minute
)

// A snapshot container that fails a second after every start is started
// again and again, each time only after the promised backoff: a crash
// loop must not become a busy loop. Only lower bounds are asserted, so a
// slow machine cannot fail it: every start is recorded before the engine
// is asked, the container then runs at least its second, and the
// enforcer may start it again no sooner than the backoff after it saw it
// die.
func TestEnforcerCrashLoopBackoff(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	m := newManager(t)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	state := t.TempDir()
	scope := enforce.Scope{key: label}
	name := testenv.Name("enf-crash")
	const run = time.Second // the least a run lasts: sleep 1
	id := testenv.RunBusybox(t, c, label, name, container.Config{Cmd: []string{"sh", "-c", "sleep 1; exit 1"}},
		container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled}})
	snap, err := enforce.Take(ctx, m, scope)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Containers[name]; !ok {
		t.Fatalf("the snapshot missed %s: it exited before the snapshot was taken", name)
	}
	e, _ := startEnforcer(ctx, t, m, snap, enforce.Options{StateDir: state, Scope: scope})

	// Seven starts reach a 3.2 s backoff, about 14 s in all.
	const want = 7
	var starts []enforce.Record
	sawBackoff := false
	count := func(n int) func() bool {
		return func() bool {
			if _, ok := e.Status().Backoff[name]; ok {
				sawBackoff = true
			}
			starts = records(t, state, func(r enforce.Record) bool {
				return r.Container == name && r.Action == enforce.KindStart && r.Result == "ok"
			})
			return len(starts) >= n
		}
	}
	// It exits by itself: the engine sends "die" and no "stop".
	waitFor(t, "the enforcer start "+name+" again after it exited by itself", count(1))
	waitFor(t, fmt.Sprintf("%d starts of %s by the enforcer", want, name), count(want))
	if !sawBackoff {
		t.Errorf("Status().Backoff never listed %s", name)
	}
	for i, r := range starts {
		if !strings.HasPrefix(id, r.ID) || r.ID == "" {
			t.Errorf("start %d acted on %q, not on the snapshot's container %.12s", i+1, r.ID, id)
		}
	}
	// The k-th start made the k-th failure in a row when the container
	// died; the next start waits out Backoff(k) after that.
	for k := 1; k < len(starts); k++ {
		gap := starts[k].Time.Sub(starts[k-1].Time)
		least := run + workqueue.Backoff(k, promisedMin, promisedMax)
		if gap < least {
			t.Errorf("start %d came %v after start %d: less than the run (%v) and the backoff after %d failures (%v)",
				k+1, gap, k, run, k, least-run)
		}
		t.Logf("start %d: %v after the one before (at least %v)", k+1, gap, least)
	}
	if got := e.Status().Counts[enforce.KindStart]; got < want {
		t.Errorf("Status().Counts[start] = %d, want at least %d", got, want)
	}
}

// A dry run reports what it would do, and does none of it: a stopped
// snapshot container stays stopped, a deleted one stays deleted, an
// intruder keeps running, nothing is archived, and every record of the
// audit log says "dry-run".
func TestEnforcerDryRunChangesNothing(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	m := newManager(t)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	state := t.TempDir()
	scope := enforce.Scope{key: label}
	stopped, deleted, kept := testenv.Name("enf-dry-stopped"), testenv.Name("enf-dry-deleted"), testenv.Name("enf-dry-kept")
	stoppedID := testenv.RunContainer(t, c, label, stopped, "sleep", "3600")
	deletedID := testenv.RunContainer(t, c, label, deleted, "sleep", "3600")
	testenv.RunContainer(t, c, label, kept, "sleep", "3600")
	snap, err := enforce.Take(ctx, m, scope)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Containers) != 3 {
		t.Fatalf("snapshot holds %v, want the three containers", snap.Names())
	}
	kill := 0
	if err := m.Stop(ctx, stoppedID, manager.StopOptions{Timeout: &kill}); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(ctx, deletedID, manager.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	intruder := testenv.Name("enf-dry-intruder")
	testenv.RunContainer(t, c, label, intruder, "sleep", "3600")
	before := inScope(ctx, t, m, scope)

	var mu sync.Mutex
	var notices []string
	startEnforcer(ctx, t, m, snap, enforce.Options{StateDir: state, Scope: scope, StopTimeout: 1, DryRun: true,
		Notify: func(msg string) {
			mu.Lock()
			notices = append(notices, msg)
			mu.Unlock()
		}})

	want := map[string]enforce.Kind{stopped: enforce.KindStart, deleted: enforce.KindRecreate, intruder: enforce.KindRemove}
	waitFor(t, "dry-run records for "+stopped+", "+deleted+" and "+intruder, func() bool {
		seen := 0
		for name, kind := range want {
			if len(records(t, state, func(r enforce.Record) bool {
				return r.Container == name && r.Action == kind && r.Result == "dry-run"
			})) > 0 {
				seen++
			}
		}
		return seen == len(want)
	})

	after := inScope(ctx, t, m, scope)
	for id, was := range before {
		if now, ok := after[id]; !ok {
			t.Errorf("%s (%.12s) is gone", was, id)
		} else if now != was {
			t.Errorf("%.12s was %s, is %s", id, was, now)
		}
	}
	for id, now := range after {
		if _, ok := before[id]; !ok {
			t.Errorf("a new container: %s (%.12s)", now, id)
		}
	}
	if others := records(t, state, func(r enforce.Record) bool { return r.Result != "dry-run" }); len(others) > 0 {
		t.Errorf("the dry run acted: %+v", others)
	}
	for _, f := range []string{"archive", enforce.SnapshotFile} {
		if _, err := os.Stat(filepath.Join(state, f)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the dry run wrote %s in the state directory (%v)", f, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, n := range notices {
		if !strings.HasPrefix(n, "enforce (dry run): would ") {
			t.Errorf("a notice of the dry run does not say it only would: %q", n)
		}
	}
	if len(notices) == 0 {
		t.Errorf("the dry run told the person nothing")
	}
}

func newManager(t *testing.T) *manager.Manager {
	t.Helper()
	m, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// startEnforcer runs an Enforcer for snap fed by a Watcher of m's engine,
// as TestEnforcerKeepsTheSnapshot does, and stops both at cleanup (before
// the test's containers are removed: cleanups run last in, first out).
func startEnforcer(ctx context.Context, t *testing.T, m *manager.Manager, snap *enforce.Snapshot, opts enforce.Options) (*enforce.Enforcer, *manager.Watcher) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Log = log
	if opts.Notify == nil {
		opts.Notify = func(msg string) { t.Log(msg) }
	}
	e := enforce.New(m, snap, opts)
	w := m.Watch(log)
	w.Subscribe("enforce", e.Handle)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return e, w
}

// records reads the audit log in the state directory and returns the
// records keep accepts, in the order written; none yet is none. A last
// line with no newline is being written: it is left for the next read.
func records(t *testing.T, state string, keep func(enforce.Record) bool) []enforce.Record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, enforce.AuditFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []enforce.Record
	for _, line := range lines[:len(lines)-1] {
		var r enforce.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit log: %v: %q", err, line)
		}
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// inScope returns every container within scope, by ID: its name and
// state.
func inScope(ctx context.Context, t *testing.T, m *manager.Manager, scope enforce.Scope) map[string]string {
	t.Helper()
	var labels []string
	for k, v := range scope {
		labels = append(labels, k+"="+v)
	}
	list, err := m.Containers(ctx, manager.ListOptions{All: true, Filters: map[string][]string{"label": labels}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range list {
		out[c.ID] = strings.Join(c.Names, ",") + " " + string(c.State)
	}
	return out
}
