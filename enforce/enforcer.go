package enforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/dockman/dockman/internal/workqueue"
	"github.com/dockman/dockman/manager"
)

// Actor is what the enforcer does to Docker; *manager.Manager provides it.
type Actor interface {
	Engine
	Start(ctx context.Context, id string) error
	Unpause(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, opts manager.StopOptions) error
	Remove(ctx context.Context, id string, opts manager.RemoveOptions) error
	Create(ctx context.Context, o manager.CreateOptions) (string, error)
	Connect(ctx context.Context, network, id string, ep *network.EndpointSettings) error
	Logs(ctx context.Context, id string, opts manager.LogsOptions, stdout, stderr io.Writer) error
}

var _ Actor = (*manager.Manager)(nil)

// Options configure an Enforcer.
type Options struct {
	// StateDir holds the snapshot, the audit log and the archives.
	StateDir string
	Scope    Scope
	// StopTimeout is the seconds an intruder gets to stop before it is
	// killed.
	StopTimeout int
	// DryRun only reports what would be done.
	DryRun bool
	// Self is dockman's own container ID, when it runs in one.
	Self   string
	Log    *slog.Logger
	Notify func(msg string)
	// Observer is told of every action, for metrics. Nil: no one.
	Observer Observer
}

// Observer is told of each action recorded. It runs on the enforcer's
// workers: it must be cheap and never block.
type Observer interface {
	// Acted reports an action and its result: "ok", "failed" or
	// "dry_run". latency is the time from the Docker event that queued
	// the name to the action's end, or negative when no event did (a
	// resync, a start of enforcement, a backoff's timer).
	Acted(action Kind, result string, latency time.Duration)
}

// keepLast is how many of the last actions the status shows.
const keepLast = 20

// AuditFile is the audit log's name in the state directory: one JSON
// object per line for every action taken (or, dry, that would be).
const AuditFile = "enforce-audit.jsonl"

// Record is one line of the audit log.
type Record struct {
	Time      time.Time `json:"time"`
	Container string    `json:"container"`
	ID        string    `json:"id,omitempty"`
	Action    Kind      `json:"action"`
	Reason    string    `json:"reason"`
	Result    string    `json:"result"` // "ok", "dry-run", or the error
	Archive   string    `json:"archive,omitempty"`
}

// Enforcer keeps the engine holding exactly the snapshot's containers,
// running. It is a background part: Handle only queues container names;
// one worker per name at a time reads live state and does what the plan
// for that name says, so every action is safe to repeat.
type Enforcer struct {
	a     Actor
	opts  Options
	log   *slog.Logger
	queue *workqueue.Queue[string]

	store *store

	mu    sync.Mutex
	crash map[string]*crashState
	// failing holds, per name, the error of its last action while the
	// work queue retries it (an image gone, a network missing).
	failing map[string]string
	// stuck counts the failed starts of a name in a row; after
	// stuckLimit the container is made again instead (see escalate).
	stuck  map[string]*stuckState
	timers map[string]*time.Timer
	counts map[Kind]int
	last   []Record
	// since holds, per name, the time of the first event that queued it
	// since it was last as it should be: an action's latency.
	since map[string]time.Time

	ctx    context.Context
	cancel context.CancelFunc
}

// crashState is the restart backoff of one snapshot container, as
// docker's restart policy does it: from 100 ms, doubling, capped at a
// minute, forgotten once it ran 10 s.
type crashState struct {
	lastStart time.Time
	failures  int
	until     time.Time // no start before this; a timer queues the name then
}

const (
	crashMin   = 100 * time.Millisecond
	crashMax   = time.Minute
	crashReset = 10 * time.Second
)

// New returns a stopped Enforcer for snapshot snap, which it saves in
// the state directory when it notes a recreated container's new ID.
func New(a Actor, snap *Snapshot, opts Options) *Enforcer {
	return newEnforcer(a, newStore(filepath.Join(opts.StateDir, SnapshotFile), snap), opts)
}

