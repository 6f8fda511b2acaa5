//go:build deploytest

// The agent's image deployed as a person would: docker-compose with
// deploy/compose.yaml, and `docker stack deploy` of deploy/stack.yaml on a
// one-node Swarm, against the engine at DOCKER_HOST. `make deploy-test`
// builds the image first and runs these; they need docker-compose and the
// docker CLI, and an engine that is in no swarm (TestSwarm makes one and
// leaves it). Every agent runs with --scope dockman.test=<this test's
// label>, so it never touches a container of anyone else.

package deploy

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
)

const (
	// testTimeout bounds each test; cleanups get cleanupTimeout more.
	testTimeout    = 8 * time.Minute
	cleanupTimeout = 3 * time.Minute
	// actionGuard bounds the wait for one enforcement action, which takes
	// tens of milliseconds.
	actionGuard = time.Minute
)

// fixture is what both tests set up: the engine, a label scoping everything,
// the image, a token, a free port, a log directory.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	c       *client.Client
	label   string // the value of testenv.LabelKey
	image   string
	socket  string
	token   string
	port    int
	dir     string // temp files: the token, an override file
	logDir  string
	busybox string
	events  *eventLog
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	c := testenv.Client(t)
	needTool(t, "docker", "apt-get install docker.io")
	host := testenv.Host()
	socket, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		unavailable(t, "DOCKER_HOST %s is not a unix socket: the agent's container mounts the engine's socket", host)
	}
	f := &fixture{t: t, ctx: ctx, c: c, socket: socket, dir: t.TempDir()}
	_, f.label = testenv.Label(t, c)
	f.busybox = testenv.BusyboxImage(t, c)

	f.image = os.Getenv("DOCKMAN_IMAGE")
	if f.image == "" {
		f.image = "dockman:latest"
	}
	if _, err := c.ImageInspect(ctx, f.image); err != nil {
		unavailable(t, "no image %s on the engine (make image builds it; make deploy-test does both): %v", f.image, err)
	}

	b := make([]byte, 32)
	_, _ = rand.Read(b)
	f.token = base64.StdEncoding.EncodeToString(b)
	if err := os.WriteFile(f.file("api-token"), []byte(f.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.logDir = f.file("logs")
	if err := os.Mkdir(f.logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.port = freePort(t)
	f.events = watchEvents(t, c, make(client.Filters).Add("type", "container"))
	return f
}

func (f *fixture) file(name string) string { return filepath.Join(f.dir, name) }

// env is the environment compose.yaml and stack.yaml read, for this test.
func (f *fixture) env(extra ...string) []string {
	return append([]string{
		"DOCKMAN_IMAGE=" + f.image,
		"DOCKMAN_DOCKER_SOCKET=" + f.socket,
		"DOCKMAN_LOG_DIR=" + f.logDir,
		"DOCKMAN_API_PORT=" + strconv.Itoa(f.port),
		"DOCKMAN_AGENT_FLAGS=--enforce --scope " + testenv.LabelKey + "=" + f.label + " --stop-timeout 1",
	}, extra...)
}

// override writes a compose file that adds the test's label to the agent's
// container, so that the agent is inside its own scope: enforcement must
// leave it alone as itself and as labelled dockman.enforce=ignore, not
// merely because it is out of scope.
func (f *fixture) override() string {
	p := f.file("override.yaml")
	body := fmt.Sprintf("version: \"3.8\"\nservices:\n  agent:\n    labels:\n      %s: %q\n", testenv.LabelKey, f.label)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// get asks the agent's API; token "" sends none.
func (f *fixture) get(path, token string) (int, []byte) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", f.port, path), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// getJSON asks the API with the token and decodes a 200 answer into v.
func (f *fixture) getJSON(path string, v any) {
	f.t.Helper()
	code, body := f.get(path, f.token)
	if code != http.StatusOK {
		f.t.Fatalf("GET %s with the token: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		f.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// checkAPI checks the token rule and that /containers lists the agent's
// own container.
func (f *fixture) checkAPI(agentID string) {
	f.t.Helper()
	if code, body := f.get("/healthz", ""); code != http.StatusOK {
		f.t.Errorf("GET /healthz without a token: %d %s, want 200", code, body)
	}
	if code, body := f.get("/containers", ""); code != http.StatusUnauthorized {
		f.t.Errorf("GET /containers without a token: %d %s, want 401", code, body)
	}
	if code, body := f.get("/containers", "not-"+f.token); code != http.StatusUnauthorized {
		f.t.Errorf("GET /containers with a wrong token: %d %s, want 401", code, body)
	}
	var list []struct {
		ID, Name, State string
	}
	f.getJSON("/containers", &list)
	for _, ctr := range list {
		if ctr.ID == agentID {
			if ctr.State != "running" {
				f.t.Errorf("/containers shows the agent %s as %q", ctr.Name, ctr.State)
			}
			return
		}
	}
	f.t.Errorf("/containers does not list the agent's own container %.12s: %+v", agentID, list)
}

// enforceStatus is the part of /enforce the tests read.
type enforceStatus struct {
	On           bool              `json:"on"`
	Leader       bool              `json:"leader"`
	Scope        map[string]string `json:"scope"`
	SnapshotSize int               `json:"snapshot_size"`
	Last         []struct {
		Container, ID, Action, Reason, Result string
	} `json:"last"`
}

func (f *fixture) enforce() enforceStatus {
	f.t.Helper()
	var st enforceStatus
	f.getJSON("/enforce", &st)
	return st
}

// waitLeader waits until the agent answering on the port holds the lock
// and enforces.
func (f *fixture) waitLeader() enforceStatus {
	f.t.Helper()
	var st enforceStatus
	waitFor(f.t, f.ctx, "the agent to hold the lock and enforce", func() bool {
		st = f.enforce()
		return st.On && st.Leader
	})
	if st.Scope[testenv.LabelKey] != f.label || len(st.Scope) != 1 {
		f.t.Errorf("/enforce scope %v, want %s=%s", st.Scope, testenv.LabelKey, f.label)
	}
	return st
}

// removed starts an intruder in the agent's scope and waits until the
// enforcing agent has removed it (removedBy).
func (f *fixture) removed(name string) string {
	f.t.Helper()
	id := f.intruder(name)
	f.removedBy(id, name, 0)
	return id
}

// intruder creates and starts a container in the agent's scope. An
// enforcing agent may remove it between create and start (it is an
// intruder from its create event): a failed start is fine.
func (f *fixture) intruder(name string) string {
	f.t.Helper()
	cfg := container.Config{Image: f.busybox, Cmd: []string{"sleep", "600"}, Labels: map[string]string{testenv.LabelKey: f.label}}
	created, err := f.c.ContainerCreate(f.ctx, client.ContainerCreateOptions{Name: name, Config: &cfg,
		HostConfig: &container.HostConfig{NetworkMode: "none"}})
	if err != nil {
		f.t.Fatalf("creating the intruder %s: %v", name, err)
	}
	_, _ = f.c.ContainerStart(f.ctx, created.ID, client.ContainerStartOptions{})
	return created.ID
}

// removedBy waits for the engine's destroy event of the container (among
// the events from position from on) and for the agent's record of its
// removal: the engine sends destroy before the agent's remove call
// returns and the agent records it (audit log, metrics).
func (f *fixture) removedBy(id, name string, from int) {
	f.t.Helper()
	// It takes tens of milliseconds: a minute is only a guard.
	ctx, cancel := context.WithTimeout(f.ctx, actionGuard)
	defer cancel()
	f.events.waitFrom(ctx, f.t, from, "the enforcing agent to remove the intruder "+name, func(e events.Message) bool {
		return e.Action == events.ActionDestroy && e.Actor.ID == id
	})
	waitFor(f.t, ctx, "the agent to record the removal of "+name, func() bool {
		for _, r := range f.enforce().Last {
			if r.Container == name && r.Action == "remove" {
				return true
			}
		}
		return false
	})
}

// waitHealthy waits until the container's healthcheck says healthy; it
// fails at once if it says unhealthy or the container dies.
func (f *fixture) waitHealthy(id string) {
	f.t.Helper()
	done := f.events.since()
	inspect, err := f.c.ContainerInspect(f.ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		f.t.Fatalf("inspecting %.12s: %v", id, err)
	}
	st := inspect.Container.State
	if st.Health == nil {
		f.t.Fatalf("%.12s has no healthcheck", id)
	}
	if st.Health.Status == container.Healthy {
		return
	}
	e := f.events.waitFrom(f.ctx, f.t, done, "the agent "+id[:12]+" healthy", func(e events.Message) bool {
		return e.Actor.ID == id && (strings.HasPrefix(string(e.Action), "health_status") || e.Action == events.ActionDie)
	})
	if e.Action != "health_status: healthy" {
		f.t.Fatalf("the agent %.12s: %s, not healthy", id, e.Action)
	}
}

// checkKeptLog waits until the agent's log file for the container holds
// want ("stdout text" or "stderr text"), each line once, in the CRI format.
// The engine stamps stdout and stderr lines apart (two pipes), so only the
// order within each stream is given.
func (f *fixture) checkKeptLog(id, name string, want []string) {
	f.t.Helper()
	file := filepath.Join(f.logDir, id[:12]+"+"+name+".log")
	var lines []string
	waitFor(f.t, f.ctx, "the agent to write "+file, func() bool {
		b, err := os.ReadFile(file)
		if err != nil {
			return false
		}
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		return len(lines) >= len(want)
	})
	var got []string
	for i, l := range lines {
		fields := strings.SplitN(l, " ", 4)
		if len(fields) != 4 || fields[2] != "F" {
			f.t.Errorf("%s line %d: %q, want <time> <stream> F <text>", file, i+1, l)
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, fields[0]); err != nil {
			f.t.Errorf("%s line %d: time %q: %v", file, i+1, fields[0], err)
		}
		got = append(got, fields[1]+" "+fields[3])
	}
	for _, stream := range []string{"stdout ", "stderr "} {
		if g, w := onStream(got, stream), onStream(want, stream); !slices.Equal(g, w) {
			f.t.Errorf("%s: %q on %s, want %q (the whole file: %q)", file, g, stream, w, lines)
		}
	}
}

// onStream is the lines of lines that begin with stream.
func onStream(lines []string, stream string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, stream) {
			out = append(out, l)
		}
	}
	return out
}

// untouched is a container enforcement must not have acted on.
type untouched struct {
	what, name, id string // name "": by ID alone
}

// checkNoActionOn fails for each record of the audit log about one of the
// containers.
func checkNoActionOn(t *testing.T, st enforceStatus, cs ...untouched) {
	t.Helper()
	for _, r := range st.Last {
		for _, c := range cs {
			if (c.name != "" && r.Container == c.name) || (r.ID != "" && strings.HasPrefix(c.id, r.ID)) {
				t.Errorf("the audit log has an action on %s (%s %.12s): %+v", c.what, c.name, c.id, r)
			}
		}
	}
}

// checkRemoved checks that the agent's last actions (/enforce: those of
// this process) hold the intruder's removal, ok.
func checkRemoved(t *testing.T, st enforceStatus, intruder string) {
	t.Helper()
	for _, r := range st.Last {
		if r.Container == intruder && r.Action == "remove" && r.Result == "ok" {
			return
		}
	}
	t.Errorf("/enforce's last actions %+v: no removal of %s, ok", st.Last, intruder)
}

// checkRemovals checks the agent's dockman_enforce_actions_total: exactly n
// removals, all of them ok.
func (f *fixture) checkRemovals(n int) {
	f.t.Helper()
	code, body := f.get("/metrics", f.token)
	if code != http.StatusOK {
		f.t.Fatalf("GET /metrics: %d %s", code, body)
	}
	total, ok := 0.0, 0.0
	for _, s := range parseMetrics(string(body)) {
		if s.name != "dockman_enforce_actions_total" || s.labels["action"] != "remove" {
			continue
		}
		total += s.value
		if s.labels["result"] == "ok" {
			ok += s.value
		}
	}
	if total != float64(n) || ok != float64(n) {
		f.t.Errorf("dockman_enforce_actions_total{action=\"remove\"}: %v, %v of them ok; want %d, all ok (the intruders this agent saw, and nothing else)", total, ok, n)
	}
}

// TestCompose deploys compose.yaml with enforcement on, checks the API,
// the log files and an intruder's removal, then recreates the agent
// (`up -d --force-recreate`: a new container under the same name, stopped
// first) and checks that the new agent takes over, enforces, and never
// removes itself or its predecessor.
func TestCompose(t *testing.T) {
	needTool(t, "docker-compose", "apt-get install docker-compose")
	f := newFixture(t)
	project := "dmt" + randHex(8)
	env := f.env("DOCKMAN_TOKEN_FILE=" + f.file("api-token"))
	override := f.override()
	compose := func(ctx context.Context, args ...string) (string, error) {
		return run(ctx, env, "docker-compose", append([]string{"-p", project, "-f", composeFile, "-f", override}, args...)...)
	}
	// A snapshot container: running before the agent starts, so the
	// snapshot --enforce takes holds it. It writes three lines to keep.
	keeperName := testenv.Name("keeper")
	keeper := testenv.RunContainer(t, f.c, f.label, keeperName, "sh", "-c", "echo keep-1; echo keep-2 >&2; echo keep-3; exec sleep 600")
	// Another: a line every 50 ms, numbered, across the agent's upgrade.
	counterName := testenv.Name("counter")
	counter := testenv.RunContainer(t, f.c, f.label, counterName, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; usleep 50000; done")
	// Registered after the keeper's removal, so it runs before it: the
	// agent stops before the test's containers go (else it recreates them).
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if t.Failed() {
			out, err := compose(ctx, "logs", "--no-color", "--timestamps")
			t.Logf("the agent's log (docker-compose logs):\n%s%v", out, errOrNil(err))
		}
		if _, err := compose(ctx, "down", "-v", "--remove-orphans", "-t", "30"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	if _, err := compose(f.ctx, "up", "-d"); err != nil {
		t.Fatal(err)
	}
	agentID := composeID(t, f.ctx, compose)
	f.waitHealthy(agentID)
	inspect, err := f.c.ContainerInspect(f.ctx, agentID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	agentName := strings.TrimPrefix(inspect.Container.Name, "/")
	if inspect.Container.Config.Labels[testenv.LabelKey] != f.label {
		t.Fatalf("the agent %s lacks the scope label: it would not be in its own scope", agentName)
	}

	f.checkAPI(agentID)
	f.checkKeptLog(keeper, keeperName, []string{"stdout keep-1", "stderr keep-2", "stdout keep-3"})

	st := f.waitLeader()
	var snap struct {
		Containers []struct{ Name, ID string }
	}
	f.getJSON("/snapshot", &snap)
	inSnap := map[string]bool{}
	for _, s := range snap.Containers {
		inSnap[s.Name] = true
	}
	if !inSnap[keeperName] || st.SnapshotSize != len(snap.Containers) {
		t.Errorf("snapshot %+v (size %d): want %s in it", snap.Containers, st.SnapshotSize, keeperName)
	}
	t.Logf("snapshot taken by --enforce: %d containers; the agent's own %s in it: %v", len(snap.Containers), agentName, inSnap[agentName])

	intruder1 := testenv.Name("intruder")
	f.removed(intruder1)
	f.checkRemovals(1)
	st = f.enforce()
	checkRemoved(t, st, intruder1)
	checkNoActionOn(t, st, untouched{"the agent itself", agentName, agentID}, untouched{"the snapshot's keeper", keeperName, keeper})

	// The upgrade: compose stops the old agent, renames it, creates and
	// starts the new one under the same name, removes the old one.
	before := f.countedLines(counter, counterName)
	if out, err := compose(f.ctx, "up", "-d", "--force-recreate"); err != nil {
		t.Fatalf("up --force-recreate: %v\n%s", err, out)
	}
	newID := composeID(t, f.ctx, compose)
	if newID == agentID {
		t.Fatalf("up --force-recreate kept the agent's container %.12s", agentID)
	}
	f.waitHealthy(newID)
	f.checkAPI(newID)
	f.waitLeader()
	intruder2 := testenv.Name("intruder")
	f.removed(intruder2)

	// The new agent, itself in scope and not the container the snapshot
	// knew by that name, is still there; neither it nor the old one (nor
	// the keeper) was acted on; the new process removed one container.
	inspect, err = f.c.ContainerInspect(f.ctx, newID, client.ContainerInspectOptions{})
	if err != nil || !inspect.Container.State.Running {
		t.Fatalf("the new agent %.12s after an intruder's removal: %v %+v", newID, err, inspect.Container.State)
	}
	if e, ok := f.events.find(func(e events.Message) bool {
		return e.Actor.ID == newID && (e.Action == events.ActionDestroy || e.Action == events.ActionKill || e.Action == events.ActionStop)
	}); ok {
		t.Errorf("the new agent got %s", e.Action)
	}
	st = f.enforce()
	checkNoActionOn(t, st,
		untouched{"the agent itself", agentName, newID},
		untouched{"the snapshot's keeper", keeperName, keeper},
		// docker-compose renames the old agent <id12>_<name> before it
		// starts the new one and removes it only after: the new agent must
		// leave it to docker-compose (acting on it races compose's own
		// removal, which then fails the `up`).
		untouched{"the agent's predecessor, which docker-compose removes itself", "", agentID})
	checkRemoved(t, st, intruder2)
	f.checkRemovals(1)
	if in, err := f.c.ContainerInspect(f.ctx, keeper, client.ContainerInspectOptions{}); err != nil || !in.Container.State.Running {
		t.Errorf("the snapshot's %s is gone or stopped: %v", keeperName, err)
	}
	f.checkKeptLog(keeper, keeperName, []string{"stdout keep-1", "stderr keep-2", "stdout keep-3"})

	// Across the upgrade, the counter's file goes on with every number
	// once: the new agent resumed from the old one's cursor.
	var after int
	waitFor(t, f.ctx, "the new agent to keep the counter's lines", func() bool {
		after = f.countedLines(counter, counterName)
		return after >= before+40
	})
	t.Logf("the counter's file: %d lines when the upgrade began, %d now, each number once", before, after)
	// How long no agent ran: the old one's die to the new one's start, by
	// the engine's clock (lines written then reached the file late, none
	// was lost).
	died, _ := f.events.find(func(e events.Message) bool { return e.Actor.ID == agentID && e.Action == events.ActionDie })
	started, _ := f.events.find(func(e events.Message) bool { return e.Actor.ID == newID && e.Action == events.ActionStart })
	t.Logf("no agent ran for %v (the old agent's die to the new one's start)", time.Duration(started.TimeNano-died.TimeNano).Round(time.Millisecond))

	// While no agent runs (a crash, a stop-first upgrade, a reboot), an
	// intruder starts and a snapshot container stops: the agent deals
	// with both when it starts again, before any event about them.
	if _, err := compose(f.ctx, "stop", "-t", "30"); err != nil {
		t.Fatal(err)
	}
	intruder3 := testenv.Name("intruder")
	gapIntruder := f.intruder(intruder3)
	if _, err := f.c.ContainerStop(f.ctx, keeper, client.ContainerStopOptions{Timeout: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	mark := f.events.since()
	if _, err := compose(f.ctx, "start"); err != nil {
		t.Fatal(err)
	}
	f.waitHealthy(newID)
	f.waitLeader()
	ctx, cancel := context.WithTimeout(f.ctx, actionGuard)
	defer cancel()
	f.events.waitFrom(ctx, t, mark, "the agent to start the snapshot's "+keeperName+" again", func(e events.Message) bool {
		return e.Action == events.ActionStart && e.Actor.ID == keeper
	})
	t.Logf("the agent started again; %s started while it was down and must go now", intruder3)
	f.removedBy(gapIntruder, intruder3, mark)
}

func ptr[T any](v T) *T { return &v }

// countedLines checks the log file of a container that prints 1, 2, 3...
// on stdout: every number once, in order, none missing. It returns how
// many there are.
func (f *fixture) countedLines(id, name string) int {
	f.t.Helper()
	file := filepath.Join(f.logDir, id[:12]+"+"+name+".log")
	b, err := os.ReadFile(file)
	if err != nil {
		f.t.Fatalf("the counter's log file: %v", err)
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		fields := strings.SplitN(l, " ", 4)
		if len(fields) != 4 || fields[1] != "stdout" || fields[3] != strconv.Itoa(n+1) {
			f.t.Fatalf("%s: after %d, %q: want line %d, each number once", file, n, l, n+1)
		}
		n++
	}
	return n
}

// composeID is the agent service's container ID.
func composeID(t *testing.T, ctx context.Context, compose func(context.Context, ...string) (string, error)) string {
	t.Helper()
	out, err := compose(ctx, "ps", "-q", "agent")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(out)
	if len(id) != 64 {
		t.Fatalf("docker-compose ps -q agent: %q", out)
	}
	return id
}

// TestSwarm makes the engine a one-node swarm, deploys stack.yaml with the
// token as a Docker secret and enforcement on, and checks that the agent's
// task becomes healthy, serves the API, removes an intruder and leaves
// another service's task alone (Swarm would only start it again).
func TestSwarm(t *testing.T) {
	f := newFixture(t)
	info, err := f.c.Info(f.ctx, client.InfoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := info.Info.Swarm.LocalNodeState; st != swarm.LocalNodeStateInactive {
		unavailable(t, "the engine at %s is already in a swarm (%s): TestSwarm makes and leaves one of its own, run it on another engine", testenv.Host(), st)
	}
	_, noGwbridge := f.c.NetworkInspect(f.ctx, "docker_gwbridge", client.NetworkInspectOptions{})
	docker := func(ctx context.Context, env []string, args ...string) (string, error) {
		return run(ctx, env, "docker", args...)
	}

	listen := "127.0.0.1:" + strconv.Itoa(freePort(t))
	if _, err := docker(f.ctx, nil, "swarm", "init", "--advertise-addr", listen, "--listen-addr", listen); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if _, err := docker(ctx, nil, "swarm", "leave", "--force"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		// Made by the swarm for the host-mode port; not there before.
		if noGwbridge != nil {
			if _, err := f.c.NetworkRemove(ctx, "docker_gwbridge", client.NetworkRemoveOptions{}); err != nil {
				t.Logf("cleanup: removing docker_gwbridge: %v", err)
			}
		}
	})

	secret := "dmt-token-" + randHex(8)
	if _, err := docker(f.ctx, nil, "secret", "create", secret, f.file("api-token")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if _, err := docker(ctx, nil, "secret", "rm", secret); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	stack := "dmt" + randHex(8)
	service := stack + "_agent"
	env := f.env("DOCKMAN_API_TOKEN_SECRET=" + secret)
	var agentID string
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if t.Failed() {
			out, err := docker(ctx, nil, "service", "ps", "--no-trunc", service)
			t.Logf("docker service ps %s:\n%s%v", service, out, errOrNil(err))
			if agentID != "" {
				out, err = docker(ctx, nil, "logs", "--timestamps", agentID)
				t.Logf("the agent's log (docker logs %.12s):\n%s%v", agentID, out, errOrNil(err))
			}
		}
		if _, err := docker(ctx, nil, "stack", "rm", stack); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		// stack rm returns before the task containers are gone, and the
		// state volume can be removed only after them.
		waitFor(t, ctx, "the stack's containers to go", func() bool {
			l, err := f.c.ContainerList(ctx, client.ContainerListOptions{All: true,
				Filters: make(client.Filters).Add("label", "com.docker.stack.namespace="+stack)})
			return err == nil && len(l.Items) == 0
		})
		if _, err := f.c.VolumeRemove(ctx, stack+"_state", client.VolumeRemoveOptions{}); err != nil {
			t.Errorf("cleanup: removing the state volume: %v", err)
		}
	})
	// In the snapshot (running before the agent), numbered lines across the
	// agent's update.
	counterName := testenv.Name("counter")
	counter := testenv.RunContainer(t, f.c, f.label, counterName, "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; usleep 50000; done")

	if out, err := docker(f.ctx, env, "stack", "deploy", "--resolve-image", "never",
		"-c", stackFile, "-c", f.override(), stack); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	start := f.events.wait(f.ctx, t, "the agent's task started", func(e events.Message) bool {
		return e.Action == events.ActionStart && e.Actor.Attributes["com.docker.swarm.service.name"] == service
	})
	agentID = start.Actor.ID
	f.waitHealthy(agentID)
	f.checkAPI(agentID)
	f.waitLeader()

	// Another service's task, in the agent's scope but not in its
	// snapshot: Swarm owns it, the agent must leave it alone. It is not
	// restarted by Swarm either, so a removal would show.
	sleeper := stack + "-sleeper"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if _, err := docker(ctx, nil, "service", "rm", sleeper); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if out, err := docker(f.ctx, nil, "service", "create", "--detach", "--quiet", "--name", sleeper, "--no-resolve-image",
		"--restart-condition", "none", "--container-label", testenv.LabelKey+"="+f.label, f.busybox, "sleep", "600"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sl := f.events.wait(f.ctx, t, "the sleeper's task started", func(e events.Message) bool {
		return e.Action == events.ActionStart && e.Actor.Attributes["com.docker.swarm.service.name"] == sleeper
	})
	sleeperName := sl.Actor.Attributes["name"]

	// An intruder started after it is removed: the agent has handled the
	// events since, the sleeper's included.
	intruder := testenv.Name("intruder")
	f.removed(intruder)

	if in, err := f.c.ContainerInspect(f.ctx, sl.Actor.ID, client.ContainerInspectOptions{}); err != nil || !in.Container.State.Running {
		t.Errorf("the sleeper's task container %s is gone or stopped: %v", sleeperName, err)
	}
	if tasks, err := docker(f.ctx, nil, "service", "ps", "-q", sleeper); err != nil || len(strings.Fields(tasks)) != 1 {
		t.Errorf("the sleeper has tasks %q (%v): want its first one alone", tasks, err)
	}
	if e, ok := f.events.find(func(e events.Message) bool {
		return (e.Actor.ID == sl.Actor.ID || e.Actor.ID == agentID) && (e.Action == events.ActionDestroy || e.Action == events.ActionKill)
	}); ok {
		t.Errorf("%s got %s", e.Actor.Attributes["name"], e.Action)
	}
	st := f.enforce()
	checkRemoved(t, st, intruder)
	checkNoActionOn(t, st,
		untouched{"another service's Swarm task", sleeperName, sl.Actor.ID},
		untouched{"the agent itself", strings.TrimPrefix(mustName(t, f, agentID), "/"), agentID})
	f.checkRemovals(1)

	// The plan, as `enforce plan` shows it from the agent's own state.
	plan, err := docker(f.ctx, nil, "exec", agentID, "/dockman", "--state-dir", "/var/lib/dockman", "--no-logs",
		"--scope", testenv.LabelKey+"="+f.label, "-c", "enforce plan")
	if err != nil {
		t.Fatalf("enforce plan in the agent's container: %v", err)
	}
	for _, name := range []string{sleeperName, strings.TrimPrefix(mustName(t, f, agentID), "/")} {
		line := planLine(plan, name)
		if !strings.HasPrefix(line, "leave") {
			t.Errorf("enforce plan: %q for %s, want leave\n%s", line, name, plan)
		}
	}
	t.Logf("enforce plan in the agent's container:\n%s", plan)

	// An update of the agent (stop-first): the new task takes over the state
	// volume, resumes the counter's file and enforces again.
	before := f.countedLines(counter, counterName)
	mark := f.events.since()
	if out, err := docker(f.ctx, nil, "service", "update", "--detach", "--force", service); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	start = f.events.waitFrom(f.ctx, t, mark, "the updated agent's task started", func(e events.Message) bool {
		return e.Action == events.ActionStart && e.Actor.Attributes["com.docker.swarm.service.name"] == service
	})
	oldID := agentID
	agentID = start.Actor.ID
	f.waitHealthy(agentID)
	died, _ := f.events.find(func(e events.Message) bool { return e.Actor.ID == oldID && e.Action == events.ActionDie })
	f.waitLeader()
	f.removed(testenv.Name("intruder"))
	var after int
	waitFor(t, f.ctx, "the new agent to keep the counter's lines", func() bool {
		after = f.countedLines(counter, counterName)
		return after >= before+40
	})
	t.Logf("service update: no agent ran for %v (the old task's die to the new one's start); the counter's file: %d lines before, %d now, each number once",
		time.Duration(start.TimeNano-died.TimeNano).Round(time.Millisecond), before, after)
	if in, err := f.c.ContainerInspect(f.ctx, sl.Actor.ID, client.ContainerInspectOptions{}); err != nil || !in.Container.State.Running {
		t.Errorf("the sleeper's task container %s is gone or stopped after the update: %v", sleeperName, err)
	}
}

func mustName(t *testing.T, f *fixture, id string) string {
	t.Helper()
	in, err := f.c.ContainerInspect(f.ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return in.Container.Name
}

// planLine is the line of `enforce plan`'s table about the container name.
func planLine(plan, name string) string {
	sc := bufio.NewScanner(strings.NewReader(plan))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 1 && f[1] == name {
			return sc.Text()
		}
	}
	return ""
}

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseMetrics reads the samples of a Prometheus text exposition (label
// values without escaped quotes or commas, as dockman's are).
func parseMetrics(text string) []sample {
	var out []sample
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		s := sample{name: line[:i], labels: map[string]string{}, value: v}
		if j := strings.IndexByte(s.name, '{'); j >= 0 {
			for _, kv := range strings.Split(strings.TrimSuffix(s.name[j+1:], "}"), ",") {
				k, val, _ := strings.Cut(kv, "=")
				s.labels[k] = strings.Trim(val, `"`)
			}
			s.name = s.name[:j]
		}
		out = append(out, s)
	}
	return out
}

func TestParseMetrics(t *testing.T) {
	got := parseMetrics("# HELP x y\n# TYPE x counter\nx{action=\"remove\",result=\"ok\"} 2\ny 1.5\n")
	if len(got) != 2 || got[0].name != "x" || got[0].labels["action"] != "remove" || got[0].labels["result"] != "ok" ||
		got[0].value != 2 || got[1].name != "y" || got[1].value != 1.5 {
		t.Errorf("parseMetrics: %+v", got)
	}
}

// eventLog records the engine's events from a subscription made at once,
// for tests that must not miss one that comes before they look.
type eventLog struct {
	mu   sync.Mutex
	evs  []events.Message
	more chan struct{} // closed and replaced when an event arrives
	err  error
}

// watchEvents subscribes to the engine's events matching filters until
// the test's cleanup.
func watchEvents(t *testing.T, c *client.Client, filters client.Filters) *eventLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l := &eventLog{more: make(chan struct{})}
	res := c.Events(ctx, client.EventsListOptions{Filters: filters})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case m := <-res.Messages:
				l.mu.Lock()
				l.evs = append(l.evs, m)
				close(l.more)
				l.more = make(chan struct{})
				l.mu.Unlock()
			case err := <-res.Err:
				l.mu.Lock()
				l.err = err
				close(l.more)
				l.more = make(chan struct{})
				l.mu.Unlock()
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return l
}

// since is the position of the next event, for waitFrom.
func (l *eventLog) since() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.evs)
}

// wait returns the first event recorded (since the subscription) that
// match accepts, waiting for it until ctx ends.
func (l *eventLog) wait(ctx context.Context, t *testing.T, what string, match func(events.Message) bool) events.Message {
	t.Helper()
	return l.waitFrom(ctx, t, 0, what, match)
}

// waitFrom is wait over the events from position from on.
func (l *eventLog) waitFrom(ctx context.Context, t *testing.T, from int, what string, match func(events.Message) bool) events.Message {
	t.Helper()
	for i := from; ; {
		l.mu.Lock()
		for ; i < len(l.evs); i++ {
			if match(l.evs[i]) {
				e := l.evs[i]
				l.mu.Unlock()
				return e
			}
		}
		more, err := l.more, l.err
		l.mu.Unlock()
		if err != nil {
			t.Fatalf("waiting for %s: the event stream ended: %v", what, err)
		}
		select {
		case <-more:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

// find returns an event recorded so far that match accepts.
func (l *eventLog) find(match func(events.Message) bool) (events.Message, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.evs {
		if match(e) {
			return e, true
		}
	}
	return events.Message{}, false
}

// waitFor checks cond every 100 ms until it holds or ctx ends (then the
// test fails): for what no event tells, such as a file the agent writes or
// the agent's own state behind its API.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

// freePort is a TCP port free on 127.0.0.1 now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func errOrNil(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
