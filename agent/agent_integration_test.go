package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/agent"
	"github.com/dockman/dockman/api"
	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/internal/durable"
	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
)

// guard bounds every wait: a guard against a hang, not a timing.
const guard = 90 * time.Second

// secret is put in a test container's environment and command line: no
// response of the API may ever hold it.
const secret = "s3cr3t-do-not-show-42"

const token = "test-token-0123456789"

// startAgent starts an agent on the engine, confined to the test's label
// scope, with its API on a free loopback port; it is stopped at cleanup.
func startAgent(t *testing.T, cfg agent.Config) *agent.Agent {
	t.Helper()
	m, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if cfg.API == "" {
		cfg.API = "127.0.0.1:0"
	}
	if cfg.LogDir == "" {
		cfg.LogDir = filepath.Join(cfg.StateDir, "logs")
	}
	cfg.Version = "test"
	a, err := agent.New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	// Stopping twice is harmless: a test may stop an agent itself.
	t.Cleanup(func() {
		cancel()
		a.Stop()
	})
	return a
}

// get asks the agent's API and returns the status and body.
func get(t *testing.T, a *agent.Agent, method, path, tok string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+a.APIAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAPIOnTheEngine runs an enforcing agent over containers on the
// engine and asks every endpoint, with and without the token: the rules
// (401, 404, 405, HEAD), what each answers, and that a secret in a
// container's environment or command line appears in no response.
func TestAPIOnTheEngine(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	name := testenv.Name("api")
	id := testenv.RunBusybox(t, c, label, name, container.Config{
		Cmd: []string{"sh", "-c", "echo started; exec sleep 600", "--password=" + secret},
		Env: []string{"DB_PASSWORD=" + secret},
	}, container.HostConfig{})
	dir := t.TempDir()
	a := startAgent(t, agent.Config{StateDir: dir, Scope: enforce.Scope{key: label}, Enforce: true, Token: token})

	waitFor(t, "the agent to lead and enforce", func() bool {
		code, body := get(t, a, "GET", "/enforce", token)
		var e api.Enforce
		return code == 200 && json.Unmarshal(body, &e) == nil && e.Here && e.Leader && e.SnapshotSize == 1
	})

	// The rules every path shares.
	for _, tc := range []struct {
		method, path, tok string
		want              int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/readyz", "", 200},
		{"HEAD", "/healthz", "", 200},
		{"GET", "/containers", "", 401},
		{"GET", "/containers", "wrong-" + token, 401},
		{"GET", "/containers", token[:len(token)-1], 401},
		{"GET", "/metrics", "", 401},
		{"GET", "/snapshot", "", 401},
		{"GET", "/enforce", "", 401},
		{"GET", "/containers/" + name, "", 401},
		{"GET", "/nope", "", 401},
		{"GET", "/containers", token, 200},
		{"HEAD", "/containers", token, 200},
		{"GET", "/nope", token, 404},
		{"GET", "/containers/", token, 404},
		{"GET", "/containers/a/b", token, 404},
		{"GET", "/containers/no-such-container-here", token, 404},
		{"POST", "/containers", token, 405},
		{"PUT", "/snapshot", token, 405},
		{"DELETE", "/containers/" + name, token, 405},
		{"PATCH", "/enforce", token, 405},
		{"POST", "/healthz", "", 405},
	} {
		code, body := get(t, a, tc.method, tc.path, tc.tok)
		if code != tc.want {
			t.Errorf("%s %s (token %q): %d %s, want %d", tc.method, tc.path, tc.tok, code, body, tc.want)
		}
		if tc.method == "HEAD" && len(body) != 0 {
			t.Errorf("HEAD %s has a body: %q", tc.path, body)
		}
		if tc.method != "HEAD" && !json.Valid(body) && tc.path != "/metrics" {
			t.Errorf("%s %s: the body is not JSON: %q", tc.method, tc.path, body)
		}
	}

	// /containers holds the container, with the documented fields.
	var list []api.Container
	waitFor(t, "the container in /containers", func() bool {
		_, body := get(t, a, "GET", "/containers", token)
		list = nil
		_ = json.Unmarshal(body, &list)
		for _, x := range list {
			if x.ID == id {
				return x.StartedAt != nil
			}
		}
		return false
	})
	var got api.Container
	for _, x := range list {
		if x.ID == id {
			got = x
		}
	}
	if got.Name != name || got.State != "running" || !strings.HasPrefix(got.Status, "Up ") || got.Labels[key] != label ||
		got.Image == "" || !strings.HasPrefix(got.ImageID, "sha256:") || got.Created.IsZero() || len(got.Networks) != 1 || got.Networks[0] != "none" {
		t.Errorf("/containers entry: %+v", got)
	}
	// By name, by ID and by a prefix of the ID.
	for _, ref := range []string{name, id, id[:12]} {
		code, body := get(t, a, "GET", "/containers/"+ref, token)
		var one api.Container
		if code != 200 || json.Unmarshal(body, &one) != nil || one.ID != id {
			t.Errorf("/containers/%s: %d %s", ref, code, body)
		}
	}

	// The snapshot and enforcement.
	code, body := get(t, a, "GET", "/snapshot", token)
	var snap api.Snapshot
	if code != 200 || json.Unmarshal(body, &snap) != nil || len(snap.Containers) != 1 || snap.Containers[0].Name != name ||
		snap.Containers[0].ID != id || snap.Taken == nil || snap.Scope[key] != label {
		t.Errorf("/snapshot: %d %s", code, body)
	}
	code, body = get(t, a, "GET", "/enforce", token)
	var enf api.Enforce
	if code != 200 || json.Unmarshal(body, &enf) != nil || !enf.On || enf.State != "on" || enf.Scope[key] != label {
		t.Errorf("/enforce: %d %s", code, body)
	}

	// An intruder is removed, and the action shows in /enforce and in
	// the metrics.
	intruder := testenv.RunContainer(t, c, label, testenv.Name("intruder"), "sleep", "600")
	waitFor(t, "the intruder's removal in /enforce", func() bool {
		_, body := get(t, a, "GET", "/enforce", token)
		var e api.Enforce
		_ = json.Unmarshal(body, &e)
		for _, r := range e.Last {
			if r.Action == enforce.KindRemove && strings.HasPrefix(intruder, r.ID) && r.Result == "ok" {
				return true
			}
		}
		return false
	})
	_, metrics := get(t, a, "GET", "/metrics", token)
	for _, want := range []string{
		`dockman_enforce_actions_total{action="remove",result="ok"} 1`,
		`dockman_enforce_action_latency_seconds_count{action="remove"} 1`,
		"dockman_snapshot_containers 1",
		"dockman_enforce_enabled 1",
		"dockman_engine_up 1",
		`dockman_containers{state="running"} `,
		`dockman_api_requests_total{code="401",handler="containers"} `,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// No response holds the secret.
	for _, path := range []string{"/containers", "/containers/" + name, "/snapshot", "/enforce", "/metrics", "/healthz", "/readyz"} {
		_, body := get(t, a, "GET", path, token)
		if strings.Contains(string(body), secret) {
			t.Errorf("GET %s shows the container's secret: %s", path, body)
		}
	}
	// The secret is there to be shown (the saved snapshot holds it), so
	// the check above means something.
	b, _ := os.ReadFile(filepath.Join(dir, enforce.SnapshotFile))
	if !strings.Contains(string(b), secret) {
		t.Fatalf("the test's secret is not in the saved snapshot: the check proves nothing")
	}
}

// TestTokenRequiredBeyondLoopback checks that an agent refuses to listen
// on every address without a token, and serves with one.
func TestTokenRequiredBeyondLoopback(t *testing.T) {
	m, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := t.TempDir()
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0"} {
		if _, err := agent.New(m, agent.Config{StateDir: dir, API: addr}); err == nil || !strings.Contains(err.Error(), "token is required") {
			t.Errorf("%s without a token: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		if _, err := agent.New(m, agent.Config{StateDir: dir, API: addr}); err != nil {
			t.Errorf("%s without a token: %v", addr, err)
		}
	}
	if _, err := agent.New(m, agent.Config{StateDir: dir, API: ":0", Token: token}); err != nil {
		t.Errorf(":0 with a token: %v", err)
	}
}

// TestHandover starts two agents on one state directory while a container
// writes numbered lines: the second waits while the first leads, and
// takes over when the first is stopped; the log file then holds every
// line once, in order.
func TestHandover(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	dir := t.TempDir()
	scope := enforce.Scope{key: label}
	first := startAgent(t, agent.Config{StateDir: dir, Scope: scope})
	waitFor(t, "the first agent to lead", first.Leading)
	second := startAgent(t, agent.Config{StateDir: dir, Scope: scope})

	const lines = 1500
	id := testenv.RunLogGen(t, c, label, testenv.Name("handover"), false, "-n", strconv.Itoa(lines), "-rate", "300")
	logFile := func() string {
		matches, _ := filepath.Glob(filepath.Join(dir, "logs", id[:12]+"+*.log"))
		if len(matches) == 0 {
			return ""
		}
		b, _ := os.ReadFile(matches[0])
		return string(b)
	}
	waitFor(t, "lines in the file", func() bool { return strings.Count(logFile(), "\n") > 100 })
	if second.Leading() {
		t.Fatal("two agents lead on one state directory")
	}
	code, body := get(t, second, "GET", "/readyz", "")
	if code != 200 {
		t.Errorf("the waiting agent is not ready: %d %s", code, body)
	}
	first.Stop()
	waitFor(t, "the second agent to take over", second.Leading)

	waitCtx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	wait := c.ContainerWait(waitCtx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case err := <-wait.Error:
		t.Fatal(err)
	case <-wait.Result:
	}
	waitFor(t, "the last line in the file", func() bool {
		return strings.Contains(logFile(), " loggen out "+strconv.Itoa(lines)+"\n")
	})
	testenv.CheckLogGenFile(t, logFile(), lines)
}

// TestWaitsForAShell has a shell (here, its lock) keep the log directory
// when the agent starts: the agent does not lead with its keeper switched
// off, but waits, and leads once the directory is free.
func TestWaitsForAShell(t *testing.T) {
	testenv.Client(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o700); err != nil {
		t.Fatal(err)
	}
	shell, err := durable.TryLock(filepath.Join(logs, logtail.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, agent.Config{StateDir: dir, Scope: enforce.Scope{"dockman.test": "none-" + t.Name()}})
	waitFor(t, "the agent to be ready", func() bool { code, _ := get(t, a, "GET", "/readyz", ""); return code == 200 })
	if a.Leading() {
		t.Fatal("the agent leads while another process keeps its log directory")
	}
	shell.Unlock()
	waitFor(t, "the agent to lead once the directory is free", a.Leading)
}

// TestResumeSeesWhatCameMeanwhile stops an enforcing agent, starts an
// intruder while none runs, and starts an agent again on the same state
// directory: it resumes enforcement and removes the intruder at once, not
// at its next event, although the Watcher's first resync came before it
// led (it asks for another when it takes the lead).
func TestResumeSeesWhatCameMeanwhile(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	testenv.RunContainer(t, c, label, testenv.Name("kept"), "sleep", "600")
	dir := t.TempDir()
	scope := enforce.Scope{key: label}
	first := startAgent(t, agent.Config{StateDir: dir, Scope: scope, Enforce: true, NoLogs: true})
	waitFor(t, "the first agent to enforce", func() bool {
		_, body := get(t, first, "GET", "/enforce", "")
		var e api.Enforce
		return json.Unmarshal(body, &e) == nil && e.Here && e.SnapshotSize == 1
	})
	first.Stop()
	intruder := testenv.RunContainer(t, c, label, testenv.Name("meanwhile"), "sleep", "600")

	// Another process holds enforcement's lock until the agent has
	// connected (and so had its first resync): it leads only after that,
	// as an agent does when the one before it stops late.
	held, err := durable.TryLock(filepath.Join(dir, enforce.LockFile))
	if err != nil {
		t.Fatal(err)
	}
	second := startAgent(t, agent.Config{StateDir: dir, Scope: scope, NoLogs: true})
	waitFor(t, "the agent to be ready", func() bool { code, _ := get(t, second, "GET", "/readyz", ""); return code == 200 })
	held.Unlock()
	waitFor(t, "the agent to lead", second.Leading)
	waitFor(t, "the intruder started while no agent ran to be removed", func() bool {
		_, err := c.ContainerInspect(context.Background(), intruder, client.ContainerInspectOptions{})
		return err != nil && strings.Contains(err.Error(), "No such container")
	})
}
