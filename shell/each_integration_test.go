package shell

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
)

// TestStopFiftyInParallel stops 50 running containers that ignore SIGTERM
// with one `stop -t 5` against the real engine. All are stopped and each
// success printed once; and the engine's events prove the stops ran side
// by side: all 50 SIGTERMs (kill events) come before the first container
// dies, which a one-after-another stop (kill, wait 5 s, die, kill, ...)
// cannot do. No clock is read.
func TestStopFiftyInParallel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n = 50
	var names []string
	for i := range n {
		name := fmt.Sprintf("%s-%02d", testenv.Name("par"), i)
		// PID 1 without a handler: SIGTERM is ignored, SIGKILL ends it.
		testenv.RunContainer(t, f.c, f.value, name, "sleep", "600")
		names = append(names, name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	evs := f.c.Events(ctx, client.EventsListOptions{Filters: make(client.Filters).
		Add("type", "container").Add("event", "kill", "die").Add("label", f.label())})

	s := newSession(f.eng, Options{})
	r := s.exec(t, "stop -t 5 "+strings.Join(names, " ")).ok(t)
	if strings.Join(sortedLines(r.out), " ") != strings.Join(slices.Sorted(slices.Values(names)), " ") {
		t.Errorf("printed %q, want each of the %d names once", r.out, n)
	}
	for _, name := range names {
		if st := f.inspect(t, name).State; st.Running {
			t.Errorf("%s still running after stop", name)
		}
	}

	// Each container gets a kill (SIGTERM, then SIGKILL after 5 s) and a die.
	terms, dies := 0, 0
	for dies < n {
		var m events.Message
		select {
		case m = <-evs.Messages:
		case err := <-evs.Err:
			t.Fatalf("events: %v", err)
		}
		switch {
		case m.Action == events.ActionDie:
			if dies == 0 && terms < n {
				t.Errorf("the first container died after only %d of %d SIGTERMs: the stops did not run in parallel", terms, n)
			}
			dies++
		case m.Action == events.ActionKill && m.Actor.Attributes["signal"] == "15":
			terms++
		}
	}
}
