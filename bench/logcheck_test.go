package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// This file checks log files against what loggen wrote and what `docker
// logs` gives: every number exactly once, in order per stream, each line
// byte for byte as the engine serves it, timestamps included.

// tsLen is the width of the engine's timestamps, 2006-01-02T15:04:05.000000000Z.
const tsLen = 30

// criOverhead is what a keeper's file line has beyond the same line from
// `docker logs --timestamps`: "stdout F " (or "stderr F ") after the stamp.
const criOverhead = len("stdout F ")

// byStream holds a container's lines as "<timestamp> <text>", the way
// `docker logs --timestamps` prints them, per stream ("out" or "err", the
// word loggen puts in its text), in the order read. Lines without that
// word (empty lines, other programs' output) are under "-out" and "-err",
// after the stream they came from.
type byStream map[string][]string

func (s byStream) count() int {
	n := 0
	for _, l := range s {
		n += len(l)
	}
	return n
}

// verdict is what one check found wrong; the first few problems are kept
// word for word.
type verdict struct {
	missing, dup, disorder, format, diff int
	problems                             []string
}

func (v *verdict) addf(format string, args ...any) {
	if len(v.problems) < 5 {
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
}

func (v *verdict) ok() bool {
	return v.missing+v.dup+v.disorder+v.format+v.diff == 0
}

func (v *verdict) String() string {
	return fmt.Sprintf("missing %d, duplicated %d, out of order %d, malformed %d, unlike docker's %d; first: %q",
		v.missing, v.dup, v.disorder, v.format, v.diff, v.problems)
}

// rotatedFirst lists path's rotated files (path.N … path.1) and then path,
// the order their lines were written in.
func rotatedFirst(path string) []string {
	var rotated []string
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		rotated = append(rotated, p)
	}
	out := make([]string, 0, len(rotated)+1)
	for i := len(rotated) - 1; i >= 0; i-- {
		out = append(out, rotated[i])
	}
	return append(out, path)
}

