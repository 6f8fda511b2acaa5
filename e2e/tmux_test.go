// Package e2e drives the real interactive dockman shell in a terminal, as a
// person uses it: every test gets its own tmux server whose one pane runs
// bash, types into it with send-keys and reads the screen with capture-pane.
//
// Every wait is for a state of the screen (or of the pane's terminal) and
// has a deadline only as a guard against hanging: nothing here asserts how
// long anything takes.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// bashPrompt is PS1 of the pane's bash; dockmanPrompt is dockman's,
	// and continuationPrompt dockman's after a line ending in a backslash.
	bashPrompt         = "e2e$ "
	dockmanPrompt      = "dockman> "
	continuationPrompt = "> "

	paneWidth, paneHeight = 160, 50

	// waitLimit is how long a wait for a screen state may last before the
	// test gives up. A healthy run reaches each state in well under a second.
	waitLimit = 20 * time.Second
	// pollEvery is how often the screen is captured while waiting.
	pollEvery = 50 * time.Millisecond
)

var (
	// binDir holds the dockman binary under test; TestMain creates it.
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dockman-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// unavailable skips the test locally and fails it when CI is set, the rule
// internal/testenv applies to a missing engine.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this is a failure rather than a skip)", msg)
	}
	t.Skipf("%s (skipping; set CI=1 to make this a failure)", msg)
}

// buildDockman builds the binary under test once per run of the tests,
// with -race when the tests themselves run with -race.
func buildDockman(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() { buildErr = build(filepath.Join(binDir, "dockman")) })
	if buildErr != nil {
		t.Fatalf("building dockman: %v", buildErr)
	}
}

func build(out string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	if mod == "" || mod == os.DevNull {
		return errors.New("not inside the dockman module")
	}
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, ".")
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Dir(mod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// terminal is one tmux server with one pane running bash.
type terminal struct {
	t        *testing.T
	socket   string // tmux -S path, in a temp dir: kill-server leaves the file
	tty      string // the pane's terminal, e.g. /dev/pts/3
	panePID  int    // bash's pid
	stateDir string // XDG_STATE_HOME in the pane
	raceDir  string // where a -race dockman writes its reports

	// prefix is the prompt as the current dockman line shows it, and line
	// is what this test has typed on that line so far.
	prefix, line string
}

// newTerminal starts a tmux server whose 160x50 pane runs bash without line
// editing, so that whatever echo the screen shows comes from the terminal
// itself, in a clean environment plus env ("KEY=value"); dockman is on PATH.
// It returns once bash shows its prompt; the server is killed at cleanup.
func newTerminal(t *testing.T, env ...string) *terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		unavailable(t, "tmux is not installed: %v", err)
	}
	buildDockman(t)
	tm := &terminal{
		t:        t,
		socket:   filepath.Join(t.TempDir(), "tmux"),
		stateDir: t.TempDir(),
		raceDir:  t.TempDir(),
	}
	paneEnv := []string{
		"PATH=" + binDir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + t.TempDir(),
		"TERM=xterm-256color",
		"LANG=C.UTF-8",
		"PS1=" + bashPrompt,
		"HISTFILE=", // bash keeps no history file: nothing writes HOME as it dies
		"XDG_STATE_HOME=" + tm.stateDir,
	}
	if raceEnabled {
		paneEnv = append(paneEnv, "GORACE=log_path="+filepath.Join(tm.raceDir, "race"))
	}
	paneEnv = append(paneEnv, env...)
	args := []string{"new-session", "-d", "-x", strconv.Itoa(paneWidth), "-y", strconv.Itoa(paneHeight), "env", "-i"}
	args = append(args, paneEnv...)
	args = append(args, "bash", "--norc", "--noprofile", "--noediting")
	t.Cleanup(tm.close)
	tm.tmux(args...)
	meta := strings.Fields(tm.tmux("display-message", "-p", "#{pane_tty} #{pane_pid}"))
	if len(meta) != 2 {
		t.Fatalf("tmux display-message: unexpected %q", meta)
	}
	tm.tty = meta[0]
	tm.panePID, _ = strconv.Atoi(meta[1])
	tm.waitBash()
	return tm
}

