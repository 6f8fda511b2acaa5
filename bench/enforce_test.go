package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	"github.com/dockman/dockman/internal/testenv"
)

// Enforce mode's speed targets (issue 8), each measured next to its
// baseline in the same run, with 100 and then 500 other containers
// running on the engine (busybox sleeps outside the enforcer's scope):
//
//	intruder   a container started within the scope, not in the snapshot:
//	           from its start to its destroy; baseline: a shell loop of
//	           `docker events ... | while read id; do docker rm -f "$id"; done`
//	           (target: dockman's median at most half the loop's)
//	restart    a snapshot container whose process dies: from its die to
//	           its start; baseline: docker's own --restart=always, first
//	           restart (target: at most 1.2x)
//	recreate   a snapshot container deleted: from its destroy to the start
//	           of the container made again under its name (target: median
//	           under 500 ms)
//	idle       enforcement on, nothing happening: dockman's CPU ticks over
//	           30 s (IDLE_SECONDS) beside the 10 ms sleep loop's
//
// dockman is the real binary (DOCKMAN_BENCH_BIN, else built from this
// tree): a script takes the snapshot and turns enforcement on, then an
// interactive dockman on a pty, --no-logs, resumes it and is measured.
// Every latency is the difference of two of the engine's own event stamps
// (timeNano), so dockman and the baselines are timed by the same clock.
// Baseline and dockman samples alternate, so that whatever else loads the
// machine meanwhile lands on both. For the intruder and the recreation,
// the engine's floor is measured alike: the same step sent from this
// process the moment the event arrives, the least any tool can take.
//
//	ENFORCE_N=20            samples per measure and side
//	ENFORCE_OTHERS=100,500  the other containers' counts, in order
//	ENFORCE_GIVE_UP=5       seconds before a restart dockman has not made is missed
//	ENFORCE_DEBUG=1         dockman --debug, its state directory kept, and
//	                        each of dockman's samples as a timeline of events
//
// The enforcer's scope is this benchmark's testenv label (dockman.test=
// <value>); the other containers carry no dockman.test label at all (only
// otherLabel, by which they are removed at the end), and the baselines'
// containers carry another dockman.test value: the enforcer can touch none
// of them. Needs root on the engine's host: a process's death is played by
// a SIGKILL sent from here to the container's process.

// otherLabel marks the other containers, for their removal only.
const otherLabel = "dockman.bench.other"

// naiveLabel marks the intruders the naive loop removes (and only those:
// the loop would remove the restart baseline's containers too at their
// restart, if it listened on their label).
const naiveLabel = "dockman.bench.naive"

// awaitTimeout bounds each wait for an event: a measure that never
// completes fails the benchmark.
const awaitTimeout = 30 * time.Second

// samplePause lets both sides settle between samples (an archive written,
// the inventory's inspects) so that one sample's tail is not the next's.
const samplePause = 300 * time.Millisecond

// BenchmarkEnforce runs enforce mode's measures for each size of
// ENFORCE_OTHERS, each size a sub-benchmark holding one per measure (run
// with -benchtime 1x: each one takes its ENFORCE_N samples once).
func BenchmarkEnforce(b *testing.B) {
	c := testenv.Client(b)
	if _, err := exec.LookPath("docker"); err != nil {
		b.Skip("no docker CLI (the naive loop's baseline)")
	}
	n := envInt("ENFORCE_N", 20)
	if n < 1 {
		b.Fatal("ENFORCE_N must be at least 1")
	}
	bin := dockmanBin(b)
	sizes, err := enforceSizes()
	if err != nil {
		b.Fatal(err)
	}
	others := &otherFleet{c: c, label: otherLabel + "=" + randLabel()}
	b.Cleanup(func() { others.remove(b) })
	for _, size := range sizes {
		b.Run(fmt.Sprintf("others=%d", size), func(b *testing.B) {
			others.grow(b, size)
			r := newEnforceRun(b, c, bin, n)
			note("others=%d: %d other containers running; %d snapshot containers in scope %s; dockman: %s", size, others.count(), len(r.restartIDs)+len(r.recreateIDs), r.scope, r.how)
			b.Run("intruder", r.benchIntruder)
			b.Run("restart", r.benchRestart)
			b.Run("recreate", r.benchRecreate)
			b.Run("idle", r.benchIdle)
			r.summary(size)
		})
	}
}

