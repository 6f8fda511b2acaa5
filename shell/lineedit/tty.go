package lineedit

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	prompt "github.com/c-bata/go-prompt"
	"golang.org/x/sys/unix"
)

// Keys the tty hands go-prompt on dockman's behalf.
var (
	// redrawKey is a sequence go-prompt reads as its Ignore key: it does
	// nothing to the line, and a key binding on it ends Input so that the
	// line can be redrawn (see Reader).
	redrawKey = []byte{0x1b, '[', 'E'}
	// ctrlCKey clears the line, as Ctrl-C typed at the prompt does.
	ctrlCKey = []byte{0x03}
	ctrlDKey = []byte{0x04}
)

// A user can type redrawKey too (xterm and VTE send it for keypad 5 with
// NumLock off). go-prompt ignores it; the tty drops it, so that only the
// redraws it injects end a line.

const (
	// idleWait bounds one wait for a key. go-prompt can end Input only
	// when Read returns; every path that ends Input holds Read first (see
	// hold), so this is only a safety net and may be long.
	idleWait = 250 * time.Millisecond
	// endingWait is the wait after a Ctrl-D, which ends Input when the
	// line is empty; it keeps that ending quick.
	endingWait = 10 * time.Millisecond
)

// errNoKey is what Read returns when it has no key to hand over; go-prompt
// then sleeps 10 ms and asks again.
var errNoKey = syscall.EAGAIN

// tty is go-prompt's ConsoleParser for dockman: the terminal, read so
// that go-prompt's flaws cannot bite.
//
//   - Keys are handed over one per Read. go-prompt matches a whole read
//     against its key table, so a paste or fast typing that arrives in one
//     read, such as "ps\r", was inserted as text, Enter included.
//   - After a key that ends the line (Enter, the redraw key) Read hands
//     nothing more until the next Setup: go-prompt's reader goroutine would
//     otherwise pass keys typed ahead into a channel that Input discards.
//   - Waiting for a key happens in Go's netpoller with a deadline, never in
//     a blocking read(2) (which would keep Input from returning) nor in a
//     busy loop; Wake cuts a wait short.
//   - Raw mode is set from, and restored to, the state saved when the tty
//     was opened. go-prompt's own restore writes back a state its SetRaw
//     has mutated (upstream #228, #266), leaving the terminal raw.
//   - A width of 0 (go-prompt divides by it) is reported as 80x24.
type tty struct {
	f     *os.File // the terminal, non-blocking and registered with the netpoller
	fd    int
	saved *unix.Termios
	raw   *unix.Termios

	mu      sync.Mutex
	pending []byte // read from the terminal, not yet handed over
	hold    bool   // a key that ends the line was handed: nothing until Setup
	ending  bool   // Ctrl-D was handed: Input may be ending, wait briefly
	redraw  bool   // hand redrawKey once what was typed before is handed
	clear   bool   // hand ctrlCKey next, before keys go-prompt has not seen
	keepRaw bool   // the next TearDown leaves raw mode on (a redraw follows)
	active  bool   // between Setup and TearDown: Input is reading
	hungUp  bool   // the terminal is gone: end Input, read no more
	size    prompt.WinSize
	buf     []byte
}

var _ prompt.ConsoleParser = (*tty)(nil)

// openTTY opens the terminal at path and saves its state.
func openTTY(path string) (*tty, error) {
	// A non-blocking descriptor given to os.NewFile is registered with the
	// netpoller, so reads honour deadlines (File.Fd would undo that: the
	// descriptor is kept here instead). O_NONBLOCK belongs to this open
	// file description only: stdin and stdout stay as they are.
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		f.Close()
		return nil, err
	}
	raw := *saved
	// As go-prompt's SetRaw, but from the saved state: no echo, no line
	// editing, no signals from keys (Ctrl-C is a key at the prompt), 8 bits.
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Lflag &^= unix.ECHO | unix.ICANON | unix.IEXTEN | unix.ISIG | unix.ECHONL
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	return &tty{f: f, fd: fd, saved: saved, raw: &raw, buf: make([]byte, 1024)}, nil
}

// Setup puts the terminal in raw mode and releases the hold.
func (t *tty) Setup() error {
	t.mu.Lock()
	t.hold, t.ending, t.active = false, false, true
	t.mu.Unlock()
	return unix.IoctlSetTermios(t.fd, unix.TCSETS, t.raw)
}

// TearDown restores the saved state, unless a redraw is under way: then
// Input is called again at once, and keys typed meanwhile must not be
// echoed by a cooked terminal.
func (t *tty) TearDown() error {
	t.mu.Lock()
	keep := t.keepRaw
	t.keepRaw, t.active = false, false
	t.mu.Unlock()
	if keep {
		return nil
	}
	return t.restore()
}

func (t *tty) restore() error { return unix.IoctlSetTermios(t.fd, unix.TCSETS, t.saved) }

