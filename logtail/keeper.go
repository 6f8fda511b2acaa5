// Package logtail is dockman's log keeper: it follows the log of every
// container on the engine into one file per container, <id12>+<name>.log in
// the log directory, in the CRI log format (format.go), so that people can
// tail -f them, and never writes a line twice or loses one the engine still
// holds, whatever restarts: the container, dockman (even killed), or the
// engine itself.
package logtail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/dockman/dockman/internal/durable"
	"github.com/dockman/dockman/internal/workqueue"
	"github.com/dockman/dockman/manager"
)

// Options configure a Keeper.
type Options struct {
	// Dir is the log directory; it is created if missing.
	Dir string
	// MaxSize is the size past which a file is rotated (0: never).
	MaxSize int64
	// MaxFiles is how many files a container keeps, the current one
	// included (as docker's json-file max-file); below 2 means 2.
	MaxFiles int
	// Log is the debug log; Notify shows a notice to the person (it must not
	// block). Either may be nil.
	Log    *slog.Logger
	Notify func(msg string)
	// Observer is told what is written and what fails, for metrics. Nil:
	// no one.
	Observer Observer
}

// Observer is told of the keeper's work as it happens. Its methods run on
// the followers' goroutines: they must be cheap and never block.
type Observer interface {
	// Wrote is called after each write to a file: lines and bytes
	// written, and how long after the engine stamped the last of those
	// lines it reached the file.
	Wrote(lines, bytes int, lag time.Duration)
	// Failed is called for each failure to read a log ("read") or to
	// write or open a file ("write").
	Failed(kind string)
}

// nopObserver is the Observer of a keeper given none.
type nopObserver struct{}

func (nopObserver) Wrote(int, int, time.Duration) {}
func (nopObserver) Failed(string)                 {}

// Defaults for the shell's flags.
const (
	DefaultMaxSize  = 10 << 20
	DefaultMaxFiles = 5
)

// syncEvery is how often written lines are synced to disk and the cursors
// saved: a cursor never points past what is on disk.
const syncEvery = time.Second

// maxDrains is how many stopped containers' logs are read at once.
const maxDrains = 4

// inspectTimeout bounds an inspect: the engine's waits on the container's
// lock, which a stuck stop can hold for long.
const inspectTimeout = 5 * time.Second

