package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockman/dockman/internal/testenv"
)

// numbered is the line a test types as its n-th: `history -n 1` prints
// the newest history entry, which is this very line, numbered n (the
// history of a fresh state directory starts empty). The comment makes every
// line different, so each is recorded.
func numbered(n int) string { return fmt.Sprintf("history -n 1 # %d", n) }

// checkNumberedRan checks that lines 1..n each ran once, in order: the
// history file holds them all, and the screen shows each one's output.
func checkNumberedRan(t *testing.T, tm *terminal, n int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tm.stateDir, "dockman", "history"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, numbered(i))
	}
	got := strings.Split(strings.TrimSpace(string(b)), "\n")
	if !slices.Equal(got, want) {
		missing := 0
		for _, w := range want {
			if !slices.Contains(got, w) {
				missing++
			}
		}
		t.Errorf("the history file holds %d lines, %d of the %d typed missing; the last: %q", len(got), missing, n, got[max(0, len(got)-3):])
	}
	// A row may hold the echo of a line typed ahead, by the terminal, before
	// a command's output: find outputs anywhere in a row.
	outputs := 0
	for _, l := range tm.scrollback() {
		for _, m := range outputRE.FindAllStringSubmatch(l, -1) {
			if m[1] == m[2] {
				outputs++
			}
		}
	}
	if outputs != n {
		t.Errorf("the screen shows the output of %d of the %d lines", outputs, n)
	}
}

// outputRE matches the output of a numbered line: "%5d  history -n 1 # %d".
var outputRE = regexp.MustCompile(`(\d+)  history -n 1 # (\d+)`)

// waitOutputOf waits until the output of numbered line n is on screen and
// dockman prompts again.
func (tm *terminal) waitOutputOf(n int) {
	tm.t.Helper()
	want := fmt.Sprintf("%5d  %s", n, numbered(n))
	tm.waitFor(fmt.Sprintf("the output of line %d", n), func(s screen) bool {
		return tm.atDockmanPrompt(s) && slices.Contains(tm.scrollback(), want)
	})
}

// TestResizeStormWhileTyping types 300 lines while dockman gets a SIGWINCH
// every 2 ms and the window changes width every 20 ms: go-prompt's Run()
// deadlocked on the first line of such a storm. The shell never hangs and
// every line runs, once, in order.
func TestResizeStormWhileTyping(t *testing.T) {
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	pid := tm.dockmanPID()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the signal storm
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = syscall.Kill(pid, syscall.SIGWINCH)
			}
		}
	}()
	go func() { // real resizes: each one redraws the line being typed
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				_, _ = tm.tmuxErr("resize-window", "-x", fmt.Sprint(paneWidth-10*(i%2)))
			}
		}
	}()
	const n = 300
	for i := 1; i <= n; i++ {
		tm.sendText(numbered(i))
		tm.sendKeys("Enter")
	}
	tm.waitOutputOf(n)
	close(stop)
	wg.Wait()
	checkNumberedRan(t, tm, n)
	if out := tm.run("help exit"); len(out) == 0 || !strings.HasPrefix(out[0], "Usage:  exit") {
		t.Errorf("after the storm, help exit printed %q", out)
	}
}

// TestTypeAheadFast types 200 lines with 8 ms between an Enter and the
// next line, faster than each runs: every line runs, in order.
func TestTypeAheadFast(t *testing.T) {
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	tm.waitDockman()
	const n = 200
	for i := 1; i <= n; i++ {
		tm.sendText(numbered(i))
		tm.sendKeys("Enter")
		time.Sleep(8 * time.Millisecond) // the typist's pace, not a wait for dockman
	}
	tm.waitOutputOf(n)
	checkNumberedRan(t, tm, n)
}

