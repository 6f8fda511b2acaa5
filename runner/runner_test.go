package runner

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockman/dockman/manager"
)

// journal records what the parts of a test do, in order.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	j.lines = append(j.lines, s)
	j.mu.Unlock()
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.lines)
}

// part is a Part that records its Start and Stop, and may fail to start.
type part struct {
	name string
	j    *journal
	err  error
}

var _ Part = (*part)(nil)

func (p *part) Start(context.Context) error {
	p.j.add("start " + p.name)
	return p.err
}

func (p *part) Stop() { p.j.add("stop " + p.name) }

// offline returns a Runner on an engine that is never reached.
func offline(t *testing.T, notify func(string)) *Runner {
	t.Helper()
	m, err := manager.New("unix:///nonexistent/docker.sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return New(m, Options{Notify: notify})
}

func TestRunnerOrder(t *testing.T) {
	j := &journal{}
	r := offline(t, nil)
	r.Add("a", &part{name: "a", j: j}, nil)
	r.Add("b", &part{name: "b", j: j}, nil)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	r.Stop() // a second Stop does nothing
	want := []string{"start a", "start b", "stop b", "stop a"}
	if got := j.get(); !slices.Equal(got, want) {
		t.Errorf("parts ran %q, want %q: started in order, stopped in reverse", got, want)
	}
}

func TestRunnerStartFailureStopsWhatStarted(t *testing.T) {
	j := &journal{}
	r := offline(t, nil)
	boom := errors.New("address in use")
	r.Add("a", &part{name: "a", j: j}, nil)
	r.Add("api", &part{name: "api", j: j, err: boom}, nil)
	r.Add("c", &part{name: "c", j: j}, nil)
	err := r.Start(context.Background())
	if !errors.Is(err, boom) || err.Error() != "start api: address in use" {
		t.Errorf("Start = %v, want the failure named after its part", err)
	}
	want := []string{"start a", "start api", "stop a"}
	if got := j.get(); !slices.Equal(got, want) {
		t.Errorf("parts ran %q, want %q: the ones started are stopped, the rest never start", got, want)
	}
	r.Stop() // nothing left to stop
	if got := j.get(); len(got) != len(want) {
		t.Errorf("Stop after a failed Start ran %q", got[len(want):])
	}
}

// TestEngineStatusSaysEachChangeOnce feeds the engine-status part what the
// Watcher sends while the engine goes and comes back: every retry sends a
// Lost, every reconnect and periodic re-list a Resync.
func TestEngineStatusSaysEachChangeOnce(t *testing.T) {
	lost := manager.Event{Lost: true, Err: manager.ErrUnreachable}
	resync := manager.Event{Resync: true}
	tests := []struct {
		name   string
		events []manager.Event
		want   []string
	}{
		{"up, and staying up", []manager.Event{resync, resync, resync}, nil},
		{"down at start, then up", []manager.Event{lost, lost, lost, resync, resync},
			[]string{"cannot reach the Docker engine at H: retrying", "reconnected to the Docker engine at H"}},
		{"lost and back, twice", []manager.Event{resync, lost, lost, resync, resync, lost, resync},
			[]string{"lost the Docker engine at H: retrying", "reconnected to the Docker engine at H",
				"lost the Docker engine at H: retrying", "reconnected to the Docker engine at H"}},
		{"a slow handler's gap is not the engine's", []manager.Event{resync, {Lost: true, Err: manager.ErrSlowHandler}, resync}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var said []string
			s := newEngineStatus("H", func(msg string) { said = append(said, msg) })
			for _, ev := range tt.events {
				s.Handle(ev)
			}
			if !slices.Equal(said, tt.want) {
				t.Errorf("said %q, want %q", said, tt.want)
			}
		})
	}
}

// TestRunnerNotifiesThroughTheWatcher runs a Runner against an engine that
// cannot be reached: the person is told once, through Notify.
func TestRunnerNotifiesThroughTheWatcher(t *testing.T) {
	said := make(chan string, 16)
	r := offline(t, func(msg string) { said <- msg })
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	select {
	case msg := <-said:
		if msg != "cannot reach the Docker engine at unix:///nonexistent/docker.sock: retrying" {
			t.Errorf("notice %q", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notice that the engine cannot be reached")
	}
}
