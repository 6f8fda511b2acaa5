//go:build faulttest

package logtail_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
)

// TestFaultEngineRestart stops and starts dockerd itself while containers
// write (with and without a TTY, restarted by the engine's restart
// policy when it comes back): the keeper loses the engine, gets it back,
// and its files end up holding exactly what the engine holds. It disturbs
// every other user of the engine, so it runs on its own: make fault-test.
func TestFaultEngineRestart(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	startKeeper(t, dir, logtail.Options{MaxSize: 256 << 10})
	type gen struct {
		id  string
		tty bool
	}
	var gens []gen
	for i, tty := range []bool{false, false, true} {
		name := testenv.Name("logs-fault-" + strconv.Itoa(i))
		gens = append(gens, gen{runAlways(t, c, label, name, tty, "sh", "-c", counter), tty})
	}
	for _, g := range gens {
		waitGrows(t, dir, g.id, 20<<10)
	}
	restartEngine(t)
	for _, g := range gens {
		waitGrows(t, dir, g.id, fileSize(t, dir, g.id)+20<<10)
	}
	for _, g := range gens {
		stopContainer(t, c, g.id)
	}
	for _, g := range gens {
		waitSame(t, c, dir, g.id, g.tty)
	}
}

// runAlways starts a busybox container with restart policy "always".
func runAlways(t *testing.T, c *client.Client, label, name string, tty bool, cmd ...string) string {
	t.Helper()
	return testenv.RunBusybox(t, c, label, name, container.Config{Cmd: cmd, Tty: tty},
		container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways}})
}

// restartEngine stops dockerd with SIGTERM, waits for it to exit, and
// starts it again with the same command line, as .ci/run started it.
func restartEngine(t *testing.T) {
	t.Helper()
	out, err := exec.Command("pgrep", "-x", "dockerd").Output()
	if err != nil {
		t.Fatalf("no dockerd process to restart: %v", err)
	}
	pid, _ := strconv.Atoi(strings.Fields(string(out))[0])
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	t.Logf("stopping dockerd (pid %d): %q", pid, args)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dockerd to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	log, err := os.OpenFile("/tmp/dockerd.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dockerd again: %v", err)
	}
	go func() { _ = cmd.Wait() }() // reaped if it ever exits while the tests run
	waitFor(t, "dockerd to answer", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return exec.CommandContext(ctx, "docker", "version").Run() == nil
	})
	t.Logf("dockerd is back (pid %d)", cmd.Process.Pid)
}
