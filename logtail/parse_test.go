package logtail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

type msg struct {
	stream  Stream
	text    string
	partial bool
}

// stamp gives message i a stamp 1 µs after the one before.
func stamp(i int) string {
	return formatTime(time.Date(2026, 11, 22, 17, 20, 1, 0, time.UTC).Add(time.Duration(i) * time.Microsecond))
}

func muxStream(msgs []msg) []byte {
	var b bytes.Buffer
	for i, m := range msgs {
		payload := stamp(i) + " " + m.text
		if !m.partial {
			payload += "\n"
		}
		hdr := [8]byte{byte(m.stream)}
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
		b.Write(hdr[:])
		b.WriteString(payload)
	}
	return b.Bytes()
}

func ttyStream(msgs []msg) []byte {
	var b bytes.Buffer
	for i, m := range msgs {
		b.WriteString(stamp(i) + " " + m.text)
		if !m.partial {
			b.WriteString("\r\n")
		}
	}
	return b.Bytes()
}

func readAll(t *testing.T, p parser) []msg {
	t.Helper()
	var got []msg
	for i := 0; ; i++ {
		r, err := p.next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if string(r.ts) != stamp(i) {
			t.Fatalf("record %d: stamp %s, want %s", i, r.ts, stamp(i))
		}
		got = append(got, msg{r.stream, string(r.text), r.partial})
	}
}

var sample = []msg{
	{Stdout, "first", false},
	{Stderr, "", false},
	{Stdout, strings.Repeat("x", 16384), true},
	{Stdout, strings.Repeat("y", 16384), true},
	{Stdout, "end of the long one", false},
	{Stderr, "bad \xff\xfe bytes", false},
	{Stdout, "has a 2026-11-22T17:20:01.000000000Z stamp inside, an old one", false},
	{Stdout, "Z Z Z trailing Z ", false},
	{Stdout, "valid until 2099-01-01T00:00:00.000000000Z then renew", false},
	{Stdout, "last run ended without newline", true},
	{Stdout, "next run", false},
}

func TestMuxParser(t *testing.T) {
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"whole": func(r io.Reader) io.Reader { return r },
		"bytes": iotest.OneByteReader,
		"half":  iotest.HalfReader,
	} {
		t.Run(name, func(t *testing.T) {
			got := readAll(t, newMuxParser(wrap(bytes.NewReader(muxStream(sample)))))
			if len(got) != len(sample) {
				t.Fatalf("%d records, want %d", len(got), len(sample))
			}
			for i := range sample {
				if got[i] != sample[i] {
					t.Errorf("record %d: %v %.60q %v, want %.60q", i, got[i].stream, got[i].text, got[i].partial, sample[i].text)
				}
			}
		})
	}
}

func TestTTYParser(t *testing.T) {
	var want []msg
	for _, m := range sample {
		m.stream = Stdout
		want = append(want, m)
	}
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"whole": func(r io.Reader) io.Reader { return r },
		"bytes": iotest.OneByteReader,
		"half":  iotest.HalfReader,
	} {
		t.Run(name, func(t *testing.T) {
			got := readAll(t, newTTYParser(wrap(bytes.NewReader(ttyStream(want)))))
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("record %d: %v %.60q %v, want %.60q", i, got[i].stream, got[i].text, got[i].partial, want[i].text)
				}
			}
		})
	}
}

// A stream cut inside a frame is an error, not a short record: the keeper
// resumes from its cursor and the record comes again whole.
func TestParsersCutStream(t *testing.T) {
	b := muxStream(sample[:2])
	p := newMuxParser(bytes.NewReader(b[:len(b)-3]))
	if _, err := p.next(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut frame: %v, want ErrUnexpectedEOF", err)
	}
}

func TestParseLineRoundTrip(t *testing.T) {
	for _, m := range sample {
		b := appendLine(nil, []byte(stamp(3)), m.stream, m.partial, []byte(m.text))
		l, err := ParseLine(b)
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if l.Stream != m.stream || l.Partial != m.partial || string(l.Text) != m.text || formatTime(l.Time) != stamp(3) {
			t.Errorf("round trip of %.40q: %+v", m.text, l)
		}
	}
	for _, bad := range []string{"", "x stdout F a", stamp(1) + " stdin F a", stamp(1) + " stdout X a", stamp(1) + " stdout Fa"} {
		if _, err := ParseLine([]byte(bad)); err == nil {
			t.Errorf("ParseLine(%q) accepted", bad)
		}
	}
}
