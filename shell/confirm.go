package shell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// askTerminal asks a yes/no question while a command runs, when the
// terminal is cooked (lineedit hands it back so between lines): the
// answer is a line read from /dev/tty, echoed by the terminal. Anything
// but y or yes is no; Ctrl-C, which cancels ctx, is no too. The tty is
// read with a deadline, so no read is left behind to steal the next key
// from the prompt.
func askTerminal(ctx context.Context, out io.Writer, question string) (bool, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Errorf("cannot ask for confirmation: %w", err)
	}
	defer tty.Close()
	fmt.Fprintf(out, "%s [y/N] ", question)
	stop := context.AfterFunc(ctx, func() { _ = tty.SetReadDeadline(time.Now()) })
	defer stop()
	var line []byte
	buf := make([]byte, 256)
	for !bytes.ContainsRune(line, '\n') {
		n, err := tty.Read(buf)
		line = append(line, buf[:n]...)
		if errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() != nil {
			return false, nil
		}
		if err != nil {
			fmt.Fprintln(out)
			return false, nil // end of input: no answer is no
		}
	}
	switch strings.ToLower(strings.TrimSpace(string(line))) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
