package logtail_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
)

// mountTmpfs mounts a tmpfs of the given size at dir, for a disk that can
// fill up. It needs root; without it the test skips (fails on CI).
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount a tmpfs (needs root): %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
}

func resizeTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
		t.Fatalf("resize the tmpfs: %v: %s", err, out)
	}
}

func waitNotice(t *testing.T, k *keeper, substr string) string {
	t.Helper()
	var got string
	waitFor(t, "a notice saying "+substr, func() bool {
		for {
			select {
			case n := <-k.notices:
				if strings.Contains(n, substr) {
					got = n
					return true
				}
			default:
				return false
			}
		}
	})
	return got
}

// A full disk stops the keeper with one notice, not a line lost: when
// space returns it goes on from the cursor, and the file ends up holding
// exactly what the engine holds.
func TestFullDiskResumes(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	mountTmpfs(t, dir, "256k")
	k := startKeeper(t, dir, logtail.Options{})
	id := testenv.RunContainer(t, c, label, testenv.Name("logs-full"), "sh", "-c", counter)
	n := waitNotice(t, k, "cannot write to "+dir)
	if !strings.Contains(n, "no space left on device") {
		t.Errorf("notice %q does not give the cause", n)
	}
	resizeTmpfs(t, dir, "64m")
	waitNotice(t, k, "writing to "+dir+" again")
	waitGrows(t, dir, id, 300<<10)
	stopContainer(t, c, id)
	waitSame(t, c, dir, id, false)
}

// A log directory that cannot be made at start is retried: once it can,
// the logs are kept from their first line.
func TestUnwritableDirectoryRetried(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	parent := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(parent, []byte("a file where a directory should be"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "logs")
	id := testenv.RunContainer(t, c, label, testenv.Name("logs-nodir"), "sh", "-c", counter)
	k := startKeeper(t, dir, logtail.Options{})
	n := waitNotice(t, k, "cannot write to "+dir)
	if !strings.Contains(n, "not a directory") {
		t.Errorf("notice %q does not give the cause", n)
	}
	if err := os.Remove(parent); err != nil {
		t.Fatal(err)
	}
	waitNotice(t, k, "writing to "+dir+" again")
	waitGrows(t, dir, id, 10<<10)
	stopContainer(t, c, id)
	waitSame(t, c, dir, id, false)
}

// A container whose file could not be written and that is removed while
// the disk is full does not hold back "writing again": it will never
// write, so once the other containers write again, the notice comes.
func TestFullDiskRemovedContainerForgotten(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	mountTmpfs(t, dir, "256k")
	k := startKeeper(t, dir, logtail.Options{})
	doomed := testenv.RunContainer(t, c, label, testenv.Name("logs-doomed"), "sh", "-c", counter)
	waitNotice(t, k, "cannot write to "+dir)
	if _, err := c.ContainerRemove(context.Background(), doomed, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	resizeTmpfs(t, dir, "64m")
	id := testenv.RunContainer(t, c, label, testenv.Name("logs-after"), "sh", "-c", "echo one line; exec sleep 600")
	waitNotice(t, k, "writing to "+dir+" again")
	stopContainer(t, c, id)
	waitSame(t, c, dir, id, false)
}
