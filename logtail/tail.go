package logtail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// tailChunk is how much Tail reads at a time, backwards when it looks for
// the last lines and forwards when it copies them.
const tailChunk = 64 << 10

// Tail writes the last n complete lines of the file at path to w (n < 0:
// every line). With follow it goes on writing the lines appended to it
// until ctx is cancelled, which is not an error; without, it stops at the
// end of the file.
//
// Only complete lines are written, each once its newline is: the bytes
// after a file's last newline wait for the rest of their line. The last n
// lines are found by reading the file backwards from its end, a chunk at a
// time, so that tailing a big file reads little of it.
//
// It follows path by name for the keeper's rotation, as tail -F does: when
// path is renamed away (to path.1) and a new file is created at path, it
// reads the old file to its end, then the new one from its start. Lines
// written to the old file once the new one exists are not read, and a file
// created and rotated away again before Tail opens it is skipped: the
// keeper writes to one file at a time, and rotates at megabytes. When path
// is renamed away and nothing replaces it (the container was renamed: its
// file gets the new name), Tail goes on following the file it has open,
// under whatever name; a file truncated under it is read again from its
// start.
//
// Following waits on inotify events (Linux): on the directory, for a file
// created or moved in at path, and on the open file, for writes. Nothing
// polls.
func Tail(ctx context.Context, path string, n int, follow bool, w io.Writer) error {
	if !follow {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		c := &copier{f: f, w: w}
		if err := c.seekToLast(n); err != nil {
			return err
		}
		return ignoreCancel(ctx, c.copy(ctx))
	}
	fw, err := newWatch(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer fw.close()
	// The directory is watched before the file is opened, so that a
	// rotation after the open is seen.
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := fw.watchFile(f, path); err != nil {
		f.Close()
		return err
	}
	c := &copier{f: f, w: w}
	defer func() { c.f.Close() }()
	if err := c.seekToLast(n); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, fw.interrupt)
	defer stop()
	// Level-triggered: whatever woke it, read what there is to read and
	// check whether path names another file now.
	for {
		if err := c.copy(ctx); err != nil {
			return ignoreCancel(ctx, err)
		}
		rotated, err := c.follow(ctx, fw, path)
		if err != nil {
			return ignoreCancel(ctx, err)
		}
		if rotated {
			continue
		}
		if err := fw.wait(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch %s: %w", path, err)
		}
	}
}

// ignoreCancel drops the error of a read cut short by ctx's cancellation.
func ignoreCancel(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// copier writes the complete lines of a file to w as they come, from the
// file's offset on.
type copier struct {
	f       *os.File
	w       io.Writer
	buf     []byte
	pending []byte // the start of a line whose newline is not written yet
}

// seekToLast moves the file's offset to the start of its last n complete
// lines.
func (c *copier) seekToLast(n int) error {
	fi, err := c.f.Stat()
	if err != nil {
		return err
	}
	off, err := startOfLast(c.f, fi.Size(), n, tailChunk)
	if err != nil {
		return fmt.Errorf("read %s: %w", c.f.Name(), err)
	}
	_, err = c.f.Seek(off, io.SeekStart)
	return err
}

// copy reads the file from its offset to its end and writes every line
// completed on the way, keeping back what follows the last newline. A file
// shorter than the offset was truncated: it is read again from its start.
func (c *copier) copy(ctx context.Context) error {
	if c.buf == nil {
		c.buf = make([]byte, tailChunk)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := c.f.Read(c.buf)
		if n > 0 {
			if err := c.write(c.buf[:n]); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			truncated, err := c.truncated()
			if err != nil || !truncated {
				return err
			}
			c.pending = c.pending[:0]
			if _, err := c.f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
	}
}

// write writes the lines that b completes, in one Write.
func (c *copier) write(b []byte) error {
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		c.pending = append(c.pending, b...)
		return nil
	}
	out := append(c.pending, b[:i+1]...)
	if _, err := c.w.Write(out); err != nil {
		return err
	}
	c.pending = append(out[:0], b[i+1:]...)
	return nil
}

// truncated reports whether the file is now shorter than what was read.
func (c *copier) truncated() (bool, error) {
	off, err := c.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return false, err
	}
	fi, err := c.f.Stat()
	if err != nil {
		return false, err
	}
	return fi.Size() < off, nil
}