// DefaultStopTimeout is the seconds an intruder gets to stop before it is
// killed, unless Options say otherwise: short, as it is not wanted here.
const DefaultStopTimeout = 2

func newEnforcer(a Actor, st *store, opts Options) *Enforcer {
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	e := &Enforcer{a: a, opts: opts, log: opts.Log, store: st,
		crash: map[string]*crashState{}, failing: map[string]string{}, stuck: map[string]*stuckState{}, timers: map[string]*time.Timer{}, counts: map[Kind]int{},
		since: map[string]time.Time{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("part", "enforce")
	e.queue = workqueue.New(e.reconcile, workqueue.Options{Workers: 4, MinBackoff: crashMin, MaxBackoff: crashMax})
	return e
}

// Handle receives the Watcher's events and only queues names: every
// container of a resync and every snapshot name; the name of a container
// event; and every snapshot name on a rename or destroy (the name the
// snapshot lost is not in the event).
func (e *Enforcer) Handle(ev manager.Event) {
	switch {
	case ev.Lost:
		// Starts that failed while the engine went away say nothing of
		// the engine that comes back.
		e.mu.Lock()
		clear(e.stuck)
		e.mu.Unlock()
	case ev.Resync:
		for _, c := range ev.Containers {
			if e.opts.Scope.matches(c.Labels) {
				e.queue.Add(nameOf(c))
			}
		}
		e.queueSnapshot()
	case ev.Type == events.ContainerEventType && ev.Name != "":
		if e.opts.Observer != nil {
			e.mu.Lock()
			if _, ok := e.since[ev.Name]; !ok {
				e.since[ev.Name] = time.Unix(0, ev.TimeNano)
			}
			e.mu.Unlock()
		}
		e.queue.Add(ev.Name)
		if ev.Action == events.ActionRename || ev.Action == events.ActionDestroy {
			e.queueSnapshot()
		}
	}
}

func (e *Enforcer) queueSnapshot() {
	e.queueNames(e.store.get().Names()...)
}

// queueNames has the named containers looked at again.
func (e *Enforcer) queueNames(names ...string) {
	for _, n := range names {
		e.queue.Add(n)
	}
}

// Start starts the workers; the Watcher's first resync queues everything.
func (e *Enforcer) Start(ctx context.Context) error {
	e.ctx, e.cancel = context.WithCancel(ctx)
	return e.queue.Start(e.ctx)
}

// Stop stops the workers and the backoff timers, and waits.
func (e *Enforcer) Stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.queue.Stop()
	e.mu.Lock()
	for _, t := range e.timers {
		t.Stop()
	}
	e.mu.Unlock()
}

// reconcile makes one name what the snapshot says it should be.
func (e *Enforcer) reconcile(ctx context.Context, name string) error {
	filters := e.opts.Scope.filters()
	if filters == nil {
		filters = map[string][]string{}
	}
	filters["name"] = []string{"^/" + name + "$"}
	list, err := e.a.Containers(ctx, manager.ListOptions{All: true, Filters: filters})
	if errors.Is(err, manager.ErrUnreachable) {
		// The resync after the reconnect queues it again, if it is still
		// there: an action then is not this event's.
		e.mu.Lock()
		delete(e.since, name)
		e.mu.Unlock()
		return workqueue.NoRetry(err)
	}
	if err != nil {
		return err
	}
	snap := e.store.get()
	_, inSnapshot := snap.containers()[name]
	var live []container.Summary
	for _, c := range list {
		if nameOf(c) != name {
			continue
		}
		if inSnapshot && c.State != container.StateExited && c.State != container.StateCreated {
			// The engine sends "die" before it saves the state its list
			// reads: a list right after the event may still say running,
			// and nothing else would wake this name. An inspect waits on
			// the container's lock, held until the state is saved.
			info, _, err := e.a.Inspect(ctx, c.ID)
			switch {
			case manager.IsNotFound(err):
				continue // gone meanwhile: as if not listed
			case err != nil:
				return err
			case info.State != nil:
				c.State = info.State.Status
			}
		}
		live = append(live, c)
	}
	sub := &Snapshot{Containers: map[string]Saved{}}
	owned := map[string]string{}
	if snap != nil {
		if s, ok := snap.Containers[name]; ok {
			sub.Containers[name] = s
			owned[name] = snap.Owned[name]
			if owned[name] == "" {
				owned[name] = savedID(s)
			}
		}
	}
	var failed error
	for _, act := range Plan(sub, Live{Containers: live, Self: e.opts.Self, Owned: owned}) {
		if act.Kind == KindLeave {
			continue
		}
		if act.Kind == KindStart {
			act = e.escalate(act)
		}
		if err := e.act(ctx, act); err != nil {
			failed = err
			break // the rest waits for the retry, which plans afresh
		}
	}
	e.setFailing(name, failed)
	return failed
}

// setFailing records why name's last action failed (the work queue
// retries it with backoff), or forgets it once the name is as it should
// be.
func (e *Enforcer) setFailing(name string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		delete(e.failing, name)
		delete(e.since, name)
		return
	}
	e.failing[name] = err.Error()
}

