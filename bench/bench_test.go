// Package bench measures dockman against baselines taken in the same run:
// `ps -a` inside the shell versus a `docker ps -a` process, Tab completion
// over 200 containers, and the time from exec to the first prompt. Run with
// `make bench`; the engine must be up (the benchmarks skip otherwise).
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/manager"
	"github.com/dockman/dockman/runner"
	"github.com/dockman/dockman/shell"
)

// fleetSize is the number of containers the speed targets assume.
const fleetSize = 200

// fleet creates fleetSize labelled containers (created, not started: ps -a
// lists them alike, and creating is quick); the label's cleanup removes them
// when the parent benchmark ends.
func fleet(b *testing.B) {
	b.Helper()
	c := testenv.Client(b)
	_, label := testenv.Label(b, c)
	createContainers(b, c, label, "dmb", fleetSize)
}

// createContainers creates n containers running `sleep 1000` (PID 1 with
// no handler: SIGTERM is ignored), named prefix-<label tail>-<i> and
// labelled with label, and returns their IDs.
func createContainers(b *testing.B, c *client.Client, label, prefix string, n int) []string {
	b.Helper()
	img := testenv.BusyboxImage(b, c)
	ids := make([]string, 0, n)
	for i := range n {
		res, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{
			Name:       fmt.Sprintf("%s-%s-%03d", prefix, label[len(label)-6:], i),
			Config:     &container.Config{Image: img, Cmd: []string{"sleep", "1000"}, Labels: map[string]string{testenv.LabelKey: label}},
			HostConfig: &container.HostConfig{NetworkMode: "none"},
		})
		if err != nil {
			b.Fatalf("create containers: %v", err)
		}
		ids = append(ids, res.ID)
	}
	return ids
}

// interactive wires the engine the way the interactive shell does: a
// runner's inventory, fed by the event Watcher, behind the shell's Engine
// and completer. It returns once the inventory has synced and inspected
// every container.
func interactive(b *testing.B) (shell.Engine, *shell.Completer) {
	b.Helper()
	mgr, err := manager.New(testenv.Host())
	if err != nil {
		b.Fatal(err)
	}
	parts := runner.New(mgr, runner.Options{})
	inv := parts.Inventory()
	updated := make(chan struct{}, 1)
	inv.OnUpdate = func(string) {
		select {
		case updated <- struct{}{}:
		default:
		}
	}
	if err := parts.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		parts.Stop()
		mgr.Close()
	})
	// Every container is inspected once after the first resync; measure
	// the steady state.
	deadline := time.After(60 * time.Second)
	for !inv.Settled() {
		select {
		case <-updated:
		case <-deadline:
			b.Fatal("inventory never settled")
		}
	}
	return inv.Front(), shell.NewCompleter(inv)
}

// BenchmarkFleet200 runs every speed target of the shell with 200
// containers on the engine, each next to its baseline.
func BenchmarkFleet200(b *testing.B) {
	fleet(b)
	eng, completer := interactive(b)

	// ps -a inside the shell, as a user at the prompt experiences it, versus
	// a `docker ps -a` process.
	b.Run("ps-a/dockman-shell", func(b *testing.B) {
		sh := shell.New(eng, shell.Options{Out: io.Discard, Err: io.Discard})
		ctx := context.Background()
		for b.Loop() {
			if err := sh.Execute(ctx, "ps -a"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ps-a/dockman-script", func(b *testing.B) {
		// No inventory: every ps asks the engine, as `dockman -c ps` does.
		live, err := manager.New(testenv.Host())
		if err != nil {
			b.Fatal(err)
		}
		defer live.Close()
		sh := shell.New(live, shell.Options{Out: io.Discard, Err: io.Discard})
		ctx := context.Background()
		for b.Loop() {
			if err := sh.Execute(ctx, "ps -a"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ps-a/docker-cli", func(b *testing.B) {
		if _, err := exec.LookPath("docker"); err != nil {
			b.Skip("no docker CLI")
		}
		for b.Loop() {
			if out, err := exec.Command("docker", "ps", "-a").CombinedOutput(); err != nil {
				b.Fatalf("docker ps: %v: %s", err, out)
			}
		}
	})

	// One Tab press on `rm dmb-`: 200 candidates.
	b.Run("tab-complete", func(b *testing.B) {
		if got := completer.Complete("rm dmb-").Suggestions; len(got) < fleetSize {
			b.Fatalf("completion offers %d names, want at least %d", len(got), fleetSize)
		}
		for b.Loop() {
			completer.Complete("rm dmb-")
		}
	})

	// exec of the binary to its prompt drawn on a pseudo-terminal.
	b.Run("start-to-prompt", func(b *testing.B) {
		bin := buildBinary(b)
		state := b.TempDir()
		for b.Loop() {
			startToPrompt(b, bin, state)
		}
	})
}

func buildBinary(b *testing.B) string {
	b.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	bin := filepath.Join(b.TempDir(), "dockman")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build: %v: %s", err, out)
	}
	return bin
}

// startToPrompt runs bin on a fresh pty and returns once "dockman> " has
// been drawn, then ends it with Ctrl-D.
func startToPrompt(b *testing.B, bin, stateDir string) {
	b.Helper()
	cmd, master, err := startOnPTY(bin, stateDir)
	if err != nil {
		b.Fatal(err)
	}
	defer master.Close()
	b.StopTimer()
	master.Write([]byte{4}) // Ctrl-D
	go io.Copy(io.Discard, master)
	if err := cmd.Wait(); err != nil {
		b.Fatalf("dockman exit: %v", err)
	}
	b.StartTimer()
}

// startOnPTY starts the dockman binary bin with --state-dir stateDir and
// the further args, interactive on a fresh pty against the test engine, and
// returns once its prompt is drawn: the process and the pty's master end,
// which the caller closes.
func startOnPTY(bin, stateDir string, args ...string) (*exec.Cmd, *os.File, error) {
	master, slave, err := openPTY()
	if err != nil {
		return nil, nil, fmt.Errorf("no pty: %w", err)
	}
	cmd := exec.Command(bin, append([]string{"--state-dir", stateDir}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=xterm", "DOCKER_HOST="+testenv.Host())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true, Setctty: true}
	err = cmd.Start()
	slave.Close()
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	var seen bytes.Buffer
	buf := make([]byte, 4096)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(seen.String(), "dockman> ") {
		master.SetReadDeadline(deadline)
		n, err := master.Read(buf)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			master.Close()
			return nil, nil, fmt.Errorf("no prompt: %v; screen: %q", err, seen.String())
		}
		seen.Write(buf[:n])
	}
	master.SetReadDeadline(time.Time{})
	return cmd, master, nil
}

// openPTY opens a pseudo-terminal pair sized 120x40 (go-prompt refuses a
// width of 0).
func openPTY() (*os.File, *os.File, error) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, err
	}
	return master, slave, nil
}
