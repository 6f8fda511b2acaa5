package durable

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Lock is an exclusive lock on a file, held by this process until Unlock
// or its exit: the kernel drops a flock with its last descriptor, so a
// dockman killed with SIGKILL leaves no stale lock behind.
type Lock struct{ f *os.File }

// ErrLocked says another process holds the lock; the error that wraps it
// names that process's pid when it is known.
var ErrLocked = errors.New("held by another process")

// TryLock takes the lock at path (creating the file) without waiting, and
// writes this process's pid into it for the next one to name. Held by
// another process, it returns an error matching ErrLocked.
func TryLock(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Pid: strings.TrimSpace(string(pid))}
		}
		return nil, err
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	return &Lock{f: f}, nil
}

// probeRetry and probeRetries bound how long TryLockFor waits out a
// holder that is only looking: a dockman that asks whether another one
// holds a lock takes it for a moment and lets it go.
const (
	probeRetry   = 20 * time.Millisecond
	probeRetries = 5
)

// TryLockFor is TryLock for a process that means to keep the lock: it
// tries again a few times over about 100 ms before it believes another
// process holds it, since another dockman's status check may hold it for a
// moment (see Controller.Status). It never waits longer.
func TryLockFor(path string) (*Lock, error) {
	for i := 0; ; i++ {
		l, err := TryLock(path)
		if !errors.Is(err, ErrLocked) || i == probeRetries {
			return l, err
		}
		time.Sleep(probeRetry)
	}
}

// LockedError is TryLock's error when another process holds the lock.
type LockedError struct {
	Pid string // as that process wrote it; "" when unknown
}

func (e *LockedError) Error() string {
	if e.Pid == "" {
		return ErrLocked.Error()
	}
	return ErrLocked.Error() + " (pid " + e.Pid + ")"
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Unlock releases the lock. The pid is left in the file: the next holder
// overwrites it, and a reader only trusts it while the lock is held.
func (l *Lock) Unlock() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
