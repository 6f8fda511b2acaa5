package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/manager"
	"github.com/dockman/dockman/shell"
)

// These tests run the built binary as a user would: script mode through -c
// and piped stdin, the global flags, exit codes, and colour on a terminal.

// guard bounds every wait: a failure guard against a hang, not a timing.
const guard = 2 * time.Minute

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds dockman once per test process and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "dockman-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "dockman")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// procResult is what one run of the binary printed and its exit code.
type procResult struct {
	stdout, stderr string
	code           int
}

// baseEnv is this process's environment (so DOCKER_HOST is passed on when
// set) without the variables a test controls, plus a fresh state dir.
func baseEnv(t *testing.T, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NO_COLOR", "XDG_STATE_HOME", "TERM":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "XDG_STATE_HOME="+t.TempDir())
	return append(env, extra...)
}

// dockman runs the binary with stdin piped from the given text (nil: no
// stdin at all) and returns its output.
func dockman(t *testing.T, env []string, stdin *string, args ...string) procResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	if env == nil {
		env = baseEnv(t)
	}
	cmd.Env = env
	if stdin != nil {
		cmd.Stdin = strings.NewReader(*stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running dockman %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("dockman %q did not finish", args)
	}
	return procResult{stdout: out.String(), stderr: errOut.String(), code: code}
}

func ptr(s string) *string { return &s }

// deadHost is an address nothing listens on.
func deadHost(t *testing.T) string {
	return "unix://" + filepath.Join(t.TempDir(), "dead.sock")
}

