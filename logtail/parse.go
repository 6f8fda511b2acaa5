package logtail

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// record is one message of the engine's log stream. ts and text alias the
// parser's buffer: they are valid until the next call to next.
type record struct {
	ts      []byte // the engine's timestamp as it sent it
	time    time.Time
	stream  Stream
	partial bool
	text    []byte
}

// parser reads records from an engine log stream opened with timestamps.
type parser interface {
	next() (record, error)
	// buffered reports how many bytes are read but not yet parsed: zero
	// means the next call may wait for the engine, so what is pending
	// should be written out first.
	buffered() int
}

// readBufSize holds the engine's largest frame (16 KiB of text plus a
// timestamp) with room to spare, so frames are parsed where they lie in
// the buffer. Every follower holds one, idle or not: 200 followers hold
// 6 MiB.
const readBufSize = 32 << 10

// muxParser reads the multiplexed stream of a container without a TTY:
// frames of an 8-byte header (stream, 0, 0, 0, big-endian size) and a
// payload, one stored message per frame: "<ts> <text>", ending in "\n"
// unless the message is a partial line.
type muxParser struct {
	r       *bufio.Reader
	payload []byte // the current frame's payload when it did not fit in r
	rest    []byte // what is left of the payload after an inner newline
	restRec record // the stamp and stream that rest carries
	discard int    // bytes of r to drop before the next frame
}

func newMuxParser(r io.Reader) *muxParser {
	return &muxParser{r: bufio.NewReaderSize(r, readBufSize)}
}

func (p *muxParser) buffered() int { return p.r.Buffered() - p.discard + len(p.rest) }

func (p *muxParser) next() (record, error) {
	if len(p.rest) > 0 {
		return p.split(p.restRec, p.rest), nil
	}
	if p.discard > 0 {
		_, _ = p.r.Discard(p.discard)
		p.discard = 0
	}
	hdr, err := p.r.Peek(8)
	if err != nil {
		if errors.Is(err, io.EOF) && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return record{}, err
	}
	kind := hdr[0]
	size := int(binary.BigEndian.Uint32(hdr[4:8]))
	_, _ = p.r.Discard(8)
	var payload []byte
	if size <= p.r.Size() {
		payload, err = p.r.Peek(size)
		p.discard = len(payload)
	} else {
		if cap(p.payload) < size {
			p.payload = make([]byte, size)
		}
		payload = p.payload[:size]
		_, err = io.ReadFull(p.r, payload)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return record{}, err
	}
	var rec record
	switch kind {
	case 0, 1:
		rec.stream = Stdout
	case 2:
		rec.stream = Stderr
	case 3:
		// The engine reports a failure inside the stream.
		return record{}, fmt.Errorf("the engine: %s", bytes.TrimSpace(payload))
	default:
		return record{}, fmt.Errorf("unexpected log stream %d: the engine sent something other than a log", kind)
	}
	sp := bytes.IndexByte(payload, ' ')
	if sp < 0 {
		return record{}, fmt.Errorf("a log message without a timestamp: %.40q", payload)
	}
	rec.ts = payload[:sp]
	if rec.time, err = parseTime(rec.ts); err != nil {
		return record{}, fmt.Errorf("a log message without a timestamp: %.40q", payload)
	}
	return p.split(rec, payload[sp+1:]), nil
}

// split returns the first line of text as a record. A message holds one
// line; should one ever hold several, each gets the message's stamp.
func (p *muxParser) split(rec record, text []byte) record {
	if nl := bytes.IndexByte(text, '\n'); nl >= 0 {
		rec.text = text[:nl]
		p.rest = text[nl+1:]
		p.restRec = rec
		return rec
	}
	rec.text, rec.partial = text, true
	p.rest = nil
	return rec
}

// ttyParser reads the raw stream of a container with a TTY: stored messages
// back to back, "<ts> <text>\r\n", all of them stdout. A partial message
// (a piece of a line over 16 KiB, or a run's last output without a newline)
// has no newline, so the next message's timestamp follows it directly: it
// is recognised as a fixed-width engine timestamp no older than the
// current one, 16 KiB into the text (where the engine cuts long lines), or
// anywhere after its first byte if it is not in the future (a run that
// ended without a newline); see boundary.
type ttyParser struct {
	r    io.Reader
	buf  []byte
	off  int // start of unparsed data in buf
	end  int // end of data in buf
	eof  error
	last time.Time
}

func newTTYParser(r io.Reader) *ttyParser {
	return &ttyParser{r: r, buf: make([]byte, 16<<10)}
}

func (p *ttyParser) buffered() int { return p.end - p.off }

