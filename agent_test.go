package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockman/dockman/internal/testenv"
)

// TestAgentUsage checks the agent's and health's usage errors (exit 2, one
// line) and health's answer when no agent listens (exit 1).
func TestAgentUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  []string
		code int
		want string
	}{
		{[]string{"agent", "--log-format", "xml"}, nil, 2, `invalid --log-format "xml"`},
		{[]string{"agent", "--log-level", "loud"}, nil, 2, `invalid --log-level "loud"`},
		{[]string{"agent", "--api", ":8080"}, nil, 2, "a token is required"},
		{[]string{"agent", "--api", "0.0.0.0:8080", "--api-token-file", "/nonexistent/token"}, nil, 2, "--api-token-file: open /nonexistent/token"},
		{[]string{"agent", "--api", ":8080"}, []string{"DOCKMAN_API_TOKEN_FILE=/nonexistent/token"}, 2, "$DOCKMAN_API_TOKEN_FILE: open /nonexistent/token"},
		{[]string{"agent", "extra"}, nil, 2, `unexpected argument "extra"`},
		{[]string{"agent", "--nope"}, nil, 2, "unknown flag: --nope"},
		{[]string{"health", "--api", "nohostport"}, nil, 2, "invalid --api"},
		{[]string{"health", "--api", "127.0.0.1:1", "--timeout", "2s"}, nil, 1, "dockman health: not ready:"},
		{[]string{"-c", "ps", "--api", "127.0.0.1:0"}, nil, 2, "--api serves while the interactive shell is open"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := dockman(t, baseEnv(t, tc.env...), nil, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 0 {
				t.Errorf("the error is %d lines, not one: %q", n+1, r.stderr)
			}
		})
	}
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// agentProc is a `dockman agent` process under test.
type agentProc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
}

func startAgentProc(t *testing.T, env []string, args ...string) *agentProc {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"agent"}, args...)...)
	cmd.Env = env
	p := &agentProc{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("agent's log:\n%s", p.stderr)
		}
	})
	return p
}

// stop sends SIGTERM and returns the exit code.
func (p *agentProc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(guard):
		t.Fatal("the agent did not stop after SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode()
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAgentShutdownAndRestart runs the agent binary as a server would:
// enforcing, JSON logs, the token from the environment; `dockman health`
// says when it is ready; SIGTERM ends it with status 0 after it made the
// cursors, the snapshot and the on-state durable; a new agent on the same
// state directory goes on where it stopped, so that the container's log
// file holds every line once, in order.
func TestAgentShutdownAndRestart(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	const lines = 1200
	id := testenv.RunLogGen(t, c, label, testenv.Name("agent"), false, "-n", strconv.Itoa(lines), "-rate", "200", "-hold")
	state := t.TempDir()
	addr := freeAddr(t)
	env := baseEnv(t, "DOCKMAN_API_TOKEN=tok-"+label)
	args := []string{"--state-dir", state, "--api", addr, "--scope", key + "=" + label, "--enforce", "--log-format", "json"}
	p := startAgentProc(t, env, args...)

	waitUntil(t, "dockman health to say ready", func() bool {
		return dockman(t, env, nil, "health", "--api", addr, "-q").code == 0
	})
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer tok-"+label)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	waitUntil(t, "enforcement on, with the container in the snapshot", func() bool {
		code, body := get("/enforce")
		return code == 200 && strings.Contains(body, `"here":true`) && strings.Contains(body, `"snapshot_size":1`)
	})
	logDir := filepath.Join(state, "logs")
	logFile := func() string {
		m, _ := filepath.Glob(filepath.Join(logDir, id[:12]+"+*.log"))
		if len(m) == 0 {
			return ""
		}
		b, _ := os.ReadFile(m[0])
		return string(b)
	}
	waitUntil(t, "lines in the log file", func() bool { return strings.Count(logFile(), "\n") >= 100 })

	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	// Every log line is a JSON object, and it said it stopped.
	sc := bufio.NewScanner(bytes.NewReader(p.stderr.Bytes()))
	stopped := false
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("a log line is not JSON: %q", sc.Text())
		}
		stopped = stopped || rec["msg"] == "agent stopped"
	}
	if !stopped {
		t.Error(`no "agent stopped" in the log`)
	}
	// What must be durable at exit.
	cur, err := os.ReadFile(filepath.Join(logDir, ".cursors.json"))
	if err != nil || !strings.Contains(string(cur), id) {
		t.Errorf("the cursors do not hold the container: %v %s", err, cur)
	}
	snap, err := os.ReadFile(filepath.Join(state, "snapshot.json"))
	if err != nil || !strings.Contains(string(snap), id) {
		t.Errorf("the snapshot does not hold the container: %v", err)
	}
	on, err := os.ReadFile(filepath.Join(state, "enforce.json"))
	if err != nil || !strings.Contains(string(on), `"on": true`) && !strings.Contains(string(on), `"on":true`) {
		t.Errorf("enforcement is not saved as on: %v %s", err, on)
	}

	// Lines written while no agent ran are kept by the next one.
	// (The container holds on after its lines: enforcement would start
	// it again were it to exit.)
	startAgentProc(t, env, args...)
	waitUntil(t, "the last line in the file", func() bool {
		return strings.Contains(logFile(), " loggen out "+strconv.Itoa(lines)+"\n")
	})
	testenv.CheckLogGenFile(t, logFile(), lines)
}
