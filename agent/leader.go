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
	told := ""
	for {
		lk, err := l.tryLock()
		if err == nil {
			if other, pid := l.othersHeld(); other == "" {
				l.lock = lk
				break
			} else {
				lk.Unlock()
				if told != other {
					l.log.Warn("another dockman keeps this directory (a shell?): waiting for it to end", "lock", other, "pid", pid)
					told = other
				}
			}
		}
		var held *durable.LockedError
		switch {
		case err == nil:
		case errors.As(err, &held):
			if told != "held" {
				l.log.Info("another agent leads on this state directory: waiting to take over", "pid", held.Pid, "lock", l.path)
				told = "held"
			}
		case told != err.Error():
			l.log.Error("cannot take the state directory's lock: retrying", "lock", l.path, "err", err)
			told = err.Error()
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

func (l *leader) tryLock() (*durable.Lock, error) {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return nil, err
	}
	return durable.TryLock(l.path)
}

// othersHeld returns the first of the parts' own locks that another
// process holds, and its pid; "" when all are free. Each is taken and let
// go at once (the parts take them for good when they start).
func (l *leader) othersHeld() (string, string) {
	for _, path := range l.others {
		lk, err := durable.TryLock(path)
		var held *durable.LockedError
		if errors.As(err, &held) {
			return path, held.Pid
		}
		lk.Unlock()
	}
	return "", ""
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
