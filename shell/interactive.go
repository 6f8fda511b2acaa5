package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	prompt "github.com/c-bata/go-prompt"

	"github.com/dockman/dockman/shell/lineedit"
)

// Interactive runs the prompt until exit, quit, Ctrl-D or an ending signal.
// It reads one line at a time (lineedit) and owns the process's signals for
// its whole life, with one registration:
//
//   - SIGINT ends the command that runs (Ctrl-C during `logs -f`), or, at
//     the prompt, clears the line as bash does (Ctrl-C typed at the prompt
//     is a key, and does the same);
//   - SIGTERM, SIGHUP and SIGQUIT end the command that runs, then the
//     shell, with the terminal restored; Signal reports which;
//   - SIGWINCH redraws the line being typed at the new size.
//
// Notices (Notify) are shown above the prompt, or after the command. A
// line ending in a backslash goes on at the ContinuationPrefix, as in sh
// and in scripts; it runs, and is kept in the history, joined.
func (s *Shell) Interactive(ctx context.Context, prefix string) error {
	var seed []string
	if s.history != nil {
		seed = s.history.Lines()
	}
	var complete func(string) (int, []prompt.Suggest)
	if s.complete != nil {
		complete = func(line string) (int, []prompt.Suggest) {
			c := s.complete.Complete(line)
			return c.Start, c.Suggestions
		}
	}
	lr, err := lineedit.Open(lineedit.Options{
		Prefix: prefix, ContinuationPrefix: ContinuationPrefix, Continues: continued,
		History: seed, Complete: complete,
	})
	if err != nil {
		return fmt.Errorf("interactive shell needs a terminal: %w", err)
	}
	defer lr.Close()
	defer s.notices.stop()
	s.confirm = func(ctx context.Context, q string) (bool, error) { return askTerminal(ctx, s.out, q) }
	defer func() { s.confirm = nil }()

	sess := &promptSession{lr: lr}
	defer func() { s.signal = sess.endedBy() }()
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGWINCH)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case sig := <-sigs:
				sess.signal(sig)
			case <-done:
				return
			}
		}
	}()
	defer func() {
		signal.Stop(sigs)
		close(done)
		wg.Wait()
	}()

	for {
		s.showNotices()
		if sess.ended() {
			break
		}
		s.notices.atPrompt(lr.Interrupt)
		sess.reading()
		line, err := lr.ReadLine()
		sess.read(err == nil)
		s.notices.atPrompt(nil)
		switch {
		case errors.Is(err, lineedit.ErrInterrupted):
			continue // for notices, or to end: the loop's top decides
		case errors.Is(err, io.EOF):
			return nil // Ctrl-D, or the terminal hung up (SIGHUP, recorded above)
		case err != nil:
			return err
		}
		if sess.ended() {
			break
		}
		s.runLine(ctx, sess, line)
		if s.exited || sess.ended() {
			break
		}
	}
	return nil
}

// ContinuationPrefix is the prompt of a line that continues the one before.
const ContinuationPrefix = "> "

// runLine records line in the history and executes it with a context that
// the session's signals cancel.
func (s *Shell) runLine(ctx context.Context, sess *promptSession, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	if s.history != nil {
		if err := s.history.Add(line); err != nil {
			s.printError(err)
		}
	}
	cmdCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !sess.running(cancel) {
		// An ending signal or a Ctrl-C came first, and the command does
		// not run; after a Ctrl-C the prompt starts a line of its own.
		if !sess.ended() {
			fmt.Fprintln(s.out)
		}
		return
	}
	// Ended by a signal: after Ctrl-C the terminal echoed ^C where the
	// output stopped; that line is ended once, before what the command
	// still has to say (an interrupted stop's report) or else before the
	// prompt, so that each starts a line of its own.
	var once sync.Once
	s.endInterruptedLine = func() { once.Do(func() { fmt.Fprintln(s.out) }) }
	defer func() { s.endInterruptedLine = nil }()
	_ = s.Execute(cmdCtx, line) // failures are printed by Execute
	if sess.done() {
		s.endInterruptedLine()
	}
}

// lineControl is what a session asks of the line reader when a signal
// comes; *lineedit.Reader provides it.
type lineControl interface {
	ClearLine()
	Interrupt()
	Resized()
	DropClear() bool
}

var _ lineControl = (*lineedit.Reader)(nil)

// promptSession routes the signals of one interactive session to what they mean
// now: at the prompt, or while a command runs.
type promptSession struct {
	lr lineControl

	mu          sync.Mutex
	atPrompt    bool               // ReadLine is under way
	cancel      context.CancelFunc // the running command's; nil otherwise
	interrupted bool               // a signal cancelled the running command
	// early is a SIGINT that came after a line was read and before its
	// command started (Ctrl-C right after Enter): that command is
	// interrupted before it begins.
	early  bool
	ending os.Signal // the signal that ends the session
}

func (ss *promptSession) signal(sig os.Signal) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	switch sig {
	case syscall.SIGWINCH:
		ss.lr.Resized()
	case os.Interrupt:
		switch {
		case ss.cancel != nil:
			ss.cancel()
			ss.interrupted = true
		case ss.atPrompt:
			ss.lr.ClearLine()
		default:
			ss.early = true
		}
	default:
		if ss.ending == nil {
			ss.ending = sig
		}
		if ss.cancel != nil {
			ss.cancel()
			ss.interrupted = true
		}
		ss.lr.Interrupt()
	}
}

// reading records that ReadLine starts: a SIGINT that came since the last
// command ended is forgotten, as bash does, and one from now on clears the
// line.
func (ss *promptSession) reading() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.atPrompt, ss.early = true, false
}

// read records that ReadLine returned. When it returned a line, a
// ClearLine that it did not take (the SIGINT came as Enter was pressed)
// interrupts that line's command instead of clearing the next line.
func (ss *promptSession) read(line bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.atPrompt = false
	if line && ss.lr.DropClear() {
		ss.early = true
	}
}

// running registers the cancel of a command about to run; false if the
// command must not run: the session is ending, or a SIGINT came first.
func (ss *promptSession) running(cancel context.CancelFunc) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.ending != nil {
		return false
	}
	if ss.early {
		ss.early = false
		return false
	}
	ss.cancel, ss.interrupted = cancel, false
	return true
}

// done unregisters the command that ran and reports whether a signal
// interrupted it.
func (ss *promptSession) done() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.cancel = nil
	return ss.interrupted
}

func (ss *promptSession) ended() bool { return ss.endedBy() != nil }

// endedBy returns the signal that ends the session, or nil.
func (ss *promptSession) endedBy() os.Signal {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.ending
}
