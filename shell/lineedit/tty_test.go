package lineedit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// guard bounds every wait here; nothing asserts on time.
const guard = 10 * time.Second

// pty is a pseudo-terminal: the test types into master; the tty under
// test reads the other end, as dockman reads the terminal it runs in.
type pty struct {
	master *os.File
	tty    *tty
}

func newPTY(t *testing.T) *pty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	mfd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(mfd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	p := &pty{master: master}
	p.resize(t, 80, 24)
	p.tty, err = openTTY(fmt.Sprintf("/dev/pts/%d", n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.tty.close()
		master.Close()
	})
	return p
}

func (p *pty) resize(t *testing.T, cols, rows uint16) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(p.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		t.Fatal(err)
	}
}

// typeIn writes keys as a terminal would send them, and waits until they
// are in the terminal's input queue.
func (p *pty) typeIn(t *testing.T, keys string) {
	t.Helper()
	before, _ := unix.IoctlGetInt(p.tty.fd, unix.TIOCINQ)
	if _, err := p.master.WriteString(keys); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(guard)
	for {
		n, err := unix.IoctlGetInt(p.tty.fd, unix.TIOCINQ)
		if err != nil || n >= before+len(keys) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the typed keys never reached the terminal (%d bytes queued)", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// keys reads n keys, failing if Read has none within the guard.
func (p *pty) keys(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(guard)
	for len(got) < n {
		b, err := p.tty.Read()
		switch {
		case err == nil:
			got = append(got, string(b))
		case !errors.Is(err, errNoKey):
			t.Fatalf("Read: %v", err)
		case time.Now().After(deadline):
			t.Fatalf("after %q, no key came within %s", got, guard)
		}
	}
	return got
}

// noKey checks that Read has nothing to hand over.
func (p *pty) noKey(t *testing.T) {
	t.Helper()
	if b, err := p.tty.Read(); !errors.Is(err, errNoKey) {
		t.Fatalf("Read = %q, %v; want no key", b, err)
	}
}

func (p *pty) termios(t *testing.T) *unix.Termios {
	t.Helper()
	tio, err := unix.IoctlGetTermios(p.tty.fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio
}

func (p *pty) isRaw(t *testing.T) bool { return p.termios(t).Lflag&unix.ICANON == 0 }

func TestTTYRules(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, p *pty)
	}{
		{"one key per read", func(t *testing.T, p *pty) {
			p.typeIn(t, "ps -a\x1b[Aé\x03")
			if got, want := p.keys(t, 4), []string{"ps -a", "\x1b[A", "é", "\x03"}; !reflect.DeepEqual(got, want) {
				t.Errorf("keys %q, want %q", got, want)
			}
		}},
		{"hold after Enter until Setup", func(t *testing.T, p *pty) {
			p.typeIn(t, "ps\rls\r")
			if got := p.keys(t, 2); !reflect.DeepEqual(got, []string{"ps", "\r"}) {
				t.Fatalf("keys %q", got)
			}
			p.noKey(t) // typeahead waits for the next line
			p.tty.Setup()
			if got := p.keys(t, 2); !reflect.DeepEqual(got, []string{"ls", "\r"}) {
				t.Errorf("after Setup, keys %q, want the line typed ahead", got)
			}
		}},
		{"a redraw wakes a waiting read, holds, and keeps raw mode", func(t *testing.T, p *pty) {
			got := make(chan []string, 1)
			go func() { got <- p.keys(t, 1) }()
			p.tty.requestRedraw()
			select {
			case k := <-got:
				if !bytes.Equal([]byte(k[0]), redrawKey) {
					t.Fatalf("key %q, want the redraw key", k)
				}
			case <-time.After(guard):
				t.Fatal("the redraw key never came")
			}
			p.noKey(t)
			p.tty.TearDown()
			if !p.isRaw(t) {
				t.Error("TearDown after a redraw left raw mode: keys typed now would be echoed")
			}
			p.tty.Setup()
			p.tty.TearDown()
			if p.isRaw(t) {
				t.Error("TearDown after a line left raw mode on")
			}
		}},
		{"a redraw comes after the keys typed before it", func(t *testing.T, p *pty) {
			p.typeIn(t, "ab")
			p.tty.requestRedraw()
			if got := p.keys(t, 2); !reflect.DeepEqual(got, []string{"ab", string(redrawKey)}) {
				t.Errorf("keys %q, want the typed text, then the redraw key", got)
			}
		}},
		{"clear hands a Ctrl-C next, and no hold", func(t *testing.T, p *pty) {
			p.typeIn(t, "ab")
			if got := p.keys(t, 1); got[0] != "ab" {
				t.Fatalf("key %q", got)
			}
			p.typeIn(t, "cd") // read by the terminal, not yet by go-prompt
			p.tty.requestClear()
			if got := p.keys(t, 2); !reflect.DeepEqual(got, []string{"\x03", "cd"}) {
				t.Errorf("keys %q, want the Ctrl-C before the keys go-prompt had not seen", got)
			}
		}},
		{"resize redraws only when the size changed during Input", func(t *testing.T, p *pty) {
			p.tty.TearDown()
			p.resize(t, 60, 24)
			p.tty.resized()
			p.noKey(t) // not reading: the next Setup reads the size anyway
			p.tty.Setup()
			p.tty.GetWinSize()
			p.tty.resized()
			p.noKey(t) // same size
			p.resize(t, 50, 24)
			p.tty.resized()
			if got := p.keys(t, 1); got[0] != string(redrawKey) {
				t.Errorf("after a resize, key %q, want the redraw key", got)
			}
		}},
		{"a width of 0 is 80x24", func(t *testing.T, p *pty) {
			p.resize(t, 0, 0)
			if ws := p.tty.GetWinSize(); ws.Col != 80 || ws.Row != 24 {
				t.Errorf("size %dx%d, want 80x24", ws.Col, ws.Row)
			}
		}},
		{"raw mode, then the saved state back", func(t *testing.T, p *pty) {
			p.tty.TearDown()
			before := *p.termios(t)
			p.tty.Setup()
			raw := p.termios(t)
			if raw.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 || raw.Iflag&unix.ICRNL != 0 {
				t.Errorf("Setup: lflag %#x iflag %#x, want no ICANON, ECHO, ISIG, ICRNL", raw.Lflag, raw.Iflag)
			}
			p.tty.TearDown()
			if after := *p.termios(t); after != before {
				t.Errorf("TearDown left %+v, want the state before Setup %+v", after, before)
			}
		}},
		{"a hang-up ends the line, whatever it holds, and every later one", func(t *testing.T, p *pty) {
			p.typeIn(t, "abc")
			p.keys(t, 1) // in go-prompt's line now
			p.master.Close()
			if got := p.keys(t, 1); got[0] != string(redrawKey) {
				t.Errorf("key %q after hang-up, want the key that ends Input", got)
			}
			if !p.tty.isHungUp() {
				t.Error("the tty does not know it hung up")
			}
			p.noKey(t) // held
			p.tty.Setup()
			if got := p.keys(t, 1); got[0] != string(redrawKey) {
				t.Errorf("after Setup, key %q, want the key that ends Input again", got)
			}
		}},
		{"a redraw key typed by the user is dropped", func(t *testing.T, p *pty) {
			p.typeIn(t, "a\x1b[Eb\r")
			if got := p.keys(t, 3); !reflect.DeepEqual(got, []string{"a", "b", "\r"}) {
				t.Errorf("keys %q, want the keypad-5 sequence gone", got)
			}
		}},
		{"a character split between reads is handed whole", func(t *testing.T, p *pty) {
			p.typeIn(t, "x\xc3")
			if got := p.keys(t, 1); got[0] != "x" {
				t.Fatalf("key %q, want x without the half character", got)
			}
			p.noKey(t)
			p.typeIn(t, "\xa9\r")
			if got := p.keys(t, 2); !reflect.DeepEqual(got, []string{"é", "\r"}) {
				t.Errorf("keys %q, want é whole", got)
			}
		}},
		{"a clear that came after the line is dropped, not carried to the next", func(t *testing.T, p *pty) {
			p.typeIn(t, "ps\r")
			p.keys(t, 2)
			p.tty.requestClear()
			if !p.tty.takeClear() || p.tty.takeClear() {
				t.Error("takeClear does not report the late clear exactly once")
			}
			p.tty.Setup()
			p.noKey(t)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPTY(t)
			p.tty.Setup() // as go-prompt's Input does before it reads
			tt.run(t, p)
		})
	}
}

func TestNextKeyLenHalfCharacter(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{{"ab\xc3", 2}, {"\xc3", 0}, {"a\xe2\x82", 1}, {"a\xe2\x82\xac", 4}, {"a\xff", 2}} {
		if got := nextKeyLen([]byte(tt.in)); got != tt.want {
			t.Errorf("nextKeyLen(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestNextKeyLen(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"ps\r", []string{"ps", "\r"}},
		{"ps -a\rimages\r", []string{"ps -a", "\r", "images", "\r"}},
		{"\x1b[A\r", []string{"\x1b[A", "\r"}},
		{"st\tx", []string{"st", "\t", "x"}},
		{"\x04", []string{"\x04"}},
		{"héllo wörld", []string{"héllo wörld"}},
		{"\x1b[1;5Cab", []string{"\x1b[1;5C", "ab"}},
		{"\x1b[E", []string{"\x1b[E"}},
		{"é\r", []string{"é", "\r"}},
	}
	for _, tt := range tests {
		var got []string
		for b := []byte(tt.in); len(b) > 0; {
			n := nextKeyLen(b)
			got = append(got, string(b[:n]))
			b = b[n:]
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("keys of %q = %q, want %q", tt.in, got, tt.want)
		}
	}
}
