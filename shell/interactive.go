package shell

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	prompt "github.com/c-bata/go-prompt"
	"golang.org/x/term"
)

// Interactive runs the prompt until exit, quit or Ctrl-D. Each line goes to
// Execute with a context that Ctrl-C cancels, so Ctrl-C ends a long command
// (a log follow) and returns to the prompt; at the prompt it clears the line.
func (s *Shell) Interactive(ctx context.Context, prefix string) error {
	// go-prompt leaves the terminal raw when Run returns, because its own
	// restore writes back a state it mutated (upstream #228, #266). Save the
	// real state first and put it back ourselves.
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
	restore := func() { _ = term.Restore(fd, saved) }
	defer restore()
	if w, _, err := term.GetSize(fd); err != nil || w == 0 {
		// go-prompt divides by the width and panics on 0.
		return errors.New("terminal reports a width of 0: run with -c or pipe commands on stdin")
	}

	var seed []string
	if s.history != nil {
		seed = s.history.Lines()
	}
	executor := func(line string) {
		restore() // cooked mode with ISIG: Ctrl-C now raises SIGINT
		if strings.TrimSpace(line) == "" {
			return
		}
		if s.history != nil {
			if err := s.history.Add(line); err != nil {
				s.printError(err)
			}
		}
		cmdCtx, stop := signal.NotifyContext(ctx, os.Interrupt)
		defer stop()
		_ = s.Execute(cmdCtx, line) // failures are printed by Execute
	}
	completer := func(d prompt.Document) []prompt.Suggest {
		before := d.TextBeforeCursor()
		if s.cache == nil || strings.TrimSpace(before) == "" {
			return nil
		}
		return s.cache.Complete(before)
	}
	p := prompt.New(executor, completer,
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
	return nil
}
