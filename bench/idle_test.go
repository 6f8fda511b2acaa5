package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockman/dockman/internal/testenv"
)

// floorEnv makes the test binary the idle floor instead of running tests:
// a bare Go loop sleeping 10 ms, as go-prompt's Input() does between polls
// (which dockman cannot change from outside).
const floorEnv = "DOCKMAN_BENCH_FLOOR"

func TestMain(m *testing.M) {
	if os.Getenv(floorEnv) == "1" {
		for {
			time.Sleep(10 * time.Millisecond)
		}
	}
	os.Exit(m.Run())
}

// idleWindow is how long idle CPU is measured; IDLE_SECONDS overrides it.
func idleWindow() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("IDLE_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 30 * time.Second
}

// BenchmarkIdleCPU measures the CPU an interactive dockman spends sitting
// at its prompt (connected to the engine, its background parts running)
// beside the floor, side by side over the same window (30 s; IDLE_SECONDS
// sets it), in clock ticks from /proc/<pid>/stat, averaged over the
// iterations: run it with -benchtime 1x, and -count for repeats.
// DOCKMAN_BENCH_BIN measures another build of dockman than this tree's.
func BenchmarkIdleCPU(b *testing.B) {
	testenv.Client(b)
	bin := os.Getenv("DOCKMAN_BENCH_BIN")
	if bin == "" {
		bin = buildBinary(b)
	}
	var shell, floor float64
	for b.Loop() {
		ticks, err := measureIdle(bin, b.TempDir(), idleWindow())
		if err != nil {
			b.Fatal(err)
		}
		shell += ticks[0]
		floor += ticks[1]
	}
	n := float64(b.N)
	b.ReportMetric(shell/n, "dockman-ticks")
	b.ReportMetric(floor/n, "floor-ticks")
	if floor > 0 {
		b.ReportMetric(shell/floor, "dockman/floor")
	}
	b.ReportMetric(idleWindow().Seconds(), "window-s")
}

// measureIdle starts dockman on a pty and the floor loop, lets both settle,
// and returns the clock ticks each used over window.
func measureIdle(bin, stateDir string, window time.Duration) ([2]float64, error) {
	var out [2]float64
	shell, master, err := startOnPTY(bin, stateDir)
	if err != nil {
		return out, err
	}
	defer master.Close()
	defer func() {
		shell.Process.Kill()
		shell.Wait()
	}()
	go io.Copy(io.Discard, master) // keep the pty drained
	ticks, err := beside(window, shell.Process.Pid)
	if err != nil {
		return out, err
	}
	return [2]float64{ticks[0], ticks[1]}, nil
}

// beside starts the floor loop, lets it and the processes pids settle for
// 3 s (dockman's first resync, inspects), and returns the clock ticks each
// used over window: the pids' in order, then the floor's.
func beside(window time.Duration, pids ...int) ([]float64, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	floor := exec.Command(self)
	floor.Env = append(os.Environ(), floorEnv+"=1")
	if err := floor.Start(); err != nil {
		return nil, err
	}
	defer func() {
		floor.Process.Kill()
		floor.Wait()
	}()

	time.Sleep(3 * time.Second) // all past their start-up
	pids = append(pids, floor.Process.Pid)
	before := make([]float64, len(pids))
	for i, pid := range pids {
		if before[i], err = cpuTicks(pid); err != nil {
			return nil, err
		}
	}
	time.Sleep(window)
	out := make([]float64, len(pids))
	for i, pid := range pids {
		after, err := cpuTicks(pid)
		if err != nil {
			return nil, err
		}
		out[i] = after - before[i]
	}
	return out, nil
}

// cpuTicks returns the user and system clock ticks a process has used.
func cpuTicks(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// pid (comm) state ppid ... utime is field 14, stime 15; comm may hold spaces.
	rest := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(rest) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	utime, err1 := strconv.ParseFloat(rest[11], 64)
	stime, err2 := strconv.ParseFloat(rest[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %q %q", pid, rest[11], rest[12])
	}
	return utime + stime, nil
}
