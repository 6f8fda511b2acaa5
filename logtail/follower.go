package logtail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/dockman/dockman/internal/workqueue"
	"github.com/dockman/dockman/manager"
)

// writeError is a failure to write a container's file: the directory or
// the disk, not the engine.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// finalTail is how many lines the read after a container stopped asks
// for: what the engine stored after the follow ended is a line or two.
const finalTail = 100

// flushAt is how much output is gathered before it is written while the
// engine is sending fast; when it pauses, what is gathered is written at
// once, so tail -f sees each line as soon as the engine has sent it.
const flushAt = 64 << 10

// follow copies container c's log into its file for as long as there may
// be more: through restarts of the container, and with backoff through
// failures to write. It ends when the container is stopped and read to
// its end, is removed, cannot be read, or the engine is gone, and then
// queues the container for another look.
func (k *Keeper) follow(ctx context.Context, c *ctr, tty, running bool, startedAt string) {
	defer k.wg.Done()
	if !running {
		select {
		case k.drains <- struct{}{}:
			defer func() { <-k.drains }()
		case <-ctx.Done():
			c.mu.Lock()
			c.following = false
			c.mu.Unlock()
			return
		}
	}
	defer func() {
		c.mu.Lock()
		if c.file != nil {
			k.syncLocked(c)
			c.file.close()
			c.file = nil
		}
		c.following = false
		c.mu.Unlock()
		k.queue.Add(c.id)
	}()
	failures := 0
	for {
		wrote, _, err := k.copyLog(ctx, c, tty, true, 0)
		if ctx.Err() != nil {
			return
		}
		if wrote {
			failures = 0 // the first write that worked said so already (flush)
		}
		var werr *writeError
		switch {
		case errors.As(err, &werr):
			k.opts.Observer.Failed("write")
			k.log.Warn("cannot write log file", "name", c.name, "err", err)
			k.setFailing(c.id, err)
			c.setState(StateFailing, rootCause(err).Error())
		case errors.Is(err, manager.ErrLogsUnreadable):
			c.mu.Lock()
			k.markUnreadableLocked(c, "its log driver cannot be read back")
			c.mu.Unlock()
			return
		case c.endsOn(err):
			return
		case err != nil:
			k.opts.Observer.Failed("read")
			k.log.Warn("log stream failed", "name", c.name, "err", err)
			c.setState(StateFailing, err.Error())
		default:
			// The stream ended: the container stopped, restarted, or the
			// engine went away. Inspect tells which.
			ictx, cancel := context.WithTimeout(ctx, inspectTimeout)
			info, _, err := k.e.Inspect(ictx, c.id)
			cancel()
			switch {
			case ctx.Err() != nil, c.endsOn(err):
				return
			case err != nil:
				k.log.Warn("inspect after the log ended", "name", c.name, "err", err)
			case info.State == nil || (!info.State.Running && !info.State.Restarting):
				// The engine may end a follow before it has stored the
				// last output of the run (a line without a newline is
				// stored when the container's output closes): read to
				// the end once more, now that nothing more will come.
				// The end of the engine's file is enough (read from the
				// end, not from its start) when it reaches back into what
				// the file holds; if all of it was new, read everything
				// newer.
				_, n, err := k.copyLog(ctx, c, tty, false, finalTail)
				if err == nil && n >= finalTail && ctx.Err() == nil {
					_, _, err = k.copyLog(ctx, c, tty, false, 0)
				}
				if ctx.Err() != nil {
					return // cut short: not drained, read again next time
				}
				if err != nil {
					if manager.IsNotFound(err) {
						return // removed meanwhile: nothing more to read
					}
					k.opts.Observer.Failed("read")
					k.log.Warn("final read of the log", "name", c.name, "err", err)
					break // and try again after a while
				}
				finished := ""
				if info.State != nil {
					finished = info.State.FinishedAt
				}
				k.cur.update(c.id, func(cur *cursor) { cur.Drained = finished })
				k.wrote()
				c.setState(StateStopped, "")
				return
			case info.State.StartedAt != startedAt:
				startedAt = info.State.StartedAt // restarted: go on at once
				continue
			default:
				// Still running, same run: the engine ended the stream on
				// its own. Go on, but not in a tight loop.
				k.log.Debug("log stream ended while the container runs", "name", c.name)
			}
		}
		failures++
		select {
		case <-ctx.Done():
			return
		case <-time.After(workqueue.Backoff(failures, 100*time.Millisecond, 10*time.Second)):
		}
	}
}

// endsOn reports whether err leaves nothing to follow for now: the
// container is gone, or the engine is (the Watcher's resync after it
// reconnects queues every container again).
func (c *ctr) endsOn(err error) bool {
	switch {
	case manager.IsNotFound(err):
		return true
	case errors.Is(err, manager.ErrUnreachable):
		c.setState(StateFailing, "the engine is unreachable")
		return true
	}
	return false
}

func (c *ctr) setState(s State, reason string) {
	c.mu.Lock()
	c.state, c.reason = s, reason
	c.mu.Unlock()
}

func (k *Keeper) setFailing(id string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setFailingLocked(id, err)
}

func (k *Keeper) clearFailing(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.clearFailingLocked(id)
}

