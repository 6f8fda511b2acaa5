package enforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/internal/durable"
	"github.com/dockman/dockman/manager"
)

// Controller is enforce mode as the commands see it: it edits the
// snapshot, persists whether enforcement is on, and, in a process that
// runs background parts (the shell, the agent), runs the Enforcer while it
// is on. It is itself a runner part: added always, it forwards the
// Watcher's events to the Enforcer only while one runs. A process that
// never starts it (a script) edits the same state and leaves the
// enforcing to the shell or agent that runs on the state directory.
type Controller struct {
	a     Actor
	opts  Options
	store *store

	mu   sync.Mutex
	ctx  context.Context // the runner's, from Start; nil: no enforcer runs here
	enf  *Enforcer
	dry  bool
	lock *durable.Lock
}

// NewController reads the snapshot and the on/off state from
// opts.StateDir; nothing runs until Start and On.
func NewController(a Actor, opts Options) *Controller {
	c := &Controller{a: a, opts: opts, store: newStore(filepath.Join(opts.StateDir, SnapshotFile), nil)}
	_ = c.fresh() // an unreadable snapshot is said by each command
	return c
}

// fresh reads the snapshot from its file again, unless this process
// enforces: another dockman may have changed it since (a script's
// `snapshot add`, a shell since closed that recorded a recreated ID),
// while the one that holds the lock is the only one to write it. An
// unreadable file is an error, and is never overwritten.
func (c *Controller) fresh() error {
	c.mu.Lock()
	mine := c.lock != nil
	c.mu.Unlock()
	if mine {
		return nil
	}
	if err := c.store.reload(); err != nil {
		return fmt.Errorf("the snapshot cannot be read: %w", err)
	}
	return nil
}

// Start resumes enforcement if it was on when dockman last ran on this
// state directory, unless the plan now would remove more than half of
// what runs: then it says so and waits for `enforce on`. It never fails
// the start of the process.
func (c *Controller) Start(ctx context.Context) error {
	c.mu.Lock()
	c.ctx = ctx
	c.mu.Unlock()
	st, err := loadState(c.statePath())
	if err != nil {
		c.notify(fmt.Sprintf("enforce: %v: enforcement stays off", err))
		return nil
	}
	if !st.On {
		return nil
	}
	if err := c.fresh(); err != nil {
		c.notify(fmt.Sprintf("enforce: was on, but %v: enforcement stays off", err))
		return nil
	}
	if c.store.get() == nil {
		c.notify("enforce: was on, but there is no snapshot: enforcement stays off")
		return nil
	}
	listCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := c.Plan(listCtx)
	switch {
	case errors.Is(err, manager.ErrUnreachable):
		// The plan is not known: resume, as the agent must; the Watcher's
		// resync once the engine answers queues every name.
	case err != nil:
		c.notify(fmt.Sprintf("enforce: was on, but %v: not resumed", err))
		return nil
	case p.Drastic:
		c.notify(fmt.Sprintf("enforce: was on, but now would remove %d of the %d running containers: not resumed ('enforce plan' shows why, 'enforce on' resumes)", p.RunningRemoved, p.Running))
		return nil
	}
	if err := c.run(st.DryRun); err != nil {
		c.notify(fmt.Sprintf("enforce: was on, but %v: enforcement stays off here", err))
		return nil
	}
	mode := "on"
	if st.DryRun {
		mode = "on (dry run)"
	}
	c.notify(fmt.Sprintf("enforce: %s, as when dockman last ran: keeping the %d snapshot containers ('enforce off' stops it)", mode, len(c.store.get().Containers)))
	return nil
}

// Stop stops the Enforcer, if one runs, and waits; whether enforcement is
// on stays as it was, for the next start.
func (c *Controller) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked()
	c.ctx = nil
}

func (c *Controller) stopLocked() {
	if c.enf != nil {
		c.enf.Stop()
		c.enf = nil
	}
	c.lock.Unlock()
	c.lock = nil
}

// Handle forwards the Watcher's events to the Enforcer while one runs.
func (c *Controller) Handle(ev manager.Event) {
	c.mu.Lock()
	enf := c.enf
	c.mu.Unlock()
	if enf != nil {
		enf.Handle(ev)
	}
}