// act does one action (or, dry, reports it) and records it.
func (e *Enforcer) act(ctx context.Context, act Action) error {
	rec := Record{Time: time.Now().UTC(), Container: act.Name, ID: shortID(act.ID), Action: act.Kind, Reason: act.Reason}
	if (act.Kind == KindStart || act.Kind == KindRecreate) && e.holdCrashLoop(act.Name) {
		return nil
	}
	var err error
	if e.opts.DryRun {
		rec.Result = "dry-run"
	} else {
		switch act.Kind {
		case KindStart:
			err = e.a.Start(ctx, act.ID)
		case KindUnpause:
			err = e.a.Unpause(ctx, act.ID)
		case KindRecreate:
			var id string
			id, err = e.recreate(ctx, act)
			rec.ID = shortID(id)
		case KindRemove:
			rec.Archive, err = e.removeIntruder(ctx, act)
		}
		rec.Result = "ok"
		if err != nil {
			rec.Result = err.Error()
		}
		if err == nil && (act.Kind == KindStart || act.Kind == KindRecreate) {
			e.started(act.Name)
		}
		if act.Kind == KindStart || act.Kind == KindRecreate {
			e.noteStart(ctx, act, err)
		}
	}
	if err != nil && ctx.Err() != nil {
		return err // stopping: cut short, not failed
	}
	e.record(rec, err != nil && e.failedSame(act.Name, err))
	return err
}

// holdCrashLoop says whether a start of name must wait: it died within
// crashReset of its last start, so the delay doubles (a timer queues the
// name when it is over).
func (e *Enforcer) holdCrashLoop(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	cs := e.crash[name]
	if cs == nil {
		return false
	}
	now := time.Now()
	if !cs.until.IsZero() {
		if now.Before(cs.until) {
			return true // a timer is set
		}
		cs.until = time.Time{}
		return false
	}
	if cs.lastStart.IsZero() || now.Sub(cs.lastStart) >= crashReset {
		cs.failures = 0
		return false
	}
	cs.failures++
	delay := workqueue.Backoff(cs.failures, crashMin, crashMax)
	cs.until = now.Add(delay)
	if t := e.timers[name]; t != nil {
		t.Stop()
	}
	e.timers[name] = time.AfterFunc(delay, func() { e.queue.Add(name) })
	e.log.Info("crash loop: start delayed", "name", name, "delay", delay, "failures", cs.failures)
	return true
}

// stuckState is what escalate knows of a snapshot container whose
// starts keep failing.
type stuckState struct {
	failures  int
	lastErr   string
	recreated bool // once: not again until a start works or the engine comes back
}

// stuckLimit is how many failed starts in a row make the enforcer
// recreate a snapshot container rather than start it again: about 3 s of
// the queue's retries (100 ms, 200 ms, ...), longer than an engine takes
// to exit once it has stopped its containers, while every start fails.
const stuckLimit = 5