// TestSIGINTAtPrompt sends SIGINT from outside while a line is typed:
// as in bash, the line is dropped and the shell goes on.
func TestSIGINTAtPrompt(t *testing.T) {
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	tm.waitDockman()
	tm.typeText("ps -a")
	n := count(tm.scrollback(), isPromptLine)
	if err := syscall.Kill(tm.dockmanPID(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	tm.waitFor("a fresh prompt after SIGINT", func(s screen) bool {
		return tm.atDockmanPrompt(s) && count(tm.scrollback(), isPromptLine) > n
	})
	if out, _ := between(tm.scrollback(), isPromptLine, n); len(out) != 0 {
		t.Errorf("SIGINT at the prompt printed %q, want nothing: the line is dropped, not run", out)
	}
	for i := range 3 { // and again: nothing was left registered or broken
		n := count(tm.scrollback(), isPromptLine)
		if err := syscall.Kill(tm.dockmanPID(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		tm.waitFor(fmt.Sprintf("a fresh prompt after SIGINT %d at the empty prompt", i+2), func(s screen) bool {
			return tm.atDockmanPrompt(s) && count(tm.scrollback(), isPromptLine) > n
		})
	}
	if out := tm.run("history"); !slices.Equal(out, []string{"    1  history"}) {
		t.Errorf("history printed %q, want only itself: the interrupted line was not run", out)
	}
}

// TestNoticeAboveHalfTypedLine cuts the engine while `ps -` is half typed:
// the notice appears above the prompt, the line still reads `ps -` with the
// cursor after it; the engine comes back: one more notice; then `a` and
// Enter run `ps -a`. Each change is said once, and the debug log has the
// cause.
func TestNoticeAboveHalfTypedLine(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	name := testenv.Name("e2en")
	testenv.RunContainer(t, c, label, name, stoppable...)
	proxy := testenv.NewProxy(t)
	proxy.Start()
	tm := newTerminal(t, "DOCKER_HOST="+proxy.Host())
	tm.startDockman()
	// Completion offers the container once the first resync is in: the
	// Watcher is connected.
	tm.complete("stop "+typedPrefix(name), name)
	tm.ctrlC()

	tm.typeText("ps -")
	lost := "notice: lost the Docker engine at " + proxy.Host() + ": retrying"
	back := "notice: reconnected to the Docker engine at " + proxy.Host()
	noticeAbove := func(what, notice string) {
		t.Helper()
		s := tm.waitFor(what, func(s screen) bool {
			return s.y > 0 && s.rows[s.y-1] == notice && s.cursorLine() == tm.prefix+"ps -"
		})
		if want := len(tm.prefix + "ps -"); s.x != want {
			t.Errorf("%s: the cursor is at column %d, want %d (after the typed text)", what, s.x, want)
		}
	}
	proxy.Stop()
	noticeAbove("the notice that the engine is lost, above the line being typed", lost)
	proxy.Start()
	noticeAbove("the notice that the engine is back, above the line being typed", back)

	tm.line = "ps -"
	tm.typeText("a")
	out := tm.submit()
	if len(out) == 0 || !strings.HasPrefix(out[0], "CONTAINER ID") || !slices.ContainsFunc(out, func(l string) bool { return strings.Contains(l, name) }) {
		t.Errorf("ps -a printed %q, want the table with %s", out, name)
	}
	lines := tm.scrollback()
	if got := count(lines, func(l string) bool { return l == lost }); got != 1 {
		t.Errorf("the engine loss was said %d times, want once", got)
	}
	if got := count(lines, func(l string) bool { return l == back }); got != 1 {
		t.Errorf("the engine's return was said %d times, want once", got)
	}

	log, err := os.ReadFile(filepath.Join(tm.stateDir, "dockman", "debug.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`msg="event stream lost; reconnecting"`, "err=", `msg="event stream connected"`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the debug log lacks %s:\n%s", want, log)
		}
	}
}

// TestResizeRedrawsLine types a line longer than the narrower width, then
// narrows and widens the window: each time the line is drawn again at the
// new width, with nothing of the old drawing left on screen.
//
// The prompt starts below some output, as in a session. (When it sits in
// the top rows, a terminal that re-wraps on shrink, tmux among them, moves
// the head of the line into its scrollback, beyond any program's reach, and
// a later widening brings that row back: bash's prompt shows the same.)
func TestResizeRedrawsLine(t *testing.T) {
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	tm.run("help")
	line := "ps --filter name=" + strings.Repeat("x", 90)
	tm.typeText(line)
	full := tm.prefix + line
	// What dockman writes from now on: each redraw saves the cursor (ESC 7)
	// once, which go-prompt never does. tmux re-wraps the line by itself
	// when the width changes, so the screen alone cannot tell that dockman
	// redrew it.
	written := filepath.Join(t.TempDir(), "pane")
	tm.tmux("pipe-pane", "-o", "cat >"+written)
	redraws := func() int {
		b, _ := os.ReadFile(written)
		return strings.Count(string(b), "\x1b7")
	}
	for i, width := range []int{60, 45, 150, paneWidth} {
		tm.tmux("resize-window", "-x", fmt.Sprint(width))
		tm.waitFor(fmt.Sprintf("the line redrawn at width %d", width), func(s screen) bool {
			rows := (len(full) + width - 1) / width
			if redraws() < i+1 || s.y+1 < rows {
				return false
			}
			drawn := strings.Join(s.rows[s.y+1-rows:s.y+1], "")
			// Nothing else on screen holds a piece of the prompt line.
			copies := count(s.rows, func(r string) bool { return strings.Contains(r, "dockman> ps") })
			return drawn == full && copies == 1 && s.x == len(full)%width
		})
	}
	tm.tmux("pipe-pane")
	out := tm.submit()
	if len(out) != 1 || !strings.HasPrefix(out[0], "CONTAINER ID") {
		t.Errorf("the redrawn line ran as %q, want ps's header alone", out)
	}
}

// TestHangUpWithLineTyped closes the terminal (the tmux server goes away)
// while a line is half typed: dockman ends, rather than reading a dead
// terminal forever, with 129 as a death by SIGHUP. A shell that ignores the
// hang-up records the exit status.
func TestHangUpWithLineTyped(t *testing.T) {
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	status := filepath.Join(t.TempDir(), "status")
	base := tm.waitBash().cursorLine()
	cmd := fmt.Sprintf(`bash -c 'trap "" HUP; dockman; echo $? >%s'`, status)
	tm.sendText(cmd)
	tm.waitFor("bash to echo the command", func(s screen) bool { return s.cursorLine() == base+" "+cmd })
	tm.sendKeys("Enter")
	// The pane's foreground process is the wrapper: wait for the prompt.
	s := tm.waitFor("dockman's prompt under the wrapper", func(s screen) bool {
		return s.cursorLine() == strings.TrimSpace(dockmanPrompt) && tm.raw()
	})
	tm.prefix, tm.line = s.cursorLine()+" ", ""
	tm.typeText("ps -a")
	if _, err := tm.tmuxErr("kill-server"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitLimit)
	for {
		b, err := os.ReadFile(status)
		if err == nil && len(b) > 0 {
			if got := strings.TrimSpace(string(b)); got != "129" {
				t.Errorf("dockman's exit status after its terminal hung up is %s, want 129", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockman did not end within %s after its terminal hung up", waitLimit)
		}
		time.Sleep(pollEvery)
	}
}