// Running reports whether this process enforces now.
func (c *Controller) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enf != nil
}

// Snapshot returns the snapshot (nil when none was taken). Read it only.
func (c *Controller) Snapshot() (*Snapshot, error) {
	if err := c.fresh(); err != nil {
		return nil, err
	}
	return c.store.get(), nil
}

// SnapshotNames returns the snapshot's names from memory, for completion.
func (c *Controller) SnapshotNames() []string { return c.store.get().Names() }

// Scope is the scope snapshots are taken and enforced in.
func (c *Controller) Scope() Scope { return c.opts.Scope }

// StateDir is where the snapshot, state, audit log and archives are.
func (c *Controller) StateDir() string { return c.opts.StateDir }

// TakeSnapshot replaces the snapshot with the containers running now
// within the scope.
func (c *Controller) TakeSnapshot(ctx context.Context) (*Snapshot, error) {
	if err := c.editable(); err != nil {
		return nil, err
	}
	snap, err := c.take(ctx)
	if err != nil {
		return nil, err
	}
	err = c.store.edit(func(s *Snapshot) error {
		*s = *snap
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("save the snapshot: %w", err)
	}
	c.queue(c.allNames(ctx)...)
	return snap, nil
}

// AddToSnapshot records the named containers (running or not) in the
// snapshot, replacing what it held of them, and returns their names. A
// container outside the scope is refused: enforcement could not see it.
func (c *Controller) AddToSnapshot(ctx context.Context, refs ...string) ([]string, error) {
	if err := c.editable(); err != nil {
		return nil, err
	}
	add := &Snapshot{Containers: map[string]Saved{}}
	var names []string
	for _, ref := range refs {
		info, _, err := c.a.Inspect(ctx, ref)
		if err != nil {
			return nil, err
		}
		if IsSelf(info.ID, c.opts.Self) {
			return nil, fmt.Errorf("%s is dockman's own container: enforcement never touches it", strings.TrimPrefix(info.Name, "/"))
		}
		for k, v := range c.opts.Scope {
			if info.Config == nil || info.Config.Labels[k] != v {
				return nil, fmt.Errorf("%s is outside the scope (it lacks the label %s=%s)", strings.TrimPrefix(info.Name, "/"), k, v)
			}
		}
		if err := add.Add(ctx, c.a, ref); err != nil {
			return nil, err
		}
		names = append(names, strings.TrimPrefix(info.Name, "/"))
	}
	err := c.store.edit(func(s *Snapshot) error {
		if s.Taken.IsZero() {
			s.Taken, s.Scope = time.Now().UTC(), c.opts.Scope
		}
		for name, saved := range add.Containers {
			s.Containers[name] = saved
			delete(s.Owned, name) // the ID saved now owns the name
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("save the snapshot: %w", err)
	}
	c.queue(names...)
	return names, nil
}

// RemoveFromSnapshot takes names out of the snapshot: while enforcement
// is on, a container of that name is then an intruder.
func (c *Controller) RemoveFromSnapshot(names ...string) error {
	if err := c.editable(); err != nil {
		return err
	}
	if c.store.get() == nil {
		return errors.New("no snapshot taken yet ('snapshot take' takes one)")
	}
	err := c.store.edit(func(s *Snapshot) error {
		if err := s.Remove(names...); err != nil {
			return err
		}
		for _, n := range names {
			delete(s.Owned, strings.TrimPrefix(n, "/"))
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.queue(names...)
	return nil
}

// take takes a snapshot within the scope, dockman's own container left
// out: it is never enforced.
func (c *Controller) take(ctx context.Context) (*Snapshot, error) {
	snap, err := Take(ctx, c.a, c.opts.Scope)
	if err != nil {
		return nil, err
	}
	for name, saved := range snap.Containers {
		if IsSelf(savedID(saved), c.opts.Self) {
			delete(snap.Containers, name)
		}
	}
	return snap, nil
}

// editable refuses edits of a snapshot that cannot be read, or that
// another process enforces: its copy in memory would not see them.
func (c *Controller) editable() error {
	if err := c.fresh(); err != nil {
		return err
	}
	c.mu.Lock()
	mine := c.lock != nil
	c.mu.Unlock()
	if mine {
		return nil
	}
	if pid := c.heldElsewhere(); pid != "" {
		return fmt.Errorf("dockman (pid %s) enforces with this state directory: edit the snapshot there", pid)
	}
	return nil
}

// heldElsewhere returns the pid of another process holding the lock
// ("?" when it did not say), or "" when none does.
func (c *Controller) heldElsewhere() string {
	l, err := durable.TryLock(filepath.Join(c.opts.StateDir, LockFile))
	l.Unlock()
	return lockedBy(err)
}

// lockedBy returns the pid of the process a TryLock error says holds
// the lock ("?" when it did not say), or "" for any other outcome.
func lockedBy(err error) string {
	var held *durable.LockedError
	switch {
	case !errors.As(err, &held):
		return ""
	case held.Pid == "":
		return "?"
	}
	return held.Pid
}

// Preview is what enforcement would do now, and what it was planned from.
type Preview struct {
	Snapshot *Snapshot
	Actions  []Action
	Live     Live
	// Running counts the running containers in scope; RunningRemoved
	// those the plan removes; Drastic is set when that is more than half.
	Running, RunningRemoved int
	Drastic                 bool
}

// Plan reads the engine and says what enforcement would do now, acting
// on nothing. With no snapshot taken yet, it plans from what one taken
// now would hold (what `enforce on` would take).
func (c *Controller) Plan(ctx context.Context) (Preview, error) {
	if err := c.fresh(); err != nil {
		return Preview{}, err
	}
	snap := c.store.get()
	if snap == nil {
		var err error
		if snap, err = c.take(ctx); err != nil {
			return Preview{}, err
		}
	}
	return c.plan(ctx, snap)
}

func (c *Controller) plan(ctx context.Context, snap *Snapshot) (Preview, error) {
	if snap.Scope.String() != c.opts.Scope.String() {
		return Preview{}, fmt.Errorf("the snapshot was taken in scope %q, and dockman runs in scope %q: start dockman with that --scope, or take a new snapshot", snap.Scope.String(), c.opts.Scope.String())
	}
	list, err := c.a.Containers(ctx, manager.ListOptions{All: true, Filters: c.opts.Scope.filters()})
	if err != nil {
		return Preview{}, err
	}
	owned := map[string]string{}
	for name, saved := range snap.Containers {
		owned[name] = snap.Owned[name]
		if owned[name] == "" {
			owned[name] = savedID(saved)
		}
	}
	live := Live{Containers: list, Self: c.opts.Self, Owned: owned}
	p := Preview{Snapshot: snap, Actions: Plan(snap, live), Live: live}
	running := map[string]bool{}
	for _, ct := range list {
		if ct.State == container.StateRunning {
			running[ct.ID] = true
		}
	}
	p.Running = len(running)
	for _, a := range p.Actions {
		if a.Kind == KindRemove && running[a.ID] {
			p.RunningRemoved++
		}
	}
	p.Drastic = Drastic(p.Actions, live)
	return p, nil
}

// OnOptions say how to turn enforcement on.
type OnOptions struct {
	// DryRun runs the loop but only reports what it would do.
	DryRun bool
	// Force skips the confirmation an empty snapshot or a drastic plan
	// needs.
	Force bool
	// Confirm asks the person a yes/no question (the shell at a
	// terminal); nil: no one can answer, and Force is needed.
	Confirm func(question string) (bool, error)
}

// OnResult says what turning enforcement on did.
type OnResult struct {
	Taken   bool // no snapshot existed: one was taken
	Preview Preview
	// Here is set when this process enforces; otherwise the state was
	// saved for the shell or agent that runs on the state directory, and
	// Elsewhere names the pid of one that does now, if any.
	Here      bool
	Elsewhere string
	// Already is set when this process was enforcing so already.
	Already bool
}

// ErrNotConfirmed is On's error when the person said no.
var ErrNotConfirmed = errors.New("not turned on")

// On turns enforcement on: it takes a snapshot if none exists, asks for
// confirmation when the snapshot is empty or the plan removes more than
// half of what runs, saves that enforcement is on, and, in a process that
// started the Controller, starts enforcing at once.
func (c *Controller) On(ctx context.Context, o OnOptions) (res OnResult, err error) {
	c.mu.Lock()
	here := c.ctx != nil
	res.Already = c.enf != nil && c.dry == o.DryRun
	c.mu.Unlock()
	if res.Already {
		res.Here = true
		var err error
		res.Preview, err = c.plan(ctx, c.store.get())
		return res, err
	}
	if here {
		// Fail before asking anything when another shell enforces.
		if err := c.takeLock(); err != nil {
			return res, err
		}
		// Every way out but enforcing gives the lock back.
		defer func() {
			if err != nil {
				c.releaseIfIdle()
			}
		}()
	}
	// Read after the lock: no one else writes the file from here on.
	if err := c.store.reload(); err != nil {
		return res, fmt.Errorf("the snapshot cannot be read: %w", err)
	}
	snap := c.store.get()
	if snap == nil {
		var err error
		if snap, err = c.take(ctx); err != nil {
			return res, err
		}
		res.Taken = true
	}
	p, err := c.plan(ctx, snap)
	if err != nil {
		return res, err
	}
	res.Preview = p
	var why string
	switch {
	case len(snap.Containers) == 0 && p.Running > 0:
		why = fmt.Sprintf("the snapshot is empty: enforcement would remove all %d running containers%s", p.Running, c.scopeWords())
	case len(snap.Containers) == 0:
		why = "the snapshot is empty: enforcement would remove every container that starts" + c.scopeWords()
	case p.Drastic:
		why = fmt.Sprintf("enforcement would remove %d of the %d running containers%s ('enforce plan' lists them)", p.RunningRemoved, p.Running, c.scopeWords())
	}
	if why != "" && !o.Force && !o.DryRun {
		if o.Confirm == nil {
			return res, fmt.Errorf("%s: give --force to turn it on all the same", why)
		}
		yes, err := o.Confirm(why + ". Turn it on?")
		if err != nil || !yes {
			if err == nil {
				err = ErrNotConfirmed
			}
			return res, err
		}
	}
	if res.Taken {
		if err := c.store.edit(func(s *Snapshot) error { *s = *snap; return nil }); err != nil {
			return res, fmt.Errorf("save the snapshot: %w", err)
		}
	}
	if err := saveState(c.statePath(), persisted{On: true, DryRun: o.DryRun}); err != nil {
		return res, fmt.Errorf("save the state: %w", err)
	}
	if !here {
		res.Elsewhere = c.heldElsewhere()
		return res, nil
	}
	res.Here = true
	if err := c.run(o.DryRun); err != nil {
		return res, err
	}
	// Listed afresh, not the plan's list: events that came while the
	// person was asked were not the Enforcer's yet.
	c.queue(c.allNames(ctx)...)
	return res, nil
}

// Off stops enforcing and saves that it is off; the snapshot is kept. It
// reports whether this process was enforcing.
func (c *Controller) Off() (bool, error) {
	c.mu.Lock()
	was := c.enf != nil
	c.stopLocked()
	c.mu.Unlock()
	if err := saveState(c.statePath(), persisted{On: false}); err != nil {
		return was, fmt.Errorf("save the state: %w", err)
	}
	return was, nil
}

// run starts (or, in another mode, restarts) the Enforcer on the store
// and queues every snapshot name; the caller queues the others (On) or
// the Watcher's first resync does (Start). The lock must be held or
// takable.
func (c *Controller) run(dry bool) error {
	if err := c.takeLock(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil {
		return errors.New("stopped")
	}
	if c.enf != nil && c.dry == dry {
		c.enf.queueSnapshot()
		return nil
	}
	if c.enf != nil {
		c.enf.Stop()
		c.enf = nil
	}
	opts := c.opts
	opts.DryRun = dry
	enf := newEnforcer(c.a, c.store, opts)
	if err := enf.Start(c.ctx); err != nil {
		return err
	}
	c.enf, c.dry = enf, dry
	enf.queueSnapshot()
	return nil
}

// takeLock takes the state directory's lock, unless this process holds it.
func (c *Controller) takeLock() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lock != nil {
		return nil
	}
	if err := os.MkdirAll(c.opts.StateDir, 0o700); err != nil {
		return err
	}
	l, err := durable.TryLockFor(filepath.Join(c.opts.StateDir, LockFile))
	if pid := lockedBy(err); pid != "" {
		return fmt.Errorf("dockman (pid %s) enforces with this state directory already", pid)
	}
	if err != nil {
		return fmt.Errorf("enforcement lock: %w", err)
	}
	c.lock = l
	return nil
}

// releaseIfIdle gives the lock back when On took it and did not go on.
func (c *Controller) releaseIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enf == nil {
		c.lock.Unlock()
		c.lock = nil
	}
}

// queue has the running Enforcer, if any, look at names again.
func (c *Controller) queue(names ...string) {
	c.mu.Lock()
	enf := c.enf
	c.mu.Unlock()
	if enf != nil {
		enf.queueNames(names...)
	}
}

// allNames lists every container name in scope (none on failure: the
// next resync queues them anyway).
func (c *Controller) allNames(ctx context.Context) []string {
	if !c.Running() {
		return nil
	}
	list, _ := c.a.Containers(ctx, manager.ListOptions{All: true, Filters: c.opts.Scope.filters()})
	var names []string
	for _, ct := range list {
		names = append(names, nameOf(ct))
	}
	return names
}

func (c *Controller) scopeWords() string {
	if len(c.opts.Scope) == 0 {
		return ""
	}
	return " in scope " + c.opts.Scope.String()
}

func (c *Controller) statePath() string { return filepath.Join(c.opts.StateDir, StateFile) }

func (c *Controller) notify(msg string) {
	if c.opts.Log != nil {
		c.opts.Log.Info("enforce", "msg", msg)
	}
	if c.opts.Notify != nil {
		c.opts.Notify(msg)
	}
}

// ControllerStatus is what `enforce status` shows.
type ControllerStatus struct {
	// State is "on", "on (dry run)", "off", or "on, enforced by pid N"
	// when another process does it; "on, not enforced" in a process
	// that runs no enforcer while no other does.
	State    string
	Snapshot *Snapshot
	Scope    Scope
	// AuditLog is the path of the audit log.
	AuditLog string
	// EnforcedBy is the pid of another dockman enforcing with this
	// state directory, "" when none does.
	EnforcedBy string
	// Here is set when this process enforces: Status is then its counts,
	// last actions and backoffs; otherwise Last is read from the audit
	// log, whoever wrote it.
	Here bool
	Status
}

// Status reports the state, the snapshot and this process's actions.
func (c *Controller) Status() (ControllerStatus, error) {
	if err := c.fresh(); err != nil {
		return ControllerStatus{}, err
	}
	st, err := loadState(c.statePath())
	if err != nil {
		return ControllerStatus{}, err
	}
	s := ControllerStatus{Snapshot: c.store.get(), Scope: c.opts.Scope,
		AuditLog: filepath.Join(c.opts.StateDir, AuditFile), State: "off"}
	c.mu.Lock()
	enf, dry := c.enf, c.dry
	c.mu.Unlock()
	switch {
	case enf != nil:
		s.State = "on"
		if dry {
			s.State = "on (dry run)"
		}
		s.Status, s.Here = enf.Status(), true
	case st.On:
		if s.EnforcedBy = c.heldElsewhere(); s.EnforcedBy != "" {
			s.State = "on, enforced by dockman pid " + s.EnforcedBy
		} else {
			s.State = "on, but no dockman enforces it now (the interactive shell or the agent does)"
		}
	}
	if !s.Here {
		s.Last = lastRecords(s.AuditLog, keepLast)
	}
	return s, nil
}

// lastRecords reads the last n records of the audit log (none when it
// cannot be read: the status says what it can).
func lastRecords(path string, n int) []Record {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	const tail = 64 << 10 // far more than n lines
	if st, err := f.Stat(); err == nil && st.Size() > tail {
		_, _ = f.Seek(st.Size()-tail, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var out []Record
	for _, l := range lines[max(0, len(lines)-n):] {
		var r Record
		if json.Unmarshal([]byte(l), &r) == nil && r.Container != "" {
			out = append(out, r)
		}
	}
	return out
}