// copyLog opens the file (if it is not open) and the engine's stream from
// where the file ends, and copies until the stream ends (with follow, when
// the container stops; without, at the end of what the engine holds).
// With tail, only the engine's last tail lines are asked for, and they
// are written only if some of them were in the file already (none is
// written when all are new: the caller then reads everything newer). kept
// counts the lines the engine sent that the file did not hold. wrote says
// some output reached the file.
func (k *Keeper) copyLog(ctx context.Context, c *ctr, tty, follow bool, tail int) (wrote bool, kept int, err error) {
	c.mu.Lock()
	if c.file == nil {
		lf, err := openLogFile(k.path(c.id, c.name))
		if err != nil {
			c.openFailed = true
			c.mu.Unlock()
			return false, 0, &writeError{err}
		}
		c.file = lf
	}
	path := c.file.path
	c.mu.Unlock()

	// Where to resume: the newest line in the files, or the saved cursor
	// when the files hold less (rotated away, or removed by hand).
	t, err := readTail(path, resumeWindow)
	if err != nil {
		c.mu.Lock()
		c.openFailed = true
		c.mu.Unlock()
		return false, 0, &writeError{err}
	}
	// The file opens and reads: if that is what failed before, it works
	// again, even for a container that writes nothing now. (A failed
	// write is over only when a write works.)
	c.mu.Lock()
	openFailed := c.openFailed
	c.openFailed = false
	c.mu.Unlock()
	if openFailed {
		k.clearFailing(c.id)
		c.setState(StateFollowing, "")
	}
	cur, _ := k.cur.get(c.id)
	resume := t.last
	if cur.Last.After(resume) {
		resume = cur.Last
	}
	var since time.Time
	dedup := false
	switch {
	case resume.IsZero():
		// Nothing written yet: all the engine holds.
	case t.covered && resume.Equal(t.last):
		since, dedup = resume.Add(-resumeWindow), true
	default:
		since = resume.Add(time.Nanosecond)
	}
	k.log.Debug("resume", "name", c.name, "from", resume, "since", since, "window", dedup, "recent", len(t.recent), "cursor", cur.Last, "follow", follow)
	c.mu.Lock()
	if resume.After(c.last) {
		c.last = resume
	}
	c.mu.Unlock()

	rc, err := k.e.LogStream(ctx, c.id, manager.StreamOptions{Since: since, Follow: follow, Tail: tail})
	if err != nil {
		return false, 0, err
	}
	defer rc.Close()
	var p parser
	if tty {
		p = newTTYParser(rc)
	} else {
		p = newMuxParser(rc)
	}

	var out []byte // grows to flushAt only where the engine sends fast
	outLines := 0  // the lines out holds
	var scratch []byte
	newest := resume
	var stamp time.Time // the stamp of the last line gathered
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if err := c.file.write(out); err != nil {
			// The file may end in part of a line: opening it again cuts it.
			c.file.close()
			c.file = nil
			return &writeError{fmt.Errorf("write %s: %w", path, err)}
		}
		now := time.Now()
		k.opts.Observer.Wrote(outLines, len(out), now.Sub(stamp))
		out, outLines = out[:0], 0
		if !wrote {
			wrote = true
			// Writing works (again): say so now, not when the stream ends.
			c.mu.Unlock()
			k.clearFailing(c.id)
			c.mu.Lock()
		}
		if !c.dirty {
			k.wrote()
		}
		c.last, c.dirty, c.lastWrite, c.behind = newest, true, now, now.Sub(stamp)
		if c.state != StateFollowing {
			c.state, c.reason = StateFollowing, ""
		}
		if k.opts.MaxSize > 0 && c.file.size >= k.opts.MaxSize {
			if err := k.rotateLocked(c); err != nil {
				return &writeError{fmt.Errorf("rotate %s: %w", path, err)}
			}
		}
		return nil
	}
	for {
		rec, err := p.next()
		if err != nil {
			if tail > 0 && (kept >= tail || !errors.Is(err, io.EOF)) {
				out, outLines = out[:0], 0 // all new, or cut short: not written (see below)
			}
			if ferr := flush(); ferr != nil {
				return wrote, kept, ferr
			}
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return wrote, kept, nil
			}
			return wrote, kept, fmt.Errorf("read the log of %s: %w", c.name, err)
		}
		keep := true
		if !since.IsZero() {
			switch {
			case rec.time.Before(since):
				keep = false // never asked for
			case !rec.time.After(resume):
				if !dedup {
					keep = false
					break
				}
				scratch = appendLine(scratch[:0], rec.ts, rec.stream, rec.partial, rec.text)
				if h := lineHash(scratch); t.recent[h] > 0 {
					t.recent[h]--
					keep = false
				}
			case dedup && rec.time.After(resume.Add(resumeWindow)):
				dedup, t.recent = false, nil // past any line written before
			}
		}
		if keep {
			kept++
			out = appendLine(out, rec.ts, rec.stream, rec.partial, rec.text)
			outLines++
			stamp = rec.time
			if rec.time.After(newest) {
				newest = rec.time
			}
		}
		// A read of the engine's last lines is held until its end: if
		// they were all new, lines older than they are may be missing
		// from the file, and writing them first would put them out of
		// order (the caller then reads everything newer instead).
		if tail > 0 {
			continue
		}
		if len(out) >= flushAt || (len(out) > 0 && p.buffered() == 0) {
			if err := flush(); err != nil {
				return wrote, kept, err
			}
		}
	}
}

// rotateLocked rotates c's file once it is full. The cursor is saved
// first, so that it never needs a line from a file that has moved. Call
// with c.mu held.
func (k *Keeper) rotateLocked(c *ctr) error {
	k.syncLocked(c)
	if err := k.cur.save(); err != nil {
		return err
	}
	if err := c.file.rotate(k.opts.MaxFiles); err != nil {
		if c.file.f == nil {
			c.file = nil
		}
		return err
	}
	k.log.Debug("log file rotated", "file", c.file.path)
	return nil
}
