package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/dockman/dockman/internal/testenv"
)

// stoppable is a container command that runs until stopped and ends at once
// on SIGTERM (a bare sleep as PID 1 ignores it and waits out the timeout).
var stoppable = []string{"sh", "-c", `trap "exit 0" TERM; sleep 600 & wait`}

// typedPrefix is what a person types of a unique container name before
// pressing Tab: all but its last three random digits.
func typedPrefix(name string) string { return name[:len(name)-3] }

// rowOf returns name's row in ps output.
func rowOf(t *testing.T, out []string, name string) string {
	t.Helper()
	row, ok := rowWith(out, name)
	if !ok {
		t.Fatalf("no row for %s in:\n%s", name, strings.Join(out, "\n"))
	}
	return row
}

// checkTTYRestored compares the terminal with its state before dockman ran
// and puts it back if dockman left it changed, so the test can go on.
func checkTTYRestored(t *testing.T, tm *terminal, before string, when string) {
	t.Helper()
	if after := tm.ttyState(); after != before {
		t.Errorf("%s, the terminal is not restored: stty -g was %s before dockman and is %s now; stty -a now: %s",
			when, before, after, strings.Join(tm.ttyFlags(), " "))
		tm.restoreTTY(before)
	}
}

// TestInteractiveSession is the scenario: list the containers, stop
// one by a Tab-completed name, see the table change, recall a line with the
// up arrow, leave with Ctrl-D, and find the terminal as it was.
func TestInteractiveSession(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	first, second := testenv.Name("e2ea"), testenv.Name("e2eb")
	for _, name := range []string{first, second} {
		testenv.RunContainer(t, c, label, name, stoppable...)
	}
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	before := tm.ttyState()
	banner := tm.startDockman()
	if len(banner) == 0 || !strings.Contains(banner[0], testenv.Host()) {
		t.Errorf("the banner %q does not name the engine %s", banner, testenv.Host())
	}

	ps := "ps -f label=" + testenv.LabelKey + "=" + label
	out := tm.run(ps)
	if len(out) != 3 || !strings.HasPrefix(out[0], "CONTAINER ID") {
		t.Fatalf("%s printed %d lines, want a header and two rows:\n%s", ps, len(out), strings.Join(out, "\n"))
	}
	for _, name := range []string{first, second} {
		if row := rowOf(t, out, name); !strings.Contains(row, " Up ") {
			t.Errorf("%s is not Up: %q", name, row)
		}
	}

	tm.complete("stop "+typedPrefix(first), first)
	out = tm.submit()
	if !slices.Equal(out, []string{first}) {
		t.Errorf("stop %s printed %q, want the name alone", first, out)
	}

	psAll := "ps -a -f label=" + testenv.LabelKey + "=" + label
	out = tm.run(psAll)
	if row := rowOf(t, out, first); !strings.Contains(row, " Exited (0) ") || strings.Contains(row, " Up ") {
		t.Errorf("after stop, %s is not Exited (0): %q", first, row)
	}
	if row := rowOf(t, out, second); !strings.Contains(row, " Up ") {
		t.Errorf("%s (not stopped) is not Up: %q", second, row)
	}
	// The states are coloured: exited red, running green.
	rows := tm.colourRows()
	for _, tc := range []struct{ name, status, sgr string }{{first, "Exited", "31"}, {second, "Up", "32"}} {
		row, ok := rowWith(rows, tc.name)
		if !ok {
			t.Fatalf("no row for %s on screen", tc.name)
		}
		if p := sgrBefore(row, tc.status); !slices.Contains(p, tc.sgr) {
			t.Errorf("%s: %q is drawn with SGR %q, want colour %s in: %q", tc.name, tc.status, p, tc.sgr, row)
		}
	}

	tm.up(psAll)
	tm.down("")
	tm.exitDockman()

	checkTTYRestored(t, tm, before, "after Ctrl-D")
	if out := tm.bashRun("echo ECHO_OK"); !slices.Equal(out, []string{"ECHO_OK"}) {
		t.Errorf("echo ECHO_OK printed %q", out)
	}
	flags := strings.Fields(strings.ReplaceAll(strings.Join(tm.bashRun("stty -a"), " "), ";", " "))
	for _, f := range []string{"echo", "icanon", "isig", "icrnl", "opost"} {
		if !slices.Contains(flags, f) {
			t.Errorf("after dockman, stty -a lacks %q (has -%s: %v)", f, f, slices.Contains(flags, "-"+f))
		}
	}
}

