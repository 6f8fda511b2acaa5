package bench

import (
	"context"
	"os/exec"
	"sync"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
)

// stopFleetSize is the count: `stop -t 1` of 50 containers whose
// command ignores SIGTERM, so each one takes the whole grace period.
const stopFleetSize = 50

// BenchmarkStop50 compares `dockman -c 'stop -t 1 ...'` of 50 running
// containers that ignore SIGTERM with `docker stop -t 1` of the same 50,
// each a process as a user runs it. Between iterations (timer stopped) the
// containers are started again. The target: dockman at most 1.2x docker.
func BenchmarkStop50(b *testing.B) {
	c := testenv.Client(b)
	_, label := testenv.Label(b, c)
	ctx := context.Background()
	ids := createContainers(b, c, label, "dms", stopFleetSize)
	bin := buildBinary(b)
	startAll := func(b *testing.B) {
		b.Helper()
		b.StopTimer()
		defer b.StartTimer()
		var wg sync.WaitGroup
		errs := make(chan error, len(ids))
		for _, id := range ids {
			wg.Go(func() {
				if _, err := c.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatalf("start: %v", err)
		}
	}
	stopArgs := append([]string{"stop", "-t", "1"}, ids...)
	run := func(b *testing.B, name string, args ...string) {
		if _, err := exec.LookPath(name); err != nil && name == "docker" {
			b.Skip("no docker CLI")
		}
		for b.Loop() {
			startAll(b)
			if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
				b.Fatalf("%s: %v: %s", name, err, out)
			}
		}
	}
	b.Run("docker-cli", func(b *testing.B) { run(b, "docker", stopArgs...) })
	b.Run("dockman-script", func(b *testing.B) {
		line := ""
		for _, a := range stopArgs {
			line += a + " "
		}
		run(b, bin, "-H", testenv.Host(), "-c", line)
	})
}
