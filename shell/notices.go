package shell

import (
	"fmt"
	"sync"
	"time"

	"github.com/fatih/color"
)

const (
	// noticeGap is the least time between two interruptions of the prompt
	// for notices: what arrives sooner waits and is shown with the rest.
	noticeGap = 500 * time.Millisecond
	// maxNotices is how many lines one showing of notices takes at most; a
	// larger burst ends in "… and N more".
	maxNotices = 4
)

// Notify shows msg, one line, to the person using the shell. Background
// parts call it from any goroutine; it never blocks. In script mode the
// line goes to stderr at once. In the interactive shell it appears above
// the prompt, leaving the line being typed as it was; while a command runs
// it waits, and is shown when the prompt returns.
func (s *Shell) Notify(msg string) {
	s.notices.post(msg)
}

// notices holds what Notify was given until the shell can show it.
type notices struct {
	mu    sync.Mutex
	queue []string
	// direct, when set (script mode), shows each notice at once.
	direct func(msg string)
	// interrupt, set while the prompt reads keys, asks it to make room.
	interrupt func()
	last      time.Time   // when notices last interrupted the prompt
	timer     *time.Timer // an interruption waiting for noticeGap to pass
}

func (n *notices) post(msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.direct != nil {
		n.direct(msg)
		return
	}
	n.queue = append(n.queue, msg)
	n.poke()
}

// poke interrupts the prompt for the queued notices, now or once noticeGap
// has passed since the last time. Call with n.mu held.
func (n *notices) poke() {
	if n.interrupt == nil || n.timer != nil || len(n.queue) == 0 {
		return
	}
	if wait := noticeGap - time.Since(n.last); wait > 0 {
		n.timer = time.AfterFunc(wait, func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			n.timer = nil
			n.poke()
		})
		return
	}
	n.last = time.Now()
	n.interrupt()
}

// showDirectly has every notice, those queued included, shown by show as
// it comes.
func (n *notices) showDirectly(show func(msg string)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.direct = show
	for _, msg := range n.queue {
		show(msg)
	}
	n.queue = nil
}

// atPrompt says the prompt reads keys now, and how to interrupt it; nil
// says it does not (a command runs: notices wait).
func (n *notices) atPrompt(interrupt func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.interrupt = interrupt
	n.poke()
}

// take empties the queue: all of it when it fits in maxNotices lines,
// else the first notices and how many more there were.
func (n *notices) take() (shown []string, more int) {
	n.mu.Lock()
	q := n.queue
	n.queue = nil
	n.mu.Unlock()
	if len(q) <= maxNotices {
		return q, 0
	}
	return q[:maxNotices-1], len(q) - (maxNotices - 1)
}

// stop cancels a pending interruption, for the end of the session.
func (n *notices) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.interrupt = nil
	if n.timer != nil {
		n.timer.Stop()
		n.timer = nil
	}
}

// showNotices prints the queued notices, one line each, where the cursor
// is: above the prompt about to be drawn.
func (s *Shell) showNotices() {
	shown, more := s.notices.take()
	for _, l := range shown {
		fmt.Fprintln(s.out, s.noticeLine(s.colorOut, l))
	}
	if more > 0 {
		l := fmt.Sprintf("… and %d more", more)
		if s.debugLog != "" {
			l += " (all of them are in " + s.debugLog + ")"
		}
		fmt.Fprintln(s.out, s.noticeLine(s.colorOut, l))
	}
}

func (s *Shell) noticeLine(colored bool, msg string) string {
	return s.paint(colored, "notice:", color.FgYellow, color.Bold) + " " + msg
}
