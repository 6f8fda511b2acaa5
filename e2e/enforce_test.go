package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
)

// Enforce mode as a person uses it, within a label scope: a plan that
// removes most of what runs asks first (no keeps it off, yes turns it on),
// intruders are removed with notices above the prompt, the shell says at
// exit that enforcement stops, and a dockman started again on the same
// state directory resumes it from the saved snapshot: a container deleted
// while no dockman ran comes back.
func TestEnforceInTheShell(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	keep, gone := testenv.Name("e2e-keep"), testenv.Name("e2e-gone")
	testenv.RunContainer(t, c, label, keep, "sleep", "3600")
	goneID := testenv.RunContainer(t, c, label, gone, "sleep", "3600")
	scope := "--scope " + key + "=" + label

	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman(scope, "--no-logs")
	if out := tm.run("snapshot take"); len(out) != 1 || !strings.HasPrefix(out[0], "Snapshot taken: 2 containers") {
		t.Fatalf("snapshot take said %q", out)
	}
	var intruders []string
	for i := range 3 {
		name := testenv.Name("e2e-intruder" + string(rune('a'+i)))
		testenv.RunContainer(t, c, label, name, "sleep", "3600")
		intruders = append(intruders, name)
	}

	ask := func(answer string) {
		t.Helper()
		tm.typeText("enforce on")
		tm.sendKeys("Enter")
		tm.waitFor("the question", func(s screen) bool {
			return strings.HasPrefix(s.cursorLine(), "Enforcement would remove 3 of the 5 running containers") &&
				strings.HasSuffix(s.cursorLine(), "Turn it on? [y/N]")
		})
		tm.sendText(answer)
		tm.sendKeys("Enter")
		tm.waitDockman()
	}
	ask("n")
	if !slices.Contains(tm.scrollback(), "Enforcement stays off.") {
		t.Fatalf("no 'Enforcement stays off.' after answering n")
	}
	if out := tm.run("enforce status"); !slices.Contains(out, "Enforcement:  off") {
		t.Fatalf("enforce status after no: %q", out)
	}
	ask("y")
	for _, name := range intruders {
		tm.waitFor("the notice that "+name+" was removed", func(screen) bool {
			return slices.ContainsFunc(tm.scrollback(), func(l string) bool {
				return strings.HasPrefix(l, "notice: enforce: remove "+name+": not in the snapshot")
			})
		})
	}
	if out := tm.run("enforce status"); !slices.Contains(out, "Enforcement:  on") {
		t.Fatalf("enforce status when on: %q", out)
	}

	tm.sendKeys("C-d")
	tm.waitFor("dockman to say enforcement stops, and bash", func(s screen) bool {
		return tm.atBashPrompt(s) && slices.ContainsFunc(tm.scrollback(), func(l string) bool {
			return strings.HasPrefix(l, "dockman: enforcement stops with this shell")
		})
	})
	// Deleted while no dockman runs: the next one brings it back.
	if _, err := c.ContainerRemove(context.Background(), goneID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	tm.startDockman(scope, "--no-logs")
	tm.waitFor("the resume notice and "+gone+" recreated", func(screen) bool {
		lines := tm.scrollback()
		return slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(l, "notice: enforce: on, as when dockman last ran")
		}) && slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(l, "notice: enforce: recreate "+gone+": deleted")
		})
	})
	out := tm.run("snapshot ls --format '{{.Name}} {{.Status}}'")
	for _, name := range []string{keep, gone} {
		if !slices.ContainsFunc(out, func(l string) bool { return strings.HasPrefix(l, name+" Up ") }) {
			t.Errorf("snapshot ls does not show %s up: %q", name, out)
		}
	}
	if out := tm.run("enforce off"); len(out) != 1 || !strings.HasPrefix(out[0], "Enforcement off: the snapshot of 2 containers") {
		t.Errorf("enforce off said %q", out)
	}
	tm.exitDockman()
}
