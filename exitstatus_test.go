package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/dockman/dockman/internal/testenv"
)

// dockerCLI runs the docker CLI installed with the engine, the reference
// for exit statuses, and returns its exit status and stderr.
func dockerCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	path, err := exec.LookPath("docker")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the docker CLI is needed as the reference: %v", err)
		}
		t.Skipf("no docker CLI to compare with: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+testenv.Host())
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), errOut.String()
	case err != nil:
		t.Fatalf("docker %q: %v", args, err)
	}
	return 0, errOut.String()
}

// TestExitStatusMatchesDocker runs each error class through dockman's
// script mode and through the docker CLI on the same engine, and checks
// that both exit with the same status, and that dockman says so in one
// error line naming the command.
func TestExitStatusMatchesDocker(t *testing.T) {
	f := newEngineFixture(t)
	running := f.sleeper(t, testenv.Name("exit-running"))
	label := "--label=" + f.label()
	img := f.img
	cases := []struct {
		name string
		line string // dockman's command line
		args []string
		want int // what docker gives, checked too
	}{
		{"unknown flag", "ps --bad", []string{"ps", "--bad"}, 125},
		{"bad flag value", "stop -t x " + running, []string{"stop", "-t", "x", running}, 125},
		{"missing argument", "stop", []string{"stop"}, 1},
		{"missing argument to run", "run", []string{"run"}, 1},
		{"unknown command", "nosuch", []string{"nosuch"}, 1},
		{"no such container: stop", "stop nosuch-exit", []string{"stop", "nosuch-exit"}, 1},
		{"no such container: start", "start nosuch-exit", []string{"start", "nosuch-exit"}, 1},
		{"no such container: restart", "restart nosuch-exit", []string{"restart", "nosuch-exit"}, 1},
		{"no such container: rm", "rm nosuch-exit", []string{"rm", "nosuch-exit"}, 1},
		{"no such container: logs", "logs nosuch-exit", []string{"logs", "nosuch-exit"}, 1},
		{"no such object: inspect", "inspect nosuch-exit", []string{"inspect", "nosuch-exit"}, 1},
		{"refused: rm running", "rm " + running, []string{"rm", running}, 1},
		{"run: bad restart policy", "run --restart bad " + label + " --network none " + img, []string{"run", "--restart", "bad", label, "--network", "none", img}, 125},
		{"run: bad port", "run -p 99999:80 " + label + " --network none " + img, []string{"run", "-p", "99999:80", label, "--network", "none", img}, 125},
		{"run: bad name", "run --name 'bad name' " + label + " --network none " + img, []string{"run", "--name", "bad name", label, "--network", "none", img}, 125},
		{"run: no such network", "run --network nosuch-exit-net " + label + " " + img + " true", []string{"run", "--network", "nosuch-exit-net", label, img, "true"}, 125},
		{"run: command not found", "run " + label + " --network none " + img + " nosuch-exit-cmd", []string{"run", label, "--network", "none", img, "nosuch-exit-cmd"}, 127},
		{"run: command not executable", "run " + label + " --network none " + img + " /etc", []string{"run", label, "--network", "none", img, "/etc"}, 126},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dockerStatus, dockerErr := dockerCLI(t, tc.args...)
			if dockerStatus != tc.want {
				t.Errorf("docker %q exited %d, the test expects %d (stderr %q): has docker changed?", tc.args, dockerStatus, tc.want, dockerErr)
			}
			r := dockman(t, nil, nil, "-c", tc.line)
			if r.code != dockerStatus {
				t.Errorf("dockman -c %q exited %d, docker %d\ndockman: %s\ndocker: %s", tc.line, r.code, dockerStatus, r.stderr, dockerErr)
			}
			errLines := linesOf(r.stderr)
			if len(errLines) == 0 || !strings.HasPrefix(errLines[0], "error: ") {
				t.Fatalf("dockman -c %q: stderr %q, want an error line", tc.line, r.stderr)
			}
			if cmd := strings.Fields(tc.line)[0]; cmd != "nosuch" && !strings.HasPrefix(errLines[0], "error: "+cmd+": ") {
				t.Errorf("dockman -c %q: %q does not name the command", tc.line, errLines[0])
			}
		})
	}
}

// TestExitStatusEngineDown: with no engine, a failed operation is 1 and a
// failed run 125, as docker gives.
func TestExitStatusEngineDown(t *testing.T) {
	host := deadHost(t)
	for _, tc := range []struct {
		line string
		want int
	}{{"ps", 1}, {"inspect x", 1}, {"stop x", 1}, {"run busybox", 125}} {
		r := dockman(t, nil, nil, "-H", host, "-c", tc.line)
		if r.code != tc.want {
			t.Errorf("%q exited %d, want %d (stderr %q)", tc.line, r.code, tc.want, r.stderr)
		}
		cmd := strings.Fields(tc.line)[0]
		if want := "error: " + cmd + ": cannot reach the Docker engine at " + host; !strings.HasPrefix(r.stderr, want) {
			t.Errorf("%q: stderr %q, want it to start %q", tc.line, r.stderr, want)
		}
	}
}

// TestExitCommand: `exit N` ends a script with status N, and what follows
// does not run.
func TestExitCommand(t *testing.T) {
	host := deadHost(t)
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 3\nps\n", 3},
		{"exit 0\n", 0},
		{"nosuch\nexit\n", 1},
		{"nosuch; exit\n", 1},
		{"nosuch\nexit 0\n", 0},
		{"help; exit 42; nosuch\n", 42},
	} {
		r := dockman(t, nil, ptr(tc.script), "-H", host)
		if r.code != tc.want {
			t.Errorf("script %q exited %d, want %d (stderr %q)", tc.script, r.code, tc.want, r.stderr)
		}
		if strings.Contains(tc.script, "exit 3") && r.stderr != "" {
			t.Errorf("script %q ran past exit: stderr %q", tc.script, r.stderr)
		}
	}
}

// TestScriptSignals: a signal ends a script with 128+signal, both while a
// command runs (logs -f) and while the script waits for its next line.
func TestScriptSignals(t *testing.T) {
	f := newEngineFixture(t)
	id := testenv.RunContainer(t, f.c, f.value, testenv.Name("sig"), "sh", "-c", "echo ready; exec sleep 600")
	for _, tc := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		for _, where := range []string{"command", "input"} {
			t.Run(tc.sig.String()+" during "+where, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), guard)
				defer cancel()
				cmd := exec.CommandContext(ctx, binary(t))
				cmd.Env = baseEnv(t)
				stdin, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				stdout, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer stdin.Close()
				// Either follow logs (a command under way: "ready" shows
				// that it is), or print the ID and wait for more input.
				line := "ps -q --no-trunc -f id=" + id + "\n"
				if where == "command" {
					line = "logs -f " + id + "\n"
				}
				if _, err := stdin.Write([]byte(line)); err != nil {
					t.Fatal(err)
				}
				waitOutput(t, stdout)
				if err := cmd.Process.Signal(tc.sig); err != nil {
					t.Fatal(err)
				}
				err = cmd.Wait()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != tc.want {
					t.Errorf("dockman ended with %v, want exit status %d", err, tc.want)
				}
				if ctx.Err() != nil {
					t.Fatal("dockman did not end on the signal")
				}
			})
		}
	}
}

// waitOutput waits for the first line on r; the test's guard bounds it.
func waitOutput(t *testing.T, r io.Reader) {
	t.Helper()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("no output from dockman: %v (%q)", err, line)
	}
}