// close shows the screen of a failed test, kills the server (and with it
// bash and dockman) and fails the test for any data race dockman reported.
func (tm *terminal) close() {
	if tm.t.Failed() {
		if out, err := tm.tmuxErr("capture-pane", "-p", "-J", "-S", "-"); err == nil {
			tm.t.Logf("the terminal at the end of the test:\n%s", strings.TrimRight(out, "\n "))
		}
	}
	procs := tm.descendants()
	if _, err := tm.tmuxErr("kill-server"); err != nil {
		tm.t.Logf("%v", err)
	}
	// The pane's processes get SIGHUP; wait until they are gone, so that
	// none outlives the test or writes into its directories.
	deadline := time.Now().Add(waitLimit)
	for _, pid := range procs {
		for alive(pid) {
			if time.Now().After(deadline) {
				tm.t.Errorf("process %d of the pane is still running after kill-server", pid)
				break
			}
			time.Sleep(pollEvery)
		}
	}
	reports, _ := filepath.Glob(filepath.Join(tm.raceDir, "race*"))
	for _, r := range reports {
		b, _ := os.ReadFile(r)
		tm.t.Errorf("the race detector found a data race in dockman (%s):\n%s", filepath.Base(r), b)
	}
}

func (tm *terminal) tmux(args ...string) string {
	tm.t.Helper()
	out, err := tm.tmuxErr(args...)
	if err != nil {
		tm.t.Fatal(err)
	}
	return out
}

func (tm *terminal) tmuxErr(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", tm.socket, "-f", os.DevNull}, args...)...)
	// A test run from inside tmux must not talk to the user's server.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "TMUX=") || strings.HasPrefix(kv, "TMUX_PANE=")
	})
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// sendText types text literally; sendKeys presses keys named as tmux names
// them (Enter, Tab, Up, C-c, ...).
func (tm *terminal) sendText(text string) {
	tm.t.Helper()
	tm.tmux("send-keys", "-l", "--", text) // text may begin with "-"
}

func (tm *terminal) sendKeys(keys ...string) {
	tm.t.Helper()
	tm.tmux(append([]string{"send-keys"}, keys...)...)
}

// screen is one capture of the visible pane.
type screen struct {
	rows    []string // trailing spaces trimmed
	x, y    int      // the cursor
	command string   // the pane's foreground command
}

func (s screen) cursorLine() string {
	if s.y < 0 || s.y >= len(s.rows) {
		return ""
	}
	return s.rows[s.y]
}

// below returns the rows under the cursor: where go-prompt draws its
// completion list.
func (s screen) below() []string {
	if s.y+1 >= len(s.rows) {
		return nil
	}
	return s.rows[s.y+1:]
}

func (s screen) String() string {
	return fmt.Sprintf("(cursor at row %d col %d, foreground %q)\n%s", s.y, s.x, s.command, strings.TrimRight(strings.Join(s.rows, "\n"), "\n"))
}

// snapshot captures the visible pane and the cursor in one tmux command, so
// the two agree.
func (tm *terminal) snapshot() screen {
	tm.t.Helper()
	out := tm.tmux("capture-pane", "-p", ";", "display-message", "-p", "#{cursor_x} #{cursor_y} #{pane_current_command}")
	out = strings.TrimSuffix(out, "\n")
	i := strings.LastIndexByte(out, '\n')
	if i < 0 {
		tm.t.Fatalf("tmux capture: unexpected output %q", out)
	}
	var s screen
	if _, err := fmt.Sscanf(out[i+1:], "%d %d %s", &s.x, &s.y, &s.command); err != nil {
		tm.t.Fatalf("tmux display-message: %q: %v", out[i+1:], err)
	}
	s.rows = strings.Split(out[:i], "\n")
	for j := range s.rows {
		s.rows[j] = strings.TrimRight(s.rows[j], " ")
	}
	return s
}

// scrollback returns every line the pane has shown, history included, with
// wrapped lines joined and trailing spaces trimmed.
func (tm *terminal) scrollback() []string {
	tm.t.Helper()
	lines := strings.Split(strings.TrimRight(tm.tmux("capture-pane", "-p", "-J", "-S", "-"), "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return lines
}

// colourRows returns the visible rows with their colours as escape
// sequences.
func (tm *terminal) colourRows() []string {
	tm.t.Helper()
	return strings.Split(tm.tmux("capture-pane", "-p", "-e"), "\n")
}

// waitFor captures the screen until cond holds and returns that capture.
func (tm *terminal) waitFor(what string, cond func(s screen) bool) screen {
	tm.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		s := tm.snapshot()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("gave up after %s waiting for %s; the screen %s", waitLimit, what, s)
		}
		time.Sleep(pollEvery)
	}
}

