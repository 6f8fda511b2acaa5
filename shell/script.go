package shell

import (
	"bufio"
	"context"
	"fmt"
	"io"
)

// Script runs each line read from r through Execute, as the interactive
// shell would but without prompt. It goes on after a failed command, like
// sh without -e, stops at exit or when ctx is cancelled, and returns
// ErrFailed if any command failed.
func (s *Shell) Script(ctx context.Context, r io.Reader) error {
	// No prompt to keep tidy: notices go to stderr as they come.
	s.notices.showDirectly(func(msg string) { fmt.Fprintln(s.err, s.noticeLine(msg)) })
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	failed := false
	for sc.Scan() {
		if err := s.Execute(ctx, sc.Text()); err != nil {
			failed = true
		}
		if s.exited {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read commands: %w", err)
	}
	if failed {
		return ErrFailed
	}
	return nil
}
