package logtail

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dockman/dockman/internal/durable"
)

// logFile is one container's current log file, open for appending. It is
// only ever appended whole lines; a line cut short (dockman killed in a
// write that the disk could not take whole) is cut off when it is opened
// again, and the line is then read again from the engine.
type logFile struct {
	path string
	f    *os.File
	size int64
}

// openLogFile opens (creating) the file at path for appending, after
// removing a trailing incomplete line.
func openLogFile(path string) (*logFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	size, err := completeLines(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("recover %s: %w", path, err)
	}
	return &logFile{path: path, f: f, size: size}, nil
}

// completeLines truncates f after its last newline and returns its size.
func completeLines(f *os.File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	end := size
	buf := make([]byte, 8<<10)
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end != size {
		if err := f.Truncate(end); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// write appends b, whole lines. On a short write (a full disk) the file
// may end in part of a line: the caller closes it and opens it again.
func (lf *logFile) write(b []byte) error {
	n, err := lf.f.Write(b)
	lf.size += int64(n)
	return err
}

func (lf *logFile) sync() error { return lf.f.Sync() }

func (lf *logFile) close() error { return lf.f.Close() }

// rotated is the name of the i-th rotated file of path (1: the newest).
func rotated(path string, i int) string { return path + "." + strconv.Itoa(i) }

// rotate makes the current file path.1 (shifting the older ones, and
// dropping those past keep files in all), and opens a new empty file at
// path. Renaming rather than copying and truncating is what `tail -F`
// follows, and no line is in two files or in none. The file is synced
// first: the cursor saved afterwards never points past what is on disk.
func (lf *logFile) rotate(keep int) error {
	if err := lf.f.Sync(); err != nil {
		return err
	}
	keep = max(keep, 2)
	// Shift only the files there are: with a large keep, most names
	// do not exist.
	n := 0
	for n < keep-1 {
		if _, err := os.Lstat(rotated(lf.path, n+1)); err != nil {
			break
		}
		n++
	}
	if n == keep-1 {
		_ = os.Remove(rotated(lf.path, n))
		n--
	}
	for i := n; i >= 1; i-- {
		if err := os.Rename(rotated(lf.path, i), rotated(lf.path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(lf.path, rotated(lf.path, 1)); err != nil {
		return err
	}
	lf.f.Close()
	f, err := os.OpenFile(lf.path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		lf.f = nil
		return err
	}
	lf.f, lf.size = f, 0
	return durable.SyncDir(filepath.Dir(lf.path))
}

// renameFiles moves a container's files, the rotated ones too, from one
// current path to another (the container was renamed).
func renameFiles(from, to string) error {
	if from == to {
		return nil
	}
	if err := os.Rename(from, to); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for i := 1; ; i++ {
		err := os.Rename(rotated(from, i), rotated(to, i))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// tail is what the end of a container's files says: where to resume.
type tail struct {
	// last is the newest engine timestamp in the lines read (zero: none).
	last time.Time
	// recent counts the lines stamped within window of last, as written,
	// by a 64-bit hash of the whole line (stamp included): the engine may
	// send them again on resume, and only these are dropped. Hashes keep
	// it small: a window of a fast writer holds 100,000 lines.
	recent map[uint64]int32
	// covered says recent holds every line of the window that was
	// written: always, now that every file is read back far enough.
	covered bool
}

// resumeWindow is how far before the newest line written the keeper asks
// the engine to resume. The engine stamps each stream's lines on its own
// goroutine and stores them in the order it gets them, so a line on one
// stream may be stored after a line of the other stamped a little later:
// resuming exactly after the newest stamp would drop it. The lines of the
// window that were written already are recognised and skipped.
const resumeWindow = 250 * time.Millisecond

// lineSeed seeds the hashes of lines; one per process is enough, since
// the hashes are never stored.
var lineSeed = maphash.MakeSeed()

func lineHash(b []byte) uint64 { return maphash.Bytes(lineSeed, b) }

// readTail reads back from the end of path, and on into the rotated files
// while they do not reach far enough, the lines stamped within window of
// the newest.
func readTail(path string, window time.Duration) (tail, error) {
	t := tail{recent: map[uint64]int32{}}
	type seen struct {
		at   time.Time
		hash uint64
	}
	var lines []seen
	stop := false
	for i := 0; !stop; i++ {
		p := path
		if i > 0 {
			p = rotated(path, i)
		}
		err := eachLineBackward(p, func(b []byte) bool {
			l, err := ParseLine(b)
			if err != nil {
				return true
			}
			if l.Time.After(t.last) {
				t.last = l.Time
			}
			// Twice the window: lines a little out of stamp order are
			// still seen.
			if l.Time.Before(t.last.Add(-2 * window)) {
				stop = true
				return false
			}
			lines = append(lines, seen{l.Time, lineHash(b)})
			return true
		})
		if errors.Is(err, os.ErrNotExist) {
			if i == 0 {
				continue // rotated away just before a crash
			}
			// No older file: the lines read are all there are.
			break
		}
		if err != nil {
			return tail{}, err
		}
	}
	t.covered = true
	for _, l := range lines {
		if !l.at.Before(t.last.Add(-window)) {
			t.recent[l.hash]++
		}
	}
	return t, nil
}

// eachLineBackward calls fn with each complete line of the file at path
// (with its newline), last first, until fn returns false.
func eachLineBackward(path string, fn func([]byte) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	end := st.Size()
	var carry []byte // the start of the line that ends the next chunk read
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		end -= n
		chunk := append(append([]byte(nil), buf[:n]...), carry...)
		for {
			i := bytes.LastIndexByte(chunk[:max(len(chunk)-1, 0)], '\n')
			if i < 0 {
				break
			}
			line := chunk[i+1:]
			if len(line) > 0 && line[len(line)-1] == '\n' && !fn(line) {
				return nil
			}
			chunk = chunk[:i+1]
		}
		carry = chunk
	}
	if len(carry) > 0 && carry[len(carry)-1] == '\n' {
		fn(carry)
	}
	return nil
}