// follow moves on to the file that path names now, if it is not the one
// open: it reads the open one to its end first, then starts the new one
// from its start. It reports whether it moved.
func (c *copier) follow(ctx context.Context, fw *watch, path string) (bool, error) {
	open, err := c.f.Stat()
	if err != nil {
		return false, err
	}
	now, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // renamed away or removed, not replaced (yet)
	}
	if err != nil {
		return false, err
	}
	if os.SameFile(open, now) {
		return false, nil
	}
	next, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // gone again: the next event says where things are
	}
	if err != nil {
		return false, err
	}
	if err := fw.watchFile(next, path); err != nil {
		next.Close()
		return false, err
	}
	if err := c.copy(ctx); err != nil {
		next.Close()
		return false, err
	}
	// An incomplete last line of the old file will not be completed.
	c.pending = c.pending[:0]
	c.f.Close()
	c.f = next
	return true, nil
}

// startOfLast returns the offset in r's first size bytes where its last n
// complete lines begin (n < 0: 0), reading backwards chunk bytes at a
// time: just after the (n+1)th newline from the end, or 0 when there are
// fewer. Bytes after the last newline belong to no complete line.
func startOfLast(r io.ReaderAt, size int64, n int, chunk int) (int64, error) {
	if n < 0 || size <= 0 {
		return 0, nil
	}
	need := n + 1
	buf := make([]byte, min(int64(chunk), size))
	for end := size; end > 0; {
		k := min(int64(len(buf)), end)
		off := end - k
		b := buf[:k]
		if _, err := r.ReadAt(b, off); err != nil {
			return 0, err
		}
		for {
			i := bytes.LastIndexByte(b, '\n')
			if i < 0 {
				break
			}
			if need--; need == 0 {
				return off + int64(i) + 1, nil
			}
			b = b[:i]
		}
		end = off
	}
	return 0, nil
}

// watch is an inotify instance watching one directory and the file being
// followed. Its descriptor is non-blocking, wrapped in an *os.File, so that
// a wait sits in Go's netpoller and a deadline can cut it short.
type watch struct {
	fd     int
	events *os.File
	fileWd int // the open file's watch; -1: none
	buf    []byte
}

// newWatch watches dir for files created or moved into it.
func newWatch(dir string) (*watch, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	w := &watch{fd: fd, events: os.NewFile(uintptr(fd), "inotify"), fileWd: -1}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_ONLYDIR); err != nil {
		w.close()
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	return w, nil
}

// watchFile watches the open file f for writes, in place of the file
// watched before. It names f by its descriptor in /proc, which is the
// open file whatever has been renamed since it was opened; without /proc
// it falls back to path.
func (w *watch) watchFile(f *os.File, path string) error {
	const mask = unix.IN_MODIFY
	wd, err := unix.InotifyAddWatch(w.fd, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), mask)
	if errors.Is(err, unix.ENOENT) {
		wd, err = unix.InotifyAddWatch(w.fd, path, mask)
	}
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	if w.fileWd >= 0 && w.fileWd != wd {
		// Gone already when the old file was deleted: nothing to undo then.
		_, _ = unix.InotifyRmWatch(w.fd, uint32(w.fileWd))
	}
	w.fileWd = wd
	return nil
}

// wait waits for the next events and discards them: the caller looks at
// the files themselves.
func (w *watch) wait() error {
	if w.buf == nil {
		// Room for many events; at least one with the longest name.
		w.buf = make([]byte, 64<<10)
	}
	_, err := w.events.Read(w.buf)
	return err
}

// interrupt makes the wait under way, and every later one, return.
func (w *watch) interrupt() { _ = w.events.SetReadDeadline(time.Unix(1, 0)) }

func (w *watch) close() { _ = w.events.Close() }
