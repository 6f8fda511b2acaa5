package logtail_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockman/dockman/internal/testenv"
)

// writer writes numbered lines on both streams until stopped, a few
// thousand a second, with a 40,000-byte line now and then.
const writer = `i=0
trap 'exit 0' TERM
while true; do
  echo "out $i"; echo "err $i" >&2
  if [ $((i % 500)) = 99 ]; then head -c 40000 /dev/zero | tr '\0' y; echo; fi
  i=$((i+1))
done`

// startKeeperProcess runs a keeper in a child process (this test binary,
// see TestMain) and waits until it is ready.
func startKeeperProcess(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), keeperDirEnv+"="+dir)
	cmd.Stderr = &prefixWriter{t: t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("keeper process: %q, %v", line, err)
	}
	return cmd
}

type prefixWriter struct{ t *testing.T }

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.t.Logf("keeper: %s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// waitGrows waits until the container's log files, rotated ones
// included, have grown past size in all.
func waitGrows(t *testing.T, dir, id string, size int64) int64 {
	t.Helper()
	deadline := time.Now().Add(guard)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, id[:12]+"+*"))
		var total int64
		for _, f := range files {
			if st, err := os.Stat(f); err == nil {
				total += st.Size()
			}
		}
		if total > size {
			return total
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the log file of %s never grew past %d bytes", id[:12], size)
	return 0
}

// Killing the keeper with SIGKILL in the middle of a stream, again and
// again, and starting it again loses no line and writes none twice: the
// file (rotated often, to put rotations in the way too) ends up holding
// exactly what the engine holds.
func TestKillResumesExactlyOnce(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	id := testenv.RunContainer(t, c, label, testenv.Name("logs-kill"), "sh", "-c", writer)
	for round := range 6 {
		cmd := startKeeperProcess(t, dir)
		// Let it write a while (rotating the file a few times), then
		// kill it mid-stream.
		n := 0
		for size := int64(-1); n < 3; n++ {
			size = waitGrows(t, dir, id, max(size, 0))
			if size < 0 {
				break
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		t.Logf("round %d: killed", round)
	}
	stopContainer(t, c, id)
	startKeeperProcess(t, dir)
	waitSame(t, c, dir, id, false)
	files, _ := filepath.Glob(filepath.Join(dir, id[:12]+"+*"))
	t.Logf("%d files", len(files))
}
