// Package lineedit reads lines from the terminal with go-prompt v0.2.6,
// one line per call, with go-prompt's flaws worked around from outside (it
// is unmaintained, and kept pinned and unpatched):
//
//   - Run() deadlocks when a resize lands near Enter, registers a signal
//     handler per line and exits the process on an outside SIGINT. So
//     lines are read with (*Prompt).Input() on one reused Prompt, which has
//     no signal goroutine; the caller owns signals and tells the Reader
//     what they mean (Resized, ClearLine, Interrupt).
//   - Input() discards keys typed ahead, loses an Enter to a blocking read,
//     and cannot be woken to redraw. The terminal reader (tty.go) hands
//     keys one at a time, holds after a line ends, waits in the netpoller,
//     and can inject a key that does nothing but end Input, so that the
//     line is redrawn (at a new width, or below a notice) with the typed
//     text and the cursor where they were.
//   - Its terminal restore leaves raw mode on: the tty restores the state
//     saved at Open instead.
//
// A Reader is used from one goroutine; Interrupt, ClearLine and Resized
// may be called from any.
package lineedit

import (
	"errors"
	"io"
	"strings"

	prompt "github.com/c-bata/go-prompt"
	runewidth "github.com/mattn/go-runewidth"
)

// ErrInterrupted is returned by ReadLine after Interrupt: the line being
// typed was taken off the screen and is kept for the next ReadLine, which
// draws it again where the cursor is then.
var ErrInterrupted = errors.New("line editing interrupted")

// Options configure a Reader.
type Options struct {
	// Prefix is the prompt, e.g. "dockman> ".
	Prefix string
	// History seeds the lines the arrow keys recall, oldest first.
	History []string
	// Complete returns the suggestions for the text before the cursor
	// and the byte offset in it where the word they replace begins: each
	// suggestion's Text replaces the text from there (see fit). On a
	// continued line the text holds the lines before it, joined as
	// ReadLine will return them. Nil offers none.
	Complete func(before string) (start int, suggestions []prompt.Suggest)
	// Continues reports whether a line goes on on the next one, as a
	// line ending in a backslash does in sh, and returns the line without
	// what says so. ReadLine then reads the next line at
	// ContinuationPrefix and returns the lines joined. Nil: no line does.
	Continues func(line string) (body string, more bool)
	// ContinuationPrefix is the prompt of a line that continues the one
	// before, e.g. "> ".
	ContinuationPrefix string
}

// Reader reads lines typed at a prompt.
type Reader struct {
	opts   Options
	tty    *tty
	screen *screen
	p      *prompt.Prompt
	// continuing is set while a line continued with a backslash is read:
	// pending holds the lines read of it so far, joined. Ctrl-C drops them.
	// Set and read on the goroutine that runs Input, as go-prompt calls
	// the prefix, completion and key bindings from there.
	continuing bool
	pending    string
	// ended says how the last Input call ended; go-prompt's key bindings
	// set it on the goroutine that runs Input.
	ended ending
}

type ending int

const (
	endedEOF ending = iota // Ctrl-D on an empty line (Input says "", as for an empty Enter)
	endedLine
	endedRedraw
)

