package shell

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	prompt "github.com/c-bata/go-prompt"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// Interactive runs the prompt until exit, quit or Ctrl-D. Each line goes to
// Execute with a context that Ctrl-C cancels, so Ctrl-C ends a long command
// (a log follow) and returns to the prompt; at the prompt it clears the line.
func (s *Shell) Interactive(ctx context.Context, prefix string) error {
	// go-prompt leaves the terminal raw when it tears down, because its own
	// restore writes back a state it mutated (upstream #228, #266). Save the
	// real state first; ttyParser puts it back at every teardown: before
	// each command, when Run returns, and on go-prompt's own exit path for
	// SIGTERM, which skips our defers.
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return fmt.Errorf("interactive shell needs a terminal: %w", err)
	}
	defer tty.Close()
	fd := int(tty.Fd())
	saved, err := term.GetState(fd)
	if err != nil {
		return fmt.Errorf("interactive shell needs a terminal: %w", err)
	}
	defer term.Restore(fd, saved)
	parser := &ttyParser{PosixParser: prompt.NewStandardInputParser(), fd: fd, saved: saved}

	var seed []string
	if s.history != nil {
		seed = s.history.Lines()
	}
	executor := func(line string) {
		// go-prompt has torn down (ttyParser): the terminal is cooked, with
		// ISIG, so Ctrl-C raises SIGINT and cancels cmdCtx. Go back to raw
		// mode before returning: go-prompt redraws the prompt before it does
		// so itself, and a key typed in that gap was taken by the cooked
		// terminal (a Ctrl-D became an end-of-file and was lost).
		defer func() { _ = parser.Setup() }()
		if strings.TrimSpace(line) == "" {
			return
		}
		if s.history != nil {
			if err := s.history.Add(line); err != nil {
				s.printError(err)
			}
		}
		// While a command runs nobody reads go-prompt's signal channel, so
		// catch the signals here: Ctrl-C (SIGINT) ends the command; SIGTERM
		// and SIGHUP end it and then the shell, through go-prompt's normal
		// exit (and our teardown).
		if sig := s.runInterruptible(ctx, line); sig != nil {
			s.exited, s.signal = true, sig
		}
	}
	completer := func(d prompt.Document) []prompt.Suggest {
		before := d.TextBeforeCursor()
		if s.cache == nil || strings.TrimSpace(before) == "" {
			return nil
		}
		return s.cache.Complete(before)
	}
	p := prompt.New(executor, completer,
		prompt.OptionParser(parser),
		prompt.OptionPrefix(prefix),
		prompt.OptionTitle("dockman"),
		prompt.OptionHistory(seed),
		prompt.OptionMaxSuggestion(10),
		prompt.OptionSetExitCheckerOnInput(func(string, bool) bool { return s.exited }),
		prompt.OptionPrefixTextColor(prompt.Cyan),
		prompt.OptionSuggestionBGColor(prompt.DarkGray),
		prompt.OptionSuggestionTextColor(prompt.White),
		prompt.OptionDescriptionBGColor(prompt.LightGray),
		prompt.OptionDescriptionTextColor(prompt.Black),
		prompt.OptionSelectedSuggestionBGColor(prompt.Cyan),
		prompt.OptionSelectedDescriptionBGColor(prompt.Cyan),
	)
	p.Run()
	if s.exited {
		// go-prompt drew a fresh prompt before it saw the exit: erase it,
		// so the caller's shell prompt does not follow "dockman> ".
		fmt.Fprint(s.out, "\r\x1b[2K")
	}
	return nil
}

// runInterruptible executes line with a context that SIGINT, SIGTERM and
// SIGHUP cancel. It returns the signal that asked the shell to end, if any.
func (s *Shell) runInterruptible(ctx context.Context, line string) os.Signal {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	cmdCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan os.Signal, 1)
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() { // ends when the command does: waited for below
		defer close(watched)
		select {
		case sig := <-sigs:
			got <- sig
			cancel()
		case <-done:
		}
	}()
	_ = s.Execute(cmdCtx, line) // failures are printed by Execute
	close(done)
	<-watched
	select {
	case sig := <-got:
		if sig != os.Interrupt {
			return sig
		}
		// Ctrl-C: the terminal echoed ^C where the output stopped. End
		// that line, so that the prompt starts one of its own.
		fmt.Fprintln(s.out)
	default:
	}
	return nil
}

// ttyParser is go-prompt's terminal reader with three fixes: TearDown puts
// back the terminal state saved before the prompt started; a terminal that
// reports a width of 0 (go-prompt divides by it) is taken as 80x24; and
// input is handed over one key at a time. go-prompt matches a whole read
// against its key table, so a paste or fast typing that arrives in one read,
// such as "ps\r", was inserted as text, Enter included, and never ran.
type ttyParser struct {
	*prompt.PosixParser
	fd      int
	saved   *term.State
	pending []byte // read from the terminal, not yet handed over
}

// Read returns the next key: a known key sequence, one control byte, or a
// run of plain text.
func (p *ttyParser) Read() ([]byte, error) {
	if len(p.pending) == 0 {
		b, err := p.PosixParser.Read()
		if err != nil || len(b) == 0 {
			return b, err
		}
		p.pending = b
	}
	n := nextKeyLen(p.pending)
	key := append([]byte(nil), p.pending[:n]...)
	p.pending = p.pending[n:]
	return key, nil
}

// nextKeyLen is the length of the first key in b (non-empty): the longest
// sequence go-prompt knows that b starts with, else one control byte, else
// the text up to the next control byte.
func nextKeyLen(b []byte) int {
	best := 0
	for _, k := range prompt.ASCIISequences {
		if len(k.ASCIICode) > best && bytes.HasPrefix(b, k.ASCIICode) {
			best = len(k.ASCIICode)
		}
	}
	if best > 0 {
		return best
	}
	if isControl(b[0]) {
		return 1
	}
	n := 1
	for n < len(b) && !isControl(b[n]) {
		n++
	}
	return n
}

func isControl(c byte) bool { return c < 0x20 || c == 0x7f }

// TearDown ends raw mode and restores the saved terminal state.
func (p *ttyParser) TearDown() error {
	err := p.PosixParser.TearDown()
	if rerr := term.Restore(p.fd, p.saved); rerr != nil {
		return rerr
	}
	return err
}

// GetWinSize reports the terminal size, never a width of 0.
func (p *ttyParser) GetWinSize() *prompt.WinSize {
	ws, err := unix.IoctlGetWinsize(p.fd, unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return &prompt.WinSize{Row: 24, Col: 80}
	}
	return &prompt.WinSize{Row: ws.Row, Col: ws.Col}
}
