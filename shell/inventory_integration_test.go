package shell

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/inventory"
	"github.com/dockman/dockman/manager"
	"github.com/dockman/dockman/runner"
)

// The interactive shell serves ps and name resolution from an event-fed
// Inventory, script mode asks the engine every time. These tests check that
// both print the same thing.

// notifier is a broadcast: wait returns a channel closed at the next notify.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func newNotifier() *notifier { return &notifier{ch: make(chan struct{})} }

func (n *notifier) notify() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

// inventoryEngine returns the Engine the interactive shell uses (the
// inventory's Front), wired by a runner as main wires it, once the
// inventory is in sync. The notifier fires after every update of the
// inventory.
func inventoryEngine(t *testing.T) (Engine, *inventory.Inventory, *notifier) {
	t.Helper()
	mgr, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	parts := runner.New(mgr, runner.Options{})
	inv := parts.Inventory()
	updates := newNotifier()
	inv.OnUpdate = func(string) { updates.notify() }
	if err := parts.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		parts.Stop()
		_ = mgr.Close()
	})
	// The first resync queues an image list, whose update follows it.
	timeout := time.After(guard)
	for !inv.Synced() {
		select {
		case <-updates.wait():
		case <-timeout:
			t.Fatal("the inventory never synced")
		}
	}
	return inv.Front(), inv, updates
}