// maxTTYPiece bounds the text searched for the end of a message: the
// engine's pieces are at most 16 KiB, so a longer run has lost its way.
const maxTTYPiece = 48 << 10

// fill reads more data, keeping buf[off:end]. It returns false at the end
// of the stream.
func (p *ttyParser) fill() bool {
	if p.eof != nil {
		return false
	}
	if p.off > 0 {
		p.end = copy(p.buf, p.buf[p.off:p.end])
		p.off = 0
	}
	if p.end == len(p.buf) {
		p.buf = append(p.buf, make([]byte, len(p.buf))...)
	}
	n, err := p.r.Read(p.buf[p.end:])
	p.end += n
	if err != nil {
		p.eof = err
	}
	return n > 0 || err == nil
}

func (p *ttyParser) next() (record, error) {
	for p.end-p.off < tsLen+1 {
		if !p.fill() {
			if p.end > p.off {
				return record{}, io.ErrUnexpectedEOF
			}
			return record{}, p.eof
		}
	}
	rec := record{stream: Stdout, ts: p.buf[p.off : p.off+tsLen]}
	var err error
	if p.buf[p.off+tsLen] != ' ' {
		err = errBadLine
	} else {
		rec.time, err = parseTime(rec.ts)
	}
	if err != nil {
		return record{}, fmt.Errorf("a log message without a timestamp: %.40q", p.buf[p.off:p.end])
	}
	start := p.off + tsLen + 1
	scanned := start
	for {
		data := p.buf[scanned:p.end]
		nl := bytes.IndexByte(data, '\n')
		region := data
		if nl >= 0 {
			region = data[:nl]
		}
		// The next message may begin inside what is scanned so far; look
		// back far enough to see a stamp that straddled the last read.
		from := max(scanned-tsLen-1, start+1)
		if b := p.findStamp(start, from, scanned+len(region), rec.time); b >= 0 {
			rec.text, rec.partial = p.buf[start:b], true
			p.off = b
			return p.done(rec), nil
		}
		if nl >= 0 {
			end := scanned + nl
			text := p.buf[start:end]
			text = bytes.TrimSuffix(text, []byte("\r"))
			rec.text = text
			p.off = end + 1
			return p.done(rec), nil
		}
		scanned = p.end
		if scanned-start > maxTTYPiece {
			rec.text, rec.partial = p.buf[start:scanned], true
			p.off = scanned
			return p.done(rec), nil
		}
		// fill may move the data: keep offsets relative to off.
		off := p.off
		if !p.fill() {
			if p.end > start {
				rec.ts = p.buf[p.off : p.off+tsLen]
				rec.text, rec.partial = p.buf[p.off+tsLen+1:p.end], true
				p.off = p.end
				return p.done(rec), nil
			}
			return record{}, io.ErrUnexpectedEOF
		}
		shift := off - p.off
		start -= shift
		scanned -= shift
		rec.ts = p.buf[p.off : p.off+tsLen]
	}
}

func (p *ttyParser) done(rec record) record {
	p.last = rec.time
	return rec
}

// findStamp returns the index in buf, within [from, to), where the message
// after the one whose text begins at start begins ("<ts> "), or -1.
func (p *ttyParser) findStamp(start, from, to int, after time.Time) int {
	lo := from + tsLen - 1 // where the 'Z' of a stamp beginning at from sits
	hi := min(to+tsLen, p.end)
	for lo < hi {
		j := bytes.Index(p.buf[lo:hi], []byte("Z "))
		if j < 0 {
			return -1
		}
		z := lo + j
		s := z - (tsLen - 1)
		if t, err := parseTime(p.buf[s : s+tsLen]); err == nil && p.boundary(s-start, t, after) {
			return s
		}
		lo = z + 1
	}
	return -1
}

// enginePiece is where the engine cuts a line too long for its buffer.
const enginePiece = 16 << 10

// stampSkew is how far past the reader's clock a stamp inside a TTY
// stream may be and still begin a message.
const stampSkew = 2 * time.Second

// boundary says whether a stamp t found n bytes into the text of a message
// stamped at begins the next message. The engine stamps no earlier than
// the message before, and cuts long lines after exactly 16 KiB; a run's
// last output without a newline can end anywhere, but then the next
// stamp is not in the future. A stamp the container printed itself is
// either older than the engine's (it was printed before the engine read
// it) or in the future (an expiry date, say): neither is taken.
func (p *ttyParser) boundary(n int, t, at time.Time) bool {
	if t.Before(at) {
		return false
	}
	if n == enginePiece {
		return true
	}
	return !t.After(time.Now().Add(stampSkew))
}
