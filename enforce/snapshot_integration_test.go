package enforce_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/manager"
)

// A snapshot holds the running containers within its scope, and nothing
// else on the engine; it survives being saved and read back.
func TestTakeSnapshotInScope(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	m, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b, stopped := testenv.Name("snap-a"), testenv.Name("snap-b"), testenv.Name("snap-stopped")
	testenv.RunContainer(t, c, label, a, "sleep", "3600")
	testenv.RunContainer(t, c, label, b, "sleep", "3600")
	id := testenv.RunContainer(t, c, label, stopped, "true")
	wait := c.ContainerWait(ctx, id, client.ContainerWaitOptions{})
	select {
	case <-wait.Result:
	case err := <-wait.Error:
		t.Fatal(err)
	}

	snap, err := enforce.Take(ctx, m, enforce.Scope{key: label})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{a, b}
	slices.Sort(want)
	if got := snap.Names(); !slices.Equal(got, want) {
		t.Fatalf("snapshot holds %v, want the running containers in scope %v", got, want)
	}
	if err := snap.Add(ctx, m, stopped); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), enforce.SnapshotFile)
	if err := snap.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := enforce.LoadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Names(); len(got) != 3 {
		t.Fatalf("read back %v", got)
	}
	for _, n := range back.Names() {
		if _, err := enforce.Recreate(back.Containers[n]); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		if len(back.Containers[n].Image) == 0 {
			t.Errorf("%s: its image's inspect output was not kept", n)
		}
	}
}
