package logtail_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
)

// mixed writes on both streams: numbered lines, empty lines, a 40,000-byte
// line the engine splits into 16 KiB pieces, bytes that are not UTF-8, and
// a last line without a newline (which the engine stores when the
// container ends).
const mixed = `i=0
while [ $i -lt 300 ]; do
  echo "out $i"; echo "err $i" >&2
  if [ $((i % 50)) = 7 ]; then echo; head -c 40000 /dev/zero | tr '\0' x; echo " long $i"; fi
  if [ $((i % 60)) = 9 ]; then printf 'bin \377\376\375 %d\n' $i >&2; fi
  if [ $((i % 100)) = 11 ]; then echo "valid until 2099-01-01T00:00:00.000000000Z then renew"; fi
  i=$((i+1))
done
printf 'no newline'`

func TestKeepsEveryLineOnce(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	startKeeper(t, dir, logtail.Options{})
	id := testenv.RunContainer(t, c, label, testenv.Name("logs-mixed"), "sh", "-c", mixed)
	waitEngine(t, c, id, false, "no newline")
	waitSame(t, c, dir, id, false)
}

// A TTY container's raw stream (both streams merged, "\r\n" line ends,
// partial pieces with no separator but the next stamp) is kept as exactly.
func TestKeepsTTYLog(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	startKeeper(t, dir, logtail.Options{})
	id := runTTY(t, c, label, testenv.Name("logs-tty"), "sh", "-c", mixed)
	waitEngine(t, c, id, true, "no newline")
	waitSame(t, c, dir, id, true)
}

// counter writes one numbered line on each stream every few milliseconds,
// carrying its count across restarts in a file of the container.
const counter = `i=$(cat /tmp/n 2>/dev/null || echo 0)
trap 'echo $i > /tmp/n; exit 0' TERM
while true; do
  echo "out $i"; echo "err $i" >&2
  i=$((i+1)); echo $i > /tmp/n
  usleep 2000
done`

// A container restarted (twice) and renamed while it writes: the same
// file goes on, under the new name, with every line once.
func TestRestartAndRename(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	startKeeper(t, dir, logtail.Options{})
	name := testenv.Name("logs-restart")
	id := testenv.RunContainer(t, c, label, name, "sh", "-c", counter)
	ctx := context.Background()
	waitGrows(t, dir, id, 1000)
	for range 2 {
		timeout := 5
		if _, err := c.ContainerRestart(ctx, id, client.ContainerRestartOptions{Timeout: &timeout}); err != nil {
			t.Fatal(err)
		}
		waitGrows(t, dir, id, fileSize(t, dir, id)+1000)
	}
	renamed := name + "-renamed"
	if _, err := c.ContainerRename(ctx, id, client.ContainerRenameOptions{NewName: renamed}); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, logtail.FileName(id, renamed))
	waitFor(t, "the file renamed to "+filepath.Base(want), func() bool { _, err := os.Stat(want); return err == nil })
	waitGrows(t, dir, id, fileSize(t, dir, id)+1000)
	stopContainer(t, c, id)
	waitSame(t, c, dir, id, false)
	if files, _ := filepath.Glob(filepath.Join(dir, id[:12]+"+*")); len(files) != 1 {
		t.Errorf("files of the container: %v, want only %s", files, want)
	}
}

// A container whose log driver keeps nothing readable gets one notice and
// is listed with the reason, and no file.
func TestUnreadableLogDriver(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	k := startKeeper(t, dir, logtail.Options{})
	name := testenv.Name("logs-none")
	id := testenv.RunBusybox(t, c, label, name, container.Config{Cmd: []string{"sh", "-c", "echo hi; sleep 3600"}},
		container.HostConfig{LogConfig: container.LogConfig{Type: "none"}})
	notice := waitNotice(t, k, name)
	if !strings.Contains(notice, `"none"`) {
		t.Errorf("notice %q does not say why", notice)
	}
	var st logtail.FileStatus
	for _, f := range k.Files() {
		if f.ID == id {
			st = f
		}
	}
	if st.State != logtail.StateUnreadable || st.Reason == "" {
		t.Errorf("logfiles lists it as %q (%q), want unreadable with a reason", st.State, st.Reason)
	}
}

// Two keepers on one directory would write every line twice: the second
// says so once and keeps nothing.
func TestOneKeeperPerDirectory(t *testing.T) {
	dir := t.TempDir()
	startKeeper(t, dir, logtail.Options{})
	second := startKeeper(t, dir, logtail.Options{})
	waitFor(t, "the second keeper's notice", func() bool {
		select {
		case n := <-second.notices:
			return strings.Contains(n, "another dockman keeps the logs") && strings.Contains(n, strconv.Itoa(os.Getpid()))
		default:
			return false
		}
	})
}
