package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
)

// The log keeper's benchmarks run the real dockman binary, interactive on a
// pty as BenchmarkIdleCPU does, with --log-dir in a temp dir, next to the
// docker CLI doing the same work in the same run. Their sizes come from the
// environment for quick runs:
//
//	LOGS_CONTAINERS=50 LOGS_RATE=2000 LOGS_SECONDS=30   BenchmarkLogs50x2000
//	LOGS_LINES=1000000 LOGS_LIVE=1                      BenchmarkLogsFastOne
//	LOGS_IDLE=200 IDLE_SECONDS=30                       BenchmarkLogsIdle200
//
// DOCKMAN_BENCH_BIN measures another dockman build; DOCKMAN_BENCH_LOG_FLAGS
// replaces the keeper flags given besides --log-dir (default: no rotation,
// so that every line stays in the one file checked). dockman keeps the logs
// of every container on the engine: other tests running on it skew the
// figures (a warning says so). DOCKER_HOST may point at an engine of the
// benchmark's own, and DOCKMAN_BENCH_DOCKERD_PID at its process.

// envInt reads a size from the environment, else def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= 0 {
		return n
	}
	return def
}

// logFlags are dockman's flags besides --log-dir.
func logFlags() []string {
	if s, ok := os.LookupEnv("DOCKMAN_BENCH_LOG_FLAGS"); ok {
		return strings.Fields(s)
	}
	return []string{"--log-max-size", "0"}
}

// dockmanBin is the binary measured: DOCKMAN_BENCH_BIN, else this tree's.
func dockmanBin(b *testing.B) string {
	if bin := os.Getenv("DOCKMAN_BENCH_BIN"); bin != "" {
		return bin
	}
	return buildBinary(b)
}

// keeper is an interactive dockman keeping logs in dir.
type keeper struct {
	cmd    *exec.Cmd
	master *os.File
	dir    string
	once   sync.Once
	// stopped says how it ended: at SIGTERM, or killed.
	stopped string
}

// startKeeper starts dockman with --log-dir dir on a pty and returns once
// its prompt is drawn; with dir "", it starts dockman with --no-logs. A
// cleanup stops it, if stop was not called.
func startKeeper(b *testing.B, bin, dir string) *keeper {
	b.Helper()
	args := append([]string{"--log-dir", dir}, logFlags()...)
	if dir == "" {
		args = []string{"--no-logs"}
	}
	cmd, master, err := startOnPTY(bin, b.TempDir(), args...)
	if err != nil {
		b.Fatalf("starting dockman: %v", err)
	}
	go io.Copy(io.Discard, master) // keep the pty drained
	k := &keeper{cmd: cmd, master: master, dir: dir}
	b.Cleanup(k.stop)
	return k
}

func (k *keeper) pid() int { return k.cmd.Process.Pid }

// stop ends dockman with SIGTERM, as a person's `kill` would, and kills it
// when it has not ended 10 s later.
func (k *keeper) stop() {
	k.once.Do(func() {
		start := time.Now()
		done := make(chan struct{})
		go func() {
			k.cmd.Wait()
			close(done)
		}()
		k.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
			k.stopped = fmt.Sprintf("ended %.2fs after SIGTERM (%v)", time.Since(start).Seconds(), k.cmd.ProcessState)
		case <-time.After(10 * time.Second):
			k.cmd.Process.Kill()
			<-done
			k.stopped = "KILLED: still running 10s after SIGTERM"
		}
		k.master.Close()
	})
}

// file is the path of a container's log file.
func (k *keeper) file(id, name string) string {
	return filepath.Join(k.dir, logtail.FileName(id, name))
}

// cpuSeconds is a process's user+system CPU so far, from /proc.
func cpuSeconds(pid int) float64 {
	t, err := cpuTicks(pid)
	if err != nil {
		return 0
	}
	return t / 100 // USER_HZ is 100 on Linux
}

// userSystem is a process's user and system CPU seconds so far.
func userSystem(pid int) (user, system float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	rest := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(rest) < 13 {
		return 0, 0
	}
	u, _ := strconv.ParseFloat(rest[11], 64)
	s, _ := strconv.ParseFloat(rest[12], 64)
	return u / 100, s / 100
}