// ttyState is the pane terminal's settings as `stty -g` prints them.
func (tm *terminal) ttyState() string {
	tm.t.Helper()
	out, err := exec.Command("stty", "-F", tm.tty, "-g").Output()
	if err != nil {
		tm.t.Fatalf("stty -F %s -g: %v", tm.tty, err)
	}
	return strings.TrimSpace(string(out))
}

// ttyFlags is the set of the terminal's settings as `stty -a` names them
// ("echo", "-icanon", ...).
func (tm *terminal) ttyFlags() []string {
	tm.t.Helper()
	out, err := exec.Command("stty", "-F", tm.tty, "-a").Output()
	if err != nil {
		tm.t.Fatalf("stty -F %s -a: %v", tm.tty, err)
	}
	return strings.Fields(strings.ReplaceAll(string(out), ";", " "))
}

// raw reports whether the terminal is out of canonical mode. go-prompt
// switches it so while it reads keys; bash without line editing, and
// dockman while it runs a command, keep it canonical. Keys typed into a
// canonical terminal before go-prompt takes it over reach go-prompt as one
// chunk with the Enter inside, which it inserts as text, so every key to
// the prompt waits for this first.
func (tm *terminal) raw() bool {
	tm.t.Helper()
	return slices.Contains(tm.ttyFlags(), "-icanon")
}

// restoreTTY puts the terminal back to a state from ttyState, so that a
// test can go on after dockman left it broken.
func (tm *terminal) restoreTTY(state string) {
	tm.t.Helper()
	if out, err := exec.Command("stty", "-F", tm.tty, state).CombinedOutput(); err != nil {
		tm.t.Fatalf("stty -F %s %s: %v: %s", tm.tty, state, err, out)
	}
}

// Bash.

// isBashPrompt reports whether a line shows bash's prompt. It need not
// begin the line: a program that ends without a last newline leaves it
// behind its own output.
func isBashPrompt(line string) bool { return strings.Contains(line, strings.TrimSpace(bashPrompt)) }

func (tm *terminal) atBashPrompt(s screen) bool {
	return s.command == "bash" && strings.HasSuffix(s.cursorLine(), strings.TrimSpace(bashPrompt))
}

// waitBash waits for bash's prompt on an empty line.
func (tm *terminal) waitBash() screen {
	tm.t.Helper()
	return tm.waitFor("bash's prompt", tm.atBashPrompt)
}

// bashRun types cmd at bash's prompt, checks that the terminal echoes it,
// presses Enter and returns what the command printed.
func (tm *terminal) bashRun(cmd string) []string {
	tm.t.Helper()
	base := tm.waitBash().cursorLine()
	n := count(tm.scrollback(), isBashPrompt)
	tm.sendText(cmd)
	tm.waitFor(fmt.Sprintf("the terminal to echo the typed %q", cmd), func(s screen) bool {
		return s.cursorLine() == strings.TrimRight(base+" "+cmd, " ")
	})
	tm.sendKeys("Enter")
	var out []string
	tm.waitFor(fmt.Sprintf("bash to run %q and prompt again", cmd), func(s screen) bool {
		if !tm.atBashPrompt(s) {
			return false
		}
		var ok bool
		out, ok = between(tm.scrollback(), isBashPrompt, n)
		return ok
	})
	return out
}

// Dockman.

// isPromptLine reports whether a line of the screen begins with dockman's
// prompt. A "^C" the terminal echoed before it is allowed, so that the
// helpers keep working where dockman draws its prompt behind one (a bug the
// Ctrl-C test reports).
func isPromptLine(line string) bool {
	return strings.HasPrefix(strings.TrimPrefix(line, "^C"), strings.TrimSpace(dockmanPrompt))
}

// atDockmanPrompt reports whether dockman waits for keys on an empty line.
func (tm *terminal) atDockmanPrompt(s screen) bool {
	line := s.cursorLine()
	return s.command == "dockman" && isPromptLine(line) && strings.HasSuffix(line, strings.TrimSpace(dockmanPrompt)) && tm.raw()
}

// waitDockman waits until dockman reads keys on an empty line.
func (tm *terminal) waitDockman() screen {
	tm.t.Helper()
	s := tm.waitFor("dockman's prompt on an empty line, reading keys", tm.atDockmanPrompt)
	tm.prefix, tm.line = s.cursorLine()+" ", ""
	return s
}

// wantLine waits until the line being edited shows the prompt and text.
func (tm *terminal) wantLine(what, text string) screen {
	tm.t.Helper()
	tm.line = text
	want := strings.TrimRight(tm.prefix+text, " ")
	return tm.waitFor(fmt.Sprintf("%s: the line to read %q", what, want), func(s screen) bool {
		return s.cursorLine() == want
	})
}

