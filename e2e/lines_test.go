package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/dockman/dockman/internal/testenv"
)

// TestCompletionReadsLineAsExecuted completes words the way execution will
// read them: a quoted name is completed with its quote kept and closed (it
// used to show a doubled last letter, the name written over the typed
// word and its quote), `;` inside quotes separates nothing, and a command
// after `;` with no blank is completed in place.
func TestCompletionReadsLineAsExecuted(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	image := strings.TrimSuffix(testenv.BusyboxImage(t, c), ":latest")
	name := testenv.Name("e2eq")
	testenv.RunContainer(t, c, label, name, stoppable...)
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()

	// The whole name typed after a quote: Tab shows it quoted, once.
	tm.complete("stop '"+name, "'"+name+"'")
	if out := tm.submit(); !slices.Equal(out, []string{name}) {
		t.Errorf("stop '%s' printed %q, want the name alone", name, out)
	}

	tm.complete(`run -e "A=1;B" `+image[:len(image)-2], image)
	tm.ctrlC()

	tm.complete("images;hist", "images;history")
	tm.ctrlC()
}

// TestBackslashContinuation: a line ending in a backslash goes on at the
// continuation prompt, where Tab completes with the line before in view;
// the joined line runs and is what history keeps; Ctrl-C at the
// continuation prompt drops the whole line.
func TestBackslashContinuation(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	name := testenv.Name("e2ec")
	testenv.RunContainer(t, c, label, name, stoppable...)
	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman()

	tm.waitDockman()
	tm.typeText(`stop \`)
	tm.continueLine()
	// Only the line before says what this word is: on the empty `> ` line
	// the list already offers the running container, ...
	tm.waitFor("the list on the empty continuation line to offer "+name, func(s screen) bool {
		_, ok := suggestion(s, name)
		return ok
	})
	// ... and the typed word completes to it.
	tm.complete(typedPrefix(name), name)
	if out := tm.submit(); len(out) == 0 || out[len(out)-1] != name {
		t.Errorf("stop %s, continued, printed %q, want the name last", name, out)
	}
	if out := tm.run("history -n 2"); !slices.Equal(out, []string{"    1  stop " + name, "    2  history -n 2"}) {
		t.Errorf("history printed %q, want the joined line, then itself", out)
	}

	tm.waitDockman()
	tm.typeText(`ps -a \`)
	tm.continueLine()
	tm.typeText("-q")
	tm.ctrlC()
	if out := tm.run("history -n 1"); !slices.Equal(out, []string{"    3  history -n 1"}) {
		t.Errorf("history printed %q: a continued line cleared by Ctrl-C is not recorded", out)
	}
}

// continueLine presses Enter on a line ending in a backslash and waits for
// the continuation prompt on an empty line, reading keys.
func (tm *terminal) continueLine() {
	tm.t.Helper()
	tm.sendKeys("Enter")
	cont := strings.TrimSpace(continuationPrompt)
	tm.waitFor("the continuation prompt", func(s screen) bool {
		return s.command == "dockman" && s.cursorLine() == cont && tm.raw()
	})
	tm.prefix, tm.line = continuationPrompt, ""
}