// enforceSizes reads ENFORCE_OTHERS.
func enforceSizes() ([]int, error) {
	s := os.Getenv("ENFORCE_OTHERS")
	if s == "" {
		s = "100,500"
	}
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("ENFORCE_OTHERS=%q: want counts such as 100,500", s)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func randLabel() string {
	return strconv.FormatInt(time.Now().UnixNano(), 36)
}

// otherFleet is the running containers outside the enforcer's scope; it
// grows from one size to the next and is removed at the end.
type otherFleet struct {
	c     *client.Client
	label string // key=value
	ids   []string
}

func (o *otherFleet) count() int { return len(o.ids) }

// grow creates and starts containers until n run.
func (o *otherFleet) grow(b *testing.B, n int) {
	b.Helper()
	if len(o.ids) >= n {
		return
	}
	img := testenv.BusyboxImage(b, o.c)
	key, val, _ := strings.Cut(o.label, "=")
	base := len(o.ids)
	started := time.Now()
	ids := createParallel(b, o.c, n-base, func(i int) client.ContainerCreateOptions {
		return client.ContainerCreateOptions{
			Name:       fmt.Sprintf("dmo-%s-%03d", val[len(val)-4:], base+i),
			Config:     &container.Config{Image: img, Cmd: []string{"sleep", "100000"}, Labels: map[string]string{key: val}},
			HostConfig: &container.HostConfig{NetworkMode: "none"},
		}
	})
	o.ids = append(o.ids, ids...)
	errs := make([]error, len(ids))
	parallel(len(ids), func(i int) {
		_, errs[i] = o.c.ContainerStart(context.Background(), ids[i], client.ContainerStartOptions{})
	})
	for _, err := range errs {
		if err != nil {
			b.Fatalf("starting the other containers: %v", err)
		}
	}
	note("%d other containers started in %.1f s", len(ids), time.Since(started).Seconds())
}

// remove removes the others, by their label's value (a run that was
// killed leaves them: `docker ps -aq -f label=dockman.bench.other | xargs
// docker rm -f` removes every run's).
func (o *otherFleet) remove(b *testing.B) {
	list, err := o.c.ContainerList(context.Background(), client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", o.label)})
	if err != nil {
		b.Errorf("listing the other containers: %v", err)
		return
	}
	errs := make([]error, len(list.Items))
	parallel(len(list.Items), func(i int) {
		_, errs[i] = o.c.ContainerRemove(context.Background(), list.Items[i].ID, client.ContainerRemoveOptions{Force: true})
	})
	for _, err := range errs {
		if err != nil && !cerrdefs.IsNotFound(err) {
			b.Errorf("removing the other containers: %v", err)
			return
		}
	}
}

// enforceRun is one size's setting: the snapshot containers within the
// scope, the baselines' containers outside it, dockman enforcing, and the
// engine's events.
type enforceRun struct {
	c      *client.Client
	n      int
	img    string
	events *eventLog
	scope  string // key=value, the enforcer's
	scoped string // the scope's label value
	base   string // the baselines' dockman.test value
	naive  string // naiveLabel's value

	// n + 1 of each (one for a warm-up), each used once: the snapshot
	// containers killed and deleted, the recreation floor's, and the
	// restart baseline's (--restart=always), all running at the start.
	restartIDs, recreateIDs, alwaysIDs, floorIDs []string
	restartNames, recreateNames, floorNames      []string

	how     string // how dockman runs
	pid     int    // dockman's process
	stateDn string // dockman's state directory

	results map[string]spread
	missed  int            // restart samples dockman never started
	marks   map[string]int // where each sample's events begin, by container name
	debug   bool           // ENFORCE_DEBUG: timelines of dockman's samples
}

// newEnforceRun creates the containers, takes the snapshot and starts
// dockman enforcing it; everything ends with the sub-benchmark.
func newEnforceRun(b *testing.B, c *client.Client, bin string, n int) *enforceRun {
	b.Helper()
	key, scoped := testenv.Label(b, c)
	_, base := testenv.Label(b, c)
	r := &enforceRun{c: c, n: n, img: testenv.BusyboxImage(b, c), events: watchEvents(b, c),
		scope: key + "=" + scoped, scoped: scoped, base: base, naive: randLabel(),
		stateDn: b.TempDir(), results: map[string]spread{}, marks: map[string]int{}, debug: os.Getenv("ENFORCE_DEBUG") != ""}
	tail := scoped[len(scoped)-6:]
	sleeper := container.Config{Cmd: sleeperCmd}
	for i := range n + 1 {
		name := fmt.Sprintf("dme-%s-rs-%02d", tail, i)
		r.restartNames = append(r.restartNames, name)
		r.restartIDs = append(r.restartIDs, testenv.RunBusybox(b, c, scoped, name, sleeper, container.HostConfig{}))
		name = fmt.Sprintf("dme-%s-rc-%02d", tail, i)
		r.recreateNames = append(r.recreateNames, name)
		r.recreateIDs = append(r.recreateIDs, testenv.RunBusybox(b, c, scoped, name, sleeper, container.HostConfig{}))
		name = fmt.Sprintf("dme-%s-refloor-%02d", tail, i)
		r.floorNames = append(r.floorNames, name)
		r.floorIDs = append(r.floorIDs, testenv.RunBusybox(b, c, base, name,
			container.Config{Cmd: sleeperCmd, Labels: map[string]string{floorLabel: r.naive}}, container.HostConfig{}))
		r.alwaysIDs = append(r.alwaysIDs, testenv.RunBusybox(b, c, base, fmt.Sprintf("dme-%s-always-%02d", tail, i), sleeper,
			container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways}}))
	}
	r.startDockman(b, bin)
	return r
}