// Keeper is the log keeper, a background part of the runner. Its Handle
// only queues container IDs; a worker looks at each container afresh
// (level-triggered, safe to repeat): renames its file when it was renamed,
// marks it removed when it is gone, and starts a follower when there may be
// something to read. A follower copies the engine's stream into the file
// until the stream ends, then queues the container again.
//
// Goroutines: the queue's workers, one follower per container being read,
// and one syncer; Stop cancels them all and waits.
type Keeper struct {
	e     Engine
	opts  Options
	log   *slog.Logger
	queue *workqueue.Queue[string]

	mu       sync.Mutex
	ctrs     map[string]*ctr
	lock     *durable.Lock
	cur      *cursors
	disabled error            // another process keeps this directory
	failing  map[string]error // container ID ("" for the directory) → why its file cannot be written

	// drains bounds the followers reading stopped containers at once: a
	// host with a thousand old containers is read a few at a time at
	// start, not with a thousand requests to the engine together.
	drains chan struct{}

	// written wakes the syncer: something was written since it last ran.
	written chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ctr is what the keeper knows of one container's log.
type ctr struct {
	id string

	mu         sync.Mutex
	name       string
	file       *logFile // open while a follower runs
	last       time.Time
	dirty      bool // written since the last sync
	lastWrite  time.Time
	behind     time.Duration
	following  bool
	state      State
	reason     string
	unreadable bool
	removed    bool
	openFailed bool // the last failure was opening or reading back the file
}

// New returns a stopped Keeper for the engine e.
func New(e Engine, opts Options) *Keeper {
	if opts.MaxFiles < 2 {
		opts.MaxFiles = 2
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	k := &Keeper{e: e, opts: opts, log: opts.Log, ctrs: map[string]*ctr{}, failing: map[string]error{},
		written: make(chan struct{}, 1), drains: make(chan struct{}, maxDrains)}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	k.log = k.log.With("part", "logs")
	k.queue = workqueue.New(k.reconcile, workqueue.Options{Workers: 4, MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second})
	return k
}

// Dir returns the log directory.
func (k *Keeper) Dir() string { return k.opts.Dir }

func (k *Keeper) notify(msg string) {
	if k.opts.Notify != nil {
		k.opts.Notify(msg)
	} else {
		k.log.Info("notice", "msg", msg)
	}
}

// Handle receives the Watcher's events: it only queues container IDs. A
// resync queues every container listed and every one known here, so that
// containers removed while the stream was down are seen to be gone.
func (k *Keeper) Handle(ev manager.Event) {
	switch {
	case ev.Resync:
		for _, c := range ev.Containers {
			k.queue.Add(c.ID)
		}
		for _, id := range k.knownIDs() {
			k.queue.Add(id)
		}
	case ev.Type == events.ContainerEventType && ev.ID != "":
		k.queue.Add(ev.ID)
	}
}

// knownIDs are the containers followed now or kept from earlier runs and
// not known to be removed.
func (k *Keeper) knownIDs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var ids []string
	for id := range k.ctrs {
		ids = append(ids, id)
	}
	if k.cur != nil {
		for id, c := range k.cur.all() {
			if _, ok := k.ctrs[id]; !ok && !c.Removed {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// Start starts the workers and the syncer. The directory is taken (created,
// locked, its cursors read) now, or by the first container's turn if it
// cannot be yet: a directory that cannot be written is retried.
func (k *Keeper) Start(ctx context.Context) error {
	k.ctx, k.cancel = context.WithCancel(ctx)
	if err := k.ensureDir(); err != nil {
		k.log.Warn("log directory not ready", "dir", k.opts.Dir, "err", err)
	}
	if err := k.queue.Start(k.ctx); err != nil {
		return err
	}
	k.wg.Add(1)
	go k.syncLoop(k.ctx)
	return nil
}

// Stop stops every follower, waits for them, and makes every file and
// cursor durable.
func (k *Keeper) Stop() {
	if k.cancel == nil {
		return
	}
	k.cancel()
	k.queue.Stop()
	k.wg.Wait()
	for _, c := range k.all() {
		c.mu.Lock()
		if c.file != nil {
			k.syncLocked(c)
			c.file.close()
			c.file = nil
		}
		c.mu.Unlock()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cur != nil {
		if err := k.cur.save(); err != nil {
			k.log.Error("save cursors", "err", err)
		}
	}
	if k.lock != nil {
		k.lock.Unlock()
		k.lock = nil
	}
}

// ensureDir creates and locks the log directory and reads its cursors,
// once. Another keeper holding the lock disables this one for good.
func (k *Keeper) ensureDir() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lock != nil {
		return nil
	}
	if k.disabled != nil {
		return workqueue.NoRetry(k.disabled)
	}
	dir := k.opts.Dir
	err := os.MkdirAll(dir, 0o755)
	var lock *durable.Lock
	if err == nil {
		lock, err = lockDir(dir)
	}
	if errors.Is(err, errLocked) {
		k.disabled = fmt.Errorf("%s: %w", dir, err)
		k.log.Warn("log directory taken", "dir", dir, "err", err)
		k.notify(fmt.Sprintf("logs: %v: not keeping logs here", k.disabled))
		return workqueue.NoRetry(k.disabled)
	}
	var cur *cursors
	if err == nil {
		cur, err = loadCursors(dir)
		if err != nil {
			// The files themselves say where each log stopped; only the
			// bookkeeping of removed and drained containers is lost.
			k.log.Error("cursors unreadable, set aside", "err", err)
			_ = os.Rename(filepath.Join(dir, cursorFile), filepath.Join(dir, cursorFile+".bad"))
			cur, err = loadCursors(dir)
		}
		if err != nil {
			lock.Unlock()
		}
	}
	if err != nil {
		err = fmt.Errorf("log directory %s: %w", dir, err)
		k.setFailingLocked("", err)
		return err
	}
	k.lock, k.cur = lock, cur
	k.clearFailingLocked("")
	k.log.Info("keeping logs", "dir", dir)
	return nil
}

// get returns the record of container id, made on first use from the
// cursor kept for it.
func (k *Keeper) get(id string) *ctr {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.ctrs[id]
	if c == nil {
		c = &ctr{id: id}
		if cur, ok := k.cur.get(id); ok {
			c.name, c.last, c.removed = cur.Name, cur.Last, cur.Removed
		}
		k.ctrs[id] = c
	}
	return c
}

func (k *Keeper) all() []*ctr {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*ctr, 0, len(k.ctrs))
	for _, c := range k.ctrs {
		out = append(out, c)
	}
	return out
}

func (k *Keeper) path(id, name string) string {
	return filepath.Join(k.opts.Dir, FileName(id, name))
}

// reconcile looks at one container afresh and does what its log needs.
func (k *Keeper) reconcile(ctx context.Context, id string) error {
	if err := k.ensureDir(); err != nil {
		return err
	}
	ictx, cancel := context.WithTimeout(ctx, inspectTimeout)
	info, _, err := k.e.Inspect(ictx, id)
	cancel()
	switch {
	case manager.IsNotFound(err):
		k.gone(id)
		return nil
	case errors.Is(err, manager.ErrUnreachable):
		// The Watcher's resync after it reconnects queues every container.
		return workqueue.NoRetry(err)
	case err != nil:
		return fmt.Errorf("inspect %s: %w", shortID(id), err)
	}
	c := k.get(id)
	if err := k.setName(c, strings.TrimPrefix(info.Name, "/")); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removed = false
	if c.unreadable || c.following {
		return nil
	}
	if info.HostConfig != nil && info.HostConfig.LogConfig.Type == "none" {
		k.markUnreadableLocked(c, `its log driver is "none"`)
		return nil
	}
	state := info.State
	if state == nil {
		state = &container.State{}
	}
	if state.Status == "removing" || state.Dead {
		// Its log can no longer be read; the destroy event comes next.
		c.state = StateStopped
		return nil
	}
	cur, _ := k.cur.get(id)
	if !state.Running && !state.Restarting && cur.Drained != "" && cur.Drained == state.FinishedAt {
		c.state = StateStopped
		return nil
	}
	tty := info.Config != nil && info.Config.Tty
	c.following, c.state, c.reason = true, StateFollowing, ""
	k.wg.Add(1)
	go k.follow(k.ctx, c, tty, state.Running, state.StartedAt)
	return nil
}

// gone handles a container the engine no longer has. A follower still
// reading it drains what the engine sends, then queues it again.
func (k *Keeper) gone(id string) {
	k.mu.Lock()
	c := k.ctrs[id]
	_, known := k.cur.get(id)
	k.mu.Unlock()
	if c == nil && !known {
		return // never kept: nothing to say
	}
	c = k.get(id)
	c.mu.Lock()
	if c.following || c.removed {
		c.mu.Unlock()
		return
	}
	c.removed, c.state, c.reason = true, StateRemoved, ""
	k.cur.update(id, func(cur *cursor) { cur.Removed = true })
	k.wrote()
	k.log.Debug("container removed: log kept", "id", shortID(id), "name", c.name)
	c.mu.Unlock()
	// A removed container writes no more: a failure to write its file
	// must not hold back "writing again" for the directory for ever.
	k.clearFailing(id)
}

// setName renames the container's files when its name changed (here or
// while dockman was not running).
func (k *Keeper) setName(c *ctr, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.name == name {
		return nil
	}
	if c.name != "" {
		from, to := k.path(c.id, c.name), k.path(c.id, name)
		if err := renameFiles(from, to); err != nil {
			return fmt.Errorf("rename log file of %s: %w", name, err)
		}
		if c.file != nil {
			c.file.path = to
		}
		k.log.Info("container renamed: log file renamed", "id", shortID(c.id), "from", c.name, "to", name)
	}
	c.name = name
	k.cur.update(c.id, func(cur *cursor) { cur.Name = name })
	k.wrote()
	return nil
}

func (k *Keeper) markUnreadableLocked(c *ctr, why string) {
	if c.unreadable {
		return
	}
	c.unreadable, c.state, c.reason = true, StateUnreadable, why
	k.log.Warn("log not readable", "id", shortID(c.id), "name", c.name, "why", why)
	k.notify(fmt.Sprintf("logs: %s: %s: its log is not kept", c.name, why))
}

// setFailingLocked records that a file (or, for id "", the directory)
// cannot be written. The person is told once when the trouble starts,
// however many containers it hits, and once when it is over.
func (k *Keeper) setFailingLocked(id string, err error) {
	_, was := k.failing[id]
	k.failing[id] = err
	if !was && len(k.failing) == 1 {
		k.notify(fmt.Sprintf("logs: cannot write to %s: %v: retrying", k.opts.Dir, rootCause(err)))
	}
}

func (k *Keeper) clearFailingLocked(id string) {
	if _, was := k.failing[id]; !was {
		return
	}
	delete(k.failing, id)
	if len(k.failing) == 0 {
		k.notify(fmt.Sprintf("logs: writing to %s again", k.opts.Dir))
	}
}

// rootCause is the innermost error: "no space left on device" says it all.
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// syncLoop makes what was written durable, syncEvery after something was
// written (so that one sync covers a second of lines, and nothing wakes
// while no container writes): each file written to is synced, then its
// cursor moves up to what it holds, then the cursors are saved.
func (k *Keeper) syncLoop(ctx context.Context) {
	defer k.wg.Done()
	t := time.NewTimer(syncEvery)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.written:
		}
		t.Reset(syncEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		for _, c := range k.all() {
			c.mu.Lock()
			if c.dirty && c.file != nil {
				k.syncLocked(c)
			}
			c.mu.Unlock()
		}
		k.mu.Lock()
		cur := k.cur
		k.mu.Unlock()
		if cur != nil {
			if err := cur.save(); err != nil {
				k.log.Warn("save cursors", "err", err)
				k.wrote() // try again
			}
		}
	}
}

// wrote tells the syncer there is something to sync. It never blocks.
func (k *Keeper) wrote() {
	select {
	case k.written <- struct{}{}:
	default:
	}
}

// syncLocked syncs c's file and moves its cursor. Call with c.mu held.
func (k *Keeper) syncLocked(c *ctr) {
	if err := c.file.sync(); err != nil {
		k.log.Warn("sync log file", "file", c.file.path, "err", err)
		return
	}
	c.dirty = false
	last := c.last
	k.cur.update(c.id, func(cur *cursor) {
		if last.After(cur.Last) {
			cur.Last = last
		}
	})
}

// Following returns how many followers copy a log now.
func (k *Keeper) Following() int {
	n := 0
	for _, c := range k.all() {
		c.mu.Lock()
		if c.following {
			n++
		}
		c.mu.Unlock()
	}
	return n
}

// Files returns the status of every container's log file the keeper
// knows, sorted by name.
func (k *Keeper) Files() []FileStatus {
	k.mu.Lock()
	var out []FileStatus
	seen := map[string]bool{}
	for _, c := range k.ctrs {
		c.mu.Lock()
		if c.name != "" {
			fs := FileStatus{ID: c.id, Name: c.name, Path: k.path(c.id, c.name), Last: c.last,
				Behind: c.behind, State: c.state, Reason: c.reason}
			if fs.State == "" {
				fs.State = StateIdle
			}
			if c.removed {
				fs.State = StateRemoved
			}
			if err, ok := k.failing[c.id]; ok {
				fs.State, fs.Reason = StateFailing, rootCause(err).Error()
			}
			out = append(out, fs)
		}
		c.mu.Unlock()
		seen[c.id] = true
	}
	var kept map[string]cursor
	if k.cur != nil {
		kept = k.cur.all()
	}
	k.mu.Unlock()
	for id, cur := range kept {
		if !seen[id] && cur.Name != "" {
			st := StateIdle
			if cur.Removed {
				st = StateRemoved
			}
			out = append(out, FileStatus{ID: id, Name: cur.Name, Path: k.path(id, cur.Name), Last: cur.Last, State: st})
		}
	}
	for i := range out {
		statFiles(&out[i])
	}
	sortFiles(out)
	return out
}

// statFiles fills in the size and the count of rotated files.
func statFiles(fs *FileStatus) {
	if st, err := os.Stat(fs.Path); err == nil {
		fs.Size = st.Size()
	}
	for i := 1; ; i++ {
		if _, err := os.Stat(rotated(fs.Path, i)); err != nil {
			break
		}
		fs.Rotated = i
	}
}

func sortFiles(files []FileStatus) {
	sort.Slice(files, func(i, j int) bool {
		if files[i].Name != files[j].Name {
			return files[i].Name < files[j].Name
		}
		return files[i].ID < files[j].ID
	})
}