// fileSize is the size of path plus its rotated files (0 when missing).
func fileSize(path string) int64 {
	var n int64
	for _, p := range rotatedFirst(path) {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// readKept reads the keeper's files of one container strictly in the CRI
// format (`<ts> <stdout|stderr> <F|P> <text>`), joining the pieces of a
// long line (P lines, then an F) into one line with the first piece's
// stamp. Malformed lines, and loggen's lines whose CRI stream is not the
// one loggen wrote them to, count in v.format.
func readKept(path string, v *verdict) (byStream, error) {
	out := byStream{}
	type pieces struct {
		open bool
		ts   []byte
		text []byte
	}
	partial := map[string]*pieces{"stdout": {}, "stderr": {}}
	for _, p := range rotatedFirst(path) {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			v.format++
			v.addf("%s does not end in a newline", p)
		}
		for line := range bytes.Lines(data) {
			line = bytes.TrimSuffix(line, []byte("\n"))
			ts, stream, tag, text, ok := splitCRI(line)
			if !ok {
				v.format++
				v.addf("malformed line %q", clip(line))
				continue
			}
			p := partial[stream]
			if tag == 'P' {
				if !p.open {
					p.open, p.ts, p.text = true, ts, nil
				}
				p.text = append(p.text, text...)
				continue
			}
			if p.open {
				ts, text = p.ts, append(p.text, text...)
				p.open = false
			}
			word := streamWord(text)
			switch {
			case word == "":
				word = "-" + strings.TrimPrefix(stream, "std")
			case "std"+word != stream:
				v.format++
				v.addf("line %q in the %s stream", clip(text), stream)
			}
			out[word] = append(out[word], string(ts)+" "+string(text))
		}
	}
	for s, p := range partial {
		if p.open {
			v.format++
			v.addf("%s ends in a partial line %q", s, clip(p.text))
		}
	}
	return out, nil
}

// splitCRI splits one file line into its fields.
func splitCRI(l []byte) (ts []byte, stream string, tag byte, text []byte, ok bool) {
	if len(l) < tsLen+len(" stdout F") || l[tsLen] != ' ' || l[tsLen-1] != 'Z' || l[10] != 'T' {
		return nil, "", 0, nil, false
	}
	ts, rest := l[:tsLen], l[tsLen+1:]
	switch {
	case bytes.HasPrefix(rest, []byte("stdout ")):
		stream = "stdout"
	case bytes.HasPrefix(rest, []byte("stderr ")):
		stream = "stderr"
	default:
		return nil, "", 0, nil, false
	}
	rest = rest[len("stdout "):]
	if rest[0] != 'F' && rest[0] != 'P' {
		return nil, "", 0, nil, false
	}
	tag = rest[0]
	switch {
	case len(rest) == 1:
		text = []byte{}
	case rest[1] == ' ':
		text = rest[2:]
	default:
		return nil, "", 0, nil, false
	}
	return ts, stream, tag, text, true
}

// pieceLen is the size of the pieces the engine cuts a long line into.
const pieceLen = 16 << 10

// readDocker reads what `docker logs --timestamps` printed of a non-TTY
// loggen container: its stdout in path, its stderr in path.err (see
// dockerLogs). docker prints the pieces of a line longer than 16 KiB each
// with its stamp and no newline between them: they are joined under the
// first piece's stamp, as in a kept file.
func readDocker(path string, v *verdict) (byStream, error) {
	out := byStream{}
	for _, f := range []struct{ path, stream string }{{path, "out"}, {path + ".err", "err"}} {
		if err := readDockerStream(f.path, f.stream, out, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readDockerStream(path, stream string, out byStream, v *verdict) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for line := range bytes.Lines(data) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) < tsLen+1 || line[tsLen] != ' ' {
			v.format++
			v.addf("docker logs printed %q", clip(line))
			continue
		}
		for start := tsLen + 1; len(line) > start+pieceLen+tsLen; start += pieceLen {
			next := line[start+pieceLen:]
			if next[tsLen-1] != 'Z' || next[tsLen] != ' ' {
				break
			}
			line = append(line[:start+pieceLen:start+pieceLen], next[tsLen+1:]...)
		}
		w := streamWord(line[tsLen+1:])
		switch {
		case w == "":
			w = "-" + stream
		case w != stream:
			v.format++
			v.addf("docker printed %q on std%s", clip(line), stream)
		}
		out[w] = append(out[w], string(line))
	}
	return nil
}

// streamWord is the stream loggen names in a line's text ("out" or "err"),
// else "".
func streamWord(text []byte) string {
	_, rest, ok := bytes.Cut(text, []byte(" "))
	if !ok {
		return ""
	}
	w, _, _ := bytes.Cut(rest, []byte(" "))
	if s := string(w); s == "out" || s == "err" {
		return s
	}
	return ""
}

// checkNumbers checks that the numbers 1..n are each there exactly once,
// increasing within each stream.
func checkNumbers(lines byStream, n int, v *verdict) {
	seen := make([]uint8, n+1)
	for stream, ls := range lines {
		if strings.HasPrefix(stream, "-") {
			continue // not loggen's numbered lines
		}
		last := 0
		for _, l := range ls {
			f := strings.Fields(l[tsLen+1:])
			if len(f) < 3 {
				v.format++
				v.addf("no number in %q", clip([]byte(l)))
				continue
			}
			seq, err := strconv.Atoi(f[2])
			if err != nil || seq < 1 || seq > n {
				v.format++
				v.addf("bad number in %q", clip([]byte(l)))
				continue
			}
			if seen[seq] == 1 {
				v.dup++
				v.addf("%s: %d again", stream, seq)
			}
			if seen[seq] < 255 {
				seen[seq]++
			}
			if seq <= last {
				v.disorder++
				v.addf("%s: %d after %d", stream, seq, last)
			}
			last = seq
		}
	}
	for seq := 1; seq <= n; seq++ {
		if seen[seq] == 0 {
			v.missing++
			v.addf("%d missing", seq)
		}
	}
}

// compareLines counts the lines of kept that differ from docker's, stream
// by stream and position by position, lines that one has past the other's
// end included.
func compareLines(kept, docker byStream, v *verdict) {
	for _, s := range []string{"out", "err", "-out", "-err"} {
		k, d := kept[s], docker[s]
		for i := range max(len(k), len(d)) {
			switch {
			case i >= len(k):
				v.diff++
				v.addf("%s: docker's line %d %q is not kept", s, i+1, clip([]byte(d[i])))
			case i >= len(d):
				v.diff++
				v.addf("%s: kept line %d %q is not docker's", s, i+1, clip([]byte(k[i])))
			case k[i] != d[i]:
				v.diff++
				v.addf("%s: line %d is %q, docker's %q", s, i+1, clip([]byte(k[i])), clip([]byte(d[i])))
			}
		}
	}
}

func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// TestChecker makes sure the checks the log benchmarks rely on catch what
// they claim to: a lost, a repeated, a reordered, a malformed and an
// altered line, and join the pieces of a long line.
func TestChecker(t *testing.T) {
	const ts1, ts2, ts3 = "2026-11-22T10:00:00.000000001Z", "2026-11-22T10:00:00.000000002Z", "2026-11-22T10:00:00.000000003Z"
	dockerOut, dockerErr := ts1+" a out 1\n"+ts3+" a out 3\n", ts2+" a err 2\n"
	good := ts1 + " stdout F a out 1\n" + ts2 + " stderr F a err 2\n" + ts3 + " stdout F a out 3\n"
	tests := []struct {
		name, kept string
		want       verdict
	}{
		{"good", good, verdict{}},
		{"pieces joined", ts1 + " stdout P a o\n" + ts1 + " stdout P ut \n" + ts1 + " stdout F 1\n" + ts2 + " stderr F a err 2\n" + ts3 + " stdout F a out 3\n", verdict{}},
		{"lost", ts1 + " stdout F a out 1\n" + ts3 + " stdout F a out 3\n", verdict{missing: 1, diff: 1}},
		{"repeated", good + ts3 + " stdout F a out 3\n", verdict{dup: 1, disorder: 1, diff: 1}},
		{"reordered", ts3 + " stdout F a out 3\n" + ts2 + " stderr F a err 2\n" + ts1 + " stdout F a out 1\n", verdict{disorder: 1, diff: 2}},
		{"wrong stream", ts1 + " stdout F a out 1\n" + ts2 + " stdout F a err 2\n" + ts3 + " stdout F a out 3\n", verdict{format: 1}},
		{"malformed", good + "2026-11-22 junk\n", verdict{format: 1}},
		{"altered stamp", ts1 + " stdout F a out 1\n" + ts3 + " stderr F a err 2\n" + ts3 + " stdout F a out 3\n", verdict{diff: 1}},
		{"no last newline", strings.TrimSuffix(good, "\n"), verdict{format: 1}},
		{"partial at the end", good + ts3 + " stdout P a out\n", verdict{format: 1}},
	}
	dir := t.TempDir()
	dpath := filepath.Join(dir, "docker")
	if err := os.WriteFile(dpath, []byte(dockerOut), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dpath+".err", []byte(dockerErr), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kpath := filepath.Join(t.TempDir(), "kept.log")
			if err := os.WriteFile(kpath, []byte(tt.kept), 0o644); err != nil {
				t.Fatal(err)
			}
			v, n, err := checkAgainstDocker(kpath, dpath, 3)
			if err != nil {
				t.Fatal(err)
			}
			if n != 3 {
				t.Errorf("docker gave %d lines, want 3", n)
			}
			got := [5]int{v.missing, v.dup, v.disorder, v.format, v.diff}
			want := [5]int{tt.want.missing, tt.want.dup, tt.want.disorder, tt.want.format, tt.want.diff}
			if got != want {
				t.Errorf("verdict %v, want %+v", v, tt.want)
			}
		})
	}
}