// escalate turns the start of a snapshot container whose starts keep
// failing into its recreation. Engine 20.10 stopped while a container is
// being started (during its own shutdown) can leave runtime state behind
// that fails every later start of that container ("task already exists",
// "failed to start shim: ... file exists"), its restart policy's too; a
// new container from the same saved inspect output starts. Once until a
// start works or the engine comes back: a container that cannot start for
// its own reasons (a bind source gone) is not recreated in a loop, and
// its writable layer is not thrown away more than that once.
func (e *Enforcer) escalate(act Action) Action {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.stuck[act.Name]
	if st == nil || st.recreated || st.failures < stuckLimit {
		return act
	}
	act.Kind = KindRecreate
	act.Reason = fmt.Sprintf("%d starts failed, the last: %s", st.failures, st.lastErr)
	return act
}

// noteStart counts a start's failures in a row, forgets them when a start
// works, and notes a recreation as done.
func (e *Enforcer) noteStart(ctx context.Context, act Action, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.stuck[act.Name]
	switch {
	case act.Kind == KindRecreate:
		if st != nil {
			st.recreated, st.failures = true, 0
		}
	case err == nil:
		delete(e.stuck, act.Name)
	case errors.Is(err, manager.ErrUnreachable) || ctx.Err() != nil:
		// not the container's doing
	default:
		if st == nil {
			st = &stuckState{}
			e.stuck[act.Name] = st
		}
		st.failures++
		st.lastErr = err.Error()
	}
}

func (e *Enforcer) started(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cs := e.crash[name]
	if cs == nil {
		cs = &crashState{}
		e.crash[name] = cs
	}
	cs.lastStart = time.Now()
}

// recreate creates a deleted snapshot container again from what was
// saved of it, connects its further networks, starts it, and notes its
// new ID as the one that owns the name.
func (e *Enforcer) recreate(ctx context.Context, act Action) (string, error) {
	if act.ID != "" { // a dead husk: out of the way first
		_ = e.a.Remove(ctx, act.ID, manager.RemoveOptions{Force: true})
	}
	saved, ok := e.store.get().Containers[act.Name]
	if !ok {
		return "", fmt.Errorf("no longer in the snapshot")
	}
	spec, err := Recreate(saved)
	if err != nil {
		return "", err
	}
	// Create from the image the container ran: by its name if the name
	// still means that image, else by its ID; gone, it is said so.
	img, _, err := e.a.InspectImage(ctx, spec.ImageID)
	if manager.IsNotFound(err) {
		return "", fmt.Errorf("its image %s is gone", shortImage(spec.ImageID))
	}
	if err != nil {
		return "", err
	}
	if byName, _, err := e.a.InspectImage(ctx, spec.Config.Image); err != nil || byName.ID != img.ID {
		spec.Config.Image = img.ID
	}
	id, err := e.a.Create(ctx, manager.CreateOptions{Name: spec.Name, Config: &spec.Config, Host: &spec.Host, Networking: &spec.Networking})
	if err != nil {
		return "", err
	}
	// Owned at once, before anything else can fail: a container made here
	// and not recorded would be taken for a squatter next time.
	if err := e.own(act.Name, id); err != nil {
		_ = e.a.Remove(ctx, id, manager.RemoveOptions{Force: true}) // retried whole, with backoff
		return "", fmt.Errorf("record the new container: %w", err)
	}
	for net, ep := range spec.Connect {
		if err := e.a.Connect(ctx, net, id, ep); err != nil {
			return id, err
		}
	}
	return id, e.a.Start(ctx, id)
}

// own records id as the container that is name now, durably.
func (e *Enforcer) own(name, id string) error {
	return e.store.edit(func(s *Snapshot) error {
		if _, ok := s.Containers[name]; !ok {
			return nil // taken out of the snapshot meanwhile
		}
		if s.Owned == nil {
			s.Owned = map[string]string{}
		}
		s.Owned[name] = id
		return nil
	})
}

