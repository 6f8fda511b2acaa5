// Command loggen writes numbered lines to stdout and stderr, for the tests
// and benchmarks of dockman's log keeper. It is built static (CGO_ENABLED=0)
// into the image dockman-test/loggen (testenv.LogGenImage), with itself as
// the entrypoint, so a container's command is its flags.
//
// Each numbered line is
//
//	<tag> <out|err> <seq>[ padding]
//
// where seq is one counter shared by both streams, starting at 1, so that a
// checker can prove that every number lands exactly once, and in order
// within its stream. Flags:
//
//	-n N            write N numbered lines, then exit 0 (0: no end; default 100)
//	-rate R         R lines per second in all, both streams together (0, the
//	                default: as fast as it can). Paced output is written in
//	                batches every 10 ms (or at each line's time when lines are
//	                further apart), each batch as many lines as are due by then
//	                since the start, so the average rate is exact and there is
//	                no sleep per line; every line is its own write(2), as the
//	                engine stamps a line when it reads it. Unpaced output is
//	                buffered in 64 KiB writes of whole lines.
//	-streams S      out, err, or both (default out). With both, odd numbers go
//	                to stdout and even ones to stderr.
//	-tag T          the first word of every line (default loggen), e.g. the
//	                container's role
//	-long K         every K-th line (seq divisible by K) is padded with 'x' to
//	                40,000 bytes without its newline, so that the engine
//	                stores it in 16 KiB pieces (16384+16384+7232)
//	-empty K        an empty line follows every K-th line, on its stream
//	-binary K       every K-th line carries " \xff\xfe\xc3(" after its number:
//	                bytes that are not valid UTF-8 (before any -long padding).
//	                Docker's json-file log driver stores each such byte as
//	                U+FFFD, so `docker logs` returns " \xef\xbf\xbd" three
//	                times and "(".
//	-seq FILE       keep the last number used in FILE (inside the container)
//	                and go on from it when started again, so that numbers stay
//	                unique across restarts of the container. A number is
//	                recorded before its line is written: SIGTERM (docker stop,
//	                docker restart) leaves no gap, but a SIGKILL can leave gaps
//	                (the line being written, and with unpaced output the
//	                buffered lines), never a repeated number.
//	-hold           after the N lines, keep running until SIGTERM
//
// SIGTERM or SIGINT, at any time, ends it promptly with status 0 after the
// lines already begun are written out. Status 2 means bad flags, 1 a failed
// write.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// longLen is the length of a -long line without its newline: more than
	// two of the engine's 16 KiB log buffers.
	longLen = 40000
	// binaryMark is what a -binary line carries: 0xff and 0xfe never occur
	// in UTF-8, and 0xc3 must be followed by a continuation byte, not '('.
	binaryMark = " \xff\xfe\xc3("
	// batchEvery is the pause between two batches of paced lines.
	batchEvery = 10 * time.Millisecond
	// bufSize is the size of one write when unpaced.
	bufSize = 64 << 10
)

func main() {
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		close(stop)
	}()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, stop))
}

// config is the command line, parsed.
type config struct {
	n                   uint64
	rate                float64
	streams             string
	tag                 string
	long, empty, binary uint64
	seqFile             string
	hold                bool
}

func parse(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loggen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Uint64Var(&c.n, "n", 100, "numbered lines to write (0: no end)")
	fs.Float64Var(&c.rate, "rate", 0, "lines per second, both streams together (0: as fast as possible)")
	fs.StringVar(&c.streams, "streams", "out", "out, err or both (odd numbers to stdout, even to stderr)")
	fs.StringVar(&c.tag, "tag", "loggen", "first word of every line")
	fs.Uint64Var(&c.long, "long", 0, "pad every K-th line to 40,000 bytes (0: none)")
	fs.Uint64Var(&c.empty, "empty", 0, "an empty line after every K-th line (0: none)")
	fs.Uint64Var(&c.binary, "binary", 0, "invalid UTF-8 in every K-th line (0: none)")
	fs.StringVar(&c.seqFile, "seq", "", "file keeping the last number, to go on from it after a restart")
	fs.BoolVar(&c.hold, "hold", false, "after the lines, run until SIGTERM")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.streams != "out" && c.streams != "err" && c.streams != "both":
		return c, fmt.Errorf("-streams %q: want out, err or both", c.streams)
	case c.rate < 0:
		return c, errors.New("-rate must not be negative")
	case c.tag == "" || strings.ContainsAny(c.tag, " \t\r\n"):
		return c, fmt.Errorf("-tag %q: want one word", c.tag)
	}
	return c, nil
}

// run is main without the signals and the exit: it returns the exit status.
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	cfg, err := parse(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "loggen: %v\n", err)
		}
		return 2
	}
	g := &generator{cfg: cfg, stop: stop}
	g.out = &stream{w: stdout, name: "out", buffered: cfg.rate == 0}
	g.err = &stream{w: stderr, name: "err", buffered: cfg.rate == 0}
	if sameOutput(stdout, stderr) {
		// A TTY (or 2>&1): one buffer, so that the lines stay in order.
		g.err = g.out
	}
	if err := g.openSeq(); err != nil {
		fmt.Fprintf(stderr, "loggen: %v\n", err)
		return 1
	}
	if err := g.generate(); err != nil {
		fmt.Fprintf(stderr, "loggen: %v\n", err)
		return 1
	}
	if cfg.hold {
		<-stop
	}
	return 0
}

