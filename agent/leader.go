package agent

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dockman/dockman/internal/durable"
	"github.com/dockman/dockman/runner"
)

// leader is the runner part that starts the parts only one process may run
// on a state directory (the log keeper, the enforce controller) once it
// holds the directory's agent lock, and stops them and lets the lock go
// when it stops. Until then the agent serves the API from its own
// inventory: a new agent started beside the old one during an upgrade
// takes over the moment the old one has made its cursors and snapshot
// durable and let go, so logs are kept and enforcement goes on without a
// gap.
//
// Goroutine: one, from Start until it holds the lock and has started the
// parts (or is stopped first); Stop waits for it.
type leader struct {
	path string
	// others are the locks the parts take themselves (the log directory's,
	// enforcement's): held by another dockman (a shell open on the same
	// directories), the parts could not work, so the agent waits for them
	// too rather than lead in name only.
	others []string
	parts  []runner.Part
	log    *slog.Logger
	// then runs once the parts have started: --enforce turns enforcement
	// on, and a resync is asked for.
	then func(ctx context.Context)

	mu      sync.Mutex
	leading bool

	cancel  context.CancelFunc
	done    chan struct{}
	lock    *durable.Lock
	started []runner.Part
}

// retryLock is how often a waiting agent tries the lock again. A flock
// that blocks cannot be given up when the agent is stopped, and the holder
// sends no event when it lets go, so the waiting one tries: four times a
// second, only while another agent leads.
const retryLock = 250 * time.Millisecond

func newLeader(path string, others []string, parts []runner.Part, log *slog.Logger) *leader {
	return &leader{path: path, others: others, parts: parts, log: log.With("part", "lead")}
}

// Start begins waiting for the lock; it never fails the agent's start.
func (l *leader) Start(ctx context.Context) error {
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go l.run(ctx)
	return nil
}

func (l *leader) run(ctx context.Context) {
	defer close(l.done)
	told := "" // what the log last said this agent waits for
	for {
		lk, why, attrs := l.take()
		if lk != nil {
			l.lock = lk
			break
		}
		if why != told {
			l.log.Info(why, attrs...)
			told = why
		}
		t := time.NewTimer(retryLock)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if told != "" {
		l.log.Info("taking over: the agent before this one let go")
	}
	for _, p := range l.parts {
		if err := p.Start(ctx); err != nil {
			l.log.Error("start", "err", err)
			continue
		}
		l.started = append(l.started, p)
	}
	l.mu.Lock()
	l.leading = true
	l.mu.Unlock()
	if l.then != nil && ctx.Err() == nil {
		l.then(ctx)
	}
}

// take takes the agent lock if it is free and the parts' own locks are
// free too; otherwise it says what the agent waits for, for the log.
func (l *leader) take() (*durable.Lock, string, []any) {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return nil, "cannot create the state directory: retrying", []any{"err", err}
	}
	lk, err := durable.TryLock(l.path)
	var held *durable.LockedError
	switch {
	case errors.As(err, &held):
		return nil, "another agent leads on this state directory: waiting to take over", []any{"pid", held.Pid, "lock", l.path}
	case err != nil:
		return nil, "cannot take the state directory's lock: retrying", []any{"lock", l.path, "err", err}
	}
	for _, path := range l.others {
		other, err := durable.TryLock(path)
		if errors.As(err, &held) {
			lk.Unlock()
			return nil, "another dockman (a shell?) keeps " + path + ": waiting for it to end", []any{"pid", held.Pid}
		}
		other.Unlock() // free (or not there yet): the part takes it for good
	}
	return lk, "", nil
}

// Leading reports whether this agent holds the state directory.
func (l *leader) Leading() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading
}

// Stop stops waiting, or stops the parts in reverse order, each waited
// for, and only then lets the lock go.
func (l *leader) Stop() {
	if l.cancel == nil {
		return
	}
	l.cancel()
	<-l.done
	l.mu.Lock()
	l.leading = false
	l.mu.Unlock()
	for i := len(l.started) - 1; i >= 0; i-- {
		l.started[i].Stop()
	}
	l.started = nil
	l.lock.Unlock()
	l.lock = nil
}