// TestHistorySurvivesRestart runs a line, leaves, starts again with the same
// state directory and recalls the line with the up arrow and `history`.
func TestHistorySurvivesRestart(t *testing.T) {
	testenv.Client(t)
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	line := "ps -a -f name=" + testenv.Name("hist")
	out := tm.run(line)
	if len(out) != 1 || !strings.HasPrefix(out[0], "CONTAINER ID") {
		t.Errorf("%s printed %q, want only the header", line, out)
	}
	tm.exitDockman()

	file := filepath.Join(tm.stateDir, "dockman", "history")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("history file: %v", err)
	}
	if !slices.Contains(strings.Split(string(b), "\n"), line) {
		t.Errorf("history file %s holds %q, want the line %q", file, b, line)
	}

	tm.startDockman()
	tm.up(line)
	tm.down("")
	out = tm.run("history")
	want := regexp.MustCompile(`^ *\d+  ` + regexp.QuoteMeta(line) + `$`)
	if !slices.ContainsFunc(out, want.MatchString) {
		t.Errorf("history printed %q, want a numbered %q", out, line)
	}
	if len(out) == 0 || !strings.HasSuffix(out[len(out)-1], "  history") {
		t.Errorf("history printed %q, want itself last", out)
	}
	tm.exitDockman()
}

// TestCtrlCEndsLogFollow presses Ctrl-C while `logs -f` follows a container
// that prints a line a second: the follow ends, the prompt is back on a line
// of its own, and the shell goes on working.
func TestCtrlCEndsLogFollow(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	name := testenv.Name("tick")
	testenv.RunContainer(t, c, label, name, "sh", "-c", "while true; do echo tick; sleep 1; done")
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()

	tm.waitDockman()
	tm.typeText("logs -f " + name)
	n := count(tm.scrollback(), isPromptLine)
	tm.sendKeys("Enter")
	tm.waitFor("logs -f to print two ticks", func(s screen) bool {
		ticks := count(afterNth(tm.scrollback(), isPromptLine, n), func(l string) bool { return l == "tick" })
		return s.command == "dockman" && ticks >= 2
	})
	tm.sendKeys("C-c")
	s := tm.waitFor("the prompt after Ctrl-C", func(s screen) bool {
		return tm.atDockmanPrompt(s) && count(tm.scrollback(), isPromptLine) > n
	})
	if line := s.cursorLine(); line != strings.TrimSpace(dockmanPrompt) {
		t.Errorf("after Ctrl-C the prompt line reads %q, want %q: the prompt must start its own line", line, strings.TrimSpace(dockmanPrompt))
	}
	out, _ := between(tm.scrollback(), isPromptLine, n)
	for _, l := range out {
		if l != "tick" && l != "^C" { // the terminal echoes the Ctrl-C
			t.Errorf("logs -f printed %q; want only ticks (Ctrl-C is not an error)", l)
		}
	}

	out = tm.run("ps -f label=" + testenv.LabelKey + "=" + label)
	if len(out) != 2 || !strings.HasPrefix(out[0], "CONTAINER ID") || !strings.Contains(out[1], name) {
		t.Errorf("ps after Ctrl-C printed %q, want the header and %s", out, name)
	}
}

// TestCtrlCAtPromptClearsLine presses Ctrl-C on a typed line: the line is
// dropped unrun and unrecorded, and dockman stays.
func TestCtrlCAtPromptClearsLine(t *testing.T) {
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	tm.typeText("ps -a")
	n := count(tm.scrollback(), isPromptLine)
	tm.ctrlC()
	out, _ := between(tm.scrollback(), isPromptLine, n)
	if len(out) != 0 {
		t.Errorf("Ctrl-C on a typed line printed %q, want nothing", out)
	}
	if out := tm.run("history"); !slices.Equal(out, []string{"    1  history"}) {
		t.Errorf("history printed %q, want only itself: a line ended by Ctrl-C is not recorded", out)
	}
}