// dockerdPID is the engine's process: DOCKMAN_BENCH_DOCKERD_PID, else the
// one dockerd running on this host, else 0 (not reported).
func dockerdPID() int {
	if pid, err := strconv.Atoi(os.Getenv("DOCKMAN_BENCH_DOCKERD_PID")); err == nil {
		return pid
	}
	out, err := exec.Command("pidof", "dockerd").Output()
	if err != nil {
		return 0
	}
	f := strings.Fields(string(out))
	if len(f) != 1 {
		return 0
	}
	pid, _ := strconv.Atoi(f[0])
	return pid
}

// quiet waits until process pid has used no CPU for 1.5 s (60 s at most):
// what it still does after its files are complete (a last read of each
// stopped container's log) counts too. It returns its CPU seconds by then,
// and its peak resident memory in MB.
func quiet(pid int) (cpu, peakMB float64) {
	last, still := cpuSeconds(pid), 0
	for deadline := time.Now().Add(60 * time.Second); still < 3 && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		now := cpuSeconds(pid)
		if now == last {
			still++
		} else {
			still = 0
		}
		last = now
	}
	return last, memKB(pid, "VmHWM") / 1024
}

// syscalls reads the read and write system calls a process has made so
// far, from /proc/<pid>/io.
func syscalls(pid int) (reads, writes float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0
	}
	for l := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(strings.TrimSpace(l), ": ")
		n, _ := strconv.ParseFloat(v, 64)
		switch k {
		case "syscr":
			reads = n
		case "syscw":
			writes = n
		}
	}
	return reads, writes
}

// memKB reads a field such as VmRSS from /proc/<pid>/status, in kB.
func memKB(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				return v
			}
		}
	}
	return 0
}

// othersRunning counts the running containers not labelled with this
// benchmark's label: dockman keeps their logs too, so its figures include
// them. The count is logged as a warning when it is not zero.
func othersRunning(b *testing.B, c *client.Client, label string) int {
	b.Helper()
	list, err := c.ContainerList(context.Background(), client.ContainerListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	var names []string
	for _, ctr := range list.Items {
		if ctr.Labels[testenv.LabelKey] != label {
			n++
			if len(names) < 5 {
				names = append(names, strings.Join(ctr.Names, ","))
			}
		}
	}
	if n > 0 {
		b.Logf("WARNING: %d other containers run on the engine (%s): dockman keeps their logs too, and they share the CPU", n, strings.Join(names, " "))
	}
	return n
}

// createParallel creates n containers, 8 at a time, from the options mk
// returns for each, and returns their IDs in order.
func createParallel(b *testing.B, c *client.Client, n int, mk func(i int) client.ContainerCreateOptions) []string {
	b.Helper()
	ids := make([]string, n)
	errs := make([]error, n)
	parallel(n, func(i int) {
		res, err := c.ContainerCreate(context.Background(), mk(i))
		ids[i], errs[i] = res.ID, err
	})
	for _, err := range errs {
		if err != nil {
			b.Fatalf("creating containers: %v", err)
		}
	}
	return ids
}

// parallel runs f(0..n-1), 8 at a time.
func parallel(n int, f func(i int)) {
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}

// logGenOptions are the create options of a loggen container.
func logGenOptions(img, label, name string, args ...string) client.ContainerCreateOptions {
	return client.ContainerCreateOptions{
		Name:       name,
		Config:     &container.Config{Image: img, Cmd: args, Labels: map[string]string{testenv.LabelKey: label}},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	}
}

// dockerLogs starts `docker logs --timestamps [-f] id` with the
// container's stdout into the file path and its stderr into path.err (in
// one file, the pieces of a long line on one stream would be cut by lines
// of the other).
func dockerLogs(id, path string, follow bool) (*exec.Cmd, io.Closer, error) {
	var files outputs
	for _, p := range []string{path, path + ".err"} {
		f, err := os.Create(p)
		if err != nil {
			files.Close()
			return nil, nil, err
		}
		files = append(files, f)
	}
	args := []string{"logs", "--timestamps"}
	if follow {
		args = append(args, "-f")
	}
	cmd := exec.Command("docker", append(args, id)...)
	cmd.Stdout, cmd.Stderr = files[0], files[1]
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+testenv.Host())
	if err := cmd.Start(); err != nil {
		files.Close()
		return nil, nil, err
	}
	return cmd, files, nil
}

// outputs are the files a docker CLI writes to.
type outputs []*os.File

func (o outputs) Close() error {
	for _, f := range o {
		f.Close()
	}
	return nil
}