// startDockman has the dockman binary take the snapshot of the scope and
// turn enforcement on (a script, which only saves both), then starts it
// interactive on a pty, where enforcement resumes, without the log keeper
// (--no-logs: only enforcement is measured). It returns once dockman has
// gone quiet after its start (the first resync, the inventory's
// inspects). ENFORCE_DEBUG=1 adds --debug and keeps the state directory
// (its debug.log, the audit log, and the screen).
func (r *enforceRun) startDockman(b *testing.B, bin string) {
	b.Helper()
	if os.Getenv("ENFORCE_DEBUG") != "" {
		dir, err := os.MkdirTemp("", "enforce-bench-")
		if err != nil {
			b.Fatal(err)
		}
		r.stateDn = dir
		b.Logf("dockman's state directory (kept): %s", dir)
	}
	script := exec.Command(bin, "--state-dir", r.stateDn, "--scope", r.scope, "-c", "snapshot take; enforce on --force")
	script.Env = append(os.Environ(), "DOCKER_HOST="+testenv.Host())
	if out, err := script.CombinedOutput(); err != nil {
		b.Fatalf("dockman -c 'snapshot take; enforce on --force': %v: %s", err, out)
	}
	args := []string{"--scope", r.scope, "--no-logs"}
	if os.Getenv("ENFORCE_DEBUG") != "" {
		args = append(args, "--debug")
	}
	cmd, master, err := startOnPTY(bin, r.stateDn, args...)
	if err != nil {
		b.Fatalf("starting dockman: %v", err)
	}
	screen := io.Discard
	if os.Getenv("ENFORCE_DEBUG") != "" {
		f, err := os.Create(filepath.Join(r.stateDn, "screen.txt"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		screen = f
	}
	go io.Copy(screen, master) // keep the pty drained
	k := &keeper{cmd: cmd, master: master}
	b.Cleanup(k.stop)
	r.pid = k.pid()
	r.how = fmt.Sprintf("%s %s (interactive, on a pty)", bin, strings.Join(args, " "))
	calm(r.pid)
}

// sleeperCmd is the command of every container that is not an intruder.
var sleeperCmd = []string{"sleep", "100000"}

// intruderCmd exits at SIGTERM (a PID 1 without a handler ignores it), so
// that dockman's stop and the loop's rm -f both end it at once.
var intruderCmd = []string{"sh", "-c", `trap "exit 0" TERM; sleep 100000 & wait`}

// removal is one intruder's fate, timed by the engine's events.
type removal struct {
	fromStart  float64 // start → destroy, ms
	fromCreate float64 // create → destroy, ms
	early      bool    // removed before its start succeeded: no fromStart
	exit       string  // its die's exit code: 137 is a kill (rm -f, or a stop's grace run out)
}

// intruder starts a container as `docker run -d` does (create, then start)
// and waits for its destroy.
func (r *enforceRun) intruder(b *testing.B, name string, labels map[string]string) removal {
	b.Helper()
	ctx := context.Background()
	from := r.events.mark()
	r.marks[name] = from
	res, err := r.c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name,
		Config:     &container.Config{Image: r.img, Cmd: intruderCmd, Labels: labels},
		HostConfig: &container.HostConfig{NetworkMode: "none"}})
	if err != nil {
		b.Fatalf("create intruder: %v", err)
	}
	_, startErr := r.c.ContainerStart(ctx, res.ID, client.ContainerStartOptions{})
	is := func(action string) func(engineEvent) bool {
		return func(ev engineEvent) bool { return ev.ID == res.ID && ev.Action == action }
	}
	created, err := r.events.await(from, awaitTimeout, "the create of "+name, is("create"))
	if err != nil {
		b.Fatal(err)
	}
	gone, err := r.events.await(from, awaitTimeout, "the destroy of intruder "+name, is("destroy"))
	if err != nil {
		b.Fatal(err)
	}
	out := removal{fromCreate: since(created, gone)}
	if startErr != nil {
		out.early = true
		return out
	}
	started, err := r.events.await(from, awaitTimeout, "the start of "+name, is("start"))
	if err != nil {
		b.Fatal(err)
	}
	died, err := r.events.await(from, awaitTimeout, "the die of "+name, is("die"))
	if err != nil {
		b.Fatal(err)
	}
	out.fromStart, out.exit = since(started, gone), died.Exit
	return out
}