// TestCompletionOfFlagsAndImages completes a flag, an image after run and a
// command name, each offered with its description.
func TestCompletionOfFlagsAndImages(t *testing.T) {
	c := testenv.Client(t)
	image := strings.TrimSuffix(testenv.BusyboxImage(t, c), ":latest")
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()

	for _, tc := range []struct{ typed, want, desc string }{
		{"ps --fo", "--format", "Format output"},
		{"run " + image[:len(image)-2], image, "image"},
		{"sto", "stop", "running containers"},
	} {
		row := tm.complete(tc.typed, tc.want)
		if !strings.Contains(row, tc.desc) {
			t.Errorf("%q: the completion list shows %q, want a description with %q", tc.typed, row, tc.desc)
		}
		tm.ctrlC()
	}
}

// TestCompletionFollowsEvents creates and stops a container while dockman
// runs: completion offers it to stop as soon as the engine reports it, and
// to start once it has stopped.
func TestCompletionFollowsEvents(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	early := testenv.Name("e2ev")
	testenv.RunContainer(t, c, label, early, stoppable...)
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	// Once a container that existed at start is offered, the first listing
	// is done: what comes after can only have come from events.
	tm.complete("stop "+typedPrefix(early), early)
	tm.ctrlC()

	late := testenv.Name("e2ew")
	testenv.RunContainer(t, c, label, late, stoppable...)
	tm.complete("stop "+typedPrefix(late), late)
	if out := tm.submit(); !slices.Equal(out, []string{late}) {
		t.Errorf("stop %s printed %q", late, out)
	}
	tm.complete("start "+typedPrefix(late), late)
	if out := tm.submit(); !slices.Equal(out, []string{late}) {
		t.Errorf("start %s printed %q", late, out)
	}
}

// TestEngineUnreachableThenBack starts dockman while the engine cannot be
// reached, then lets it through, cuts it and lets it through again: each
// failing command says which address it tried, and everything works again
// without restarting dockman.
func TestEngineUnreachableThenBack(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	name := testenv.Name("e2eu")
	testenv.RunContainer(t, c, label, name, stoppable...)
	proxy := testenv.NewProxy(t)
	tm := newTerminal(t, "DOCKER_HOST="+proxy.Host())
	tm.startDockman()

	unreachable := func(when string) {
		t.Helper()
		out := tm.run("ps")
		t.Logf("%s: ps printed %q", when, out)
		if len(out) != 1 || !strings.HasPrefix(out[0], "error: ") || !strings.Contains(out[0], proxy.Host()) {
			t.Errorf("%s: ps printed %q, want one error line naming %s", when, out, proxy.Host())
		}
	}
	works := func(when string) {
		t.Helper()
		out := tm.run("ps -f label=" + testenv.LabelKey + "=" + label)
		if len(out) != 2 || !strings.HasPrefix(out[0], "CONTAINER ID") || !strings.Contains(out[1], name) {
			t.Errorf("%s: ps printed %q, want the header and %s", when, out, name)
		}
	}

	unreachable("engine unreachable at start")
	proxy.Start()
	works("engine back")
	// The event watcher has reconnected too: completion knows the container.
	tm.complete("stop "+typedPrefix(name), name)
	tm.ctrlC()

	proxy.Stop()
	unreachable("engine gone while running")
	proxy.Start()
	works("engine back again")
}

// TestUnknownCommand types a misspelt command: one red error line with a
// suggestion, and the prompt returns.
func TestUnknownCommand(t *testing.T) {
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	want := `error: unknown command "sotp": did you mean "stop"?`
	if out := tm.run("sotp x"); !slices.Equal(out, []string{want}) {
		t.Errorf("sotp x printed %q, want %q", out, want)
	}
	row, ok := rowWith(tm.colourRows(), `unknown command "sotp"`)
	if !ok {
		t.Fatal("the error is not on screen")
	}
	if p := sgrBefore(row, "error:"); !slices.Contains(p, "31") {
		t.Errorf("error: is drawn with SGR %q, want red (31): %q", p, row)
	}
}

