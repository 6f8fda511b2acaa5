package shell

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Script runs each line read from r through Execute, as the interactive
// shell would but without prompt. A line ending in a backslash goes on on
// the next, as in sh. It goes on after a failed command, like sh without
// -e, and stops at exit or when ctx is cancelled. When a command failed,
// the result matches ErrFailed and carries the exit status of the last
// failure (ExitStatus); `exit N` makes N the status, which main reads with
// (*Shell).ExitStatus.
func (s *Shell) Script(ctx context.Context, r io.Reader) error {
	// No prompt to keep tidy: notices go to stderr as they come.
	s.notices.showDirectly(func(msg string) { fmt.Fprintln(s.err, s.noticeLine(s.colorErr, msg)) })
	lines, readErr, stopReading := scanLines(r)
	defer stopReading()
	status := 0
	var pending strings.Builder // a line continued with a backslash
	for {
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			break
		}
		if body, more := continued(line); more {
			pending.WriteString(body)
			continue
		}
		if pending.Len() > 0 {
			pending.WriteString(line)
			line = pending.String()
			pending.Reset()
		}
		if err := s.Execute(ctx, line); err != nil {
			status = ExitStatus(err)
		}
		if s.exited {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := readErr(); err != nil {
		return fmt.Errorf("read commands: %w", err)
	}
	if pending.Len() > 0 && !s.exited { // the last line ended in a backslash
		if err := s.Execute(ctx, pending.String()); err != nil {
			status = ExitStatus(err)
		}
	}
	if status != 0 {
		return withStatus(status, ErrFailed)
	}
	return nil
}

// continued reports whether line ends in an unescaped backslash (an odd
// number of them), which continues it on the next line as in sh, and
// returns the line without that backslash.
func continued(line string) (string, bool) {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	if n%2 == 0 {
		return line, false
	}
	return line[:len(line)-1], true
}

// scanLines reads r line by line in a goroutine of its own, so that a
// signal ends a script that waits for input (`sleep 100 | dockman`) at
// once. The lines channel is closed at the end of input; readErr, called
// after that, says why it ended. stop lets the goroutine go when the
// reader leaves early; one blocked in r.Read stays there until its Read
// returns, which for stdin is when the process exits.
func scanLines(r io.Reader) (lines <-chan string, readErr func() error, stop func()) {
	ch := make(chan string)
	quit := make(chan struct{})
	var err error
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			select {
			case ch <- sc.Text():
			case <-quit:
				return
			}
		}
		err = sc.Err()
	}()
	var once sync.Once
	return ch, func() error { return err }, func() { once.Do(func() { close(quit) }) }
}