// Open prepares a Reader on the controlling terminal (/dev/tty, which
// go-prompt also opens; it draws on stdout); the caller must Close it,
// which restores the terminal as Open found it.
func Open(opts Options) (*Reader, error) {
	t, err := openTTY("/dev/tty")
	if err != nil {
		return nil, err
	}
	r := &Reader{opts: opts, tty: t, screen: &screen{ConsoleWriter: prompt.NewStdoutWriter()}}
	complete := func(d prompt.Document) []prompt.Suggest {
		// The lines before a `> ` prompt are part of the line: after
		// `stop \`, an empty `> ` line offers containers.
		line := r.pending + d.TextBeforeCursor()
		if opts.Complete == nil || strings.TrimSpace(line) == "" {
			return nil
		}
		start, suggestions := opts.Complete(line)
		return fit(line, start, suggestions, d.GetWordBeforeCursorUntilSeparator(""))
	}
	mark := func(e ending) func(*prompt.Buffer) {
		return func(*prompt.Buffer) { r.ended = e }
	}
	// prompt.New opens /dev/tty for a default parser that OptionParser
	// then replaces: one descriptor, once, that go-prompt never closes.
	r.p = prompt.New(func(string) {}, complete,
		prompt.OptionParser(t),
		prompt.OptionWriter(r.screen),
		prompt.OptionPrefix(opts.Prefix),
		prompt.OptionLivePrefix(func() (string, bool) { return opts.ContinuationPrefix, r.continuing }),
		prompt.OptionHistory(opts.History),
		// Input() keeps the last line's suggestions: have them computed
		// afresh for the (empty or kept) line at every start.
		prompt.OptionShowCompletionAtStart(),
		prompt.OptionAddKeyBind(
			prompt.KeyBind{Key: prompt.Enter, Fn: mark(endedLine)},
			prompt.KeyBind{Key: prompt.ControlM, Fn: mark(endedLine)},
			// go-prompt clears the line on Ctrl-C (and on the one a
			// ClearLine hands over); a continued line goes with it.
			prompt.KeyBind{Key: prompt.ControlC, Fn: func(*prompt.Buffer) { r.continuing, r.pending = false, "" }},
			prompt.KeyBind{Key: prompt.Ignore, Fn: func(b *prompt.Buffer) {
				r.ended = endedRedraw
				cursor := runewidth.StringWidth(r.prefix()) + runewidth.StringWidth(b.Document().TextBeforeCursor())
				r.screen.eraseLine(cursor, int(r.tty.winSize().Col))
			}},
		),
		prompt.OptionSetExitCheckerOnInput(func(string, bool) bool { return r.ended == endedRedraw }),
		prompt.OptionMaxSuggestion(10),
		prompt.OptionPrefixTextColor(prompt.Cyan),
		prompt.OptionSuggestionBGColor(prompt.DarkGray),
		prompt.OptionSuggestionTextColor(prompt.White),
		prompt.OptionDescriptionBGColor(prompt.LightGray),
		prompt.OptionDescriptionTextColor(prompt.Black),
		prompt.OptionSelectedSuggestionBGColor(prompt.Cyan),
		prompt.OptionSelectedDescriptionBGColor(prompt.Cyan),
	)
	return r, nil
}

// ReadLine shows the prompt and returns the line typed, with the terminal
// back in the state Open found it (cooked, with signals from keys), so a
// command can run. A line that Options.Continues says goes on is read on
// at the continuation prompt and returned joined with the lines after it.
// It returns io.EOF on Ctrl-D on an empty line (a continued line is then
// dropped, as bash drops it) or when the terminal hangs up, and
// ErrInterrupted after Interrupt: the next ReadLine goes on with the line,
// continued or not, where it was.
func (r *Reader) ReadLine() (string, error) {
	for {
		line, err := r.readOne()
		if err != nil {
			if !errors.Is(err, ErrInterrupted) {
				r.continuing, r.pending = false, ""
			}
			return "", err
		}
		if r.opts.Continues != nil {
			if body, more := r.opts.Continues(line); more {
				r.continuing, r.pending = true, r.pending+body
				continue
			}
		}
		line = r.pending + line
		r.continuing, r.pending = false, ""
		return line, nil
	}
}

// prefix is the prompt the line being read shows.
func (r *Reader) prefix() string {
	if r.continuing {
		return r.opts.ContinuationPrefix
	}
	return r.opts.Prefix
}

// readOne reads one line of the terminal.
func (r *Reader) readOne() (string, error) {
	r.ended = endedEOF
	r.screen.unmute()
	if r.tty.isHungUp() {
		return "", io.EOF
	}
	line := r.p.Input()
	switch {
	case r.tty.isHungUp():
		return "", io.EOF
	case r.ended == endedLine:
		return line, nil
	case r.ended == endedRedraw:
		return "", ErrInterrupted
	}
	return "", io.EOF
}

// DropClear reports whether a ClearLine came too late for the line that
// ReadLine just returned, and drops it so that it does not clear the next
// line: the caller then treats it as an interrupt of that line's command.
func (r *Reader) DropClear() bool { return r.tty.takeClear() }

