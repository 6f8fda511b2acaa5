package logtail

import (
	"bytes"
	"errors"
	"time"
)

// The file format is the CRI log format that Kubernetes nodes write, one
// line per message the engine stored:
//
//	<timestamp> <stream> <tag> <text>\n
//
// timestamp is the engine's own stamp, RFC 3339 in UTC with nine fraction
// digits (fixed width, so files sort and compare as text); stream is
// "stdout" or "stderr" (a TTY container's output is all "stdout"); tag is
// "F" for a full line and "P" for a partial one: a piece of a line longer
// than the engine's 16 KiB buffer, or the last output of a run that ended
// without a newline. The pieces of one long line are consecutive P lines
// ending with an F line; joining their texts gives the line back. text is
// the bytes the container wrote, unchanged (invalid UTF-8 included), without
// the newline (and, for a TTY container, without the "\r" its terminal adds
// before it).

// Stream names the output a line came from.
type Stream uint8

const (
	Stdout Stream = 1
	Stderr Stream = 2
)

func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// tsLen is the width of the engine's timestamps: 2006-01-02T15:04:05.000000000Z.
const tsLen = len("2006-01-02T15:04:05.000000000Z")

// Line is one line of a log file, parsed.
type Line struct {
	Time    time.Time
	Stream  Stream
	Partial bool
	Text    []byte
}

// errBadLine is returned for a line that is not in the file format.
var errBadLine = errors.New("not a log file line")

// ParseLine parses one line of a log file, with or without its newline.
// Text aliases b.
func ParseLine(b []byte) (Line, error) {
	b = bytes.TrimSuffix(b, []byte("\n"))
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return Line{}, errBadLine
	}
	ts, err := parseTime(b[:sp])
	if err != nil {
		return Line{}, errBadLine
	}
	rest := b[sp+1:]
	var l Line
	l.Time = ts
	switch {
	case bytes.HasPrefix(rest, []byte("stdout ")):
		l.Stream = Stdout
	case bytes.HasPrefix(rest, []byte("stderr ")):
		l.Stream = Stderr
	default:
		return Line{}, errBadLine
	}
	rest = rest[len("stdout "):]
	if len(rest) < 1 || (rest[0] != 'F' && rest[0] != 'P') || (len(rest) > 1 && rest[1] != ' ') {
		return Line{}, errBadLine
	}
	l.Partial = rest[0] == 'P'
	if len(rest) > 2 {
		l.Text = rest[2:]
	} else {
		l.Text = []byte{}
	}
	return l, nil
}

// appendLine appends one file line to dst: ts is the engine's timestamp as
// it sent it.
func appendLine(dst, ts []byte, s Stream, partial bool, text []byte) []byte {
	dst = append(dst, ts...)
	if s == Stderr {
		dst = append(dst, " stderr "...)
	} else {
		dst = append(dst, " stdout "...)
	}
	if partial {
		dst = append(dst, 'P', ' ')
	} else {
		dst = append(dst, 'F', ' ')
	}
	dst = append(dst, text...)
	return append(dst, '\n')
}

// parseTime reads an engine timestamp. The engine's fixed-width UTC form is
// read by hand (it is parsed once per line); anything else RFC 3339 goes to
// time.Parse.
func parseTime(b []byte) (time.Time, error) {
	if len(b) == tsLen && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == '.' && b[29] == 'Z' {
		var v [7]int
		fields := [7][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}, {20, 29}}
		ok := true
		for i, f := range fields {
			n := 0
			for _, c := range b[f[0]:f[1]] {
				if c < '0' || c > '9' {
					ok = false
					break
				}
				n = n*10 + int(c-'0')
			}
			v[i] = n
		}
		if ok && v[1] >= 1 && v[1] <= 12 && v[2] >= 1 && v[2] <= 31 && v[3] < 24 && v[4] < 60 && v[5] < 61 {
			return time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], v[6], time.UTC), nil
		}
	}
	return time.Parse(time.RFC3339Nano, string(b))
}

// formatTime writes t the engine's way: UTC, nine fraction digits.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
}