func TestRotatedFirst(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.log")
	for _, name := range []string{"x.log", "x.log.1", "x.log.2"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := rotatedFirst(p)
	want := []string{p + ".2", p + ".1", p}
	if !slices.Equal(got, want) {
		t.Errorf("rotatedFirst = %q, want %q", got, want)
	}
	if n := fileSize(p); n != int64(len("x.log\nx.log.1\nx.log.2\n")) {
		t.Errorf("fileSize = %d", n)
	}
}

func TestReadDockerJoinsPieces(t *testing.T) {
	const ts1, ts2 = "2026-11-22T10:00:00.000000001Z", "2026-11-22T10:00:00.000000002Z"
	long := "a out 1 " + strings.Repeat("x", 40000-len("a out 1 "))
	printed := ts1 + " " + long[:pieceLen] + ts1 + " " + long[pieceLen:2*pieceLen] + ts1 + " " + long[2*pieceLen:] + "\n"
	p := filepath.Join(t.TempDir(), "docker")
	if err := os.WriteFile(p, []byte(printed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".err", []byte(ts2+" a err 2\n"+ts2+" \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v := &verdict{}
	got, err := readDocker(p, v)
	if err != nil || !v.ok() {
		t.Fatal(err, v)
	}
	if len(got["out"]) != 1 || got["out"][0] != ts1+" "+long || len(got["err"]) != 1 || len(got["-err"]) != 1 {
		t.Errorf("read %d out lines (first %d bytes), %d err lines, %d other err lines", len(got["out"]), len(got["out"][0]), len(got["err"]), len(got["-err"]))
	}
}