// naiveLoop starts the baseline's shell loop on the intruders labelled
// naiveLabel=value; it ends with the sub-benchmark.
func naiveLoop(b *testing.B, value string) {
	b.Helper()
	script := fmt.Sprintf(`docker events --filter event=start --filter label=%s=%s --format '{{.ID}}' | while read id; do docker rm -f "$id" >/dev/null; done`, naiveLabel, value)
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+testenv.Host())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("naive loop: %v", err)
	}
	b.Cleanup(func() {
		unix.Kill(-cmd.Process.Pid, unix.SIGTERM)
		cmd.Wait()
	})
}

// floorLabel marks the containers of the engine's floors, outside the
// scope: intruders removed by a force remove sent from this process at
// their start event, the least any remover can take (no process to start,
// no archive, no grace); and containers made again from this process at
// their destroy (recreateFloor).
const floorLabel = "dockman.bench.floor"

// engineFloor removes each container labelled floorLabel=value at its
// start, from this process; it ends with the sub-benchmark.
func engineFloor(b *testing.B, c *client.Client, value string) {
	b.Helper()
	onEvents(b, c, make(client.Filters).Add("type", "container").Add("event", "start").Add("label", floorLabel+"="+value),
		func(ctx context.Context, m events.Message) {
			go c.ContainerRemove(ctx, m.Actor.ID, client.ContainerRemoveOptions{Force: true})
		}, nil)
}