// TestSignalAtPromptRestoresTerminal sends each ending signal to dockman
// waiting at its prompt with a line half typed (as kill or a closing session
// would): it ends, the terminal is as it was before, and the exit code is
// 128+n, as a shell reports a death by signal.
func TestSignalAtPromptRestoresTerminal(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{{"SIGTERM", syscall.SIGTERM}, {"SIGHUP", syscall.SIGHUP}, {"SIGQUIT", syscall.SIGQUIT}} {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
			before := tm.ttyState()
			tm.startDockman()
			tm.waitDockman()
			tm.typeText("ps")
			if err := syscall.Kill(tm.dockmanPID(), tc.sig); err != nil {
				t.Fatal(err)
			}
			tm.waitFor("dockman to end on "+tc.name, func(s screen) bool { return s.command == "bash" })
			checkTTYRestored(t, tm, before, "after "+tc.name+" at the prompt")
			if out, want := tm.bashRun("echo $?"), fmt.Sprint(128+int(tc.sig)); !slices.Equal(out, []string{want}) {
				t.Errorf("exit code %q, want %s", out, want)
			}
		})
	}
}

// TestTypeAheadDuringCommand types the next line while a command still
// runs, as people do in any shell: once the command is done, that line runs
// on its own.
func TestTypeAheadDuringCommand(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	name := testenv.Name("e2es")
	// A bare sleep as PID 1 ignores SIGTERM: stop waits out its -t.
	testenv.RunContainer(t, c, label, name, "sleep", "600")
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()

	tm.waitDockman()
	tm.typeText("stop -t 2 " + name)
	n := count(tm.scrollback(), isPromptLine)
	tm.sendKeys("Enter")
	tm.waitFor("stop to be running (the terminal back in canonical mode)", func(s screen) bool {
		return s.command == "dockman" && !tm.raw()
	})
	ahead := "ps -a -f label=" + testenv.LabelKey + "=" + label
	tm.sendText(ahead)
	tm.sendKeys("Enter")
	tm.waitFor("the line typed ahead to run after stop", func(s screen) bool {
		return tm.atDockmanPrompt(s) && count(tm.scrollback(), isPromptLine) >= n+2
	})
	lines := tm.scrollback()
	if out, _ := between(lines, isPromptLine, n); !slices.Contains(out, name) {
		t.Errorf("stop printed %q, want %s", out, name)
	}
	prompts := slices.DeleteFunc(slices.Clone(lines), func(l string) bool { return !isPromptLine(l) })
	if got, want := prompts[n], strings.TrimRight(tm.prefix, " ")+" "+ahead; got != want {
		t.Errorf("the line typed ahead shows as %q, want %q", got, want)
	}
	out, _ := between(lines, isPromptLine, n+1)
	if len(out) != 2 || !strings.Contains(rowOf(t, out, name), " Exited (") {
		t.Errorf("the line typed ahead printed %q, want the header and %s exited", out, name)
	}
}

// TestPasteRunsEachLine pastes two lines at the prompt: each runs, in
// order, as if typed.
func TestPasteRunsEachLine(t *testing.T) {
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	tm.waitDockman()
	n := count(tm.scrollback(), isPromptLine)
	tm.tmux("set-buffer", "help stop\nhelp start\n")
	tm.tmux("paste-buffer")
	tm.waitFor("both pasted lines to run", func(s screen) bool {
		return tm.atDockmanPrompt(s) && count(tm.scrollback(), isPromptLine) >= n+2
	})
	lines := tm.scrollback()
	for i, cmd := range []string{"stop", "start"} {
		out, _ := between(lines, isPromptLine, n+i)
		if len(out) == 0 || !strings.HasPrefix(out[0], "Usage:  "+cmd+" ") {
			t.Errorf("pasted line %d (help %s) printed %q, want its usage", i+1, cmd, out)
		}
	}
}