// dockerSize is the size of what dockerLogs wrote to path.
func dockerSize(path string) int64 {
	return fileSize(path) + fileSize(path+".err")
}

// cliSeconds is the user+system CPU a finished process used.
func cliSeconds(cmd *exec.Cmd) float64 {
	return (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
}

// cliStartup measures what one `docker logs` process costs with nothing to
// read (start-up, connecting, one request): the average over 5 runs on a
// container that wrote nothing.
func cliStartup(b *testing.B, c *client.Client, img, label string) float64 {
	b.Helper()
	ids := createParallel(b, c, 1, func(int) client.ContainerCreateOptions {
		return logGenOptions(img, label, testenv.Name("cli"), "-n", "0", "-hold")
	})
	var sum float64
	for range 5 {
		cmd, f, err := dockerLogs(ids[0], filepath.Join(b.TempDir(), "empty"), false)
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatalf("docker logs: %v", err)
		}
		f.Close()
		sum += cliSeconds(cmd)
	}
	return sum / 5
}

// waitGrown waits until each path reaches its size in want (its rotated
// files counted), or until none has grown for stall. It returns when the
// last one got there (zero when some never did).
func waitGrown(paths []string, want []int64, poll, stall time.Duration) time.Time {
	sizes := make([]int64, len(paths))
	lastGrowth := time.Now()
	for {
		done, grew := 0, false
		for i, p := range paths {
			if sizes[i] >= want[i] {
				done++
				continue
			}
			if s := fileSize(p); s != sizes[i] {
				sizes[i], grew = s, true
				if s >= want[i] {
					done++
				}
			}
		}
		now := time.Now()
		if done == len(paths) {
			return now
		}
		if grew {
			lastGrowth = now
		} else if now.Sub(lastGrowth) > stall {
			return time.Time{}
		}
		time.Sleep(poll)
	}
}

// checkAgainstDocker reads a container's kept file and docker's output and
// checks both against loggen's numbers 1..n, and the kept lines against
// docker's. It returns the verdict on the kept file, and the lines docker
// gave.
func checkAgainstDocker(kept, docker string, n int) (*verdict, int, error) {
	v := &verdict{}
	dv := &verdict{}
	d, err := readDocker(docker, dv)
	if err != nil {
		return nil, 0, err
	}
	if checkNumbers(d, n, dv); !dv.ok() {
		return nil, 0, fmt.Errorf("docker logs itself is off: %v", dv)
	}
	k, err := readKept(kept, v)
	if err != nil {
		return nil, 0, err
	}
	checkNumbers(k, n, v)
	compareLines(k, d, v)
	return v, d.count(), nil
}