// startDockman types dockman (with args) at bash's prompt and waits for its
// prompt. It returns the lines dockman printed before the prompt.
func (tm *terminal) startDockman(args ...string) []string {
	tm.t.Helper()
	cmd := strings.Join(append([]string{"dockman"}, args...), " ")
	base := tm.waitBash().cursorLine()
	n := count(tm.scrollback(), isBashPrompt)
	tm.sendText(cmd)
	tm.waitFor("bash to echo the dockman command", func(s screen) bool { return s.cursorLine() == base+" "+cmd })
	tm.sendKeys("Enter")
	tm.waitDockman()
	lines := tm.scrollback()
	for i, l := range lines {
		if isBashPrompt(l) {
			if n--; n == 0 {
				return withoutNotices(firstMatch(lines[i+1:], isPromptLine))
			}
		}
	}
	return nil
}

// firstMatch returns the lines before the first one that match accepts.
func firstMatch(lines []string, match func(string) bool) []string {
	for i, l := range lines {
		if match(l) {
			return lines[:i]
		}
	}
	return lines
}

// typeText types text at the end of the dockman line and waits until the
// prompt shows it.
func (tm *terminal) typeText(text string) {
	tm.t.Helper()
	tm.sendText(text)
	tm.wantLine("typing", tm.line+text)
}

// isNotice reports whether a line is a notice from dockman's background
// parts. Notices come when they come: one may land in any command's
// output, so the helpers leave them out; tests of notices read the screen.
func isNotice(line string) bool { return strings.HasPrefix(line, "notice: ") }

// withoutNotices returns lines without the notices among them.
func withoutNotices(lines []string) []string {
	return slices.DeleteFunc(slices.Clone(lines), isNotice)
}

// submit presses Enter on the line typed so far and returns what the
// command printed (notices left out), once dockman prompts again.
func (tm *terminal) submit() []string {
	tm.t.Helper()
	cmd := tm.line
	n := count(tm.scrollback(), isPromptLine)
	tm.sendKeys("Enter")
	var out []string
	tm.waitFor(fmt.Sprintf("the output of %q and the next prompt", cmd), func(s screen) bool {
		if !tm.atDockmanPrompt(s) {
			return false
		}
		var ok bool
		out, ok = between(tm.scrollback(), isPromptLine, n)
		return ok
	})
	tm.prefix, tm.line = tm.snapshot().cursorLine()+" ", ""
	return withoutNotices(out)
}

// run types cmd at dockman's prompt, presses Enter and returns its output.
func (tm *terminal) run(cmd string) []string {
	tm.t.Helper()
	tm.waitDockman()
	tm.typeText(cmd)
	return tm.submit()
}

// ctrlC presses Ctrl-C at the prompt and waits for a fresh, empty prompt
// line below the one that was being edited.
func (tm *terminal) ctrlC() {
	tm.t.Helper()
	n := count(tm.scrollback(), isPromptLine)
	tm.sendKeys("C-c")
	tm.waitFor("a fresh prompt after Ctrl-C", func(s screen) bool {
		return tm.atDockmanPrompt(s) && count(tm.scrollback(), isPromptLine) > n
	})
	tm.waitDockman()
}

// exitDockman presses Ctrl-D on the empty prompt line and waits for bash.
func (tm *terminal) exitDockman() {
	tm.t.Helper()
	tm.waitDockman()
	tm.sendKeys("C-d")
	tm.waitFor("dockman to end on Ctrl-D and bash to prompt", tm.atBashPrompt)
}

// complete types typed, waits until the completion list offers want, then
// presses Tab and checks that want replaced the last word on the line. It
// returns want's row of the list, description included.
//
// The list is computed on each key press from the inventory, which Docker
// events fill in the background. Until want is offered, the last character is
// deleted and typed again so that the list is computed afresh.
func (tm *terminal) complete(typed, want string) string {
	tm.t.Helper()
	tm.typeText(typed)
	deadline := time.Now().Add(waitLimit)
	var row string
	for retyped := 0; ; retyped++ {
		s := tm.snapshot()
		if r, ok := suggestion(s, want); ok {
			row = r
			if retyped > 0 {
				tm.t.Logf("%q: %q offered after retyping the last character %d times", typed, want, retyped)
			}
			break
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("gave up after %s waiting for the completion list of %q to offer %q; the screen %s", waitLimit, tm.line, want, s)
		}
		time.Sleep(pollEvery)
		last := tm.line[len(tm.line)-1:]
		tm.sendKeys("BSpace")
		tm.wantLine("deleting the last character", tm.line[:len(tm.line)-1])
		tm.typeText(last)
	}
	tm.sendKeys("Tab")
	completed := tm.line[:strings.LastIndexByte(tm.line, ' ')+1] + want
	tm.wantLine(fmt.Sprintf("Tab after %q", typed), completed)
	return row
}