// TestCtrlCInterruptsStop presses Ctrl-C while stop waits for a container
// that ignores SIGTERM: the prompt returns at once, without the engine
// client's internals (request URLs) on screen.
func TestCtrlCInterruptsStop(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	name := testenv.Name("e2ei")
	testenv.RunContainer(t, c, label, name, "sleep", "600") // ignores SIGTERM
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()

	tm.waitDockman()
	tm.typeText("stop -t 60 " + name) // longer than any wait here
	n := count(tm.scrollback(), isPromptLine)
	tm.sendKeys("Enter")
	tm.waitFor("stop to be running (the terminal back in canonical mode)", func(s screen) bool {
		return s.command == "dockman" && !tm.raw()
	})
	tm.sendKeys("C-c")
	tm.waitFor("the prompt after Ctrl-C", func(s screen) bool {
		return tm.atDockmanPrompt(s) && count(tm.scrollback(), isPromptLine) > n
	})
	out, _ := between(tm.scrollback(), isPromptLine, n)
	for _, l := range out {
		if strings.Contains(l, "http://") || strings.Contains(l, "%2F") {
			t.Errorf("after Ctrl-C, stop printed the client's internals: %q", l)
		}
	}
	t.Logf("stop interrupted by Ctrl-C printed %q", out)
}

// TestCtrlCDuringStop presses Ctrl-C while `stop` works through three
// containers: one stops at once, two ignore SIGTERM and would take the
// whole grace period. The prompt comes back at once with the one done
// printed and one error line naming the two not done.
func TestCtrlCDuringStop(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	quick := testenv.Name("quick")
	stubborn := []string{testenv.Name("stub1"), testenv.Name("stub2")}
	testenv.RunContainer(t, c, label, quick, "sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait")
	for _, name := range stubborn {
		testenv.RunContainer(t, c, label, name, "sleep", "600") // PID 1: ignores SIGTERM
	}
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()

	tm.waitDockman()
	tm.typeText("stop -t 600 " + quick + " " + strings.Join(stubborn, " "))
	n := count(tm.scrollback(), isPromptLine)
	tm.sendKeys("Enter")
	tm.waitFor("stop to print the quick container", func(s screen) bool {
		return slices.Contains(afterNth(tm.scrollback(), isPromptLine, n), quick)
	})
	tm.sendKeys("C-c")
	tm.waitFor("the prompt after Ctrl-C", func(s screen) bool {
		return tm.atDockmanPrompt(s) && count(tm.scrollback(), isPromptLine) > n
	})
	out, _ := between(tm.scrollback(), isPromptLine, n)
	out = withoutNotices(out)
	want := []string{
		quick,
		"^C",
		"error: stop: interrupted: done: " + quick + "; not done: " + stubborn[0] + " (the engine may still finish it), " + stubborn[1] + " (the engine may still finish it)",
	}
	if !slices.Equal(out, want) {
		t.Errorf("stop then Ctrl-C printed\n%q\nwant\n%q", out, want)
	}
	out = tm.run("ps -q -f name=" + stubborn[0])
	if len(out) != 1 {
		t.Errorf("ps after Ctrl-C printed %q, want the still running %s", out, stubborn[0])
	}
	tm.exitDockman()
}

// TestExitStatusInteractive: `exit N` at the prompt ends dockman with
// status N, as bash sees it; Ctrl-D with 0.
func TestExitStatusInteractive(t *testing.T) {
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()
	tm.waitDockman()
	tm.typeText("exit 7")
	tm.sendKeys("Enter")
	tm.waitBash()
	if out := tm.bashRun("echo status=$?"); !slices.Contains(out, "status=7") {
		t.Errorf("after exit 7, bash printed %q, want status=7", out)
	}
	tm.startDockman()
	tm.exitDockman()
	if out := tm.bashRun("echo status=$?"); !slices.Contains(out, "status=0") {
		t.Errorf("after Ctrl-D, bash printed %q, want status=0", out)
	}
}