// benchIntruder: dockman removing an intruder against the naive loop, and
// the engine's own floor for reference. The intruder is started as
// `docker run -d` starts one (create, then start), so the enforcer sees its
// create and may act before the start: the measure is start →
// destroy; create → destroy is reported too, to show that head start.
// The intruder exits at SIGTERM, so that dockman's stop (with its grace)
// and the loop's rm -f (SIGKILL) both end it at once; an exit code of 137
// from a dockman removal means its grace ran out (reported).
func (r *enforceRun) benchIntruder(b *testing.B) {
	naiveLoop(b, r.naive)
	engineFloor(b, r.c, r.naive)
	tail := r.scoped[len(r.scoped)-6:]
	labels := map[string]map[string]string{
		"dockman": {testenv.LabelKey: r.scoped},
		"naive":   {testenv.LabelKey: r.base, naiveLabel: r.naive},
		"floor":   {testenv.LabelKey: r.base, floorLabel: r.naive},
	}
	got := map[string][]removal{}
	for b.Loop() {
		// A warm-up each: the loop's subscription, dockman's first archive.
		for side, l := range labels {
			r.intruder(b, fmt.Sprintf("dme-%s-warm-%s", tail, side), l)
		}
		for i := range r.n {
			var sides []func()
			for _, side := range []string{"dockman", "naive", "floor"} {
				sides = append(sides, func() {
					got[side] = append(got[side], r.intruder(b, fmt.Sprintf("dme-%s-%s-%02d", tail, side, i), labels[side]))
				})
			}
			alternate(i, sides)
		}
	}
	fromStart := func(rs []removal) (ms []float64, early, killed int) {
		for _, x := range rs {
			if x.early {
				early++
				continue
			}
			ms = append(ms, x.fromStart)
			if x.exit == "137" {
				killed++
			}
		}
		return ms, early, killed
	}
	fromCreate := func(rs []removal) []float64 {
		var ms []float64
		for _, x := range rs {
			ms = append(ms, x.fromCreate)
		}
		return ms
	}
	var names []string
	for i := range r.n {
		names = append(names, fmt.Sprintf("dme-%s-dockman-%02d", tail, i))
	}
	r.timeline(b, names)
	dm, early, killed := fromStart(got["dockman"])
	naive, _, _ := fromStart(got["naive"])
	floor, _, _ := fromStart(got["floor"])
	r.report(b, "intruder", dm, "naive-loop", naive, 0.5)
	f := summarize(floor)
	r.results["engine-floor"] = f
	b.ReportMetric(f.p50, "engine-floor-p50-ms")
	b.Logf("the engine's floor (rm -f from this process at the start event): %v; samples %s", f, samples(floor))
	d, l := summarize(fromCreate(got["dockman"])), summarize(fromCreate(got["naive"]))
	b.ReportMetric(d.p50, "intruder-from-create-p50-ms")
	b.ReportMetric(l.p50, "naive-loop-from-create-p50-ms")
	b.Logf("create → destroy: dockman %v; naive loop %v", d, l)
	if early > 0 {
		b.Logf("%d of %d intruders were removed before their start succeeded (left out of start → destroy)", early, r.n)
	}
	if killed > 0 {
		b.Logf("%d of dockman's intruders were killed at the end of their stop grace rather than exiting at SIGTERM", killed)
	}
}

// alternate runs the sides of sample i, each in turn first, with a pause
// after each.
func alternate(i int, sides []func()) {
	for k := range sides {
		sides[(i+k)%len(sides)]()
		time.Sleep(samplePause)
	}
}

// die kills a container's process from the host, as a crash or the OOM
// killer would, and returns the time from its die to its next start.
//
// Why this trigger: `docker kill` (any signal) and `docker stop` mark a
// container as stopped by hand, and docker's restart policy then leaves it
// down (checked on 20.10: a --restart=always container stays Exited after
// `docker kill`), while enforcement would start it: no comparison at all.
// A process that dies without the engine's doing is what both exist for,
// and the engine sees this SIGKILL exactly as such a death (exit 137, no
// kill event), for both sides alike. Each container dies once, so both
// make a first restart: docker's policy waits 100 ms before it (its
// backoff starts there), the enforcer's backoff only from a second death
// within 10 s.
func (r *enforceRun) die(b *testing.B, id string, giveUp time.Duration) (float64, bool) {
	b.Helper()
	ctx := context.Background()
	info, err := r.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if info.Container.State == nil || info.Container.State.Pid == 0 {
		b.Fatalf("container %s is not running", id[:12])
	}
	from := r.events.mark()
	r.marks[strings.TrimPrefix(info.Container.Name, "/")] = from
	if err := unix.Kill(info.Container.State.Pid, unix.SIGKILL); err != nil {
		b.Skipf("cannot kill the container's process %d from here (%v): the benchmark needs root on the engine's host", info.Container.State.Pid, err)
	}
	died, err := r.events.await(from, awaitTimeout, "the die of "+id[:12], func(ev engineEvent) bool { return ev.ID == id && ev.Action == "die" })
	if err != nil {
		b.Fatal(err)
	}
	started, err := r.events.await(from, giveUp, "the start of "+id[:12]+" after its die", func(ev engineEvent) bool {
		return ev.ID == id && ev.Action == "start" && ev.Nano >= died.Nano
	})
	if err != nil {
		return 0, false
	}
	return since(died, started), true
}

