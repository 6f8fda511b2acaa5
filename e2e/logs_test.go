package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockman/dockman/internal/testenv"
)

// The log keeper runs in the shell: logfiles lists a container's file as
// followed, tail -f prints its lines as they come until Ctrl-C returns to
// the prompt, and a second dockman on the same log directory says above
// its prompt that it keeps nothing there.
func TestLogKeeperInTheShell(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	name := testenv.Name("e2e-logs")
	testenv.RunContainer(t, c, label, name, "sh", "-c", "i=0; while true; do echo \"line $i\"; i=$((i+1)); usleep 50000; done")
	dir := filepath.Join(t.TempDir(), "logs")

	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman("--log-dir", dir)
	tm.waitFor("logfiles to list "+name+" as followed", func(screen) bool {
		out := tm.run("logfiles --format '{{.Name}} {{.State}}'")
		return slices.Contains(out, name+" following")
	})

	tm.typeText("tail -f " + name)
	n := count(tm.scrollback(), isPromptLine)
	tm.sendKeys("Enter")
	// Two lines after the last one already in the file: they were written
	// while tail -f was following.
	tm.waitFor("tail -f to print new lines", func(screen) bool {
		out := withoutNotices(afterNth(tm.scrollback(), isPromptLine, n))
		return len(out) >= 12 && strings.Contains(out[len(out)-1], " stdout F line ")
	})
	tm.sendKeys("C-c")
	tm.waitFor("the prompt after Ctrl-C", func(s screen) bool {
		return tm.atDockmanPrompt(s) && count(tm.scrollback(), isPromptLine) > n
	})

	second := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	second.startDockman("--log-dir", dir)
	second.waitFor("the notice that another dockman keeps the logs", func(screen) bool {
		return slices.ContainsFunc(second.scrollback(), func(l string) bool {
			return strings.Contains(l, "another dockman keeps the logs in this directory") && strings.Contains(l, "not keeping logs here")
		})
	})
	second.exitDockman()
	tm.exitDockman()
}