// Interrupt makes the ReadLine under way (or the next one) return
// ErrInterrupted once the keys typed so far are in the line. The terminal
// stays raw and the cursor is where the prompt began, so what is printed
// then appears above the prompt that the next ReadLine draws.
func (r *Reader) Interrupt() { r.tty.requestRedraw() }

// ClearLine drops the line being typed as it shows now, as Ctrl-C at the
// prompt does: for a SIGINT sent from outside.
func (r *Reader) ClearLine() { r.tty.requestClear() }

// Resized redraws the line being typed at the terminal's new width, if
// ReadLine is under way and the width or height changed.
func (r *Reader) Resized() { r.tty.resized() }

// Close restores the terminal and releases it.
func (r *Reader) Close() error { return r.tty.close() }

// screen is go-prompt's writer with a mute switch. When the redraw key
// ends Input, go-prompt erases the line being edited and writes it again
// followed by a line break. The screen erases it instead and drops
// everything go-prompt writes after that until the next ReadLine, so that
// the line is redrawn in place rather than repeated above a break.
//
// go-prompt would erase by moving up as many rows as the line took at the
// width it last read; but a terminal that was resized meanwhile has
// re-wrapped the line at its new width (tmux, VTE, iTerm2, kitty... do),
// and rows above would be left behind. So the screen counts rows at the
// width the terminal has now.
type screen struct {
	prompt.ConsoleWriter
	muted bool
}

// eraseLine moves from cursor (cells from where the prompt began) to
// where the prompt began, at the given terminal width, erases everything
// from there down, and mutes go-prompt's output.
//
// The prompt's first row is erased on its own: an erase-below from the
// top-left corner clears the whole screen, which tmux (scroll-on-clear)
// and others answer by pushing the screen into the scrollback, from where
// a later resize brings the old line back into view.
func (s *screen) eraseLine(cursor, width int) {
	w := s.ConsoleWriter
	w.WriteRaw([]byte{'\r'})
	if up := cursor / max(width, 1); up > 0 {
		w.CursorUp(up)
	}
	w.EraseEndOfLine()
	w.WriteRaw([]byte{0x1b, '7'}) // save the cursor (DECSC)
	w.CursorDown(1)               // stays put on the last row: then the row below is none
	w.EraseDown()
	w.WriteRaw([]byte{0x1b, '8'}) // back to where the prompt began (DECRC)
	s.muted = true
}

func (s *screen) unmute()  { s.muted = false }
func (s *screen) on() bool { return !s.muted }

func (s *screen) EraseDown() {
	if s.on() {
		s.ConsoleWriter.EraseDown()
	}
}

func (s *screen) CursorUp(n int) {
	if s.on() {
		s.ConsoleWriter.CursorUp(n)
	}
}

func (s *screen) CursorDown(n int) {
	if s.on() {
		s.ConsoleWriter.CursorDown(n)
	}
}

func (s *screen) CursorForward(n int) {
	if s.on() {
		s.ConsoleWriter.CursorForward(n)
	}
}

func (s *screen) CursorBackward(n int) {
	if s.on() {
		s.ConsoleWriter.CursorBackward(n)
	}
}

func (s *screen) WriteRaw(data []byte) {
	if s.on() {
		s.ConsoleWriter.WriteRaw(data)
	}
}

func (s *screen) Write(data []byte) {
	if s.on() {
		s.ConsoleWriter.Write(data)
	}
}

func (s *screen) WriteRawStr(data string) {
	if s.on() {
		s.ConsoleWriter.WriteRawStr(data)
	}
}

func (s *screen) WriteStr(data string) {
	if s.on() {
		s.ConsoleWriter.WriteStr(data)
	}
}

func (s *screen) SetColor(fg, bg prompt.Color, bold bool) {
	if s.on() {
		s.ConsoleWriter.SetColor(fg, bg, bold)
	}
}

func (s *screen) SetTitle(title string) {
	if s.on() {
		s.ConsoleWriter.SetTitle(title)
	}
}

func (s *screen) ClearTitle() {
	if s.on() {
		s.ConsoleWriter.ClearTitle()
	}
}