// restartGiveUp is how long a dead snapshot container may take to run
// again before its sample is counted as missed (ENFORCE_GIVE_UP seconds).
func restartGiveUp() time.Duration {
	return time.Duration(envInt("ENFORCE_GIVE_UP", 5)) * time.Second
}

// benchRestart: a snapshot container's process dies; dockman starts it
// again, against docker's --restart=always. A sample dockman does not
// start within restartGiveUp is counted as missed (restart-missed).
func (r *enforceRun) benchRestart(b *testing.B) {
	var dm, docker []float64
	missed := 0
	dockman := func(id string) {
		if ms, ok := r.die(b, id, restartGiveUp()); ok {
			dm = append(dm, ms)
		} else {
			missed++
		}
	}
	baseline := func(id string) {
		ms, ok := r.die(b, id, awaitTimeout)
		if !ok {
			b.Fatalf("docker's restart policy did not start %s again", id[:12])
		}
		docker = append(docker, ms)
	}
	r.settle(b)
	for b.Loop() {
		dockman(r.restartIDs[r.n]) // warm-ups
		baseline(r.alwaysIDs[r.n])
		dm, docker, missed = nil, nil, 0
		for i := range r.n {
			alternate(i, []func(){
				func() { dockman(r.restartIDs[i]) },
				func() { baseline(r.alwaysIDs[i]) },
			})
		}
	}
	r.timeline(b, r.restartNames[:r.n])
	r.report(b, "restart", dm, "docker-always", docker, 1.2)
	b.ReportMetric(float64(missed), "restart-missed")
	r.missed = missed
	if missed > 0 {
		b.Logf("dockman did not start %d of %d dead snapshot containers within %s", missed, r.n, restartGiveUp())
	}
}

// benchRecreate: a snapshot container is deleted (docker rm -f); dockman
// creates it again under its name and starts it.
func (r *enforceRun) benchRecreate(b *testing.B) {
	r.recreateFloor(b)
	var dm, floor []float64
	recreate := func(id, name string) float64 {
		ctx := context.Background()
		from := r.events.mark()
		r.marks[name] = from
		if _, err := r.c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil {
			b.Fatalf("remove %s: %v", name, err)
		}
		gone, err := r.events.await(from, awaitTimeout, "the destroy of "+name, func(ev engineEvent) bool { return ev.ID == id && ev.Action == "destroy" })
		if err != nil {
			b.Fatal(err)
		}
		back, err := r.events.await(from, awaitTimeout, name+" recreated and started", func(ev engineEvent) bool {
			return ev.Name == name && ev.ID != id && ev.Action == "start"
		})
		if err != nil {
			b.Fatal(err)
		}
		return since(gone, back)
	}
	for b.Loop() {
		recreate(r.recreateIDs[r.n], r.recreateNames[r.n]) // warm-ups
		recreate(r.floorIDs[r.n], r.floorNames[r.n])
		r.settle(b) // the restart measure's misses, started at the destroy
		for i := range r.n {
			alternate(i, []func(){
				func() { dm = append(dm, recreate(r.recreateIDs[i], r.recreateNames[i])) },
				func() { floor = append(floor, recreate(r.floorIDs[i], r.floorNames[i])) },
			})
		}
	}
	r.timeline(b, r.recreateNames[:r.n])
	s, f := summarize(dm), summarize(floor)
	r.results["recreate"], r.results["recreate-floor"] = s, f
	b.ReportMetric(s.p50, "recreate-p50-ms")
	b.ReportMetric(s.p90, "recreate-p90-ms")
	b.ReportMetric(f.p50, "engine-floor-p50-ms")
	b.ReportMetric(f.p90, "engine-floor-p90-ms")
	b.Logf("deleted → recreated and running: %v (target: median under 500 ms); samples %s", s, samples(dm))
	b.Logf("the engine's floor (create and start from this process at the destroy event): %v; samples %s", f, samples(floor))
}