// sameOutput reports whether stdout and stderr are one file.
func sameOutput(a, b io.Writer) bool {
	if a == b {
		return true
	}
	fa, ok := a.(*os.File)
	fb, ok2 := b.(*os.File)
	if !ok || !ok2 {
		return false
	}
	sa, err := fa.Stat()
	sb, err2 := fb.Stat()
	return err == nil && err2 == nil && os.SameFile(sa, sb)
}

// stream is one output with its pending bytes (whole lines).
type stream struct {
	w        io.Writer
	name     string // std<name>, for errors
	buffered bool
	buf      []byte
}

// generator writes the lines and keeps the counter.
type generator struct {
	cfg      config
	stop     <-chan struct{}
	out, err *stream
	seq      uint64   // the last number used
	seqf     *os.File // -seq: where seq is kept, nil without it
	kept     uint64   // the number last written to seqf
}

// openSeq reads the number a previous run left in the -seq file.
func (g *generator) openSeq() error {
	if g.cfg.seqFile == "" {
		return nil
	}
	f, err := os.OpenFile(g.cfg.seqFile, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return err
	}
	if s := strings.TrimSpace(string(b)); s != "" {
		if g.seq, err = strconv.ParseUint(s, 10, 64); err != nil {
			f.Close()
			return fmt.Errorf("%s holds %q, not a number", g.cfg.seqFile, s)
		}
	}
	g.seqf, g.kept = f, g.seq
	return nil
}

// keep records the last number used in the -seq file, before the lines up
// to it are written: fixed width at offset 0, so one pwrite(2) replaces it.
func (g *generator) keep() error {
	if g.seqf == nil || g.kept == g.seq {
		return nil
	}
	var b [21]byte
	for i, v := 19, g.seq; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	b[20] = '\n'
	if _, err := g.seqf.WriteAt(b[:], 0); err != nil {
		return fmt.Errorf("keeping the number in %s: %w", g.cfg.seqFile, err)
	}
	g.kept = g.seq
	return nil
}

// streamFor says where line seq goes, and the name the line gives it.
func (g *generator) streamFor(seq uint64) (*stream, string) {
	switch g.cfg.streams {
	case "err":
		return g.err, "err"
	case "both":
		if seq%2 == 0 {
			return g.err, "err"
		}
	}
	return g.out, "out"
}

// appendLine appends line seq (and the empty line after it, if due) to dst.
func (g *generator) appendLine(dst []byte, seq uint64, name string) []byte {
	start := len(dst)
	dst = append(dst, g.cfg.tag...)
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, seq, 10)
	if every(g.cfg.binary, seq) {
		dst = append(dst, binaryMark...)
	}
	if every(g.cfg.long, seq) {
		if len(dst)-start < longLen {
			dst = append(dst, ' ')
		}
		for len(dst)-start < longLen {
			dst = append(dst, 'x')
		}
	}
	dst = append(dst, '\n')
	if every(g.cfg.empty, seq) {
		dst = append(dst, '\n')
	}
	return dst
}

func every(k, seq uint64) bool { return k > 0 && seq%k == 0 }

// line makes the next line, and writes it out unless it is buffered.
func (g *generator) line() error {
	g.seq++
	s, name := g.streamFor(g.seq)
	s.buf = g.appendLine(s.buf, g.seq, name)
	if s.buffered && len(s.buf) < bufSize {
		return nil
	}
	return g.flush(s)
}

// flush writes out what s holds, the counter kept first.
func (g *generator) flush(s *stream) error {
	if len(s.buf) == 0 {
		return nil
	}
	if err := g.keep(); err != nil {
		return err
	}
	_, err := s.w.Write(s.buf)
	s.buf = s.buf[:0]
	if err != nil {
		return fmt.Errorf("writing to std%s: %w", s.name, err)
	}
	return nil
}

func (g *generator) flushAll() error {
	return errors.Join(g.flush(g.out), g.flush(g.err), g.keep()) // g.err may be g.out: then a no-op
}

func (g *generator) stopped() bool {
	select {
	case <-g.stop:
		return true
	default:
		return false
	}
}

// generate writes the lines, paced or not, until N are written or a stop.
func (g *generator) generate() error {
	if g.cfg.rate == 0 {
		for i := uint64(0); g.cfg.n == 0 || i < g.cfg.n; i++ {
			if g.stopped() {
				break
			}
			if err := g.line(); err != nil {
				return err
			}
		}
		return g.flushAll()
	}

	start := time.Now()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var written uint64 // lines written by this run
	for g.cfg.n == 0 || written < g.cfg.n {
		// Line i (from 0) is due at start + i/rate.
		due := uint64(time.Since(start).Seconds()*g.cfg.rate) + 1
		if g.cfg.n > 0 {
			due = min(due, g.cfg.n)
		}
		for ; written < due; written++ {
			if g.stopped() {
				return g.flushAll()
			}
			if err := g.line(); err != nil {
				return err
			}
		}
		if g.cfg.n > 0 && written >= g.cfg.n {
			break
		}
		next := start.Add(time.Duration(float64(written) / g.cfg.rate * float64(time.Second)))
		timer.Reset(max(time.Until(next), batchEvery))
		select {
		case <-g.stop:
			return g.flushAll()
		case <-timer.C:
		}
	}
	return g.flushAll()
}