// BenchmarkLogs50x2000 has 50 loggen containers write 2000 lines/s each,
// stdout and stderr alternating, for 30 s, while dockman keeps their logs
// and, as the baseline, one `docker logs -f --timestamps` process per
// container copies them to a file. Then every kept file must hold each
// number once, in order per stream, every line as docker's (stamp and
// text), and the CPU per line is compared: dockman's process over the run
// with the sum of the 50 CLI processes (target: dockman at most 0.5x).
// The CLI's start-up, measured apart, is reported taken out as well.
func BenchmarkLogs50x2000(b *testing.B) {
	c := testenv.Client(b)
	if _, err := exec.LookPath("docker"); err != nil {
		b.Skip("no docker CLI")
	}
	n, rate, secs := envInt("LOGS_CONTAINERS", 50), envInt("LOGS_RATE", 2000), envInt("LOGS_SECONDS", 30)
	lines := rate * secs
	bin := dockmanBin(b)
	img := testenv.LogGenImage(b, c)
	_, label := testenv.Label(b, c)
	startup := cliStartup(b, c, img, label)
	dockerd := dockerdPID()

	var keptCPU, cliCPU, engineCPU, total, lag, reads, writes, after, peakMB float64
	for b.Loop() {
		_, label := testenv.Label(b, c)
		names := make([]string, n)
		ids := createParallel(b, c, n, func(i int) client.ContainerCreateOptions {
			names[i] = fmt.Sprintf("dml-%s-%02d", label[len(label)-6:], i)
			return logGenOptions(img, label, names[i], "-n", strconv.Itoa(lines), "-rate", strconv.Itoa(rate),
				"-streams", "both", "-tag", fmt.Sprintf("c%02d", i))
		})
		k := startKeeper(b, bin, b.TempDir())
		time.Sleep(2 * time.Second) // past its start-up: the first resync, inspects
		othersRunning(b, c, label)
		cpu0, engine0 := cpuSeconds(k.pid()), cpuSeconds(dockerd)
		r0, w0 := syscalls(k.pid())
		u0, s0 := userSystem(k.pid())

		base := b.TempDir()
		started := time.Now()
		clis := make([]*exec.Cmd, n)
		files := make([]io.Closer, n)
		errs := make([]error, n)
		parallel(n, func(i int) {
			if _, errs[i] = c.ContainerStart(context.Background(), ids[i], client.ContainerStartOptions{}); errs[i] == nil {
				clis[i], files[i], errs[i] = dockerLogs(ids[i], filepath.Join(base, names[i]), true)
			}
		})
		for _, err := range errs {
			if err != nil {
				b.Fatalf("starting containers and docker logs: %v", err)
			}
		}
		var cli float64
		for i, cmd := range clis {
			if err := cmd.Wait(); err != nil {
				b.Errorf("docker logs -f %s: %v", names[i], err)
			}
			files[i].Close()
			cli += cliSeconds(cmd)
		}
		cliDone := time.Now()

		// dockman is done when each file is as long as docker's output
		// plus the CRI fields.
		paths, want := make([]string, n), make([]int64, n)
		for i := range n {
			paths[i] = k.file(ids[i], names[i])
			want[i] = dockerSize(filepath.Join(base, names[i])) + int64(lines*criOverhead)
		}
		keptDone := waitGrown(paths, want, 100*time.Millisecond, 30*time.Second)
		cpu1, engine1 := cpuSeconds(k.pid()), cpuSeconds(dockerd)
		r1, w1 := syscalls(k.pid())
		u1, s1 := userSystem(k.pid())
		othersRunning(b, c, label)
		if keptDone.IsZero() {
			b.Errorf("dockman's files stopped growing short of docker's output")
			keptDone = time.Now()
		}
		cpu2, peak := quiet(k.pid())
		k.stop()

		bad := 0
		for i := range n {
			v, _, err := checkAgainstDocker(paths[i], filepath.Join(base, names[i]), lines)
			if err != nil {
				b.Errorf("%s: %v", names[i], err)
				continue
			}
			if !v.ok() {
				bad++
				b.Errorf("%s: dockman's file: %v", names[i], v)
			}
		}
		b.Logf("%d containers x %d lines: all out through docker logs -f %.1f s after the first start, %.0f lines/s in all (asked: %d/s)",
			n, lines, cliDone.Sub(started).Seconds(), float64(n*lines)/cliDone.Sub(started).Seconds(), n*rate)
		b.Logf("dockman's CPU: %.2f s user, %.2f s system", u1-u0, s1-s0)
		b.Logf("%d containers x %d lines: dockman %.2f CPU-s (%.2f more once its files were complete; peak RSS %.1f MB), %.0f reads and %.0f writes (system calls), %d files off; docker logs -f x%d %.2f CPU-s (start-up %.3f s each); dockerd %.2f CPU-s; dockman done %.1f s after the CLIs; dockman %s",
			n, lines, cpu1-cpu0, cpu2-cpu1, peak, r1-r0, w1-w0, bad, n, cli, startup, engine1-engine0, keptDone.Sub(cliDone).Seconds(), k.stopped)
		after += cpu2 - cpu1
		peakMB = max(peakMB, peak)
		reads += r1 - r0
		writes += w1 - w0
		keptCPU += cpu1 - cpu0
		cliCPU += cli
		engineCPU += engine1 - engine0
		total += float64(n * lines)
		lag += keptDone.Sub(cliDone).Seconds()
	}
	perLine := func(s float64) float64 { return s / total * 1e9 }
	b.ReportMetric(perLine(keptCPU), "dockman-ns/line")
	b.ReportMetric(perLine(cliCPU), "docker-cli-ns/line")
	b.ReportMetric(perLine(cliCPU-startup*float64(n*b.N)), "docker-cli-net-ns/line")
	if cliCPU > 0 {
		b.ReportMetric(keptCPU/cliCPU, "dockman/docker")
	}
	if dockerd != 0 {
		b.ReportMetric(perLine(engineCPU), "dockerd-ns/line")
	}
	b.ReportMetric(lag/float64(b.N), "dockman-lag-s")
	b.ReportMetric(perLine(keptCPU+after), "dockman-total-ns/line")
	b.ReportMetric(peakMB, "dockman-peak-rss-MB")
	b.ReportMetric(reads/total, "dockman-reads/line")
	b.ReportMetric(writes/total, "dockman-writes/line")
	b.Logf("CPU per line: dockman %.0f ns, docker logs -f %.0f ns (%.0f ns without its start-up), ratio %.2f (target <= 0.5); dockerd %.0f ns for all (writing the logs and serving both)",
		perLine(keptCPU), perLine(cliCPU), perLine(cliCPU-startup*float64(n*b.N)), keptCPU/cliCPU, perLine(engineCPU))
}