// recreateFloor creates and starts, from this process, a container of
// the same name and command at the destroy of each floor container: the
// least any recreation can take (no list, no saved inspect to read, no
// snapshot to save). It ends with the sub-benchmark, before the label's
// cleanup removes what it made.
func (r *enforceRun) recreateFloor(b *testing.B) {
	b.Helper()
	onEvents(b, r.c, make(client.Filters).Add("type", "container").Add("event", "destroy").Add("label", floorLabel+"="+r.naive),
		func(ctx context.Context, m events.Message) {
			go func() {
				made, err := r.c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: m.Actor.Attributes["name"],
					Config:     &container.Config{Image: r.img, Cmd: sleeperCmd, Labels: map[string]string{testenv.LabelKey: r.base, floorLabel: r.naive}},
					HostConfig: &container.HostConfig{NetworkMode: "none"}})
				if err == nil {
					r.c.ContainerStart(ctx, made.ID, client.ContainerStartOptions{})
				}
			}()
		}, nil)
}

// benchIdle: dockman's CPU at rest with enforcement on, beside the floor.
func (r *enforceRun) benchIdle(b *testing.B) {
	r.settle(b)
	var dm, floor float64
	for b.Loop() {
		ticks, err := beside(idleWindow(), r.pid)
		if err != nil {
			b.Fatal(err)
		}
		dm += ticks[0]
		floor += ticks[1]
	}
	n := float64(b.N)
	b.ReportMetric(dm/n, "dockman-ticks")
	b.ReportMetric(floor/n, "floor-ticks")
	if floor > 0 {
		b.ReportMetric(dm/floor, "dockman/floor")
	}
	b.ReportMetric(idleWindow().Seconds(), "window-s")
	r.results["idle"] = spread{p50: dm / n, p90: floor / n}
	b.Logf("at rest over %s: dockman %.0f ticks, the 10 ms sleep loop %.0f", idleWindow(), dm/n, floor/n)
}

// report gives a measure's metrics next to its baseline's, and the ratio
// of the medians with its target.
func (r *enforceRun) report(b *testing.B, name string, dm []float64, baseName string, base []float64, target float64) {
	d, l := summarize(dm), summarize(base)
	r.results[name], r.results[baseName] = d, l
	b.ReportMetric(l.p50, baseName+"-p50-ms")
	b.ReportMetric(l.p90, baseName+"-p90-ms")
	if d.n == 0 {
		b.Logf("%s: dockman: no sample completed; %s %v", name, baseName, l)
		return
	}
	b.ReportMetric(d.p50, name+"-p50-ms")
	b.ReportMetric(d.p90, name+"-p90-ms")
	ratio := d.p50 / l.p50
	b.ReportMetric(ratio, name+"/"+baseName)
	b.Logf("%s: dockman %v; %s %v; ratio of medians %.2f (target <= %.1f)", name, d, baseName, l, ratio, target)
	b.Logf("samples (ms): dockman %s; %s %s", samples(dm), baseName, samples(base))
}

func samples(ms []float64) string {
	var s []string
	for _, v := range ms {
		s = append(s, strconv.FormatFloat(v, 'f', 0, 64))
	}
	return strings.Join(s, " ")
}

// settle waits until every container in scope runs (a minute at most:
// those dockman missed are started only when something queues them
// again) and dockman has gone quiet, so that a measure does not begin
// while dockman still works on the one before.
func (r *enforceRun) settle(b *testing.B) {
	b.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		list, err := r.c.ContainerList(context.Background(), client.ContainerListOptions{All: true,
			Filters: make(client.Filters).Add("label", r.scope)})
		if err != nil {
			b.Fatal(err)
		}
		var down []string
		for _, c := range list.Items {
			if c.State != container.StateRunning {
				down = append(down, strings.TrimPrefix(c.Names[0], "/")+" "+string(c.State))
			}
		}
		if len(down) == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Logf("settle: still not running after a minute: %s", strings.Join(down, ", "))
			break
		}
	}
	calm(r.pid)
}