// suggestion finds the row of the completion list whose suggestion is text.
func suggestion(s screen, text string) (string, bool) {
	for _, row := range s.below() {
		if f := strings.Fields(row); len(f) > 0 && f[0] == text {
			return row, true
		}
	}
	return "", false
}

// up and down press the arrow keys and wait for the recalled line.
func (tm *terminal) up(want string) {
	tm.t.Helper()
	tm.sendKeys("Up")
	tm.wantLine("Up arrow", want)
}

func (tm *terminal) down(want string) {
	tm.t.Helper()
	tm.sendKeys("Down")
	tm.wantLine("Down arrow", want)
}

// procStat is what /proc/PID/stat says of a process.
type procStat struct {
	pid, ppid int
	comm      string
	state     byte
}

func readStat(path string) (procStat, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return procStat{}, false // gone meanwhile
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	lp, rp := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if lp < 0 || rp < lp {
		return procStat{}, false
	}
	rest := strings.Fields(string(b[rp+1:]))
	if len(rest) < 2 {
		return procStat{}, false
	}
	var st procStat
	st.pid, _ = strconv.Atoi(strings.TrimSpace(string(b[:lp])))
	st.comm, st.state = string(b[lp+1:rp]), rest[0][0]
	st.ppid, _ = strconv.Atoi(rest[1])
	return st, true
}

func processes() []procStat {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []procStat
	for _, p := range paths {
		if st, ok := readStat(p); ok {
			out = append(out, st)
		}
	}
	return out
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	st, ok := readStat(fmt.Sprintf("/proc/%d/stat", pid))
	return ok && st.state != 'Z'
}

// descendants returns bash and every process below it.
func (tm *terminal) descendants() []int {
	if tm.panePID == 0 {
		return nil
	}
	all := processes()
	out := []int{tm.panePID}
	for i := 0; i < len(out); i++ {
		for _, st := range all {
			if st.ppid == out[i] {
				out = append(out, st.pid)
			}
		}
	}
	return out
}

// dockmanPID finds the dockman process that bash started.
func (tm *terminal) dockmanPID() int {
	tm.t.Helper()
	for _, st := range processes() {
		if st.comm == "dockman" && st.ppid == tm.panePID {
			return st.pid
		}
	}
	tm.t.Fatalf("no dockman process under bash (pid %d)", tm.panePID)
	return 0
}

// count returns how many lines match.
func count(lines []string, match func(string) bool) int {
	n := 0
	for _, l := range lines {
		if match(l) {
			n++
		}
	}
	return n
}

// between returns the lines after the n-th line that matches isPrompt, up
// to the next one; ok is false while there is no next one yet.
func between(lines []string, isPrompt func(string) bool, n int) (out []string, ok bool) {
	start := -1
	for i, l := range lines {
		if !isPrompt(l) {
			continue
		}
		if n--; n == 0 {
			start = i
		} else if n < 0 {
			return lines[start+1 : i], true
		}
	}
	return nil, false
}

// afterNth returns the lines after the n-th line that matches isPrompt.
func afterNth(lines []string, isPrompt func(string) bool, n int) []string {
	for i, l := range lines {
		if isPrompt(l) {
			if n--; n == 0 {
				return lines[i+1:]
			}
		}
	}
	return nil
}

// rowWith returns the last line that contains text.
func rowWith(lines []string, text string) (string, bool) {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], text) {
			return lines[i], true
		}
	}
	return "", false
}

var sgrRun = regexp.MustCompile(`(?:\x1b\[[0-9;]*m)+$`)

// sgrBefore returns the parameters of the colour escapes right before the
// first text in a row captured with colours ("1", "31", ...).
func sgrBefore(row, text string) []string {
	i := strings.Index(row, text)
	if i < 0 {
		return nil
	}
	var params []string
	for _, seq := range regexp.MustCompile(`\x1b\[([0-9;]*)m`).FindAllStringSubmatch(sgrRun.FindString(row[:i]), -1) {
		params = append(params, strings.Split(seq[1], ";")...)
	}
	return params
}