// BenchmarkLogsFastOne has one loggen container write 1,000,000 lines as
// fast as it can and exit. Then, as the baseline, a lone `docker logs
// --timestamps` reads them all into a file; and dockman, started afresh
// with an empty log dir, keeps them: lines/s from exec until its file holds
// them all (target: at least 0.9x the CLI's). The live variant (LOGS_LIVE=0
// skips it) has dockman and a `docker logs -f` follow a second container
// while it writes, both timed from the container's start until all its
// lines are out.
func BenchmarkLogsFastOne(b *testing.B) {
	c := testenv.Client(b)
	if _, err := exec.LookPath("docker"); err != nil {
		b.Skip("no docker CLI")
	}
	lines := envInt("LOGS_LINES", 1000000)
	live := envInt("LOGS_LIVE", 1) != 0
	bin := dockmanBin(b)
	img := testenv.LogGenImage(b, c)

	var cliRate, keptRate, cliCPU, keptCPU, keptTotal, peakMB, liveCLI, liveKept float64
	for b.Loop() {
		_, label := testenv.Label(b, c)
		name := testenv.Name("fast")
		id := testenv.RunLogGen(b, c, label, name, false, "-n", strconv.Itoa(lines))
		wait := c.ContainerWait(context.Background(), id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
		select {
		case r := <-wait.Result:
			if r.StatusCode != 0 {
				b.Fatalf("loggen exited %d", r.StatusCode)
			}
		case err := <-wait.Error:
			b.Fatal(err)
		}

		othersRunning(b, c, label)
		base := filepath.Join(b.TempDir(), name)
		start := time.Now()
		cmd, f, err := dockerLogs(id, base, false)
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatalf("docker logs: %v", err)
		}
		cliTime := time.Since(start)
		f.Close()

		start = time.Now()
		k := startKeeper(b, bin, b.TempDir())
		path := k.file(id, name)
		done := waitGrown([]string{path}, []int64{dockerSize(base) + int64(lines*criOverhead)}, 5*time.Millisecond, 30*time.Second)
		keptCPUNow := cpuSeconds(k.pid())
		if done.IsZero() {
			b.Errorf("dockman's file stopped growing short of docker's output")
			done = time.Now()
		}
		keptTime := done.Sub(start)
		keptCPUQuiet, peak := quiet(k.pid())
		k.stop()
		v, got, err := checkAgainstDocker(path, base, lines)
		switch {
		case err != nil:
			b.Error(err)
		case !v.ok():
			b.Errorf("dockman's file: %v", v)
		}
		b.Logf("%d lines of an exited container (docker logs gave %d): docker logs %.2f s (%.2f CPU-s), dockman from exec %.2f s (%.2f CPU-s by then, %.2f by the time it went quiet; peak RSS %.1f MB); dockman %s",
			lines, got, cliTime.Seconds(), cliSeconds(cmd), keptTime.Seconds(), keptCPUNow, keptCPUQuiet, peak, k.stopped)
		keptTotal += keptCPUQuiet
		peakMB = max(peakMB, peak)
		cliRate += float64(lines) / cliTime.Seconds()
		keptRate += float64(lines) / keptTime.Seconds()
		cliCPU += cliSeconds(cmd)
		keptCPU += keptCPUNow

		if live {
			cliLive, keptLive := followLive(b, c, bin, img, label, lines)
			liveCLI += float64(lines) / cliLive.Seconds()
			liveKept += float64(lines) / keptLive.Seconds()
		}
	}
	nb := float64(b.N)
	b.ReportMetric(cliRate/nb, "docker-lines/s")
	b.ReportMetric(keptRate/nb, "dockman-lines/s")
	b.ReportMetric(keptRate/cliRate, "dockman/docker")
	b.ReportMetric(cliCPU/nb/float64(lines)*1e9, "docker-cpu-ns/line")
	b.ReportMetric(keptCPU/nb/float64(lines)*1e9, "dockman-cpu-ns/line")
	b.ReportMetric(keptTotal/nb/float64(lines)*1e9, "dockman-total-cpu-ns/line")
	b.ReportMetric(peakMB, "dockman-peak-rss-MB")
	msg := fmt.Sprintf("exited container: docker logs %.0f lines/s, dockman %.0f lines/s, ratio %.2f (target >= 0.9); CPU per line docker %.0f ns, dockman %.0f ns until its file was complete (its start-up included), %.0f ns until it went quiet; dockman's peak RSS %.1f MB",
		cliRate/nb, keptRate/nb, keptRate/cliRate, cliCPU/nb/float64(lines)*1e9, keptCPU/nb/float64(lines)*1e9, keptTotal/nb/float64(lines)*1e9, peakMB)
	if live {
		b.ReportMetric(liveCLI/nb, "live-docker-lines/s")
		b.ReportMetric(liveKept/nb, "live-dockman-lines/s")
		b.ReportMetric(liveKept/liveCLI, "live-dockman/docker")
		msg += fmt.Sprintf("; live: docker logs -f %.0f lines/s, dockman %.0f lines/s, ratio %.2f", liveCLI/nb, liveKept/nb, liveKept/liveCLI)
	}
	b.Log(msg)
}