// calm waits until process pid uses at most 2 clock ticks a second (60 s
// at most): dockman at rest spends about one, in go-prompt's 10 ms polls,
// so quiet's "no tick for 1.5 s" would be met by chance only.
func calm(pid int) {
	last, _ := cpuTicks(pid)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		now, err := cpuTicks(pid)
		if err != nil || now-last <= 2 {
			return
		}
		last = now
	}
}

// timeline prints, with ENFORCE_DEBUG, each sample's engine events by
// container name, in ms from the first, and when dockman began its action
// (the audit log's time: after its list and plan, before the engine call).
// On stdout: a benchmark's log is cut after 10 lines.
func (r *enforceRun) timeline(b *testing.B, names []string) {
	if !r.debug {
		return
	}
	type record struct {
		Time      time.Time `json:"time"`
		Container string    `json:"container"`
		Action    string    `json:"action"`
		Result    string    `json:"result"`
	}
	var audit []record
	if f, err := os.ReadFile(filepath.Join(r.stateDn, "enforce-audit.jsonl")); err == nil {
		for l := range strings.Lines(string(f)) {
			var rec record
			if json.Unmarshal([]byte(l), &rec) == nil {
				audit = append(audit, rec)
			}
		}
	}
	r.events.mu.Lock()
	defer r.events.mu.Unlock()
	for _, name := range names {
		from, ok := r.marks[name]
		if !ok {
			continue
		}
		var line []string
		var base int64
		for _, ev := range r.events.evs[from:] {
			if ev.Name != name {
				continue
			}
			if base == 0 {
				base = ev.Nano
			}
			e := fmt.Sprintf("%s %s +%.1f", ev.Action, ev.ID[:6], float64(ev.Nano-base)/1e6)
			if ev.Exit != "" {
				e += " (exit " + ev.Exit + ")"
			}
			line = append(line, e)
		}
		for _, rec := range audit {
			if rec.Container == name && rec.Time.UnixNano() >= base {
				line = append(line, fmt.Sprintf("dockman %s at +%.1f (%s)", rec.Action, float64(rec.Time.UnixNano()-base)/1e6, rec.Result))
			}
		}
		note("  %s: %s", name, strings.Join(line, ", "))
	}
}

// summary prints one size's figures: the benchmark lines carry them
// too, this is the table for a person.
func (r *enforceRun) summary(size int) {
	row := func(name, base string, target string) {
		d, l := r.results[name], r.results[base]
		if d.n == 0 {
			note("others=%d %-9s dockman: no sample           | %-13s p50 %6.1f p90 %6.1f ms", size, name, base, l.p50, l.p90)
			return
		}
		ratio := 0.0
		if l.p50 > 0 {
			ratio = d.p50 / l.p50
		}
		note("others=%d %-9s dockman p50 %6.1f p90 %6.1f ms | %-13s p50 %6.1f p90 %6.1f ms | ratio %.2f (target %s)",
			size, name, d.p50, d.p90, base, l.p50, l.p90, ratio, target)
	}
	row("intruder", "naive-loop", "<= 0.5")
	fl := r.results["engine-floor"]
	note("others=%d %-9s engine floor (rm -f at the start event, from the benchmark): p50 %6.1f p90 %6.1f ms", size, "", fl.p50, fl.p90)
	row("restart", "docker-always", "<= 1.2")
	if r.missed > 0 {
		note("others=%d %-9s dockman missed %d of %d: not running again within %s", size, "", r.missed, r.n, restartGiveUp())
	}
	rc := r.results["recreate"]
	note("others=%d recreate  dockman p50 %6.1f p90 %6.1f ms (target: median < 500)", size, rc.p50, rc.p90)
	rf := r.results["recreate-floor"]
	note("others=%d %-9s engine floor (create and start at the destroy event, from the benchmark): p50 %6.1f p90 %6.1f ms", size, "", rf.p50, rf.p90)
	if idle, ok := r.results["idle"]; ok {
		note("others=%d idle      dockman %.0f ticks, floor %.0f ticks over %s", size, idle.p50, idle.p90, idleWindow())
	}
}

// note prints a line for a person between the benchmark lines (a parent
// benchmark's b.Log is not shown).
func note(format string, args ...any) {
	fmt.Printf("# "+format+"\n", args...)
}
