package shell

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNoticesCoalesceBursts(t *testing.T) {
	var out bytes.Buffer
	s := New(nil, Options{Out: &out, DebugLog: "/state/debug.log"})
	for i := range 10 {
		s.Notify(fmt.Sprintf("n%d", i))
	}
	s.showNotices()
	want := "notice: n0\nnotice: n1\nnotice: n2\nnotice: … and 7 more (all of them are in /state/debug.log)\n"
	if out.String() != want {
		t.Errorf("a burst of 10 shows as:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	for i := range maxNotices {
		s.Notify(fmt.Sprintf("m%d", i))
	}
	s.showNotices()
	if got := strings.Count(out.String(), "\n"); got != maxNotices || strings.Contains(out.String(), "more") {
		t.Errorf("%d notices show as:\n%s\nwant each on its own line", maxNotices, out.String())
	}
}

func TestNoticesInScriptModeGoToStderr(t *testing.T) {
	var out, errOut bytes.Buffer
	s := New(nil, Options{Out: &out, Err: &errOut})
	s.Notify("before the script")
	if err := s.Script(context.Background(), strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	s.Notify("during the script")
	if want := "notice: before the script\nnotice: during the script\n"; errOut.String() != want || out.Len() != 0 {
		t.Errorf("stderr %q, stdout %q; want the notices on stderr only", errOut.String(), out.String())
	}
}

// counter counts the prompt interruptions asked for.
type counter struct {
	mu sync.Mutex
	n  int
	ch chan struct{}
}

func (c *counter) interrupt() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestNoticesInterruptThePrompt: a notice interrupts the prompt at once;
// one that follows within noticeGap waits for it, so a flood cannot keep
// the prompt from being used; while a command runs, notices wait and the
// prompt is interrupted as soon as it reads keys again.
func TestNoticesInterruptThePrompt(t *testing.T) {
	var n notices
	c := &counter{ch: make(chan struct{}, 16)}
	defer n.stop()

	n.post("during a command")
	if c.get() != 0 {
		t.Fatal("interrupted with no prompt")
	}
	n.atPrompt(c.interrupt)
	if c.get() != 1 {
		t.Fatalf("%d interruptions when the prompt came back with a notice waiting, want 1", c.get())
	}
	if shown, _ := n.take(); len(shown) != 1 {
		t.Fatalf("took %q", shown)
	}
	<-c.ch // the interruption just counted

	n.post("a")
	n.post("b")
	n.post("c")
	if c.get() != 1 {
		t.Errorf("%d interruptions right after one, want the next ones to wait for the gap", c.get())
	}
	select { // the gap passes: one interruption shows the three
	case <-c.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting notices never interrupted the prompt")
	}
	if shown, more := n.take(); len(shown) != 3 || more != 0 {
		t.Errorf("took %q (+%d), want a, b, c", shown, more)
	}
	if c.get() != 2 {
		t.Errorf("%d interruptions, want 2", c.get())
	}
}