func linesOf(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestVersion(t *testing.T) {
	r := dockman(t, nil, nil, "--version")
	if r.code != 0 || r.stdout != "dockman dev\n" || r.stderr != "" {
		t.Errorf("--version: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestHelpFlag(t *testing.T) {
	for _, flag := range []string{"--help", "-h"} {
		t.Run(flag, func(t *testing.T) {
			r := dockman(t, nil, nil, flag)
			if r.code != 0 {
				t.Errorf("exit code %d, want 0", r.code)
			}
			usage := r.stdout + r.stderr
			for _, w := range []string{"Usage: dockman", "-H, --host", "--state-dir", "--log-dir", "-c, --command", "--no-color", "--version"} {
				if !strings.Contains(usage, w) {
					t.Errorf("usage lacks %q:\n%s", w, usage)
				}
			}
		})
	}
}

func TestBadGlobalFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "unknown flag", args: []string{"--bogus"}, want: "unknown flag: --bogus"},
		{name: "unknown shorthand", args: []string{"-z"}, want: "-z"},
		{name: "missing value", args: []string{"-H"}, want: "flag needs an argument"},
		{name: "stray argument", args: []string{"ps"}, want: `unexpected argument "ps"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dockman(t, nil, nil, tt.args...)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
}

// TestDeadHost: with the engine unreachable, a command fails with one line
// naming the address tried, and the exit code is 1. No engine needed.
func TestDeadHost(t *testing.T) {
	host := deadHost(t)
	tests := []struct {
		name string
		env  []string
		args []string
	}{
		{name: "-H", args: []string{"-H", host, "-c", "ps"}},
		{name: "--host=", args: []string{"--host=" + host, "-c", "ps -a"}},
		{name: "DOCKER_HOST", env: []string{"DOCKER_HOST=" + host}, args: []string{"-c", "images"}},
		{name: "stdin", args: []string{"-H", host}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := baseEnv(t, tt.env...)
			if tt.env != nil {
				// DOCKER_HOST from the outer environment must not win.
				env = append(filterEnv(env, "DOCKER_HOST"), tt.env...)
			}
			r := dockman(t, env, ptr("ps\n"), tt.args...)
			if r.code != 1 {
				t.Errorf("exit code %d, want 1", r.code)
			}
			ls := linesOf(r.stderr)
			if len(ls) != 1 || !strings.HasPrefix(ls[0], "error: ") || !strings.Contains(ls[0], host) {
				t.Errorf("stderr %q, want one error line naming %s", r.stderr, host)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
}

func filterEnv(env []string, key string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// TestScriptWithoutEngine covers script mode where no command reaches the
// engine, so it runs on any machine.
func TestScriptWithoutEngine(t *testing.T) {
	host := deadHost(t)
	tests := []struct {
		name    string
		args    []string
		stdin   string
		code    int
		wantOut []string // substrings of stdout
		wantErr string   // the one stderr line's text, "" for none
		notIn   []string // must appear in neither stream
	}{
		{
			name:    "failing line, later lines run",
			stdin:   "sotp web\nhelp stop\n",
			code:    1,
			wantOut: []string{"Usage:  stop [OPTIONS] CONTAINER..."},
			wantErr: `error: unknown command "sotp": did you mean "stop"?`,
		},
		{
			name:    "failing command, rest of -c runs",
			args:    []string{"-c", "sotp web; help rm"},
			code:    1,
			wantOut: []string{"Usage:  rm [OPTIONS] CONTAINER..."},
			wantErr: `error: unknown command "sotp": did you mean "stop"?`,
		},
		{
			name:    "exit stops the script",
			stdin:   "help logs\nexit\nsotp\nhelp images\n",
			wantOut: []string{"Usage:  logs"},
			notIn:   []string{"Usage:  images", "sotp"},
		},
		{
			name:    "quit in -c",
			args:    []string{"-c", "help ps; quit; sotp"},
			wantOut: []string{"Usage:  ps"},
			notIn:   []string{"sotp"},
		},
		{
			name:    "-c wins over stdin",
			args:    []string{"-c", "help start"},
			stdin:   "sotp\n",
			wantOut: []string{"Usage:  start"},
			notIn:   []string{"sotp"},
		},
		{
			name:    "unbalanced quote",
			stdin:   "help 'stop\nhelp stop\n",
			code:    1,
			wantOut: []string{"Usage:  stop"},
			wantErr: "error: cannot parse line",
		},
		{
			name:  "blank lines and comments",
			stdin: "\n   \n# nothing\n",
		},
		{
			name:    "last line without newline",
			stdin:   "help\nhelp rm",
			wantOut: []string{"Commands:", "Usage:  rm"},
		},
		{
			name:    "no input",
			stdin:   "",
			wantOut: nil,
		},
		{
			name:    "empty -c",
			args:    []string{"-c", ""},
			wantOut: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dockman(t, nil, ptr(tt.stdin), append([]string{"-H", host}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if len(tt.wantOut) == 0 && r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			switch ls := linesOf(r.stderr); {
			case tt.wantErr == "" && len(ls) != 0:
				t.Errorf("stderr %q, want nothing", r.stderr)
			case tt.wantErr != "" && (len(ls) != 1 || !strings.HasPrefix(ls[0], tt.wantErr)):
				t.Errorf("stderr %q, want one line starting %q", r.stderr, tt.wantErr)
			}
			for _, n := range tt.notIn {
				if strings.Contains(r.stdout+r.stderr, n) {
					t.Errorf("%q in the output: a line that should not run ran:\nstdout %s\nstderr %s", n, r.stdout, r.stderr)
				}
			}
			if strings.Contains(r.stdout+r.stderr, "\x1b") {
				t.Errorf("escape codes in script output: %q %q", r.stdout, r.stderr)
			}
		})
	}
}

// TestScriptNoColor: script output never has escapes, whatever NO_COLOR,
// --no-color or TERM say.
func TestScriptNoColor(t *testing.T) {
	host := deadHost(t)
	for _, env := range [][]string{nil, {"NO_COLOR=1"}, {"TERM=xterm-256color"}, {"FORCE_COLOR=1", "CLICOLOR_FORCE=1"}} {
		t.Run(strings.Join(env, ","), func(t *testing.T) {
			r := dockman(t, baseEnv(t, env...), nil, "-H", host, "-c", "help; sotp; ps")
			if r.code != 1 {
				t.Errorf("exit code %d", r.code)
			}
			if strings.Contains(r.stdout+r.stderr, "\x1b") {
				t.Errorf("escape codes in script output:\n%q\n%q", r.stdout, r.stderr)
			}
		})
	}
}

// engineFixture is an engine client, a label for this test, and the busybox
// image; it skips (or fails with CI set) without an engine.
type engineFixture struct {
	c     *client.Client
	value string
	img   string
}

func newEngineFixture(t *testing.T) *engineFixture {
	t.Helper()
	c := testenv.Client(t)
	_, value := testenv.Label(t, c)
	return &engineFixture{c: c, value: value, img: testenv.BusyboxImage(t, c)}
}

func (f *engineFixture) label() string { return testenv.LabelKey + "=" + f.value }

// sleeper runs a container that stops at once on SIGTERM.
func (f *engineFixture) sleeper(t *testing.T, name string) string {
	return testenv.RunContainer(t, f.c, f.value, name, "sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait")
}

func (f *engineFixture) running(t *testing.T, id string) bool {
	t.Helper()
	res, err := f.c.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Container.State.Running
}

// inProcess runs a line through shell.Shell as script mode configures it.
func inProcess(t *testing.T, line string) (stdout, stderr string, err error) {
	t.Helper()
	mgr, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	var out, errOut bytes.Buffer
	sh := shell.New(mgr, shell.Options{Out: &out, Err: &errOut})
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	err = sh.Script(ctx, strings.NewReader(line))
	return out.String(), errOut.String(), err
}

// clockRE matches the parts of a listing that change with the clock
// (go-units' HumanDuration), so two listings taken moments apart compare.
var clockRE = regexp.MustCompile(`Less than a second|About an? (minute|hour)|\d+ (second|minute|hour|day|week|month|year)s?`)

var wideGap = regexp.MustCompile(`  +`)

func normalize(s string) string {
	return wideGap.ReplaceAllString(clockRE.ReplaceAllString(s, "<T>"), "  ")
}

// TestScriptMatchesShell: `dockman -c '...'` prints what the shell prints.
func TestScriptMatchesShell(t *testing.T) {
	f := newEngineFixture(t)
	xName, yName := testenv.Name("script-x"), testenv.Name("script-y")
	x := f.sleeper(t, xName)
	f.sleeper(t, yName)
	script := "ps -a -f label=" + f.label() + "; stop " + xName

	wantOut, wantErr, err := inProcess(t, script)
	if err != nil || wantErr != "" {
		t.Fatalf("in-process shell: %v %q", err, wantErr)
	}
	if f.running(t, x) {
		t.Fatal("the in-process shell did not stop x")
	}
	if _, err := f.c.ContainerStart(context.Background(), x, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}

	r := dockman(t, nil, nil, "-c", script)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if normalize(r.stdout) != normalize(wantOut) {
		t.Errorf("dockman -c printed\n%s\nthe shell printed\n%s", r.stdout, wantOut)
	}
	if !strings.HasSuffix(r.stdout, "\n"+xName+"\n") || !strings.Contains(r.stdout, yName) {
		t.Errorf("output lacks the listing or the stop:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "\x1b") {
		t.Errorf("escape codes in script output:\n%q", r.stdout)
	}
	if f.running(t, x) {
		t.Error("dockman -c did not stop x")
	}
}

// TestScriptStdin: lines on a piped stdin run one by one; a failing line
// makes the exit code 1 and the later lines still run.
func TestScriptStdin(t *testing.T) {
	f := newEngineFixture(t)
	xName := testenv.Name("stdin-x")
	x := f.sleeper(t, xName)
	stdin := "ps -q -f label=" + f.label() + "\n" +
		"stop dmt-nosuch-444444\n" +
		"sotp " + xName + "\n" +
		"stop " + xName + "\n" +
		"ps -q -f label=" + f.label() + "\n"
	r := dockman(t, nil, &stdin)
	if r.code != 1 {
		t.Errorf("exit code %d, want 1", r.code)
	}
	if want := x[:12] + "\n" + xName + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	ls := linesOf(r.stderr)
	if len(ls) != 2 || !strings.Contains(ls[0], "no such container: dmt-nosuch-444444") || !strings.Contains(ls[1], `unknown command "sotp"`) {
		t.Errorf("stderr %q, want one line per failed line", r.stderr)
	}
	if f.running(t, x) {
		t.Error("the line after the failures did not run")
	}

	t.Run("exit", func(t *testing.T) {
		y := f.sleeper(t, testenv.Name("stdin-y"))
		r := dockman(t, nil, ptr("exit\nstop "+y+"\n"))
		if r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Errorf("code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
		if !f.running(t, y) {
			t.Error("a line after exit ran")
		}
	})
}

// TestScriptPull: a pull in script mode prints its progress to stderr,
// without escapes, and only the ID to stdout.
func TestScriptPull(t *testing.T) {
	c := testenv.Client(t)
	src := testenv.BusyboxImage(t, c)
	addr := testenv.Registry(t)
	ref := addr + "/dmt/script-pull:v1"
	testenv.PushToRegistry(t, c, src, ref)
	f := newEngineFixture(t)
	r := dockman(t, nil, nil, "-c", "run --network none -l "+f.label()+" "+ref+" true")
	if r.code != 0 {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	// stdout is the ID alone; the progress is on stderr, as docker's.
	ls := linesOf(r.stdout)
	if len(ls) != 1 || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(ls[0]) {
		t.Errorf("stdout is not just the ID:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "Downloaded newer image for "+ref) {
		t.Errorf("no pull progress on stderr:\n%s", r.stderr)
	}
	if strings.ContainsAny(r.stderr, "\r\x1b") {
		t.Errorf("terminal redraws in script output: %q", r.stderr)
	}
	w := c.ContainerWait(context.Background(), ls[len(ls)-1], client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-w.Result:
	case err := <-w.Error:
		t.Fatal(err)
	case <-time.After(guard):
		t.Fatal("container did not exit")
	}
}

// pty is the master side of a pseudo-terminal and what the program on it
// printed.
type pty struct {
	master  *os.File
	mu      sync.Mutex
	out     bytes.Buffer
	changed chan struct{} // closed and replaced on every read
	done    chan struct{} // closed when the program closed the terminal
}

func ioctl(fd uintptr, req uint, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

// openPty returns a pseudo-terminal of 30 rows and 100 columns: the master
// and the slave for the program.
func openPty(t *testing.T) (*pty, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if err := ioctl(m.Fd(), syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Fatal(err)
	}
	var n uint32
	if err := ioctl(m.Fd(), syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ws := struct{ row, col, x, y uint16 }{30, 100, 0, 0}
	if err := ioctl(s.Fd(), syscall.TIOCSWINSZ, unsafe.Pointer(&ws)); err != nil {
		t.Fatal(err)
	}
	p := &pty{master: m, changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
			if err != nil { // EIO once the program has closed the terminal
				return
			}
		}
	}()
	t.Cleanup(func() { m.Close(); s.Close() })
	return p, s
}

func (p *pty) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// mark is how much the program has printed so far.
func (p *pty) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Len()
}

// waitFor blocks until the output from offset from on holds want.
func (p *pty) waitFor(t *testing.T, from int, want string) {
	t.Helper()
	timeout := time.After(guard)
	for {
		p.mu.Lock()
		has, ch := strings.Contains(p.out.String()[from:], want), p.changed
		p.mu.Unlock()
		if has {
			return
		}
		select {
		case <-ch:
		case <-p.done:
			if !strings.Contains(p.String()[from:], want) {
				t.Fatalf("terminal closed without showing %q:\n%q", want, p.String())
			}
			return
		case <-timeout:
			t.Fatalf("terminal never showed %q:\n%q", want, p.String())
		}
	}
}

// typeLine types a line and Enter. go-prompt draws the prompt again before
// it puts the terminal back into raw mode, so keys sent right after the
// prompt shows may still meet the cooked line discipline (which would eat a
// Ctrl-D as end-of-file): a typed line survives that, Enter being sent only
// once the line shows.
func (p *pty) typeLine(t *testing.T, line string) {
	t.Helper()
	from := p.mark()
	if _, err := p.master.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, from, line)
	if _, err := p.master.Write([]byte("\r")); err != nil {
		t.Fatal(err)
	}
}

// TestInteractiveColor types a bad command into the interactive shell on a
// pseudo-terminal: its error line is red, unless NO_COLOR or --no-color
// says otherwise. The engine address is dead: no engine needed.
func TestInteractiveColor(t *testing.T) {
	const red = "\x1b[31;1merror:"
	tests := []struct {
		name    string
		env     []string
		args    []string
		wantRed bool
	}{
		{name: "colour", wantRed: true},
		{name: "NO_COLOR", env: []string{"NO_COLOR=1"}},
		{name: "--no-color", args: []string{"--no-color"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, tty := openPty(t)
			state := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary(t), append([]string{"-H", deadHost(t), "--state-dir", state}, tt.args...)...)
			cmd.Env = baseEnv(t, append([]string{"TERM=xterm"}, tt.env...)...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tty.Close() // the child holds it now
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()

			p.waitFor(t, 0, "dockman> ")
			from := p.mark()
			p.typeLine(t, "sotp")
			p.waitFor(t, from, `did you mean "stop"?`)
			p.typeLine(t, "exit")
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("dockman exited with %v after exit", err)
				}
			case <-time.After(guard):
				t.Fatalf("dockman did not leave on exit:\n%q", p.String())
			}
			out := p.String()
			if got := strings.Contains(out, red); got != tt.wantRed {
				t.Errorf("red error prefix=%v, want %v:\n%q", got, tt.wantRed, out)
			}
			if !tt.wantRed && !strings.Contains(out, "error: unknown command") {
				t.Errorf("plain error line missing:\n%q", out)
			}
			hist, err := os.ReadFile(filepath.Join(state, "history"))
			if err != nil || string(hist) != "sotp\nexit\n" {
				t.Errorf("history file %q (%v), want the typed lines", hist, err)
			}
		})
	}
}

// TestColourPerStream: colour is decided for stdout and stderr apart, so
// that a stream going to a file never gets escape codes while one on a
// terminal is coloured, in the interactive shell and in script mode.
func TestColourPerStream(t *testing.T) {
	const red = "\x1b[31;1merror:"
	start := func(t *testing.T, args []string, stdin, stdout, stderr *os.File) <-chan error {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		t.Cleanup(cancel)
		cmd := exec.CommandContext(ctx, binary(t), append([]string{"-H", deadHost(t), "--state-dir", t.TempDir()}, args...)...)
		cmd.Env = baseEnv(t, "TERM=xterm")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		return exited
	}
	wait := func(t *testing.T, exited <-chan error, p *pty) {
		t.Helper()
		select {
		case <-exited:
		case <-time.After(guard):
			t.Fatalf("dockman did not end:\n%q", p.String())
		}
	}
	file := func(t *testing.T) *os.File {
		f, err := os.Create(filepath.Join(t.TempDir(), "stream"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	read := func(t *testing.T, f *os.File) string {
		b, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Run("interactive, stderr to a file", func(t *testing.T) {
		p, tty := openPty(t)
		errFile := file(t)
		exited := start(t, nil, tty, tty, errFile)
		tty.Close()
		p.waitFor(t, 0, "dockman> ")
		p.typeLine(t, "sotp")
		p.typeLine(t, "exit")
		wait(t, exited, p)
		if got := read(t, errFile); !strings.HasPrefix(got, "error: unknown command") {
			t.Errorf("stderr file %q, want a plain error line", got)
		}
	})
	t.Run("script, stderr on a terminal, stdout to a file", func(t *testing.T) {
		p, tty := openPty(t)
		outFile := file(t)
		exited := start(t, []string{"-c", "help; sotp"}, tty, outFile, tty)
		tty.Close()
		wait(t, exited, p)
		p.waitFor(t, 0, `did you mean "stop"?`)
		if !strings.Contains(p.String(), red) {
			t.Errorf("the error on the terminal is not red:\n%q", p.String())
		}
		if got := read(t, outFile); strings.Contains(got, "\x1b") || !strings.Contains(got, "Commands:") {
			t.Errorf("stdout file %q, want help without escape codes", got)
		}
	})
}