// followLive starts dockman, then a loggen container writing lines as fast
// as it can with a `docker logs -f` on it at once, and returns how long
// after the start each had all the lines out.
func followLive(b *testing.B, c *client.Client, bin, img, label string, lines int) (cli, kept time.Duration) {
	b.Helper()
	name := testenv.Name("live")
	id := createParallel(b, c, 1, func(int) client.ContainerCreateOptions {
		return logGenOptions(img, label, name, "-n", strconv.Itoa(lines))
	})[0]
	k := startKeeper(b, bin, b.TempDir())
	time.Sleep(2 * time.Second) // past its start-up
	path := k.file(id, name)
	// Watch the file from the start: done is known only once docker's
	// output says how long it will be.
	type sample struct {
		at   time.Time
		size int64
	}
	var (
		mu      sync.Mutex
		samples []sample
		stop    = make(chan struct{})
		watched = make(chan struct{})
	)
	go func() {
		defer close(watched)
		var last int64 = -1
		for {
			if s := fileSize(path); s != last {
				mu.Lock()
				samples = append(samples, sample{time.Now(), s})
				mu.Unlock()
				last = s
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	defer func() {
		close(stop)
		<-watched
	}()

	base := filepath.Join(b.TempDir(), name)
	cpu0 := cpuSeconds(k.pid())
	start := time.Now()
	if _, err := c.ContainerStart(context.Background(), id, client.ContainerStartOptions{}); err != nil {
		b.Fatal(err)
	}
	cmd, f, err := dockerLogs(id, base, true)
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("docker logs -f: %v", err)
	}
	cli = time.Since(start)
	f.Close()

	want := dockerSize(base) + int64(lines*criOverhead)
	done := waitGrown([]string{path}, []int64{want}, 5*time.Millisecond, 30*time.Second)
	if done.IsZero() {
		b.Errorf("live: dockman's file stopped growing short of docker's output")
		done = time.Now()
	}
	mu.Lock()
	for _, s := range samples {
		if s.size >= want {
			done = s.at
			break
		}
	}
	mu.Unlock()
	kept = done.Sub(start)
	cpu := cpuSeconds(k.pid())
	cpuQuiet, peak := quiet(k.pid())
	k.stop()
	v, _, err := checkAgainstDocker(path, base, lines)
	switch {
	case err != nil:
		b.Error(err)
	case !v.ok():
		b.Errorf("live: dockman's file: %v", v)
	}
	b.Logf("live, %d lines: docker logs -f had them %.2f s after the start (%.2f CPU-s), dockman %.2f s (%.2f CPU-s since the start, %.2f by the time it went quiet; peak RSS %.1f MB); dockman %s",
		lines, cli.Seconds(), cliSeconds(cmd), kept.Seconds(), cpu-cpu0, cpuQuiet-cpu0, peak, k.stopped)
	return cli, kept
}

// BenchmarkLogsIdle200 has dockman follow 200 idle containers (each wrote
// one line) and measures, once its log dir holds their 200 files, its
// resident memory (target: at most 60 MB) and its CPU over a 30 s window
// (IDLE_SECONDS) beside the 10 ms sleep-loop floor of BenchmarkIdleCPU
// (target: near the floor), and beside a dockman started with --no-logs
// at the same time, which shows what the keeper adds.
func BenchmarkLogsIdle200(b *testing.B) {
	c := testenv.Client(b)
	n := envInt("LOGS_IDLE", 200)
	bin := dockmanBin(b)
	img := testenv.BusyboxImage(b, c)
	_, label := testenv.Label(b, c)
	names := make([]string, n)
	ids := createParallel(b, c, n, func(i int) client.ContainerCreateOptions {
		names[i] = fmt.Sprintf("dmi-%s-%03d", label[len(label)-6:], i)
		return client.ContainerCreateOptions{
			Name:       names[i],
			Config:     &container.Config{Image: img, Cmd: []string{"sh", "-c", "echo ready; exec sleep 3600"}, Labels: map[string]string{testenv.LabelKey: label}},
			HostConfig: &container.HostConfig{NetworkMode: "none"},
		}
	})
	errs := make([]error, n)
	parallel(n, func(i int) {
		_, errs[i] = c.ContainerStart(context.Background(), ids[i], client.ContainerStartOptions{})
	})
	for _, err := range errs {
		if err != nil {
			b.Fatalf("starting containers: %v", err)
		}
	}

	var rss, hwm, ticks, floor, ready, bareRSS, bareTicks float64
	for b.Loop() {
		bare := startKeeper(b, bin, "")
		start := time.Now()
		k := startKeeper(b, bin, b.TempDir())
		paths, want := make([]string, n), make([]int64, n)
		for i := range n {
			paths[i], want[i] = k.file(ids[i], names[i]), int64(tsLen+len(" stdout F ready\n"))
		}
		done := waitGrown(paths, want, 50*time.Millisecond, 60*time.Second)
		if done.IsZero() {
			have := 0
			for _, p := range paths {
				if fileSize(p) > 0 {
					have++
				}
			}
			b.Fatalf("dockman wrote %d of the %d files", have, n)
		}
		othersRunning(b, c, label)
		t, err := beside(idleWindow(), k.pid(), bare.pid())
		if err != nil {
			b.Fatal(err)
		}
		othersRunning(b, c, label)
		r, h := memKB(k.pid(), "VmRSS")/1024, memKB(k.pid(), "VmHWM")/1024
		br := memKB(bare.pid(), "VmRSS") / 1024
		k.stop()
		bare.stop()
		off := 0
		for _, p := range paths {
			v := &verdict{}
			kept, err := readKept(p, v)
			if err != nil || !v.ok() || kept.count() != 1 || len(kept["-out"]) != 1 || !strings.HasSuffix(kept["-out"][0], " ready") {
				off++
				if off <= 3 {
					b.Errorf("%s: %v %v %q", filepath.Base(p), err, v, kept)
				}
			}
		}
		b.Logf("%d idle containers: files complete %.2f s after exec; then over %s: dockman %.0f ticks, with --no-logs %.0f, floor %.0f; VmRSS %.1f MB (peak %.1f), with --no-logs %.1f MB; %d files off; dockman %s",
			n, done.Sub(start).Seconds(), idleWindow(), t[0], t[1], t[2], r, h, br, off, k.stopped)
		rss += r
		hwm += h
		bareRSS += br
		ticks += t[0]
		bareTicks += t[1]
		floor += t[2]
		ready += done.Sub(start).Seconds()
	}
	nb := float64(b.N)
	b.ReportMetric(rss/nb, "rss-MB")
	b.ReportMetric(hwm/nb, "peak-rss-MB")
	b.ReportMetric(ticks/nb, "dockman-ticks")
	b.ReportMetric(floor/nb, "floor-ticks")
	if floor > 0 {
		b.ReportMetric(ticks/floor, "dockman/floor")
	}
	b.ReportMetric(ready/nb, "files-ready-s")
	b.ReportMetric(bareRSS/nb, "no-logs-rss-MB")
	b.ReportMetric(bareTicks/nb, "no-logs-ticks")
	b.Logf("%d idle containers: VmRSS %.1f MB (target <= 60; %.1f MB with --no-logs), CPU %.0f ticks beside the floor's %.0f over %s (ratio %.2f, target near 1; %.0f ticks with --no-logs)",
		n, rss/nb, bareRSS/nb, ticks/nb, floor/nb, idleWindow(), ticks/floor, bareTicks/nb)
}