// close restores the saved state and closes the terminal.
func (t *tty) close() error {
	err := t.restore()
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// GetWinSize reports the terminal's size, never a width of 0.
func (t *tty) GetWinSize() *prompt.WinSize {
	ws := t.winSize()
	t.mu.Lock()
	t.size = ws
	t.mu.Unlock()
	return &ws
}

func (t *tty) winSize() prompt.WinSize {
	ws, err := unix.IoctlGetWinsize(t.fd, unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 || ws.Row == 0 {
		return prompt.WinSize{Row: 24, Col: 80}
	}
	return prompt.WinSize{Row: ws.Row, Col: ws.Col}
}

// requestRedraw has the redraw key handed after what was typed so far.
func (t *tty) requestRedraw() {
	t.mu.Lock()
	t.redraw = true
	t.wake()
	t.mu.Unlock()
}

// requestClear has a Ctrl-C handed next: it clears the line as go-prompt
// shows it now; keys read but not handed yet may have been typed after the
// signal, and are kept for the fresh line (as bash keeps what is queued).
func (t *tty) requestClear() {
	t.mu.Lock()
	t.clear = true
	t.wake()
	t.mu.Unlock()
}

// resized asks for a redraw if Input is reading and the size differs
// from the one go-prompt last read; otherwise the next Setup reads it.
func (t *tty) resized() {
	ws := t.winSize()
	t.mu.Lock()
	if t.active && ws != t.size {
		t.redraw = true
		t.wake()
	}
	t.mu.Unlock()
}

// wake ends a wait under way in Read. Call with t.mu held: Read sets its
// deadline under the lock, so a wake can never be overwritten by it.
func (t *tty) wake() { _ = t.f.SetReadDeadline(time.Now()) }

// Read hands over the next key: one known key sequence, one control byte,
// or a run of plain text; errNoKey when there is none (yet).
func (t *tty) Read() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for waited := false; ; waited = true {
		if t.hold {
			return nil, errNoKey
		}
		if t.clear {
			t.clear = false
			return ctrlCKey, nil
		}
		if len(t.pending) == 0 && !t.hungUp {
			t.readNow()
		}
		if key := t.next(); key != nil {
			return key, nil
		}
		switch {
		case t.hungUp:
			// End Input whatever the line holds (a Ctrl-D would only
			// delete a character); ReadLine then reports the end.
			t.hold = true
			return redrawKey, nil
		case t.redraw:
			t.redraw = false
			t.hold, t.keepRaw = true, true
			return redrawKey, nil
		case waited:
			return nil, errNoKey
		}
		t.waitForKey()
	}
}

// readNow takes what the terminal holds without waiting.
func (t *tty) readNow() {
	n, err := unix.Read(t.fd, t.buf)
	t.took(n, err)
}

// waitForKey waits in the netpoller, with t.mu released, until a key
// comes, the deadline passes or wake is called.
func (t *tty) waitForKey() {
	wait := idleWait
	if t.ending {
		wait = endingWait
	}
	_ = t.f.SetReadDeadline(time.Now().Add(wait))
	t.mu.Unlock()
	n, err := t.f.Read(t.buf)
	t.mu.Lock()
	t.took(n, err)
}

// took keeps what a read returned. A terminal that hangs up reads as end
// of file (or EIO).
func (t *tty) took(n int, err error) {
	if n > 0 {
		t.pending = append(t.pending, t.buf[:n]...)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.EIO) || (err == nil && n == 0) {
		t.hungUp = true
	}
}

// isHungUp reports whether the terminal is gone.
func (t *tty) isHungUp() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hungUp
}

// next takes the first key off pending, nil if there is none (yet): a
// redraw key the user typed is dropped; after a key that ends the line the
// tty holds.
func (t *tty) next() []byte {
	for len(t.pending) > 0 {
		n := nextKeyLen(t.pending)
		if n == 0 {
			return nil // half a character: the rest is still on its way
		}
		key := bytes.Clone(t.pending[:n])
		t.pending = t.pending[n:]
		if bytes.Equal(key, redrawKey) {
			continue
		}
		t.ending = bytes.Equal(key, ctrlDKey)
		if isLineEnd(key) {
			t.hold = true
		}
		return key
	}
	return nil
}

// takeClear drops a requested clear that was not handed over, and reports
// whether there was one.
func (t *tty) takeClear() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clear
	t.clear = false
	return c
}

// isLineEnd reports whether go-prompt ends Input on key: Enter, as CR or LF.
func isLineEnd(key []byte) bool {
	return len(key) == 1 && (key[0] == '\r' || key[0] == '\n')
}

// nextKeyLen is the length of the first key in b (non-empty): the longest
// sequence go-prompt knows that b starts with, else one control byte, else
// the text up to the next control byte, but not into a character whose
// bytes have not all been read (0 if that is all there is).
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
	if n == len(b) {
		// A read may end inside a character: keep its first bytes back.
		start := n - 1
		for start > 0 && !utf8.RuneStart(b[start]) {
			start--
		}
		if !utf8.FullRune(b[start:n]) {
			n = start
		}
	}
	return n
}

func isControl(c byte) bool { return c < 0x20 || c == 0x7f }