// waitSynced waits until the inventory's view of the connection is want.
// The inventory learns it on its own subscription to the Watcher, just
// after the test's handler has: the wait is short.
func waitSynced(t *testing.T, inv *inventory.Inventory, want bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for inv.Synced() != want {
		if time.Now().After(deadline) {
			t.Fatalf("the inventory never became synced=%v", want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clockRE matches what changes with the clock in a listing (go-units'
// HumanDuration, and the creation time of the JSON form).
var clockRE = regexp.MustCompile(`Less than a second|About an? (minute|hour)|\d+ (second|minute|hour|day|week|month|year)s?|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [-+]\d{4} \w+`)

var wideGap = regexp.MustCompile(`  +`)

// normalize makes two listings taken moments apart comparable: clock
// phrases become <T>, and column padding (which follows them) one gap.
func normalize(s string) string {
	return wideGap.ReplaceAllString(clockRE.ReplaceAllString(s, "<T>"), "  ")
}

func TestInventoryMatchesLive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	live := newSession(f.eng, Options{})
	netName := newNetwork(t, f)

	upName, exitedName, createdName, pubName := testenv.Name("inv-up"), testenv.Name("inv-exited"), testenv.Name("inv-created"), testenv.Name("inv-pub")
	up := f.sleeper(t, upName)
	exited := f.create(t, exitedName, container.Config{Cmd: []string{"sh", "-c", "exit 3"}, Labels: map[string]string{"role": "db"}}, container.HostConfig{})
	f.start(t, exited)
	f.wait(t, exited, container.WaitConditionNotRunning)
	f.create(t, createdName, container.Config{Cmd: []string{"echo", "two words", "x"}}, container.HostConfig{})
	runID(t, live.exec(t, fmt.Sprintf("run --network %s -l %s --name %s -p 127.0.0.1::80 %s %s", netName, f.label(), pubName, f.img, sleeperCmd)))

	mgr, inv, updates := inventoryEngine(t)
	cached := newSession(mgr, Options{})

	lines := []string{
		"ps",
		"ps -a",
		"ps -a --no-trunc",
		"ps -a --format json",
		"ps -a -q",
		"ps -q -f status=exited",
		"ps -q -f status=created",
		"ps -a -q -f status=running -f status=exited",
		"ps -a -q -f name=" + upName,
		"ps -a -q -f name=inv-",
		"ps -a -q -f id=" + up[:8],
		"ps -a -q -f id=" + up[5:13], // the engine takes IDs as prefixes
		"ps -a -q -f name=^" + upName,
		"ps -a -q -f name=" + upName + "$",
		"ps -a -q -f label=role=db",
		"ps -a -q -f label=role",
		"ps -a -q -f ancestor=" + f.img,
	}
	compare := func(t *testing.T) {
		t.Helper()
		for _, l := range lines {
			want := live.exec(t, l+f.mine()).ok(t)
			got := cached.exec(t, l+f.mine()).ok(t)
			if normalize(got.out) != normalize(want.out) {
				t.Errorf("%q from the inventory:\n%s\nfrom the engine:\n%s", l, got.out, want.out)
			}
		}
	}

	t.Run("as synced", compare)

	t.Run("own change visible at once", func(t *testing.T) {
		cached.exec(t, "stop "+upName).ok(t)
		if list, _ := inv.List(manager.ListOptions{Filters: map[string][]string{"id": {up}}}); len(list) != 0 {
			t.Errorf("inventory still lists %s as running right after stop", upName)
		}
		compare(t)
	})

	t.Run("outside change followed", func(t *testing.T) {
		f.start(t, up)
		timeout := time.After(guard)
		for {
			next := updates.wait()
			if list, _ := inv.List(manager.ListOptions{Filters: map[string][]string{"id": {up}}}); len(list) == 1 {
				break
			}
			select {
			case <-next:
			case <-timeout:
				t.Fatal("the inventory never saw the start")
			}
		}
		compare(t)
	})

	t.Run("name made elsewhere resolves at once", func(t *testing.T) {
		name := testenv.Name("inv-new")
		id := f.create(t, name, container.Config{Cmd: []string{"true"}}, container.HostConfig{})
		r := cached.exec(t, "rm "+name).ok(t)
		if r.out != name+"\n" || f.exists(t, id) {
			t.Errorf("rm %s of a container the inventory may not know yet: printed %q, exists=%v", name, r.out, f.exists(t, id))
		}
	})

	t.Run("rm forgets at once", func(t *testing.T) {
		cached.exec(t, "rm -f "+exitedName).ok(t)
		if r := cached.exec(t, "ps -a -q"+f.mine()).ok(t); strings.Contains(r.out, exited[:12]) {
			t.Errorf("ps lists %s right after rm:\n%s", exitedName, r.out)
		}
		compare(t)
	})

	t.Run("bad filters still reported", func(t *testing.T) {
		for _, l := range []string{"ps -f status=sleepy", "ps -f name=[", "ps -f id=("} {
			want := live.exec(t, l+f.mine())
			got := cached.exec(t, l+f.mine())
			if got.failed != want.failed || got.errOut != want.errOut {
				t.Errorf("%q from the inventory: failed=%v %q; from the engine: failed=%v %q", l, got.failed, got.errOut, want.failed, want.errOut)
			}
		}
	})
}

// TestInventoryUnreachable: with the engine gone, the inventory stops
// answering and ps says which address it tried, as without one.
func TestInventoryUnreachable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.sleeper(t, testenv.Name("inv-proxied"))
	proxy := testenv.NewProxy(t)
	proxy.Start()
	mgr, err := manager.New(proxy.Host())
	if err != nil {
		t.Fatal(err)
	}
	parts := runner.New(mgr, runner.Options{})
	inv := parts.Inventory()
	state := make(chan manager.Event, 16)
	parts.Watcher().Subscribe("test", func(ev manager.Event) {
		if ev.Resync || ev.Lost {
			select {
			case state <- manager.Event{Resync: ev.Resync, Lost: ev.Lost}:
			default:
			}
		}
	})
	if err := parts.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		parts.Stop()
		_ = mgr.Close()
	})
	await := func(t *testing.T, resync bool) {
		t.Helper()
		for {
			select {
			case ev := <-state:
				if ev.Resync == resync {
					waitSynced(t, inv, resync)
					return
				}
			case <-time.After(guard):
				t.Fatalf("no resync=%v event", resync)
			}
		}
	}
	s := newSession(inv.Front(), Options{})
	await(t, true)
	if r := s.exec(t, "ps -q"+f.mine()).ok(t); r.out != id[:12]+"\n" {
		t.Errorf("ps printed %q", r.out)
	}
	proxy.Stop()
	await(t, false)
	s.exec(t, "ps"+f.mine()).oneError(t, proxy.Host())
	s.exec(t, "stop "+id).oneError(t, proxy.Host())
	proxy.Start()
	await(t, true)
	if r := s.exec(t, "ps -q"+f.mine()).ok(t); r.out != id[:12]+"\n" {
		t.Errorf("ps once back printed %q", r.out)
	}
	_, err = f.c.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
}