// removeIntruder archives an intruder's inspect output and logs, then
// stops and removes it; it returns the archive's path.
func (e *Enforcer) removeIntruder(ctx context.Context, act Action) (string, error) {
	dir := filepath.Join(e.opts.StateDir, "archive",
		time.Now().UTC().Format("20060102T150405.000Z")+"-"+act.Name+"-"+shortID(act.ID))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	_, raw, err := e.a.Inspect(ctx, act.ID)
	if manager.IsNotFound(err) {
		return "", nil // gone meanwhile
	}
	if err != nil {
		return "", fmt.Errorf("archive: inspect: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "inspect.json"), raw, 0o600); err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	logs, err := os.OpenFile(filepath.Join(dir, "container.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	err = e.a.Logs(ctx, act.ID, manager.LogsOptions{Timestamps: true}, logs, logs)
	if cerr := logs.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, manager.ErrLogsUnreadable) {
		return dir, fmt.Errorf("archive logs: %w", err)
	}
	timeout := e.opts.StopTimeout
	if err := e.a.Stop(ctx, act.ID, manager.StopOptions{Timeout: &timeout}); err != nil && !manager.IsNotFound(err) {
		e.log.Warn("stop intruder", "name", act.Name, "err", err)
	}
	if err := e.a.Remove(ctx, act.ID, manager.RemoveOptions{Force: true}); err != nil && !manager.IsNotFound(err) {
		return dir, err
	}
	return dir, nil
}

// record appends to the audit log, counts, and tells the person.
//
// A failure that repeats the last one of that name (the work queue's
// retries of a recreate whose image is gone) is logged and counted, but
// not told again: the status shows it.
func (e *Enforcer) record(r Record, again bool) {
	e.mu.Lock()
	e.counts[r.Action]++
	latency := time.Duration(-1)
	if t, ok := e.since[r.Container]; ok {
		latency = time.Since(t)
	}
	e.last = append(e.last, r)
	if len(e.last) > keepLast {
		e.last = e.last[len(e.last)-keepLast:]
	}
	e.mu.Unlock()
	if b, err := json.Marshal(r); err == nil {
		f, err := os.OpenFile(filepath.Join(e.opts.StateDir, AuditFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err == nil {
			_, err = f.Write(append(b, '\n'))
			f.Close()
		}
		if err != nil {
			e.log.Error("audit log", "err", err)
		}
	}
	if e.opts.Observer != nil {
		result := "ok"
		switch r.Result {
		case "ok":
		case "dry-run":
			result = "dry_run"
		default:
			result = "failed"
		}
		e.opts.Observer.Acted(r.Action, result, latency)
	}
	msg := fmt.Sprintf("enforce: %s %s: %s", r.Action, r.Container, r.Reason)
	switch {
	case r.Result == "dry-run":
		msg = fmt.Sprintf("enforce (dry run): would %s %s: %s", r.Action, r.Container, r.Reason)
	case r.Result != "ok":
		msg += ": failed: " + r.Result
	case r.Archive != "":
		msg += "; archived in " + r.Archive
	}
	e.log.Info("action", "container", r.Container, "action", r.Action, "reason", r.Reason, "result", r.Result)
	if e.opts.Notify != nil && !again {
		e.opts.Notify(msg)
	}
}

// failedSame reports whether name's last action failed with err's words.
func (e *Enforcer) failedSame(name string, err error) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failing[name] == err.Error()
}

// Status is what `enforce status` shows.
type Status struct {
	Counts  map[Kind]int
	Last    []Record
	Backoff map[string]time.Time // snapshot names waiting to start again, and until when
	// Failing maps a name whose last action failed, and is retried with
	// backoff, to the error.
	Failing map[string]string
}

// Status reports the counts of actions, the last ones and the backoffs.
func (e *Enforcer) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Status{Counts: map[Kind]int{}, Last: append([]Record(nil), e.last...), Backoff: map[string]time.Time{},
		Failing: maps.Clone(e.failing)}
	for k, v := range e.counts {
		s.Counts[k] = v
	}
	for name, cs := range e.crash {
		if time.Now().Before(cs.until) {
			s.Backoff[name] = cs.until
		}
	}
	return s
}

func shortImage(id string) string {
	return shortID(strings.TrimPrefix(id, "sha256:"))
}
