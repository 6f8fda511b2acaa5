//go:build faulttest

package logtail_test

import (
	"strconv"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
)

// TestFaultEngineRestart stops and starts dockerd itself while containers
// write (with and without a TTY, restarted by the engine's restart
// policy when it comes back): the keeper loses the engine, gets it back,
// and its files end up holding exactly what the engine holds. It disturbs
// every other user of the engine, so it runs on its own: make fault-test.
func TestFaultEngineRestart(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	startKeeper(t, dir, logtail.Options{MaxSize: 256 << 10})
	type gen struct {
		id  string
		tty bool
	}
	var gens []gen
	for i, tty := range []bool{false, false, true} {
		name := testenv.Name("logs-fault-" + strconv.Itoa(i))
		gens = append(gens, gen{runAlways(t, c, label, name, tty, "sh", "-c", counter), tty})
	}
	for _, g := range gens {
		waitGrows(t, dir, g.id, 20<<10)
	}
	testenv.RestartEngine(t)
	for _, g := range gens {
		waitGrows(t, dir, g.id, fileSize(t, dir, g.id)+20<<10)
	}
	for _, g := range gens {
		stopContainer(t, c, g.id)
	}
	for _, g := range gens {
		waitSame(t, c, dir, g.id, g.tty)
	}
}

// runAlways starts a busybox container with restart policy "always".
func runAlways(t *testing.T, c *client.Client, label, name string, tty bool, cmd ...string) string {
	t.Helper()
	return testenv.RunBusybox(t, c, label, name, container.Config{Cmd: cmd, Tty: tty},
		container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways}})
}
